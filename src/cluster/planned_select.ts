/**
 * A select split in time and over the hash ring. Samples older than the writes that may still
 * be on their way to some replica (the write timeout plus two heartbeats, after which a replica
 * that missed a write is known from the hints published for it) are read from one replica known
 * complete per range, as the read plan says; the ranges without one, and those of a chosen member
 * that fails, from every live owner. Newer samples are read from every live member as a plain
 * fan-out does, since an acknowledged write may be on a quorum only; and so are the samples each
 * member stored lately whatever their timestamps (AppliedLog): a write may come long after the
 * time it carries.
 */
import type { SelectHints } from "../model/index.ts";
import { coverageGaps, type Answered, type CoverageGaps, type ReadPlan } from "./read_plan.ts";
import { HashRanges, type Ring } from "./ring.ts";

export interface PlannedSelectOptions {
  plan: ReadPlan;
  selfId: string;
  /** Members to ask for the newest samples: this node and every alive member. */
  alive: readonly string[];
  /** Alive owners of some piece of `ranges` (on the read or the coverage ring). */
  liveOwnersOf(ranges: HashRanges): string[];
  coverage: Ring;
  read: Ring;
  /** The query's window, inclusive. */
  mint: number;
  maxt: number;
  /** Samples at or after this are read from every live member (from a read quorum where this node holds every range). */
  cut: number;
  /** Which member to ask first among equals (the caller turns it, spreading the load). */
  turn: number;
  /**
   * Selects [mint, maxt] of the series in `ranges` (null: all) on a member; with `widen`, the
   * member reads from further back the samples it stored lately (writes that may not have
   * reached the other replicas yet). Resolves false when the member did not answer. This node's
   * failures reject (they are not the member's).
   */
  call(member: string, mint: number, maxt: number, ranges: HashRanges | null, widen: boolean): Promise<boolean>;
}

const WHOLE_RING = 1;

/** Asks the members the plan names; resolves to what may be missing from the answers. */
export async function plannedSelect(o: PlannedSelectOptions): Promise<CoverageGaps> {
  const older: Answered[] = [];
  const recent: Answered[] = [];
  // The newest samples are always asked of every member, also for a window that ends before
  // the cut: each widens its answer by the writes it stored lately, whatever their timestamps.
  const parts: Answered[][] = [recent];
  if (o.mint < o.cut) parts.push(older);
  const lo = Math.max(o.mint, o.cut);
  const selfServesAll = (o.plan.chosen.get(o.selfId)?.fraction() ?? 0) >= WHOLE_RING;
  if (o.mint < o.cut && selfServesAll) {
    // This node holds every range complete (a node alone, or as many members as replicas): one
    // read of the whole window here. The newest samples come from a read quorum: a write is
    // acknowledged by ⌊R/2⌋+1 of its R owners, so this node and R−⌊R/2⌋−1 others see every
    // acknowledged write; the other members are asked only where those left a gap.
    const peers = o.alive.filter((id) => id !== o.selfId);
    const R = o.read.replicationFactor;
    const first = Math.min(peers.length, Math.max(0, R - Math.floor(R / 2) - 1));
    const start = peers.length > 0 ? o.turn % peers.length : 0;
    const order = [...peers.slice(start), ...peers.slice(0, start)];
    const askPeer = async (id: string): Promise<void> => {
      if (await o.call(id, lo, o.maxt, null, true)) recent.push({ member: id, ranges: null, complete: false });
    };
    // The members' requests go out first: they work while this node reads.
    const asked = order.slice(0, first).map(askPeer);
    asked.push(
      (async () => {
        if (!(await o.call(o.selfId, o.mint, o.maxt, null, false))) return;
        recent.push({ member: o.selfId, ranges: null, complete: false });
        older.push({ member: o.selfId, ranges: null, complete: true });
      })(),
    );
    await Promise.all(asked);
    const gaps = coverageGaps(o.coverage, o.read, parts);
    if ((gaps.none.fraction === 0 && gaps.thin.fraction === 0) || first === order.length) return gaps;
    await Promise.all(order.slice(first).map(askPeer));
    return coverageGaps(o.coverage, o.read, parts);
  }
  const work: Promise<void>[] = [
    Promise.all(
      o.alive.map(async (id) => {
        if (await o.call(id, lo, o.maxt, null, true)) recent.push({ member: id, ranges: null, complete: false });
      }),
    ).then(() => {}),
  ];
  if (o.mint < o.cut) work.push(readOlder(o, Math.min(o.maxt, o.cut - 1), older));
  await Promise.all(work);
  return coverageGaps(o.coverage, o.read, parts);
}

async function readOlder(o: PlannedSelectOptions, hi: number, answered: Answered[]): Promise<void> {
  const { plan } = o;
  const fallbackMembers = plan.fallback.count > 0 ? o.liveOwnersOf(plan.fallback) : [];
  const asked = new Set<string>([...plan.chosen.keys(), ...fallbackMembers]);
  const failed = new Set<string>();
  await Promise.all(
    [...asked].map(async (id) => {
      const chosen = plan.chosen.get(id);
      const fallback = fallbackMembers.includes(id) ? plan.fallback : null;
      const ranges = chosen && fallback ? union(chosen, fallback) : (chosen ?? fallback!);
      if (await o.call(id, o.mint, hi, ranges.fraction() >= WHOLE_RING ? null : ranges, false)) {
        if (chosen) answered.push({ member: id, ranges: chosen, complete: true });
        if (fallback) answered.push({ member: id, ranges: fallback, complete: false });
      } else failed.add(id);
    }),
  );
  // A chosen member that failed: its ranges are read from their other live owners and merged.
  const lost = [...failed].flatMap((id) => intervals(plan.chosen.get(id)));
  if (lost.length === 0) return;
  const ranges = new HashRanges(lost);
  await Promise.all(
    o
      .liveOwnersOf(ranges)
      .filter((id) => !failed.has(id))
      .map(async (id) => {
        if (await o.call(id, o.mint, hi, ranges, false)) answered.push({ member: id, ranges, complete: false });
      }),
  );
}

function intervals(r: HashRanges | undefined): [number, number][] {
  if (!r) return [];
  const flat = r.toWire();
  const out: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function union(a: HashRanges, b: HashRanges): HashRanges {
  return new HashRanges([...intervals(a), ...intervals(b)]);
}

/**
 * A copy of `hints` restricted to the series in `ranges`. The abort signal is carried over as it
 * was set (not enumerable: it never travels to another process), and so are the ranges.
 */
export function withHashRanges(hints: SelectHints, ranges: HashRanges): SelectHints {
  const out: SelectHints = { ...hints };
  if (hints.signal) Object.defineProperty(out, "signal", { value: hints.signal, enumerable: false });
  Object.defineProperty(out, "hashRanges", { value: ranges, enumerable: false });
  return out;
}
