/**
 * The rules room's door: rule groups (recording and alerting rules) evaluated on a slotted
 * schedule by the member that owns them, their templates, and the notifier that sends alerts to
 * Alertmanager. node.ts hands in the query function, the Appendable for rule output, the
 * ownership predicate and the clock.
 */
// Evaluation: the manager node.ts runs, and the group `shoal test rules` drives at given times.
export { RuleManager, type RuleManagerOptions, type RuleGroupStats } from "./manager.ts";
export { RuleGroup, generatorURL, type Rule, type RuleGroupEnv, type RuleObservers, type RuleGroupCounters } from "./group.ts";
export { AlertingRule } from "./alerting_rule.ts";
export { RecordingRule } from "./recording_rule.ts";
export { Alert, type AlertStateName } from "./alert.ts";
export { buildGroup, loadRuleConfigs, RuleLoadError, type InlineRules, type LoadedFile } from "./load.ts";
export { vectorQuery, type InstantQueryFunc, type RuleQueryFunc, type RuleSample } from "./rule.ts";
export { groupKey, slotOffsetMs, slotAtOrBefore } from "./eval_slot.ts";
export { groupStatus, alertStatus, goTime } from "./status.ts";
// The notifier: alerts to every Alertmanager of every configured set.
export {
  Notifier,
  alertmanagersFromGroup,
  alertmanagerURL,
  MAX_BATCH_SIZE,
  type NotifierOptions,
  type NotifierAlert,
  type AlertmanagerSendStats,
  type NotifierObservers,
  type NotifierStats,
} from "./notifier/index.ts";
// Templates: Go's text/template with Prometheus's functions, for alert labels and annotations.
export { checkTemplate, expandAlertTemplate, TemplateError, type AlertTemplateData, type TemplateContext, type TemplateSample } from "./template/index.ts";
