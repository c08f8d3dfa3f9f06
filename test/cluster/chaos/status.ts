/**
 * Reading the cluster's own account of itself for the chaos test: whether the hand-off protocol
 * is there, when everything has settled (all members alive and active, nothing pending), and
 * each node's own data.
 */
import { kill } from "../harness.ts";
import type { FleetNode } from "./fleet.ts";

interface Member {
  name: string;
  health: string;
  state: string;
  hintedHandoff?: { pendingBatches: number };
}

export interface ClusterStatusJSON {
  members: Member[];
  replication?: { underReplicatedFraction?: number; unavailableFraction?: number };
  handoff?: unknown;
}

export async function statusOf(n: FleetNode): Promise<ClusterStatusJSON> {
  const r = await fetch(`${n.proc!.url}/api/v1/status/cluster`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { data: ClusterStatusJSON }).data;
}

/** The status JSON has a `handoff` object once the hand-off protocol is in. */
export async function supportsHandoff(n: FleetNode): Promise<boolean> {
  return (await statusOf(n)).handoff !== undefined;
}

/**
 * Why `s` (one node's view) is not settled for the member names `want`, or "" when it is:
 * every member alive and `active`, no hinted batches for a member, no range under-replicated
 * (`replication`), the hand-off idle.
 */
export function unsettledReason(view: string, s: ClusterStatusJSON, want: Set<string>, handoff: boolean): string {
  const reasons: string[] = [];
  for (const name of want) {
    const m = s.members.find((x) => x.name === name);
    if (!m) reasons.push(`${view} does not know ${name}`);
    else if (m.health !== "alive" || m.state !== "active") reasons.push(`${view} sees ${name} ${m.health}/${m.state}`);
    else if ((m.hintedHandoff?.pendingBatches ?? 0) > 0) reasons.push(`${view} holds ${m.hintedHandoff!.pendingBatches} hinted batches for ${m.name}`);
  }
  for (const m of s.members) {
    if (!want.has(m.name) && m.state !== "left" && m.health !== "dead") reasons.push(`${view} still counts ${m.name} (${m.health}/${m.state})`);
  }
  const rep = s.replication;
  if (rep && ((rep.underReplicatedFraction ?? 0) > 0 || (rep.unavailableFraction ?? 0) > 0)) {
    reasons.push(`${view}: replication.underReplicatedFraction ${rep.underReplicatedFraction}, unavailableFraction ${rep.unavailableFraction}`);
  }
  if (handoff) reasons.push(...handoffBusy(view, s.handoff));
  return reasons.join("; ");
}

/**
 * What the status says that does not match a settled cluster without being about the data:
 * hinted batches kept for members that are gone. Reported, not failed on.
 */
export function statusOddities(view: string, s: ClusterStatusJSON, want: Set<string>): string[] {
  const out: string[] = [];
  for (const m of s.members) {
    if (!want.has(m.name) && (m.hintedHandoff?.pendingBatches ?? 0) > 0) out.push(`${view} keeps ${m.hintedHandoff!.pendingBatches} hinted batches for ${m.name} (${m.health}/${m.state})`);
  }
  return out;
}

/**
 * The node's hand-off is idle: no transfer running or waiting, no range it re-replicates short
 * of R copies, no series it does not own left to drop (`handoff.state`, `handoff.transfers`,
 * `handoff.underReplicatedRanges`, `handoff.drop.holdsForeignSeries`).
 */
function handoffBusy(view: string, h: unknown): string[] {
  if (!h || typeof h !== "object") return [`${view}: no handoff object in the status`];
  const o = h as {
    state?: string;
    transfers?: { state?: string; peerName?: string; reason?: string; direction?: string }[];
    underReplicatedRanges?: number;
    drop?: { holdsForeignSeries?: boolean | null };
  };
  const out: string[] = [];
  if (o.state !== "idle") out.push(`${view}: handoff ${o.state}`);
  for (const t of o.transfers ?? []) {
    if (t.state !== "done") out.push(`${view}: transfer ${t.direction} ${t.peerName} (${t.reason}) ${t.state}`);
  }
  if ((o.underReplicatedRanges ?? 0) > 0) out.push(`${view}: ${o.underReplicatedRanges} ranges under-replicated`);
  // Series it no longer owns, not dropped yet (the drop grace runs after the ring settled).
  if (o.drop?.holdsForeignSeries === true) out.push(`${view}: still holds series it does not own`);
  return out;
}

/** Waits until every member's view is settled; returns "" or the last reason it was not. */
export async function settled(members: FleetNode[], timeoutMs: number, handoff: boolean): Promise<string> {
  const want = new Set(members.map((m) => m.name));
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const reasons: string[] = [];
    for (const n of members) {
      try {
        const r = unsettledReason(n.name, await statusOf(n), want, handoff);
        if (r) reasons.push(r);
      } catch (err) {
        reasons.push(`${n.name}: status failed: ${(err as Error).message}`);
      }
    }
    last = reasons.join(" | ");
    if (!last) return "";
    await Bun.sleep(500);
  }
  return last;
}

/**
 * Each member's own data for `metric`, as `shoal tsdb dump` text: the nodes are SIGKILLed (a
 * SIGTERM would be a graceful leave and move data away) and their directories dumped.
 */
export async function readLocalCopies(members: FleetNode[], _metric: string, dump: (dir: string) => Promise<string>): Promise<Map<string, string>> {
  for (const n of members) {
    if (!n.proc) continue;
    n.state = "killed"; // before the signal: the exit is expected
    kill(n.proc, "SIGKILL");
  }
  for (const n of members) if (n.proc) await n.proc.proc.exited;
  const out = new Map<string, string>();
  for (const n of members) out.set(n.name, await dump(n.dir));
  return out;
}
