/**
 * How many copies of the data the cluster really holds, judged against the CONFIGURED
 * replication factor: the ring caps its owner sets by the member count, so a cluster of three at
 * R=3 that lost one member places two copies everywhere and would look healthy if judged against
 * its own cap. A range with fewer copies on members that answer heartbeats than the configured
 * factor is under-replicated, also when the cluster has too few members to ever hold that many.
 * Pure: the cluster hands in its rings and what it knows of each member.
 */
import type { Ring } from "./ring.ts";

const RING_SIZE = 2 ** 32;

export interface ReplicationHealth {
  /** No range under-replicated and none without a live copy. */
  healthy: boolean;
  /**
   * Copies every range should have: the configured replication factor, or 1 on a standalone
   * node (alone, no member expected: no --cluster.join, nobody remembered, nobody met).
   */
  targetReplicas: number;
  /** A standalone node: one copy by design, the factor applies once members join. */
  standalone: boolean;
  /** Fewest copies of any range held by members that answer heartbeats. */
  minLiveReplicas: number;
  /** Token ranges of the read ring with fewer live copies than `targetReplicas`, plus ranges being re-replicated. */
  underReplicatedRanges: number;
  fullyReplicatedFraction: number;
  underReplicatedFraction: number;
  /** Part of the ring (as data was written) with no live copy at all: queries there are partial. */
  unavailableFraction: number;
}

export interface ReplicationInputs {
  /** The ring readers use now (owners holding complete data). */
  readRing: Ring;
  /** The ring as data was written, dead members included (see RingViews.coverageRing). */
  coverageRing: Ring;
  /** Whether a member answers heartbeats now (alive: neither suspect nor dead). */
  answering(id: string): boolean;
  configuredFactor: number;
  standalone: boolean;
  /** Ranges members are copying after a death (their new owner does not hold them yet), from every member's heartbeat. */
  reReplicating: { fraction: number; ranges: number };
}

export function assessReplication(i: ReplicationInputs): ReplicationHealth {
  const target = i.standalone ? 1 : i.configuredFactor;
  let none = 0;
  const cov = i.coverageRing;
  const covLive = cov.sets.map((set) => set.some((m) => i.answering(cov.ids[m]!)));
  cov.forEachRange((width, _set, id) => {
    if (!covLive[id]) none += width / RING_SIZE;
  });

  const read = i.readRing;
  const liveCopies = read.sets.map((set) => set.filter((m) => i.answering(read.ids[m]!)).length);
  let shortWidth = 0;
  let shortRanges = 0;
  let ranges = 0;
  let minLive = Infinity;
  read.forEachRange((width, _set, id) => {
    ranges++;
    const live = liveCopies[id]!;
    if (live < minLive) minLive = live;
    if (live < target) {
      shortWidth += width;
      shortRanges++;
    }
  });
  // No member holds tokens (this node alone and leaving): nothing is held anywhere.
  if (ranges === 0) {
    minLive = 0;
    shortWidth = RING_SIZE;
    ranges = shortRanges = 1;
  }
  // A range may be both short of members and re-replicating (a death while another member is
  // suspect): the sums are capped so that no part of the ring counts twice in the totals.
  const under = Math.min(1 - none, shortWidth / RING_SIZE + i.reReplicating.fraction);
  const underRanges = Math.min(ranges, shortRanges + i.reReplicating.ranges);
  return {
    healthy: under <= 0 && none <= 0,
    targetReplicas: target,
    standalone: i.standalone,
    minLiveReplicas: minLive,
    underReplicatedRanges: underRanges,
    fullyReplicatedFraction: Math.max(0, 1 - under - none),
    underReplicatedFraction: Math.max(0, under),
    unavailableFraction: none,
  };
}
