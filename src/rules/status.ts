/**
 * Rule groups in the shapes of /api/v1/rules and /api/v1/alerts (model/rule_status.ts), with
 * Prometheus's formatting: times as Go's RFC 3339 (nanoseconds, trailing zeros dropped, the
 * zero time before the first evaluation), durations in seconds, alert values as Go's 'e' format.
 */
import { labelsToRecord, type AlertStatus, type Labels, type RuleGroupStatus, type RuleStatus } from "../model/index.ts";
import type { Alert } from "./alert.ts";
import { AlertingRule } from "./alerting_rule.ts";
import type { RuleGroup } from "./group.ts";

const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/** Go's time.Time JSON form (RFC 3339 with only the fraction digits needed) in UTC; 0 is Go's zero time. */
export function goTime(ms: number): string {
  if (ms === 0) return GO_ZERO_TIME;
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === "" ? "Z" : `.${frac}Z`));
}

/** Go's strconv.FormatFloat(v, 'e', -1, 64): shortest digits, exponent sign and at least two digits. */
export function goExponent(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const [mantissa, exp] = v.toExponential().split("e") as [string, string];
  const sign = exp.startsWith("-") ? "-" : "+";
  const digits = exp.replace(/^[+-]/, "");
  return `${Object.is(v, -0) ? "-" : ""}${mantissa}e${sign}${digits.padStart(2, "0")}`;
}

function record(labels: Labels): Record<string, string> {
  return labelsToRecord(labels);
}

export function alertStatus(a: Alert): AlertStatus {
  const s: AlertStatus = {
    labels: record(a.labels),
    annotations: { ...a.annotations },
    state: a.state === "firing" ? "firing" : "pending",
    activeAt: goTime(a.activeAtMs),
    value: goExponent(a.value),
  };
  if (a.keepFiringSinceMs !== 0) s.keepFiringSince = goTime(a.keepFiringSinceMs);
  return s;
}

/** One group as /api/v1/rules reports it; `evaluatedBy` is the member evaluating it ("" if not this one). */
export function groupStatus(g: RuleGroup, evaluatedBy: string): RuleGroupStatus {
  const rules = g.rules.map((r): RuleStatus => {
    const base = {
      name: r.name,
      query: r.expr,
      labels: record(r.labels),
      health: r.state.health,
      ...(r.state.lastError !== "" ? { lastError: r.state.lastError } : {}),
      evaluationTime: r.state.evaluationTimeSeconds,
      lastEvaluation: goTime(r.state.lastEvaluationMs),
    };
    if (r instanceof AlertingRule) {
      return {
        ...base,
        type: "alerting",
        state: r.ruleState(),
        duration: r.holdMs / 1000,
        keepFiringFor: r.keepFiringForMs / 1000,
        annotations: { ...r.annotations },
        alerts: r.activeAlerts().map(alertStatus),
      };
    }
    return { ...base, type: "recording" };
  });
  return {
    name: g.name,
    file: g.file,
    interval: g.intervalMs / 1000,
    limit: g.limit,
    rules,
    evaluationTime: g.evaluationTimeSeconds,
    lastEvaluation: goTime(g.lastEvaluationMs),
    evaluatedBy,
  };
}
