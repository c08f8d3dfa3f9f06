/**
 * Which member reads which part of the series hash ring. A write is acknowledged once a quorum
 * of its replicas stored it; the others get it moments later or through hinted handoff. Where a
 * replica is known to hold every acknowledged sample of a range, reading that one replica is
 * enough; elsewhere the range is read from every live owner and the copies merged. Pure: a
 * function of the member table and its ring views, judged by the caller for samples older than
 * the writes still in flight (see planned_select.ts).
 */
import type { MemberTable } from "./member_table.ts";
import { compareRings, HashRanges, type HashInterval, type Ring } from "./ring.ts";
import type { RingViews } from "./ring_views.ts";

export interface ReadPlanView {
  table: MemberTable;
  views: RingViews;
  /** Hinted batches this node holds per peer id. */
  ownHints: Record<string, number>;
}

export interface ReadPlan {
  /** Per chosen member, the ranges it serves alone: it holds every acknowledged sample there. */
  readonly chosen: ReadonlyMap<string, HashRanges>;
  /** Ranges no replica is known complete for: read from every live owner and merged. */
  readonly fallback: HashRanges;
  /** Members that own some range but are not known complete, with the reason. */
  readonly incomplete: ReadonlyMap<string, string>;
}

/**
 * Why member `id` may lack acknowledged samples of the ranges it owns on the read ring, or null
 * when it holds them all (for samples older than the writes in flight).
 */
export function incompleteReason(view: ReadPlanView, id: string, behind: ReadonlySet<string>): string | null {
  const { table } = view;
  const m = table.get(id);
  if (!m) return "unknown";
  // A suspect member may be hung: waiting for it is what the fallback avoids.
  if (m.health !== "alive") return m.health;
  // Joining and returning members are still pulling; left ones handed their data over.
  if (m.state !== "active" && m.state !== "leaving") return table.condition(id) ?? m.state;
  if (table.recentlyBackFromDead(id)) return "back from dead";
  if (behind.has(id)) return "hinted batches are held for it";
  const doubters = table.notNaming(id);
  if (doubters.length > 0) return `not held alive by ${doubters.map((d) => table.get(d)?.name ?? d).join(", ")}`;
  return null;
}

/**
 * Members some member holds hinted batches for, as its last heartbeat said (this node's own
 * queues for itself). Dead members count until forgotten: the batches they held are on no other
 * replica of the peer, which lacks them until anti-entropy repairs it.
 */
export function hintedPeers(view: ReadPlanView): Set<string> {
  const out = new Set<string>();
  for (const m of view.table.all()) {
    const hints = m.self ? view.ownHints : m.hints;
    for (const [peer, n] of Object.entries(hints)) if (n > 0) out.add(peer);
  }
  return out;
}

/**
 * The read plan: per piece of the hash ring, one owner known complete — this node when it is
 * one, else an active member before a leaving one, the least loaded so far first — or, when
 * there is none, the piece goes to the fallback. An owner counts only where it owns the piece
 * both on the read ring and on the coverage ring (the ring as the data was written): a member
 * that took a range over from a dead one holds it only once the re-replication is done.
 */
export function planReads(view: ReadPlanView, spread = false): ReadPlan {
  return planWith(view, judgeMembers(view), spread);
}

/** Every member's reason not to be read alone (null: known complete). */
function judgeMembers(view: ReadPlanView): Map<string, string | null> {
  const behind = hintedPeers(view);
  const reasons = new Map<string, string | null>();
  for (const m of view.table.all()) reasons.set(m.id, incompleteReason(view, m.id, behind));
  return reasons;
}

/**
 * Plans reads again only when the rings or some member's eligibility changed: a dashboard or a
 * thousand rules make many selects a second, and the plan walks every piece of the ring.
 */
export class ReadPlanner {
  private last: { read: Ring; coverage: Ring; key: string; plan: ReadPlan } | null = null;

  /**
   * `spread`: share the ranges evenly among the members known complete, this node no more than
   * the others (work that each member does on its own share, as a pushed-down aggregation);
   * otherwise this node serves every range it can (raw series never cross the wire).
   */
  constructor(private readonly spread = false) {}

  plan(view: ReadPlanView): ReadPlan {
    const reasons = judgeMembers(view);
    const read = view.views.readRing();
    const coverage = view.views.coverageRing();
    let key = view.table.selfId;
    for (const [id, r] of reasons) key += `\u0000${id}\u0001${r ?? ""}`;
    const last = this.last;
    if (last !== null && last.read === read && last.coverage === coverage && last.key === key) return last.plan;
    const plan = planWith(view, reasons, this.spread);
    this.last = { read, coverage, key, plan };
    return plan;
  }
}

function planWith(view: ReadPlanView, reasons: ReadonlyMap<string, string | null>, spread: boolean): ReadPlan {
  const { table, views } = view;
  const selfId = table.selfId;
  const reason = (id: string): string | null => {
    const r = reasons.get(id);
    return r === undefined ? "unknown" : r;
  };
  const assigned = new Map<string, HashInterval[]>();
  const width = new Map<string, number>();
  const fallback: HashInterval[] = [];
  const read = views.readRing();
  const coverage = views.coverageRing();
  compareRings(read, coverage, (interval, readOwners, coverageOwners) => {
    let best: string | null = null;
    for (const id of readOwners) {
      if (!coverageOwners.includes(id) || reason(id) !== null) continue;
      if (best === null || better(id, best, spread ? null : selfId, table, width)) best = id;
    }
    if (best === null) {
      fallback.push(interval);
      return;
    }
    let list = assigned.get(best);
    if (!list) assigned.set(best, (list = []));
    list.push(interval);
    width.set(best, (width.get(best) ?? 0) + interval[1] - interval[0] + 1);
  });
  // An empty read ring (nobody active) has no pieces: nothing is known complete.
  if (read.size === 0) fallback.push([0, 2 ** 32 - 1]);
  const chosen = new Map<string, HashRanges>();
  for (const [id, list] of assigned) chosen.set(id, new HashRanges(list));
  const incomplete = new Map<string, string>();
  for (const [id, r] of reasons) if (r !== null && (read.ids.includes(id) || coverage.ids.includes(id))) incomplete.set(id, r);
  return { chosen, fallback: new HashRanges(fallback), incomplete };
}

/** Whether candidate `a` is preferred to `b`: this node (unless null), then active before leaving, then less loaded, then by id. */
function better(a: string, b: string, selfId: string | null, table: MemberTable, width: ReadonlyMap<string, number>): boolean {
  if (selfId !== null && (a === selfId || b === selfId)) return a === selfId;
  const la = table.get(a)!.state === "leaving";
  const lb = table.get(b)!.state === "leaving";
  if (la !== lb) return lb;
  const wa = width.get(a) ?? 0;
  const wb = width.get(b) ?? 0;
  return wa !== wb ? wa < wb : a < b;
}

/** Alive members that own some piece of `ranges` on the read ring or on the coverage ring. */
export function liveOwnersOf(view: Pick<ReadPlanView, "table" | "views">, ranges: HashRanges): string[] {
  const out = new Set<string>();
  if (ranges.count === 0) return [];
  compareRings(view.views.readRing(), view.views.coverageRing(), ([lo, hi], readOwners, coverageOwners) => {
    if (!ranges.covers(lo, hi)) return;
    for (const id of readOwners) out.add(id);
    for (const id of coverageOwners) out.add(id);
  });
  return [...out].filter((id) => id === view.table.selfId || view.table.get(id)?.health === "alive").sort();
}

/** One member's answer: for the whole ring (ranges null) or some ranges of it. */
export interface Answered {
  readonly member: string;
  readonly ranges: HashRanges | null;
  /** The member was chosen as known complete for these ranges. */
  readonly complete: boolean;
}

export interface RingGap {
  fraction: number;
  /** Owners there that did not answer. */
  missing: string[];
}

export interface CoverageGaps {
  /** Where no owner (on the ring as data was written) answered: series or samples may be missing. */
  none: RingGap;
  /**
   * Where fewer than a read quorum (R − ⌊R/2⌋) of the owners answered, on the ring as data was
   * written or on the read ring, and none of them was known complete: all of those that answered
   * may lack the newest acknowledged writes.
   */
  thin: RingGap;
}

const RING_SIZE = 2 ** 32;

function readQuorum(ring: Ring, owners: number): number {
  const R = ring.replicationFactor;
  const q = R - Math.floor(R / 2);
  return q > 1 ? Math.min(q, owners) : 0;
}

/**
 * What a select that asked members in several parts (time windows, each its own list of answers)
 * may be missing: a piece of the ring counts as a gap when one part has a gap there.
 */
export function coverageGaps(coverage: Ring, read: Ring, allParts: readonly (readonly Answered[])[]): CoverageGaps {
  // A part answered for the whole ring by a member known complete has no gap anywhere.
  const parts = allParts.filter((part) => !part.some((a) => a.complete && a.ranges === null));
  if (parts.length === 0) return { none: { fraction: 0, missing: [] }, thin: { fraction: 0, missing: [] } };
  // Answers for the whole ring depend only on who answered: the walk over the rings is kept per
  // pair of rings (a query asks the same members select after select).
  if (!parts.every((part) => part.every((a) => a.ranges === null))) return walkGaps(coverage, read, parts);
  const key = parts.map((part) => part.map((a) => a.member).sort().join(",")).join("|");
  let byRead = wholeRingGaps.get(coverage);
  if (!byRead) wholeRingGaps.set(coverage, (byRead = new WeakMap()));
  let byKey = byRead.get(read);
  if (!byKey) byRead.set(read, (byKey = new Map()));
  let gaps = byKey.get(key);
  if (!gaps) {
    if (byKey.size >= MAX_CACHED_GAPS) byKey.clear();
    byKey.set(key, (gaps = walkGaps(coverage, read, parts)));
  }
  return { none: { ...gaps.none, missing: [...gaps.none.missing] }, thin: { ...gaps.thin, missing: [...gaps.thin.missing] } };
}

const wholeRingGaps = new WeakMap<Ring, WeakMap<Ring, Map<string, CoverageGaps>>>();
const MAX_CACHED_GAPS = 64;

function walkGaps(coverage: Ring, read: Ring, parts: readonly (readonly Answered[])[]): CoverageGaps {
  let none = 0;
  let thin = 0;
  const noneMissing = new Set<string>();
  const thinMissing = new Set<string>();
  compareRings(coverage, read, ([lo, hi], coverageOwners, readOwners) => {
    const w = hi - lo + 1;
    let pieceNone = false;
    let pieceThin = false;
    const missNone: string[] = [];
    const missThin: string[] = [];
    for (const part of parts) {
      const answering = new Set<string>();
      let complete = false;
      for (const a of part) {
        if (a.ranges !== null && !a.ranges.covers(lo, hi)) continue;
        answering.add(a.member);
        if (a.complete) complete = true;
      }
      if (complete) continue;
      const covAnswered = coverageOwners.filter((id) => answering.has(id)).length;
      if (coverageOwners.length > 0 && covAnswered === 0) {
        pieceNone = true;
        for (const id of coverageOwners) if (!answering.has(id)) missNone.push(id);
        continue;
      }
      const readAnswered = readOwners.filter((id) => answering.has(id)).length;
      if (covAnswered < readQuorum(coverage, coverageOwners.length) || readAnswered < readQuorum(read, readOwners.length)) {
        pieceThin = true;
        for (const id of [...coverageOwners, ...readOwners]) if (!answering.has(id)) missThin.push(id);
      }
    }
    if (pieceNone) {
      none += w;
      for (const id of missNone) noneMissing.add(id);
    } else if (pieceThin) {
      thin += w;
      for (const id of missThin) thinMissing.add(id);
    }
  });
  return {
    none: { fraction: none / RING_SIZE, missing: [...noneMissing].sort() },
    thin: { fraction: thin / RING_SIZE, missing: [...thinMissing].sort() },
  };
}
