/**
 * Leave: a leaving member pushes the ranges it owns to the members that take them over (the
 * future ring's new owners), waits for their acknowledgements, delivers the hinted batches it
 * holds, then announces `left`. Bounded by the leave timeout: after it the node exits anyway and
 * the others treat it as a death, re-replicating from the surviving owners.
 */
import { compareRings, HashRanges, type HashInterval } from "../ring.ts";
import { MAX_ATTEMPTS, RETRY_DELAY_MS, type HandoffContext } from "./context.ts";
import { intervalsByOwner, pushIntervals } from "./moves.ts";

export interface LeaveStatus {
  requested: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

/** How often a leaving node looks whether its hinted batches went out. */
const HINTS_POLL_MS = 100;

export class Leave {
  private promise: Promise<void> | null = null;
  private info: LeaveStatus = { requested: false, startedAt: null, finishedAt: null, error: null };

  constructor(private readonly ctx: HandoffContext) {}

  /** Starts the leave once; every call returns the same promise. */
  start(): Promise<void> {
    this.promise ??= this.run();
    return this.promise;
  }

  requested(): boolean {
    return this.promise !== null;
  }

  status(): LeaveStatus {
    return { ...this.info };
  }

  /** For every member taking over ranges this node owns, the intervals it takes. */
  private takers(): Map<string, HashInterval[]> {
    const { membership } = this.ctx;
    const self = membership.selfId;
    const byTaker = new Map<string, HashInterval[]>();
    compareRings(membership.readRing(), membership.futureRing(), (iv, ro, fo) => {
      if (!ro.includes(self)) return;
      for (const id of fo) {
        if (ro.includes(id) || id === self) continue;
        let l = byTaker.get(id);
        if (!l) byTaker.set(id, (l = []));
        l.push(iv);
      }
    });
    return byTaker;
  }

  private async run(): Promise<void> {
    const { ctx } = this;
    const { membership, cfg, clock } = ctx;
    const startedAt = clock.wallNow();
    this.info = { requested: true, startedAt: new Date(startedAt).toISOString(), finishedAt: null, error: null };
    const wasJoining = membership.self().state === "joining";
    membership.setState("leaving");
    const deadline = startedAt + cfg.handoffLeaveTimeoutMs;
    const inTime = () => clock.wallNow() < deadline;
    const timedOut = () => new Error(`leave timed out after ${cfg.handoffLeaveTimeoutMs / 1000}s`);
    const others = membership.all().filter((m) => !m.self && m.health !== "dead" && m.state !== "left");
    try {
      if (others.length > 0 && !wasJoining && this.takers().size > 0) {
        // Let every member hear `leaving` first, so new writes reach the takers directly.
        await clock.sleep(2 * cfg.heartbeatIntervalMs);
        const timeout = new Promise<never>((_, reject) => clock.setTimeout(() => reject(timedOut()), Math.max(0, deadline - clock.wallNow())).unref?.());
        // Pieces already acknowledged, by taker and interval. When a taker dies or a member
        // joins meanwhile, the takers are computed again and only what is missing is pushed.
        const acked = new Set<string>();
        for (let round = 0; ; round++) {
          const todo = new Map<string, HashInterval[]>();
          for (const [peer, ivs] of this.takers()) {
            const left = ivs.filter((iv) => !acked.has(`${peer}:${iv[0]}`));
            if (left.length > 0) todo.set(peer, left);
          }
          if (todo.size === 0) break;
          if (round >= MAX_ATTEMPTS) throw new Error("leave: the takers kept changing or failing");
          if (round > 0) await clock.sleep(RETRY_DELAY_MS);
          ctx.logger.info("leaving: handing ranges over", { takers: [...todo.keys()].map((id) => ctx.name(id)).join(","), round });
          const work = Promise.all(
            [...todo].map(([peer, ivs]) =>
              pushIntervals(ctx, peer, ivs, "leave", inTime).then(
                () => {
                  for (const iv of ivs) acked.add(`${peer}:${iv[0]}`);
                },
                (err: unknown) => ctx.logger.warn("leaving: a taker did not take its ranges; computing the takers again", { peer: ctx.name(peer), err }),
              ),
            ),
          );
          await Promise.race([work, timeout]);
          if (!inTime()) throw timedOut();
        }
      }
      if (others.length > 0 && wasJoining) {
        // A joining node took writes as a pending owner, and they counted towards the write
        // quorum: make sure the owners readers use hold everything it has before it goes.
        await clock.sleep(2 * cfg.heartbeatIntervalMs);
        const sync = Promise.all(
          [...intervalsByOwner(ctx, () => true)].map(([peer, ivs]) =>
            membership.get(peer)?.health === "alive" ? ctx.repairer.syncTo(peer, new HashRanges(ivs).toWire()) : Promise.resolve(0),
          ),
        );
        const pushed = await Promise.race([sync, clock.sleep(Math.max(0, deadline - clock.wallNow())).then(() => null)]);
        if (pushed === null) throw timedOut();
        ctx.logger.info("leaving while joining: the owners hold what this node received", { pushed: pushed.reduce((a, b) => a + b, 0) });
      }
      if (others.length > 0 && ctx.hintsPending() > 0) {
        ctx.logger.info("leaving: delivering the hinted batches this node holds", { batches: ctx.hintsPending() });
        while (ctx.hintsPending() > 0) {
          if (!inTime()) throw new Error(`leave timed out after ${cfg.handoffLeaveTimeoutMs / 1000}s with ${ctx.hintsPending()} hinted batches undelivered`);
          await clock.sleep(HINTS_POLL_MS);
        }
      }
      membership.setState("left");
      // A few heartbeats saying `left`, so nobody mistakes the exit for a death.
      if (others.length > 0) await clock.sleep(cfg.heartbeatIntervalMs);
      this.info.finishedAt = new Date(clock.wallNow()).toISOString();
      ctx.logger.info("left the cluster; every range was handed over", { seconds: ((clock.wallNow() - startedAt) / 1000).toFixed(1) });
    } catch (err) {
      this.info.error = err instanceof Error ? err.message : String(err);
      ctx.logger.error("graceful leave incomplete; exiting anyway (the others re-replicate from the surviving owners)", { err });
      throw err;
    }
  }
}
