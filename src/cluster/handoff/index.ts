/**
 * Hand-off: moving series when the membership changes, so that every series ends up on exactly
 * its R current owners. Each movement is a unit of its own sharing one context: join.ts (pull
 * what this node takes over), leave.ts (push what it hands over), rereplicate.ts (copy a dead
 * member's ranges from the survivors), drop.ts (delete what it no longer owns once the ring
 * settled), serve_pull.ts (push what a member asks for). `Handoff` puts them together for the
 * cluster.
 */
import type { TransferProgress } from "../transfer.ts";
import { HandoffContext, type HandoffDeps } from "./context.ts";
import { Drop, type DropStatus } from "./drop.ts";
import { JoinPull } from "./join.ts";
import { Leave, type LeaveStatus } from "./leave.ts";
import { ReReplication } from "./rereplicate.ts";
import { pullHandler } from "./serve_pull.ts";

export type { HandoffDeps, HandoffMembership, HandoffPuller, Repairer } from "./context.ts";

export interface HandoffStatus {
  /** What this node is doing: idle, joining (pulling), leaving (pushing), re-replicating. */
  state: "idle" | "joining" | "leaving" | "left" | "re-replicating";
  transfers: TransferProgress[];
  recent: TransferProgress[];
  /**
   * Token ranges that members are copying after a death, not yet back on their new owners (the
   * cluster's status adds `underReplicatedRanges`, counted against the configured factor).
   */
  reReplicatingRanges: number;
  totals: {
    bytes: { in: number; out: number };
    series: { in: number; out: number };
    samples: { in: number; out: number };
    failedTransfers: number;
  };
  drop: DropStatus;
  leave: LeaveStatus;
}

export class Handoff {
  private readonly ctx: HandoffContext;
  private readonly joinPull: JoinPull;
  private readonly leaveUnit: Leave;
  private readonly reReplication: ReReplication;
  private readonly drop: Drop;

  constructor(deps: HandoffDeps) {
    this.ctx = new HandoffContext(deps);
    this.joinPull = new JoinPull(this.ctx);
    this.leaveUnit = new Leave(this.ctx);
    this.reReplication = new ReReplication(this.ctx);
    this.drop = new Drop(this.ctx);
  }

  /** Server side of the pull protocol: starts pushing the asked-for series to the caller. */
  pullHandler(): (req: unknown, ctx: { from: string }) => Promise<{ accepted: boolean }> {
    return pullHandler(this.ctx);
  }

  /** Pulls the ranges this node takes over (see JoinPull.run). */
  join(): Promise<void> {
    return this.joinPull.run();
  }

  /** Graceful leave; idempotent (see Leave). */
  leave(): Promise<void> {
    return this.leaveUnit.start();
  }

  leaving(): boolean {
    return this.leaveUnit.requested();
  }

  /** Called on every membership change (see ReReplication). */
  onRingChange(): void {
    this.reReplication.onRingChange();
  }

  pendingRanges(): number {
    return this.reReplication.pendingRanges();
  }

  pendingFraction(): number {
    return this.reReplication.pendingFraction();
  }

  underReplicatedFraction(): number {
    return this.reReplication.underReplicatedFraction();
  }

  underReplicatedRanges(): number {
    return this.reReplication.underReplicatedRanges();
  }

  activeTransfers(): number {
    return this.ctx.transfers.book.active.size;
  }

  /** Gives up dead incoming transfers, then drops what this node no longer owns once the ring settled. */
  dropTick(): Promise<void> {
    return this.drop.tick();
  }

  stop(): void {
    this.ctx.stopped = true;
    this.ctx.puller.stop();
  }

  status(): HandoffStatus {
    const book = this.ctx.transfers.book;
    const c = book.counters;
    const sum = (counter: typeof c.bytes, dir: string) => counter.samples().reduce((n, s) => (s.labels.direction === dir ? n + s.value : n), 0);
    const selfState = this.ctx.membership.self().state;
    const state: HandoffStatus["state"] =
      selfState === "joining" ? "joining" : selfState === "leaving" ? "leaving" : selfState === "left" ? "left" : this.pendingRanges() > 0 ? "re-replicating" : "idle";
    return {
      state,
      transfers: [...book.active.values()].map((t) => ({ ...t, done: { ...t.done }, total: { ...t.total } })),
      recent: book.recent.slice(),
      reReplicatingRanges: this.underReplicatedRanges(),
      totals: {
        bytes: { in: sum(c.bytes, "in"), out: sum(c.bytes, "out") },
        series: { in: sum(c.series, "in"), out: sum(c.series, "out") },
        samples: { in: sum(c.samples, "in"), out: sum(c.samples, "out") },
        failedTransfers: c.failures.samples().reduce((n, s) => n + s.value, 0),
      },
      drop: this.drop.status(),
      leave: this.leaveUnit.status(),
    };
  }
}
