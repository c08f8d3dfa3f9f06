/**
 * Re-replication after a death: when the read ring lost a member that is dead, the members that
 * gained its ranges copy them from the surviving owners. One survivor is not enough: a write
 * acknowledged by the dead member and one survivor may still be on its way to the other (a
 * hinted batch), so the gainer pulls each range from one survivor, then compares digests with
 * every survivor and pulls whatever differs.
 */
import { compareRings, HashRanges, type HashInterval, type Ring } from "../ring.ts";
import type { HandoffContext, HandoffMembership } from "./context.ts";
import { catchUpFromOwners, pullIntervals } from "./moves.ts";

/** Ranges this node gained from a dead member, grouped by the live owners that still hold them. */
export interface DeathGain {
  survivors: string[];
  ivs: HashInterval[];
}

/**
 * The ranges this node owns in `cur` and did not in `prev` because a member that owned them is
 * dead (not because it left or a member joined), grouped by their surviving live owners. Ranges
 * with no live survivor are left out: nobody can provide them.
 */
export function deathGains(prev: Ring, cur: Ring, membership: Pick<HandoffMembership, "selfId" | "get" | "isLive">): DeathGain[] {
  const self = membership.selfId;
  const bySurvivors = new Map<string, DeathGain>();
  compareRings(prev, cur, (iv, po, co) => {
    if (po.includes(self) || !co.includes(self)) return;
    if (!po.some((id) => !co.includes(id) && membership.get(id)?.health === "dead")) return;
    const survivors = po.filter((id) => co.includes(id) && membership.isLive(id));
    if (survivors.length === 0) return;
    const key = survivors.join();
    let g = bySurvivors.get(key);
    if (!g) bySurvivors.set(key, (g = { survivors, ivs: [] }));
    g.ivs.push(iv);
  });
  return [...bySurvivors.values()];
}

export class ReReplication {
  private prevRead: Ring | null = null;
  /** Intervals this node is re-replicating (pulling after a death), while the pull runs. */
  private readonly pulls = new Map<number, HashInterval[]>();
  private seq = 0;

  constructor(private readonly ctx: HandoffContext) {}

  /** Called on every membership change: starts re-replicating what this node gained from a death. */
  onRingChange(): void {
    const { ctx } = this;
    const cur = ctx.membership.readRing();
    const prev = this.prevRead;
    this.prevRead = cur;
    if (!prev || prev === cur || ctx.stopped) return;
    for (const { survivors, ivs } of deathGains(prev, cur, ctx.membership)) {
      const key = ++this.seq;
      this.pulls.set(key, ivs);
      ctx.logger.info("re-replicating ranges of a dead member", { from: survivors.map((id) => ctx.name(id)).join(","), ranges: ivs.length });
      this.pull(ivs, survivors)
        .catch((err: unknown) => ctx.logger.error("re-replication failed", { from: survivors.map((id) => ctx.name(id)).join(","), err }))
        .finally(() => this.pulls.delete(key));
    }
  }

  private async pull(ivs: HashInterval[], survivors: string[]): Promise<void> {
    const served = new Map<number, string>();
    await pullIntervals(this.ctx, ivs, "death", undefined, new Set(), 0, survivors, served);
    await catchUpFromOwners(this.ctx, ivs, "death", survivors, served);
  }

  /** Ranges this node is re-replicating right now (published in heartbeats). */
  pendingRanges(): number {
    let n = 0;
    for (const v of this.pulls.values()) n += v.length;
    return n;
  }

  /** Fraction of the hash ring this node is re-replicating right now (published in heartbeats). */
  pendingFraction(): number {
    if (this.pulls.size === 0) return 0;
    return new HashRanges([...this.pulls.values()].flat()).fraction();
  }

  /** Fraction of the hash ring being re-replicated anywhere in the cluster (at most 1). */
  underReplicatedFraction(): number {
    let f = this.pendingFraction();
    for (const m of this.ctx.membership.all()) if (!m.self && m.health !== "dead") f += m.load.handoffPendingFraction ?? 0;
    return Math.min(1, f);
  }

  /** Ranges being re-replicated anywhere in the cluster (from every member's heartbeat). */
  underReplicatedRanges(): number {
    let n = this.pendingRanges();
    for (const m of this.ctx.membership.all()) if (!m.self && m.health !== "dead") n += m.load.handoffPendingRanges ?? 0;
    return n;
  }
}
