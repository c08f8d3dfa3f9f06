/**
 * Prometheus rule files (`groups:` of recording and alerting rules), parsed and validated as
 * Prometheus's rulefmt does, with every error naming file and line. Used by
 * `shoal check config` for the files that `rule_files` matches, and by whoever evaluates rules.
 * The PromQL parser is passed in (`checkExpr`) so that loading a config never pulls in the
 * query engine.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { isLegacyLabelName, isValidMetricName } from "../model/index.ts";
import { duration } from "./schema.ts";
import { ConfigError } from "./error.ts";
import { YamlDoc } from "./yamldoc.ts";

export interface RuleConfig {
  /** Exactly one of record and alert is set. */
  record?: string;
  alert?: string;
  expr: string;
  /** Alerting rules only; ms. */
  for: number;
  keepFiringFor: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** 1-based line of the rule in its file. */
  line: number;
}

export interface RuleGroupConfig {
  name: string;
  /** ms; 0 means the global evaluation_interval. */
  interval: number;
  limit: number;
  rules: RuleConfig[];
}

const str = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const labelMap = z.record(z.string(), str.nullish());

const ruleSchema = z.strictObject({
  record: str.nullish(),
  alert: str.nullish(),
  expr: str.nullish(),
  for: duration.nullish(),
  keep_firing_for: duration.nullish(),
  labels: labelMap.nullish(),
  annotations: labelMap.nullish(),
});

const fileSchema = z
  .strictObject({
    groups: z
      .array(
        z.strictObject({
          name: str.nullish(),
          interval: duration.nullish(),
          query_offset: duration.nullish(),
          limit: z.number().int().nonnegative().nullish(),
          rules: z.array(ruleSchema).nullish(),
        }),
      )
      .nullish(),
  })
  .nullable();

/** Throws with the parser's message when `expr` is not valid PromQL. */
export type ExprChecker = (expr: string) => void;

export function parseRuleFile(text: string, filename: string, checkExpr: ExprChecker): RuleGroupConfig[] {
  const yaml = YamlDoc.parse(text, filename);
  const fail = (path: (string | number)[], message: string, key?: string): never => {
    const line = yaml.line(path, key);
    throw new ConfigError(`${filename}${line === null ? "" : ":" + line}: ${message}`, filename, line, "");
  };
  const js = yaml.value;
  const parsed = fileSchema.safeParse(js);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") fail(path, `field ${issue.keys[0]} not found`, issue.keys[0]);
    fail(path, `${path.join(".")}: ${issue.message}`);
  }
  const groups: RuleGroupConfig[] = [];
  const names = new Set<string>();
  (parsed.data?.groups ?? []).forEach((g, gi) => {
    const name = g.name ?? "";
    if (name === "") fail(["groups", gi], "Groupname must not be empty");
    if (names.has(name)) fail(["groups", gi], `groupname: ${JSON.stringify(name)} is repeated in the same file`, "name");
    names.add(name);
    const rules = (g.rules ?? []).map((r, ri): RuleConfig => {
      const path = ["groups", gi, "rules", ri];
      const ruleName = r.record ?? r.alert ?? "";
      const where = `group ${JSON.stringify(name)}, rule ${ri + 1}, ${JSON.stringify(ruleName)}`;
      const bad = (msg: string, key?: string): never => fail(path, `${where}: ${msg}`, key);
      if (r.record != null && r.alert != null) bad("only one of 'record' and 'alert' must be set");
      if (r.record == null && r.alert == null) bad("one of 'record' or 'alert' must be set");
      if (r.record === "" || r.alert === "") bad(`field '${r.record === "" ? "record" : "alert"}' must be set in rule`);
      const expr = r.expr ?? "";
      if (expr === "") bad("field 'expr' must be set in rule");
      try {
        checkExpr(expr);
      } catch (e) {
        bad(`could not parse expression: ${(e as Error).message}`, "expr");
      }
      if (r.record != null) {
        if (r.annotations != null && Object.keys(r.annotations).length > 0) bad("invalid field 'annotations' in recording rule", "annotations");
        if (r.for) bad("invalid field 'for' in recording rule", "for");
        if (r.keep_firing_for) bad("invalid field 'keep_firing_for' in recording rule", "keep_firing_for");
        if (!isValidMetricName(r.record)) bad(`invalid recording rule name: ${r.record}`, "record");
      }
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.labels ?? {})) {
        if (!isLegacyLabelName(k) || k === "__name__") bad(`invalid label name: ${k}`, "labels");
        labels[k] = v ?? "";
      }
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.annotations ?? {})) {
        if (!isLegacyLabelName(k)) bad(`invalid annotation name: ${k}`, "annotations");
        annotations[k] = v ?? "";
      }
      return {
        record: r.record ?? undefined,
        alert: r.alert ?? undefined,
        expr,
        for: r.for ?? 0,
        keepFiringFor: r.keep_firing_for ?? 0,
        labels,
        annotations,
        line: yaml.line(path) ?? 0,
      };
    });
    groups.push({ name, interval: g.interval ?? 0, limit: g.limit ?? 0, rules });
  });
  return groups;
}

export function loadRuleFile(path: string, checkExpr: ExprChecker): RuleGroupConfig[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`open ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, path, null, "");
  }
  return parseRuleFile(text, path, checkExpr);
}
