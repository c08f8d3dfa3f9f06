/**
 * What the hand-off units (join, leave, re-replication, drop) share: the node's storage, the
 * membership and its ring views, the puller, the repairer, timing and logging. Every dependency is
 * handed in at construction, so that a unit can be driven by a test with a manual clock and a
 * membership of its own making.
 */
import type { Clock, Logger } from "../../model/index.ts";
import type { CatchUpBase } from "../antientropy.ts";
import type { ClusterConfig } from "../config.ts";
import type { Membership } from "../membership.ts";
import type { HashInterval } from "../ring.ts";
import type { Puller } from "../puller.ts";
import type { HandoffReason, HandoffStorage, Transfers } from "../transfer.ts";

export const RETRY_DELAY_MS = 1000;
export const MAX_ATTEMPTS = 30;

/**
 * Digest comparison with other members (anti-entropy's one-way syncs), which hand-off uses so
 * that nothing is dropped or left behind that another member lacks.
 */
export interface Repairer {
  /** Makes sure `peer` holds everything this node holds in `ranges` (flat wire form); returns the series pushed. */
  syncTo(peer: string, ranges: number[]): Promise<number>;
  /** This node's digests of `intervals`, computed once for a catch-up with several owners. */
  prepareCatchUp(intervals: readonly HashInterval[]): Promise<CatchUpBase>;
  /** Makes this node hold everything `peer` holds in `intervals`, pulling the cells that differ; returns them. */
  catchUp(peer: string, intervals: readonly HashInterval[], reason: HandoffReason, base: CatchUpBase): Promise<number>;
}

/** What hand-off reads and changes of the membership. */
export type HandoffMembership = Pick<
  Membership,
  "selfId" | "self" | "get" | "all" | "isLive" | "isReturning" | "setState" | "readRing" | "futureRing" | "pendingChange"
>;

/** The pieces of the puller that hand-off uses. */
export type HandoffPuller = Pick<Puller, "nextId" | "pullFrom" | "expireIncoming" | "stop">;

export interface HandoffDeps {
  cfg: ClusterConfig;
  membership: HandoffMembership;
  local: HandoffStorage;
  transfers: Transfers;
  puller: HandoffPuller;
  repairer: Repairer;
  /**
   * Hinted batches this node still holds for live members. A leaving node delivers them before
   * it goes: they may be the only way a replica gets those writes.
   */
  hintsPending: () => number;
  logger: Logger;
  clock: Clock;
}

export class HandoffContext implements HandoffDeps {
  readonly cfg: ClusterConfig;
  readonly membership: HandoffMembership;
  readonly local: HandoffStorage;
  readonly transfers: Transfers;
  readonly puller: HandoffPuller;
  readonly repairer: Repairer;
  readonly hintsPending: () => number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Set when the node stops: loops and retries end at their next check. */
  stopped = false;

  constructor(deps: HandoffDeps) {
    this.cfg = deps.cfg;
    this.membership = deps.membership;
    this.local = deps.local;
    this.transfers = deps.transfers;
    this.puller = deps.puller;
    this.repairer = deps.repairer;
    this.hintsPending = deps.hintsPending;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  /** A member's name for logs, its id when unknown. */
  name(id: string): string {
    return this.membership.get(id)?.name ?? id;
  }
}
