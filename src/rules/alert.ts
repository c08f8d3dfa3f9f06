/**
 * One alert of an alerting rule (one label set of its result) and when it must be sent to
 * Alertmanager, with Prometheus's rules: pending alerts are never sent; firing ones are sent
 * when first firing and again every resend delay; a resolved one is sent once more with its
 * resolution time as `endsAt`. Times are ms since the epoch; 0 means "never" (Go's zero time).
 */
import type { Labels } from "../model/index.ts";

export type AlertStateName = "inactive" | "pending" | "firing";

export class Alert {
  state: AlertStateName = "pending";
  /** The rule's result labels without `__name__`, plus the rule's (expanded) labels and `alertname`. */
  labels: Labels;
  annotations: Record<string, string>;
  /** The sample value that made the alert active, from the latest evaluation. */
  value: number;
  activeAtMs: number;
  firedAtMs = 0;
  resolvedAtMs = 0;
  lastSentAtMs = 0;
  /** What `endsAt` says while firing: Alertmanager resolves the alert by itself after it. */
  validUntilMs = 0;
  /** When `keep_firing_for` started holding a no longer active alert in the firing state. */
  keepFiringSinceMs = 0;

  constructor(labels: Labels, annotations: Record<string, string>, value: number, activeAtMs: number) {
    this.labels = labels;
    this.annotations = annotations;
    this.value = value;
    this.activeAtMs = activeAtMs;
  }

  needsSending(tsMs: number, resendDelayMs: number): boolean {
    if (this.state === "pending") return false;
    // A resolution not sent yet is always sent, whatever the resend delay.
    if (this.resolvedAtMs > this.lastSentAtMs) return true;
    return this.lastSentAtMs + resendDelayMs < tsMs;
  }
}
