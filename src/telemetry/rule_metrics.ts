/**
 * The rule manager's figures under Prometheus's `prometheus_rule_*` names, types, labels and help
 * texts (rules/group.go's metrics), so that stock dashboards and alerts read them unchanged.
 * Every group loaded on this member is reported; a group another member evaluates shows no
 * evaluations here.
 */
import type { MetricFamily, MetricType } from "../model/index.ts";
import type { RuleGroupStats, RuleObservers } from "../rules/index.ts";
import type { Registry } from "./registry.ts";

function byGroup(groups: readonly RuleGroupStats[], name: string, type: MetricType, help: string, value: (g: RuleGroupStats) => number): MetricFamily {
  return { name, type, help, samples: groups.map((g) => ({ labels: { rule_group: g.key }, value: value(g) })) };
}

export function ruleFamilies(groups: readonly RuleGroupStats[]): MetricFamily[] {
  return [
    byGroup(groups, "prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations.", (g) => g.evaluationsTotal),
    byGroup(groups, "prometheus_rule_evaluation_failures_total", "counter", "The total number of rule evaluation failures.", (g) => g.evaluationFailuresTotal),
    byGroup(
      groups,
      "prometheus_rule_group_iterations_missed_total",
      "counter",
      "The total number of rule group evaluations missed due to slow rule group evaluation.",
      (g) => g.iterationsMissedTotal,
    ),
    byGroup(groups, "prometheus_rule_group_iterations_total", "counter", "The total number of scheduled rule group evaluations, whether executed or missed.", (g) => g.iterationsTotal),
    byGroup(groups, "prometheus_rule_group_interval_seconds", "gauge", "The interval of a rule group.", (g) => g.intervalSeconds),
    byGroup(groups, "prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge", "The timestamp of the last rule group evaluation in seconds.", (g) => g.lastEvaluationTimestampSeconds),
    byGroup(groups, "prometheus_rule_group_last_duration_seconds", "gauge", "The duration of the last rule group evaluation.", (g) => g.lastDurationSeconds),
    byGroup(groups, "prometheus_rule_group_rules", "gauge", "The number of rules.", (g) => g.rules),
    byGroup(groups, "prometheus_rule_group_last_evaluation_samples", "gauge", "The number of samples returned during the last rule group evaluation.", (g) => g.lastEvaluationSamples),
  ];
}

export function registerRuleMetrics(reg: Registry, stats: () => RuleGroupStats[]): void {
  reg.collector(() => ruleFamilies(stats()));
}

/** The rule room's measured durations as Prometheus's summaries; pass to the RuleManager's `observers`. */
export function ruleObservers(reg: Registry): RuleObservers {
  return {
    ruleEvaluationDuration: reg.summary("prometheus_rule_evaluation_duration_seconds", "The duration for a rule to execute.", { quantiles: [0.5, 0.9, 0.99] }),
    groupDuration: reg.summary("prometheus_rule_group_duration_seconds", "The duration of rule group evaluations.", { quantiles: [0.01, 0.05, 0.5, 0.9, 0.99] }),
  };
}
