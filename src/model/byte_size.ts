/**
 * Prometheus's byte sizes (alecthomas/units Base2Bytes, read by --storage.tsdb.retention.size
 * and body_size_limit): a number with a unit, several in a row adding up (`1GB512MB`), decimals
 * allowed (`1.5GB`, truncated to whole bytes), or a bare `0`. Units are case-sensitive and
 * base 2 whether written the old way (B, KB, MB, GB, TB, PB, EB) or the IEC way (B, KiB, MiB, GiB,
 * TiB, PiB, EiB); one size uses one of the two ways. A unit is required: `512` is refused.
 *
 * Flags, config files and the cluster's flags all read sizes with this one parser. Sizes are
 * never negative here: Prometheus's parser takes a sign, but a negative limit is always a mistake.
 */

const IEC_UNITS: ReadonlyMap<string, number> = new Map([
  ["B", 1],
  ["KiB", 2 ** 10],
  ["MiB", 2 ** 20],
  ["GiB", 2 ** 30],
  ["TiB", 2 ** 40],
  ["PiB", 2 ** 50],
  ["EiB", 2 ** 60],
]);

const OLD_UNITS: ReadonlyMap<string, number> = new Map([
  ["B", 1],
  ["KB", 2 ** 10],
  ["MB", 2 ** 20],
  ["GB", 2 ** 30],
  ["TB", 2 ** 40],
  ["PB", 2 ** 50],
  ["EB", 2 ** 60],
]);

/** Largest value an int64 holds, where Prometheus keeps sizes. */
const MAX_BYTES = 2 ** 63;

/** The sum of `text`'s terms in one unit family, or null when a term does not fit it. */
function sumTerms(text: string, units: ReadonlyMap<string, number>): number | null {
  const term = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    term.lastIndex = pos;
    const m = term.exec(text)!;
    const whole = m[1]!;
    const frac = m[2] ?? "";
    if (whole === "" && frac === "") return null;
    const unit = units.get(m[3]!);
    if (unit === undefined) return null;
    total += Number(`${whole || "0"}.${frac || "0"}`) * unit;
    pos = term.lastIndex;
  }
  return total;
}

/** Whole bytes; throws an Error naming the text when it is not a size. */
export function parseByteSize(text: string): number {
  const body = text.startsWith("+") ? text.slice(1) : text;
  if (body === "0") return 0;
  if (body.startsWith("-")) throw new Error(`not a valid size: ${JSON.stringify(text)} (sizes cannot be negative)`);
  const total = body === "" ? null : (sumTerms(body, IEC_UNITS) ?? sumTerms(body, OLD_UNITS));
  if (total === null) throw new Error(`not a valid size: ${JSON.stringify(text)} (use e.g. 512MB, 10GB)`);
  if (total >= MAX_BYTES) throw new Error(`not a valid size: ${JSON.stringify(text)} (out of range)`);
  return Math.trunc(total);
}
