/**
 * When this member stored samples, and how old they were: per second of wall time, the oldest
 * sample timestamp stored in it (local shares of writes and writes forwarded by other members).
 * A read from one replica per range is safe only for samples whose write has settled on every
 * replica; a sample's timestamp says little about when it was written (a retried or backlogged
 * remote write, a distributor that died holding hints). Asked for the newest samples, a member
 * widens its answer down to the oldest sample it stored since then, so that the members that
 * acknowledged a write still in flight to others return it.
 */
import type { Appendable, Appender, AppenderOptions, Clock, Labels } from "../model/index.ts";

export class AppliedLog {
  private readonly seconds: number;
  /** Per bucket: the wall second it holds (−1: empty) and the oldest sample timestamp stored then. */
  private readonly second: Float64Array;
  private readonly oldest: Float64Array;

  constructor(
    private readonly clock: Clock,
    keepMs: number,
  ) {
    this.seconds = Math.ceil(keepMs / 1000) + 2;
    this.second = new Float64Array(this.seconds).fill(-1);
    this.oldest = new Float64Array(this.seconds);
  }

  /** Samples down to timestamp `minT` were stored now. */
  note(minT: number): void {
    if (!Number.isFinite(minT)) return;
    const sec = Math.floor(this.clock.wallNow() / 1000);
    const i = sec % this.seconds;
    if (this.second[i] !== sec) {
      this.second[i] = sec;
      this.oldest[i] = minT;
    } else if (minT < this.oldest[i]!) this.oldest[i] = minT;
  }

  /** The oldest sample timestamp stored since wall time `sinceMs`, within what is kept (Infinity: none). */
  oldestSince(sinceMs: number): number {
    return this.oldestIn([sinceMs, Infinity]);
  }

  /**
   * The oldest sample timestamp stored during any of the wall-time intervals `flat` ([from, to,
   * from, to, …], whole seconds around them), within what is kept (Infinity: none).
   */
  oldestIn(flat: readonly number[]): number {
    const kept = Math.floor(this.clock.wallNow() / 1000) - this.seconds + 1;
    let out = Infinity;
    for (let i = 0; i < this.seconds; i++) {
      const sec = this.second[i]!;
      if (sec < kept || this.oldest[i]! >= out) continue;
      for (let k = 0; k + 1 < flat.length; k += 2) {
        if (sec >= Math.floor(flat[k]! / 1000) && sec <= Math.floor(flat[k + 1]! / 1000)) {
          out = this.oldest[i]!;
          break;
        }
      }
    }
    return out;
  }
}

/** `local` with every commit's oldest sample noted in `log` once stored. */
export function noteApplied(local: Appendable, log: AppliedLog): Appendable {
  return {
    appender(opts?: AppenderOptions): Appender {
      const inner = local.appender(opts);
      let minT = Infinity;
      return {
        append(labels: Labels, t: number, v: number, stale?: boolean): void {
          inner.append(labels, t, v, stale);
          if (t < minT) minT = t;
        },
        async commit(): Promise<void> {
          await inner.commit();
          log.note(minT);
          minT = Infinity;
        },
        rollback(): void {
          inner.rollback();
          minT = Infinity;
        },
      };
    },
  };
}
