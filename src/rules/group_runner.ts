/**
 * Runs one group on its slots (eval_slot.ts), on every member alike: at each slot the member
 * asks whether it owns the group and evaluates only if it does. A member that gains the group
 * restores `for` state before its first evaluation, so that alerts firing at the previous owner
 * are firing at once; a member that loses it stops at once and forgets its alerts (the new owner
 * carries on with the same series at the same timestamps).
 *
 * Iterations that a slow evaluation overran are skipped and counted as missed, as Prometheus's
 * ticker does: the next evaluation is at the latest slot that has passed.
 */
import type { Clock, ClockTimer, Logger } from "../model/index.ts";
import { slotAtOrBefore } from "./eval_slot.ts";
import type { RuleGroup } from "./group.ts";

export class GroupRunner {
  readonly group: RuleGroup;
  private readonly clock: Clock;
  private readonly owns: () => boolean;
  private readonly logger: Logger;
  private timer: ClockTimer | undefined;
  /** The slot the timer is set for. */
  private nextSlotMs = 0;
  private owned: boolean;
  private evaluatedSinceGain: boolean;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  /** `owned`: the group's state is already this member's (it replaces a group this member evaluated). */
  constructor(group: RuleGroup, opts: { clock: Clock; owns: () => boolean; logger: Logger; owned?: boolean }) {
    this.group = group;
    this.clock = opts.clock;
    this.owns = opts.owns;
    this.logger = opts.logger;
    this.owned = opts.owned ?? false;
    this.evaluatedSinceGain = this.owned;
  }

  /** Whether this member evaluates the group now. */
  get evaluating(): boolean {
    return this.owned && !this.stopped;
  }

  /**
   * Whether this member evaluates the group and has done so since it gained it: until then its
   * state is not the group's yet (no alerts), and the API shows the previous evaluator's.
   */
  get reportable(): boolean {
    return this.evaluating && this.evaluatedSinceGain;
  }

  /** Schedules the first evaluation at the first slot after now. */
  start(): void {
    const g = this.group;
    this.nextSlotMs = slotAtOrBefore(this.clock.wallNow(), g.slotOffsetMs, g.intervalMs) + g.intervalMs;
    this.arm();
  }

  /** Ownership may have changed: a lost group stops at once; a gained one starts at its next slot. */
  reshard(): void {
    if (this.stopped || !this.owned) return;
    if (this.owns()) return;
    this.lose();
  }

  /** Resolves when no evaluation is in flight. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.running;
      await seen;
    } while (seen !== this.running);
  }

  /** Stops the timer and waits for an evaluation in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  private arm(): void {
    if (this.stopped) return;
    const delay = Math.max(0, this.nextSlotMs - this.clock.wallNow());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().catch((e: unknown) => this.logger.error("Rule group iteration failed", { err: e }));
    }, delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const g = this.group;
    // Slots that passed while the previous evaluation ran (or the process was stalled) are skipped.
    const behind = Math.floor((this.clock.wallNow() - this.nextSlotMs) / g.intervalMs);
    if (behind > 0) {
      if (this.owned) {
        g.counters.iterationsMissed += behind;
        g.counters.iterations += behind;
      }
      this.nextSlotMs += behind * g.intervalMs;
    }
    const slot = this.nextSlotMs;
    try {
      if (!this.owns()) {
        if (this.owned) this.lose();
        return;
      }
      if (!this.owned) {
        this.owned = true;
        this.evaluatedSinceGain = false;
        g.forget();
        this.logger.info("Evaluating rule group on this member", { slot: new Date(slot).toISOString() });
        await g.restoreForState(slot);
      }
      await g.evaluate(slot);
      this.evaluatedSinceGain = true;
    } finally {
      this.nextSlotMs = slot + g.intervalMs;
      this.arm();
    }
  }

  private lose(): void {
    this.owned = false;
    this.group.forget();
    this.logger.info("Rule group moved to another member");
  }
}
