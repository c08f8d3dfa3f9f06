/**
 * When a rule group is evaluated. Prometheus places every group at a fixed offset inside its
 * interval, taken from a hash of the group's file and name, so that groups spread over the
 * interval and the instants do not depend on when the process started. Shoal computes the same
 * offset, so that whichever member owns a group evaluates it at the same instants as any other
 * member would (and as Prometheus does): a new owner writes its samples at the timestamps the
 * old owner would have used, and a brief double evaluation writes identical samples.
 */

/** Prometheus's GroupKey: how metrics (`rule_group`), ownership and reloads name a group. */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

const SEP = 0xff;
const encoder = new TextEncoder();

/**
 * The 64-bit hash of the label set {file=…, name=…}, as Prometheus's labels.Hash computes it
 * (xxHash64 over name, 0xff, value, 0xff for each label in name order). That is the hash of
 * Prometheus 2.x and of 3.x builds with slice labels; 3.x's default string labels hash their own
 * encoding and so place groups elsewhere inside the interval.
 */
export function groupHash(file: string, name: string): bigint {
  const parts = [encoder.encode("file"), encoder.encode(file), encoder.encode("name"), encoder.encode(name)];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
    bytes[at++] = SEP;
  }
  return BigInt.asUintN(64, BigInt(Bun.hash.xxHash64(bytes)));
}

/** The group's offset inside its interval, in ms (Prometheus takes the hash modulo the interval in ns). */
export function slotOffsetMs(file: string, name: string, intervalMs: number): number {
  if (!(intervalMs > 0)) throw new Error(`rule group interval must be positive, got ${intervalMs}ms`);
  const intervalNs = BigInt(Math.round(intervalMs)) * 1_000_000n;
  return Number((groupHash(file, name) % intervalNs) / 1_000_000n);
}

/** The latest evaluation instant at or before `tMs` (Prometheus's Group.EvalTimestamp). */
export function slotAtOrBefore(tMs: number, offsetMs: number, intervalMs: number): number {
  const adjusted = tMs - offsetMs;
  const base = adjusted - (((adjusted % intervalMs) + intervalMs) % intervalMs);
  return base + offsetMs;
}
