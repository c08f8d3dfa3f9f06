/**
 * Rule files (and inline rule texts such as the built-in cluster group) → rule groups, with every
 * problem of every file collected, so that a reload names all of them at once and changes nothing.
 */
import { ConfigError, loadRuleFile, parseRuleFile, RuleFileError, type RuleGroupConfig } from "../config/index.ts";
import { formatExpr, parseExpr } from "../promql/index.ts";
import { AlertingRule } from "./alerting_rule.ts";
import { RuleGroup, type Rule, type RuleGroupEnv } from "./group.ts";
import { RecordingRule } from "./recording_rule.ts";
import { checkTemplate } from "./template/index.ts";
import type { Label, Labels } from "../model/index.ts";

/** A rule load that failed: every error of every file, one per line (file:line: …). */
export class RuleLoadError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`error loading rules, previous rule set restored:\n${errors.join("\n")}`);
  }
}

export interface InlineRules {
  /** Shown as the group's file (and part of its key). */
  file: string;
  text: string;
}

export interface LoadedFile {
  file: string;
  groups: RuleGroupConfig[];
}

const checkExpr = (expr: string): void => void parseExpr(expr);
const checkAlertTemplate = (alertName: string, text: string): void => checkTemplate(`__alert_${alertName}`, text);

/** Parses every file and inline text; throws RuleLoadError with all their errors. */
export function loadRuleConfigs(files: readonly string[], inline: readonly InlineRules[] = []): LoadedFile[] {
  const loaded: LoadedFile[] = [];
  const errors: string[] = [];
  const collect = (file: string, read: () => RuleGroupConfig[]) => {
    try {
      loaded.push({ file, groups: read() });
    } catch (e) {
      if (e instanceof RuleFileError) errors.push(...e.errors.map((x) => x.message));
      else if (e instanceof ConfigError) errors.push(e.message);
      else throw e;
    }
  };
  for (const f of files) collect(f, () => loadRuleFile(f, checkExpr, checkAlertTemplate));
  for (const r of inline) collect(r.file, () => parseRuleFile(r.text, r.file, checkExpr, checkAlertTemplate));
  const keys = new Set<string>();
  for (const { file, groups } of loaded) {
    for (const g of groups) {
      const key = `${file};${g.name}`;
      // Prometheus keys groups by file and name; the same file listed twice would evaluate twice.
      if (keys.has(key)) errors.push(`${file}: group ${JSON.stringify(g.name)} is loaded more than once (the file is listed twice?)`);
      keys.add(key);
    }
  }
  if (errors.length > 0) throw new RuleLoadError(errors);
  return loaded;
}

/** Builds one group; the expression is kept as the PromQL printer formats it (as Prometheus evaluates and shows it). */
export function buildGroup(file: string, g: RuleGroupConfig, globalIntervalMs: number, env: RuleGroupEnv, externalLabels: () => Labels, externalURL: string): RuleGroup {
  const rules = g.rules.map((r): Rule => {
    const expr = formatExpr(parseExpr(r.expr));
    const labels = ruleLabels({ ...g.labels, ...r.labels });
    if (r.alert !== undefined) {
      return new AlertingRule({ name: r.alert, expr, holdMs: r.for, keepFiringForMs: r.keepFiringFor, labels, annotations: r.annotations, externalLabels, externalURL });
    }
    return new RecordingRule(r.record ?? "", expr, labels);
  });
  return new RuleGroup({ file, name: g.name, intervalMs: g.interval > 0 ? g.interval : globalIntervalMs, limit: g.limit, queryOffsetMs: g.queryOffset, rules }, env);
}

/** A rule's labels sorted by name, empty values kept: setting a label to "" removes it from the output. */
function ruleLabels(record: Record<string, string>): Labels {
  const out: Label[] = Object.entries(record).map(([name, value]) => ({ name, value }));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
