/**
 * An alerting rule: every series of its query's result is an alert (pending until it has been
 * active for `for`, then firing; held firing for `keep_firing_for` after it disappears), with
 * templated labels and annotations, written out as `ALERTS` and `ALERTS_FOR_STATE` series and
 * sent to Alertmanager. The state machine is Prometheus's AlertingRule.Eval.
 */
import { labelsKey, labelsToRecord, labelsWith, METRIC_NAME, type Labels } from "../model/index.ts";
import { Alert } from "./alert.ts";
import { ALERTS_FOR_STATE, RESTORE_EVALUATIONS, restoredActiveAtMs, type ForStateCandidate } from "./for_state.ts";
import { RuleHealthState, type RuleEvalContext, type RuleSample } from "./rule.ts";
import { expandAlertTemplate, TemplateError, type TemplateSample } from "./template/index.ts";
import type { NotifierAlert } from "./notifier/alert.ts";

export const ALERTS = "ALERTS";
export const DUPLICATE_ALERT_LABELSET = "vector contains metrics with the same labelset after applying alert labels";
/** How long a resolved alert is kept (and re-sent as resolved) before it is forgotten. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

export interface AlertingRuleOptions {
  name: string;
  /** The query as the PromQL printer formats it. */
  expr: string;
  holdMs: number;
  keepFiringForMs: number;
  /** The group's labels overlaid with the rule's, unexpanded. */
  labels: Labels;
  annotations: Record<string, string>;
  externalLabels: () => Labels;
  externalURL: string;
}

export class AlertingRule {
  readonly type = "alerting";
  readonly state = new RuleHealthState();
  readonly name: string;
  readonly expr: string;
  readonly holdMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Labels;
  readonly annotations: Record<string, string>;
  /** Alerts by labelsKey of their labels: active ones and resolved ones kept for re-sending. */
  readonly active = new Map<string, Alert>();
  private readonly externalLabels: () => Labels;
  private readonly externalURL: string;
  private restoreCandidates: Map<string, ForStateCandidate> | null = null;
  private restoreEvaluationsLeft = 0;
  private restoreGracePeriodMs = 0;

  constructor(o: AlertingRuleOptions) {
    this.name = o.name;
    this.expr = o.expr;
    this.holdMs = o.holdMs;
    this.keepFiringForMs = o.keepFiringForMs;
    this.labels = o.labels;
    this.annotations = o.annotations;
    this.externalLabels = o.externalLabels;
    this.externalURL = o.externalURL;
  }

  /** Candidates read from ALERTS_FOR_STATE, applied to alerts that appear in the next evaluations. */
  setRestoreCandidates(candidates: Map<string, ForStateCandidate>, gracePeriodMs: number): void {
    this.restoreCandidates = candidates.size > 0 ? candidates : null;
    this.restoreEvaluationsLeft = RESTORE_EVALUATIONS;
    this.restoreGracePeriodMs = gracePeriodMs;
  }

  /** Forgets every alert (the group moved to another member, which carries on with them). */
  forget(): void {
    this.active.clear();
    this.restoreCandidates = null;
  }

  /** Evaluates at ctx.tsMs; returns the ALERTS and ALERTS_FOR_STATE samples to write. */
  async eval(ctx: RuleEvalContext): Promise<RuleSample[]> {
    const ts = ctx.tsMs;
    const outT = ts - ctx.queryOffsetMs;
    try {
      const result = await ctx.query(this.expr, outT);
      const fresh = new Map<string, Alert>();
      for (const s of result) {
        const alert = await this.alertFor(s, ts, ctx);
        const key = labelsKey(alert.labels);
        if (fresh.has(key)) throw new Error(DUPLICATE_ALERT_LABELSET);
        fresh.set(key, alert);
      }
      for (const [key, a] of fresh) {
        const known = this.active.get(key);
        if (known && known.state !== "inactive") {
          known.value = a.value;
          known.annotations = a.annotations;
          continue;
        }
        this.active.set(key, a);
        this.restore(key, a, ts);
      }
      return this.advance(fresh, ts, outT, ctx.limit);
    } finally {
      if (this.restoreEvaluationsLeft > 0 && --this.restoreEvaluationsLeft === 0) this.restoreCandidates = null;
    }
  }

  private restore(key: string, a: Alert, ts: number): void {
    const c = this.restoreCandidates?.get(key);
    if (!c) return;
    this.restoreCandidates!.delete(key);
    const activeAt = restoredActiveAtMs(c, this.holdMs, ts, this.restoreGracePeriodMs);
    if (activeAt !== undefined) a.activeAtMs = activeAt;
  }

  private advance(fresh: Map<string, Alert>, ts: number, outT: number, limit: number): RuleSample[] {
    const out: RuleSample[] = [];
    let activeCount = 0;
    for (const [key, a] of this.active) {
      if (!fresh.has(key)) {
        let keepFiring = false;
        if (a.state === "firing" && this.keepFiringForMs > 0) {
          if (a.keepFiringSinceMs === 0) a.keepFiringSinceMs = ts;
          keepFiring = ts - a.keepFiringSinceMs < this.keepFiringForMs;
        }
        // Pending alerts go at once; resolved ones after the retention (they are re-sent meanwhile).
        if (a.state === "pending" || (a.resolvedAtMs !== 0 && ts - a.resolvedAtMs > RESOLVED_RETENTION_MS)) this.active.delete(key);
        if (a.state !== "inactive" && !keepFiring) {
          a.state = "inactive";
          a.resolvedAtMs = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSinceMs = 0;
      }
      activeCount++;
      if (a.state === "pending" && ts - a.activeAtMs >= this.holdMs) {
        a.state = "firing";
        a.firedAtMs = ts;
      }
      // A `for` made longer by a reload sends a firing alert back to pending.
      if (a.state === "firing" && ts - a.activeAtMs < this.holdMs) {
        a.state = "pending";
        a.firedAtMs = 0;
        a.lastSentAtMs = 0;
        a.keepFiringSinceMs = 0;
      }
      const alertLabels = labelsWith(a.labels, "alertname", this.name);
      out.push({ labels: labelsWith(labelsWith(alertLabels, "alertstate", a.state), METRIC_NAME, ALERTS), t: outT, v: 1 });
      out.push({ labels: labelsWith(alertLabels, METRIC_NAME, ALERTS_FOR_STATE), t: outT, v: Math.floor(a.activeAtMs / 1000) });
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new Error(`exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return out;
  }

  /** The alert one result sample stands for: its labels without __name__, the rule's expanded labels, alertname. */
  private async alertFor(s: RuleSample, ts: number, ctx: RuleEvalContext): Promise<Alert> {
    const data = {
      labels: labelsToRecord(labelsWith(s.labels, METRIC_NAME, "")),
      externalLabels: labelsToRecord(this.externalLabels()),
      externalURL: this.externalURL,
      value: s.v,
    };
    const tmplCtx = {
      query: async (expr: string): Promise<TemplateSample[]> => (await ctx.query(expr, ts)).map((r) => ({ labels: labelsToRecord(r.labels), value: r.v })),
      externalURL: this.externalURL,
      timeMs: ts,
    };
    const expand = async (text: string): Promise<string> => {
      // Text without an action expands to itself; most labels and many annotations are plain.
      if (!text.includes("{{")) return text;
      try {
        return await expandAlertTemplate(`__alert_${this.name}`, text, data, tmplCtx);
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        return `<error expanding template: ${e.message}>`;
      }
    };
    let labels = labelsWith(s.labels, METRIC_NAME, "");
    for (const l of this.labels) labels = labelsWith(labels, l.name, await expand(l.value));
    labels = labelsWith(labels, "alertname", this.name);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.annotations)) annotations[k] = await expand(v);
    return new Alert(labels, annotations, s.v, ts);
  }

  /** Alerts due to be sent at `ts`, marked as sent (Prometheus's sendAlerts). */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number, generatorURL: string): NotifierAlert[] {
    const out: NotifierAlert[] = [];
    for (const a of this.active.values()) {
      if (!a.needsSending(ts, resendDelayMs)) continue;
      a.lastSentAtMs = ts;
      a.validUntilMs = ts + 4 * Math.max(intervalMs, resendDelayMs);
      out.push({
        labels: labelsToRecord(a.labels),
        annotations: { ...a.annotations },
        startsAtMs: a.firedAtMs,
        endsAtMs: a.resolvedAtMs !== 0 ? a.resolvedAtMs : a.validUntilMs,
        generatorURL,
      });
    }
    return out;
  }

  /** The rule's overall state: the highest of its alerts' ("inactive" before any evaluation too). */
  ruleState(): "inactive" | "pending" | "firing" {
    let s: "inactive" | "pending" | "firing" = "inactive";
    for (const a of this.active.values()) {
      if (a.state === "firing") return "firing";
      if (a.state === "pending") s = "pending";
    }
    return s;
  }

  /** Alerts not resolved (pending or firing), as /api/v1/alerts and `shoal test rules` see them. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.resolvedAtMs === 0);
  }
}
