/**
 * Rule groups and alerts as /api/v1/rules and /api/v1/alerts report them: the rules room fills
 * these in, the API serves and merges them across members. The shapes are Prometheus's JSON
 * (times as RFC 3339 strings, durations in seconds), plus `evaluatedBy`: the
 * `--cluster.node-name` of the member evaluating the group ("" when no member reported it).
 */

export type AlertState = "pending" | "firing" | "inactive";
export type RuleHealth = "ok" | "err" | "unknown";

export interface AlertStatus {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: Exclude<AlertState, "inactive">;
  /** RFC 3339; when the alert became pending. */
  activeAt: string;
  /** RFC 3339, only while `keep_firing_for` holds a resolved alert firing. */
  keepFiringSince?: string;
  /** The sample value that made the alert active, as Prometheus formats floats. */
  value: string;
}

interface RuleStatusBase {
  name: string;
  query: string;
  labels: Record<string, string>;
  health: RuleHealth;
  lastError?: string;
  /** Seconds. */
  evaluationTime: number;
  /** RFC 3339; "0001-01-01T00:00:00Z" before the first evaluation, as Prometheus. */
  lastEvaluation: string;
}

export interface AlertingRuleStatus extends RuleStatusBase {
  type: "alerting";
  state: AlertState;
  /** `for`, seconds. */
  duration: number;
  /** `keep_firing_for`, seconds. */
  keepFiringFor: number;
  annotations: Record<string, string>;
  alerts: AlertStatus[];
}

export interface RecordingRuleStatus extends RuleStatusBase {
  type: "recording";
}

export type RuleStatus = AlertingRuleStatus | RecordingRuleStatus;

export interface RuleGroupStatus {
  name: string;
  file: string;
  /** Seconds. */
  interval: number;
  /** Zero means no limit. */
  limit: number;
  rules: RuleStatus[];
  /** Seconds. */
  evaluationTime: number;
  /** RFC 3339. */
  lastEvaluation: string;
  /** The member evaluating this group; "" when none reported it. */
  evaluatedBy: string;
}

/** What a node knows about the rule groups it has loaded (all of them, evaluated here or not). */
export interface RulesSource {
  /** Every group loaded from the rule files, in file order; groups this node evaluates carry its name in `evaluatedBy`. */
  ruleGroups(): RuleGroupStatus[];
}

/** The Alertmanagers the notifier sends to, as /api/v1/alertmanagers lists them. */
export interface AlertmanagersSource {
  alertmanagers(): { activeAlertmanagers: { url: string }[]; droppedAlertmanagers: { url: string }[] };
}
