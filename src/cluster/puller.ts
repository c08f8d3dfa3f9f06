/**
 * The asking side of the pull protocol, shared by hand-off (join, re-replication) and
 * anti-entropy (repairs, catch-ups): asks a member to push some series to this node, watches the
 * incoming transfer and gives it up when its sender stalls, dies, leaves or restarts.
 */
import type { Clock, ClockTimer, Labels } from "../model/index.ts";
import type { Membership } from "./membership.ts";
import type { Rpc } from "./rpc.ts";
import { labelsToWire, TransferError, type HandoffReason, type Transfers } from "./transfer.ts";

export const HANDOFF_PULL_PROTOCOL = "/shoal/handoff/pull/1";

export interface PullRequest {
  id: string;
  reason: HandoffReason;
  /** Flat [lo, hi, ...] inclusive hash intervals. */
  ranges?: number[];
  /** Series keys (labelsKey) instead of ranges (repairs). */
  keys?: string[];
  after?: string[];
  mint?: number;
  maxt?: number;
}

/**
 * An incoming transfer whose sender sends nothing for this long is given up (a pull is then
 * asked of another member). Senders that died, left or restarted are given up at once.
 */
export const STALL_MS = 60_000;

/** What the puller reads of the membership: who a sender is and whether it is still there. */
export type PullerMembership = Pick<Membership, "selfId" | "get">;

export class Puller {
  private seq = 0;
  private stopped = false;
  /** The sender's start time when an incoming transfer began (a restart loses its pushes). */
  private readonly senderEpoch = new Map<string, number>();

  constructor(
    private readonly membership: PullerMembership,
    private readonly rpc: Rpc,
    private readonly transfers: Transfers,
    private readonly clock: Clock,
  ) {}

  /** A transfer id unique to this node (pulls and pushes draw from the same sequence). */
  nextId(kind: string): string {
    return `${this.membership.selfId.slice(-8)}-${kind}-${this.clock.wallNow().toString(36)}-${++this.seq}`;
  }

  private name(id: string): string {
    return this.membership.get(id)?.name ?? id;
  }

  /**
   * Asks `source` to push the series passing the request to this node and waits until it is
   * complete; a stalled or failed source is given up (the error carries the resume cursor).
   */
  async pullFrom(source: string, req: Omit<PullRequest, "id" | "after">, after?: Labels): Promise<void> {
    const id = this.nextId(req.reason);
    const full: PullRequest = { ...req, id };
    const w = labelsToWire(after);
    if (w) full.after = w;
    await this.rpc.call(source, HANDOFF_PULL_PROTOCOL, full, 10_000);
    const done = this.transfers.book.waitDone(id);
    const started = this.clock.now();
    let timer: ClockTimer | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = this.clock.setInterval(() => {
        const t = this.transfers.book.active.get(id);
        const last = t ? Date.parse(t.updatedAt) : NaN;
        const quiet = t ? this.clock.wallNow() - last : this.clock.now() - started;
        const gone = this.senderGone(source, id);
        if (gone || quiet > STALL_MS || this.stopped) {
          const e = new TransferError(gone ? `source ${this.name(source)} is gone` : this.stopped ? "stopping" : `source ${this.name(source)} sent nothing for ${Math.round(quiet / 1000)}s`);
          (e as TransferError & { cursor?: Labels }).cursor = this.transfers.book.cursors.get(id) ?? after;
          if (t) this.transfers.book.finish(t, "failed", e.message);
          reject(e);
        }
      }, 500);
    });
    try {
      await Promise.race([done, watchdog]);
    } finally {
      this.clock.clearInterval(timer);
      this.transfers.book.forgetWaiter(id);
      this.transfers.book.cursors.delete(id);
    }
  }

  /** Whether the sender of an incoming transfer died, left or restarted since it began. */
  private senderGone(peer: string, transferId: string): boolean {
    const m = this.membership.get(peer);
    if (!m || m.health === "dead" || m.state === "left") return true;
    const epoch = this.senderEpoch.get(transferId);
    if (epoch === undefined) this.senderEpoch.set(transferId, m.startedAt);
    return epoch !== undefined && epoch !== m.startedAt;
  }

  /**
   * Gives up incoming transfers whose sender died, left, restarted or went quiet: they would
   * otherwise show as running forever and hold off drops and anti-entropy.
   */
  expireIncoming(): void {
    const now = this.clock.wallNow();
    for (const t of [...this.transfers.book.active.values()]) {
      if (t.direction !== "in") continue;
      const gone = this.senderGone(t.peer, t.id);
      if (!gone && now - Date.parse(t.updatedAt) < STALL_MS) continue;
      this.transfers.book.finish(t, "failed", gone ? `sender ${t.peerName} died, left or restarted` : `sender ${t.peerName} sent nothing for ${STALL_MS / 1000}s`);
      this.senderEpoch.delete(t.id);
    }
    for (const id of this.senderEpoch.keys()) if (!this.transfers.book.active.has(id)) this.senderEpoch.delete(id);
  }

  /** Gives up every pull in progress at its next check. */
  stop(): void {
    this.stopped = true;
  }
}
