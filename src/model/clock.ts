/**
 * Time as the state machines see it (cluster membership, hand-off, settle, rule evaluation).
 * Every timeout is read through a `Clock` handed in at construction, so that tests can drive
 * transitions (suspect → dead → replaced, pending → firing) by advancing a manual clock instead
 * of sleeping.
 */

/** A pending timer; `unref` lets the process exit while it is pending (real clock only). */
export interface ClockTimer {
  unref?(): void;
}

export interface Clock {
  /** Monotonic milliseconds (performance.now() in production): for ages, timeouts, back-offs. */
  now(): number;
  /** Milliseconds since the epoch (Date.now() in production): for what crosses nodes or shows in status. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer | undefined): void;
  sleep(ms: number): Promise<void>;
}

/** The process's own clock. */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout> | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t as ReturnType<typeof setInterval> | undefined),
  sleep: (ms) => Bun.sleep(ms),
};
