/**
 * Drop: once the ring has been settled (no joining or leaving member, no transfer anywhere) for
 * the grace period, a member drops the series it no longer owns, after making sure their owners
 * hold them.
 */
import { compareRings, HashRanges, type HashInterval, type Ring } from "../ring.ts";
import type { HandoffContext } from "./context.ts";
import { holdsAny, intervalsByOwner } from "./moves.ts";

export interface DropStatus {
  graceSeconds: number;
  droppedSeries: number;
  lastDropAt: string | null;
  settledForSeconds: number;
  /**
   * Whether this node held series it does not own at its last check (they are dropped after
   * the grace); null before the first check. False on every node: each series is on its R
   * owners only.
   */
  holdsForeignSeries: boolean | null;
}

/** Least time between two checks of the same ring (a drop grace shorter than this still waits it). */
const RECHECK_MIN_MS = 5000;

function ringKey(read: Ring): string {
  return read.ids.join(",") + "|" + read.replicationFactor;
}

export class Drop {
  private droppedSeries = 0;
  private lastDropAt: number | null = null;
  private settledSince: number;
  private settledKey = "";
  private droppedForKey = "";
  private lastDropPerf = 0;
  private holdsForeign: boolean | null = null;
  private dropping = false;

  constructor(private readonly ctx: HandoffContext) {
    this.settledSince = ctx.clock.now();
  }

  /**
   * Whether hand-off is under way anywhere: this node is not active, a member joins or leaves,
   * a transfer runs here, or another member reports transfers or re-replication.
   */
  private busy(): boolean {
    const { membership } = this.ctx;
    return (
      membership.self().state !== "active" ||
      membership.pendingChange() ||
      this.ctx.transfers.book.active.size > 0 ||
      membership.all().some((m) => !m.self && m.health !== "dead" && ((m.load.handoffActive ?? 0) > 0 || (m.load.handoffPendingRanges ?? 0) > 0))
    );
  }

  /**
   * Drops the series this node no longer owns once the ring has been settled for the grace
   * period: no member joining or leaving, no transfer running on any member, the same read ring.
   */
  async tick(): Promise<void> {
    const { ctx } = this;
    const { membership, clock, cfg } = ctx;
    ctx.puller.expireIncoming();
    if (this.dropping || ctx.stopped) return;
    const now = clock.now();
    const read = membership.readRing();
    const key = ringKey(read);
    if (this.busy() || key !== this.settledKey) {
      // The owners changed: what this node holds has to be checked again.
      if (key !== this.settledKey) this.holdsForeign = null;
      this.settledKey = key;
      this.settledSince = now;
      return;
    }
    if (now - this.settledSince < cfg.handoffDropGraceMs) return;
    // Once per ring, then again every grace period (at least 5 s): late deliveries (a hinted
    // batch replayed after the ring changed) can bring series this node does not own.
    if (this.droppedForKey === key && now - this.lastDropPerf < Math.max(RECHECK_MIN_MS, cfg.handoffDropGraceMs)) return;
    const self = membership.selfId;
    const owned: HashInterval[] = [];
    compareRings(read, membership.futureRing(), (iv, ro, fo) => {
      if (ro.includes(self) || fo.includes(self)) owned.push(iv);
    });
    const mine = new HashRanges(owned);
    this.dropping = true;
    try {
      // Usually there is nothing to drop: then no digests are asked of anybody.
      const holdsForeign = await holdsAny(ctx, (h) => !mine.has(h));
      this.holdsForeign = holdsForeign;
      if (!holdsForeign) {
        this.droppedForKey = key;
        this.lastDropPerf = clock.now();
        return;
      }
      // Nothing is deleted before its owners confirmed they hold it: compare digests with each
      // owner of the ranges to drop and push whatever it lacks (a write it missed while it was
      // briefly taken for dead, say).
      let pushed = 0;
      for (const [peer, ivs] of intervalsByOwner(ctx, (ro) => !ro.includes(self))) {
        if (membership.get(peer)?.health !== "alive") throw new Error(`owner ${ctx.name(peer)} is not alive`);
        pushed += await ctx.repairer.syncTo(peer, new HashRanges(ivs).toWire());
      }
      if (pushed > 0) ctx.logger.info("pushed series their owners lacked before dropping them", { series: pushed });
      // The owners must not have changed meanwhile (a health flap that left them as they were
      // does not matter).
      if (ringKey(membership.readRing()) !== key || membership.pendingChange()) return;
      const n = await ctx.local.dropSeries((_l, h) => !mine.has(h));
      this.droppedForKey = key;
      this.lastDropPerf = clock.now();
      this.holdsForeign = false;
      this.lastDropAt = clock.wallNow();
      this.droppedSeries += n;
      if (n > 0) ctx.logger.info("dropped series this node no longer owns", { series: n, grace_s: cfg.handoffDropGraceMs / 1000 });
    } catch (err) {
      ctx.logger.warn("not dropping series this node no longer owns yet", { err });
    } finally {
      this.dropping = false;
    }
  }

  status(): DropStatus {
    return {
      graceSeconds: this.ctx.cfg.handoffDropGraceMs / 1000,
      droppedSeries: this.droppedSeries,
      lastDropAt: this.lastDropAt === null ? null : new Date(this.lastDropAt).toISOString(),
      settledForSeconds: Math.round((this.ctx.clock.now() - this.settledSince) / 100) / 10,
      holdsForeignSeries: this.holdsForeign,
    };
  }
}
