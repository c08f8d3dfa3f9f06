/**
 * A manual clock for the cluster's state machines: time moves only when a test advances it, and
 * the timers that fall due meanwhile run in order of their due time, so that a sequence of
 * heartbeats, silences and ticks plays out the same way on every run, in microseconds.
 */
import type { Clock, ClockTimer } from "../../src/model/index.ts";

interface ManualTimer extends ClockTimer {
  due: number;
  every: number;
  fn: () => void;
  seq: number;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private mono: number;
  private readonly wallOffset: number;
  private readonly timers = new Set<ManualTimer>();
  private seq = 0;

  /** `start` is the monotonic reading at creation; the wall clock reads `wallStart` then. */
  constructor(start = 1000, wallStart = Date.UTC(2025, 0, 1)) {
    this.mono = start;
    this.wallOffset = wallStart - start;
  }

  now(): number {
    return this.mono;
  }

  wallNow(): number {
    return this.mono + this.wallOffset;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    this.cancel(timer);
  }

  clearInterval(timer: ClockTimer | undefined): void {
    this.cancel(timer);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Timers still pending. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in due order. */
  advance(ms: number): void {
    const until = this.mono + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.due <= until && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      this.mono = Math.max(this.mono, next.due);
      if (next.every > 0) {
        next.due += next.every;
        next.seq = ++this.seq;
      } else {
        this.timers.delete(next);
      }
      next.fn();
    }
    this.mono = until;
  }

  private add(fn: () => void, ms: number, every: number): ManualTimer {
    const t: ManualTimer = { due: this.mono + Math.max(0, ms), every, fn, seq: ++this.seq, cancelled: false, unref: () => {} };
    this.timers.add(t);
    return t;
  }

  private cancel(timer: ClockTimer | undefined): void {
    if (!timer) return;
    (timer as ManualTimer).cancelled = true;
    this.timers.delete(timer as ManualTimer);
  }
}
