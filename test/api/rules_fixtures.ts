/**
 * Contract-shaped rule groups (src/model/rule_status.ts) and API dependencies around a given
 * RulesSource, for tests of the rules API and the pages that show it.
 */
import type { ApiDeps, MemberDirectory } from "../../src/api/server.ts";
import { parseMetricSelector } from "../../src/api/promql_tools.ts";
import { nopLogger, type AlertStatus, type AlertingRuleStatus, type AlertmanagersSource, type RecordingRuleStatus, type RuleGroupStatus, type RulesSource } from "../../src/model/index.ts";
import { Registry } from "../../src/telemetry/index.ts";

/** Prometheus's time before the first evaluation. */
export const NEVER = "0001-01-01T00:00:00Z";

/** A dependency the rules API never touches: any use fails the test loudly. */
function unused<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_target, prop) => {
      throw new Error(`${what}.${String(prop)} is not used by the rules API`);
    },
  });
}

export function deps(rules: RulesSource, extra: { alertmanagers?: AlertmanagersSource; members?: MemberDirectory } = {}): ApiDeps {
  return {
    logger: nopLogger,
    queryable: unused("queryable"),
    appendable: unused("appendable"),
    engine: unused("engine"),
    promql: { parseMetricSelector, formatQuery: (q) => q },
    admin: unused("admin"),
    targets: { activeTargets: () => [], droppedTargets: () => [], metadata: () => [] },
    rules,
    alertmanagers: extra.alertmanagers ?? { alertmanagers: () => ({ activeAlertmanagers: [], droppedAlertmanagers: [] }) },
    members: extra.members,
    registry: new Registry(),
    buildInfo: { version: "test", revision: "", branch: "", buildUser: "", buildDate: "", goVersion: "" },
    configYaml: () => "",
    externalLabels: () => [],
    reload: async () => {},
    flags: {},
    runtimeInfo: () => ({}),
    lookbackDeltaMs: 300_000,
    enableAdminApi: false,
    ready: () => true,
  };
}

export function alert(labels: Record<string, string>, state: AlertStatus["state"], activeAt = "2026-01-01T10:00:00Z"): AlertStatus {
  return { labels, annotations: { summary: `about ${labels.instance ?? "it"}` }, state, activeAt, value: "1e+00" };
}

export function alerting(name: string, labels: Record<string, string>, alerts: AlertStatus[], lastEvaluation = NEVER): AlertingRuleStatus {
  const state = alerts.some((a) => a.state === "firing") ? "firing" : alerts.length > 0 ? "pending" : "inactive";
  return {
    type: "alerting",
    name,
    query: `${name.toLowerCase()} > 1`,
    labels,
    health: lastEvaluation === NEVER ? "unknown" : "ok",
    evaluationTime: 0.001,
    lastEvaluation,
    state,
    duration: 60,
    keepFiringFor: 0,
    annotations: { summary: "{{ $labels.instance }} is high" },
    alerts,
  };
}

export function recording(name: string, labels: Record<string, string> = {}, lastEvaluation = NEVER, lastError?: string): RecordingRuleStatus {
  return {
    type: "recording",
    name,
    query: `sum(${name.split(":")[1] ?? "up"})`,
    labels,
    health: lastError ? "err" : lastEvaluation === NEVER ? "unknown" : "ok",
    ...(lastError ? { lastError } : {}),
    evaluationTime: 0.002,
    lastEvaluation,
  };
}

export function group(file: string, name: string, rules: RuleGroupStatus["rules"], evaluatedBy = "", lastEvaluation = NEVER): RuleGroupStatus {
  return { name, file, interval: 15, limit: 0, rules, evaluationTime: 0.003, lastEvaluation, evaluatedBy };
}
