/**
 * When this member stored samples, and how old they were: per second of wall time, the oldest
 * and the newest sample timestamp stored in it (local shares of writes and writes forwarded by
 * other members).
 * A read from one replica per range is safe only for samples whose write has settled on every
 * replica; a sample's timestamp says little about when it was written (a retried or backlogged
 * remote write, a distributor that died holding hints). Asked for the newest samples, a member
 * widens its answer down to the oldest sample it stored since then, so that the members that
 * acknowledged a write still in flight to others return it; the newest bounds that widening
 * (writes stored then with current timestamps do not make a read of later samples widen).
 */
import type { Appendable, Appender, AppenderOptions, Clock, Labels } from "../model/index.ts";

export class AppliedLog {
  private readonly seconds: number;
  /** Per bucket: the wall second it holds (−1: empty) and the oldest sample timestamp stored then. */
  private readonly second: Float64Array;
  private readonly oldest: Float64Array;
  private readonly newest: Float64Array;

  constructor(
    private readonly clock: Clock,
    keepMs: number,
  ) {
    this.seconds = Math.ceil(keepMs / 1000) + 2;
    this.second = new Float64Array(this.seconds).fill(-1);
    this.oldest = new Float64Array(this.seconds);
    this.newest = new Float64Array(this.seconds);
  }

  /** Samples with timestamps from `minT` to `maxT` were stored now. */
  note(minT: number, maxT: number): void {
    if (!Number.isFinite(minT) || !Number.isFinite(maxT)) return;
    const sec = Math.floor(this.clock.wallNow() / 1000);
    const i = sec % this.seconds;
    if (this.second[i] !== sec) {
      this.second[i] = sec;
      this.oldest[i] = minT;
      this.newest[i] = maxT;
    } else {
      if (minT < this.oldest[i]!) this.oldest[i] = minT;
      if (maxT > this.newest[i]!) this.newest[i] = maxT;
    }
  }

  /**
   * The oldest and newest sample timestamps stored during any of the wall-time intervals `flat`
   * ([from, to, from, to, …], whole seconds around them), within what is kept; Infinity and
   * −Infinity when nothing was stored then.
   */
  storedIn(flat: readonly number[]): { oldest: number; newest: number } {
    const kept = Math.floor(this.clock.wallNow() / 1000) - this.seconds + 1;
    let oldest = Infinity;
    let newest = -Infinity;
    for (let i = 0; i < this.seconds; i++) {
      const sec = this.second[i]!;
      if (sec < kept) continue;
      for (let k = 0; k + 1 < flat.length; k += 2) {
        if (sec >= Math.floor(flat[k]! / 1000) && sec <= Math.floor(flat[k + 1]! / 1000)) {
          oldest = Math.min(oldest, this.oldest[i]!);
          newest = Math.max(newest, this.newest[i]!);
          break;
        }
      }
    }
    return { oldest, newest };
  }
}

/** `local` with every commit's oldest sample noted in `log` once stored. */
export function noteApplied(local: Appendable, log: AppliedLog): Appendable {
  return {
    appender(opts?: AppenderOptions): Appender {
      const inner = local.appender(opts);
      let minT = Infinity;
      let maxT = -Infinity;
      return {
        append(labels: Labels, t: number, v: number, stale?: boolean): void {
          inner.append(labels, t, v, stale);
          if (t < minT) minT = t;
          if (t > maxT) maxT = t;
        },
        async commit(): Promise<void> {
          await inner.commit();
          log.note(minT, maxT);
          minT = Infinity;
          maxT = -Infinity;
        },
        rollback(): void {
          inner.rollback();
          minT = Infinity;
          maxT = -Infinity;
        },
      };
    },
  };
}
