/**
 * Join: a joining member pulls the ranges it will own from their current owners (the read ring),
 * spread over the sources; it takes writes meanwhile (the write ring is the union of the read and
 * future rings) and turns active once every pull is done. A member joining again on its old data
 * compares digests with the owners instead of pulling its whole share.
 */
import { compareRings, HashRanges, type HashInterval } from "../ring.ts";
import type { HandoffContext } from "./context.ts";
import { catchUpFromOwners, holdsAny, pullIntervals } from "./moves.ts";

/** Ring changes a join follows (pulling what became new each time) before it stops. */
const MAX_ROUNDS = 10;

export class JoinPull {
  private running = false;

  constructor(private readonly ctx: HandoffContext) {}

  /**
   * The join pull: every range this node owns in the future ring and not in the read ring comes
   * from a live owner in the read ring; then digests are compared with every other owner and
   * whatever differs is pulled too (a write acknowledged by a quorum may not have reached the
   * owner that sent the range yet). A node that still holds its data (restarted on its data
   * directory, or back after a silence) only compares digests. Resolves when all of it arrived
   * (ranges that have no live owner at all are skipped with a warning: nobody can provide them).
   */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { ctx } = this;
    const { membership } = ctx;
    try {
      const self = membership.selfId;
      const returning = membership.isReturning(membership.self());
      // The ring may change while pulling (a member dies, another joins or leaves): the ranges
      // are computed again afterwards and whatever is new is pulled too.
      const pulled: HashInterval[] = [];
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const done = new HashRanges(pulled);
        const wanted: HashInterval[] = [];
        compareRings(membership.readRing(), membership.futureRing(), (iv, ro, fo) => {
          if (fo.includes(self) && !ro.includes(self) && !done.covers(iv[0], iv[1])) wanted.push(iv);
        });
        if (wanted.length === 0) break;
        const fraction = new HashRanges(wanted).fraction().toFixed(3);
        // Which owner sent each interval: its copy needs no comparison afterwards.
        const served = new Map<number, string>();
        const wantedRanges = new HashRanges(wanted);
        if (returning && (await holdsAny(ctx, (h) => wantedRanges.has(h)))) {
          ctx.logger.info("joining again: comparing what this node holds with the owners", { ranges: wanted.length, fraction, round });
        } else {
          ctx.logger.info("joining: pulling the ranges this node takes over", { ranges: wanted.length, fraction, round });
          await pullIntervals(ctx, wanted, "join", undefined, new Set(), 0, undefined, served);
        }
        await catchUpFromOwners(ctx, wanted, "join", undefined, served);
        pulled.push(...wanted);
      }
      if (pulled.length > 0) ctx.logger.info("joining: pull complete");
    } finally {
      this.running = false;
    }
  }
}
