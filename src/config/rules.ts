/**
 * Prometheus rule files (`groups:` of recording and alerting rules), parsed and validated as
 * Prometheus's rulefmt does: a file is decoded strictly first (unknown fields and wrong types are
 * reported together, as Go's YAML decoder reports them), then every group and rule is validated
 * and EVERY error is reported, each with the line and column promtool prints
 * (`file: 5:15: group "g", rule 1, "a:b": could not parse expression: …`).
 * The PromQL parser and the template parser are passed in (`checkExpr`, `checkTemplate`) so that
 * loading a config never pulls in the query engine or the rules room.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq } from "yaml";
import { goQuoteString, isLegacyLabelName, isValidMetricName } from "../model/index.ts";
import { ConfigError } from "./error.ts";
import { DecodeAbort, GoYamlDecoder } from "./go_yaml_decoder.ts";
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
  /** ms; 0 means none (the global rule_query_offset, where there is one). */
  queryOffset: number;
  limit: number;
  /** Added to every rule's labels; a rule's own label of the same name wins (Prometheus 3). */
  labels: Record<string, string>;
  rules: RuleConfig[];
}

/** Throws with the parser's message when `expr` is not valid PromQL. */
export type ExprChecker = (expr: string) => void;

/**
 * Throws with Go's template error (`template: NAME:LINE: …`) when `text`, a label or annotation
 * of the alerting rule `alertName`, does not parse as an alert template.
 */
export type TemplateChecker = (alertName: string, text: string) => void;

/** Every error of one rule file; the message lists them one per line, as promtool prints them. */
export class RuleFileError extends ConfigError {
  constructor(
    filename: string,
    readonly errors: readonly ConfigError[],
  ) {
    super(errors.map((e) => e.message).join("\n"), filename, errors[0]?.line ?? null, "");
  }
}

interface Position {
  line: number;
  col: number;
}

/** A field kept as its YAML node (Go's yaml.Node): its scalar text and where it is. */
interface TextNode {
  value: string;
  pos: Position | null;
}

interface DecodedRule {
  record: TextNode;
  alert: TextNode;
  expr: TextNode;
  for: number;
  keepFiringFor: number;
  labels: [string, string][];
  annotations: [string, string][];
  pos: Position | null;
}

interface DecodedGroup {
  name: string;
  interval: number;
  queryOffset: number;
  limit: number;
  labels: [string, string][];
  rules: DecodedRule[];
  pos: Position | null;
}

const ABSENT: TextNode = { value: "", pos: null };

/**
 * Go's strict YAML decoding of a rule file into rulefmt's types: wrong types and unknown fields
 * are collected (`line N: …`) and reported together; a bad duration stops decoding.
 */
class RuleFileDecoder extends GoYamlDecoder {
  private textNode(n: unknown): TextNode {
    return { value: isScalar(n) && n.value !== null ? String(n.value) : "", pos: this.position(n) };
  }

  private rule(n: unknown): DecodedRule {
    const r: DecodedRule = { record: ABSENT, alert: ABSENT, expr: ABSENT, for: 0, keepFiringFor: 0, labels: [], annotations: [], pos: this.position(n) };
    this.struct(n, "rulefmt.RuleNode", {
      record: (v) => (r.record = this.textNode(v)),
      alert: (v) => (r.alert = this.textNode(v)),
      expr: (v) => (r.expr = this.textNode(v)),
      for: (v) => (r.for = this.duration(v)),
      keep_firing_for: (v) => (r.keepFiringFor = this.duration(v)),
      labels: (v) => (r.labels = this.stringPairs(v)),
      annotations: (v) => (r.annotations = this.stringPairs(v)),
    });
    return r;
  }

  private group(n: unknown): DecodedGroup {
    const g: DecodedGroup = { name: "", interval: 0, queryOffset: 0, limit: 0, labels: [], rules: [], pos: this.position(n) };
    this.struct(n, "rulefmt.RuleGroup", {
      name: (v) => (g.name = this.string(v)),
      interval: (v) => (g.interval = this.duration(v)),
      // Prometheus 2.53 and later; 2.42's promtool does not know it.
      query_offset: (v) => (g.queryOffset = this.duration(v)),
      limit: (v) => (g.limit = this.int(v)),
      // Prometheus 3 and later.
      labels: (v) => (g.labels = this.stringPairs(v)),
      rules: (v) => (g.rules = this.list(v, "[]rulefmt.RuleNode", (it) => this.rule(it))),
    });
    return g;
  }

  decode(): DecodedGroup[] {
    let groups: DecodedGroup[] = [];
    this.struct(this.yaml.root, "rulefmt.RuleGroups", {
      groups: (v) => (groups = this.list(v, "[]rulefmt.RuleGroup", (it) => this.group(it))),
    });
    return groups;
  }

  /**
   * rulefmt decodes the file a second time, loosely, to find the groups' positions; that pass
   * fails (and adds its own error) only when the file or its `groups` has the wrong shape.
   */
  looseShapeErrors(): string[] {
    const root = this.node(this.yaml.root);
    if (this.isNull(root)) return [];
    const errs: string[] = [];
    if (!isMap(root)) errs.push(this.typeErrorText(root, "rulefmt.ruleGroups"));
    else {
      const groups = this.node(root.items.find((p) => isScalar(p.key) && p.key.value === "groups")?.value);
      if (!this.isNull(groups) && !isSeq(groups)) errs.push(this.typeErrorText(groups, "[]yaml.Node"));
    }
    return errs.length === 0 ? [] : [`yaml: unmarshal errors:\n  ${errs.join("\n  ")}`];
  }
}

function at(p: Position | null): string {
  return `${p?.line ?? 0}:${p?.col ?? 0}: `;
}

/** rulefmt's checks of one rule, each error with the node it is about (or none). */
function validateRule(r: DecodedRule, checkExpr: ExprChecker, checkTemplate: TemplateChecker | undefined): { msg: string; pos: string; line: number | null }[] {
  const errs: { msg: string; pos: string; line: number | null }[] = [];
  const add = (msg: string, node?: TextNode, alt?: TextNode) =>
    errs.push({ msg, pos: node === undefined ? "" : at(node.pos) + (alt === undefined ? "" : at(alt.pos)), line: node?.pos?.line ?? null });
  const record = r.record.value;
  const alert = r.alert.value;
  if (record !== "" && alert !== "") add("only one of 'record' and 'alert' must be set", r.record, r.alert);
  if (record === "" && alert === "") add("one of 'record' or 'alert' must be set", r.record);
  if (r.expr.value === "") add("field 'expr' must be set in rule", r.expr);
  else {
    try {
      checkExpr(r.expr.value);
    } catch (e) {
      add(`could not parse expression: ${(e as Error).message}`, r.expr);
    }
  }
  if (record !== "") {
    if (r.annotations.length > 0) add("invalid field 'annotations' in recording rule", r.record);
    if (r.for !== 0) add("invalid field 'for' in recording rule", r.record);
    if (r.keepFiringFor !== 0) add("invalid field 'keep_firing_for' in recording rule", r.record);
    if (!isValidMetricName(record)) add(`invalid recording rule name: ${record}`, r.record);
  }
  for (const [k, v] of r.labels) {
    if (!isLegacyLabelName(k) || k === "__name__") add(`invalid label name: ${k}`);
    if (!v.isWellFormed()) add(`invalid label value: ${v}`);
  }
  for (const [k] of r.annotations) if (!isLegacyLabelName(k)) add(`invalid annotation name: ${k}`);
  if (alert !== "" && checkTemplate !== undefined) {
    const check = (what: string, k: string, text: string) => {
      try {
        checkTemplate(alert, text);
      } catch (e) {
        add(`${what} ${goQuoteString(k)}: ${(e as Error).message}`);
      }
    };
    for (const [k, v] of r.labels) check("label", k, v);
    for (const [k, v] of r.annotations) check("annotation", k, v);
  }
  return errs;
}

/**
 * Parses and validates a rule file. Throws a RuleFileError holding every error (each a
 * ConfigError whose message reads as promtool prints it) when there is any.
 * Without `checkTemplate`, label and annotation templates are not checked.
 */
export function parseRuleFile(text: string, filename: string, checkExpr: ExprChecker, checkTemplate?: TemplateChecker): RuleGroupConfig[] {
  const yaml = YamlDoc.parse(text, filename);
  const errors: ConfigError[] = [];
  const fail = (msg: string, line: number | null) => errors.push(new ConfigError(`${filename}: ${msg}`, filename, line, ""));
  const decoder = new RuleFileDecoder(yaml);
  let groups: DecodedGroup[] = [];
  try {
    groups = decoder.decode();
    if (decoder.errors.length > 0) fail(`yaml: unmarshal errors:\n  ${decoder.errors.join("\n  ")}`, null);
  } catch (e) {
    if (!(e instanceof DecodeAbort)) throw e;
    fail(e.message, null);
  }
  for (const msg of decoder.looseShapeErrors()) fail(msg, null);
  if (errors.length > 0) throw new RuleFileError(filename, errors);

  const seen = new Set<string>();
  for (const g of groups) {
    if (g.name === "") fail(`${at(g.pos)}Groupname must not be empty`, g.pos?.line ?? null);
    if (seen.has(g.name)) fail(`${at(g.pos)}groupname: "${g.name}" is repeated in the same file`, g.pos?.line ?? null);
    for (const [k, v] of g.labels) {
      if (!isLegacyLabelName(k) || k === "__name__") fail(`invalid label name: ${k}`, g.pos?.line ?? null);
      if (!v.isWellFormed()) fail(`invalid label value: ${v}`, g.pos?.line ?? null);
    }
    seen.add(g.name);
    g.rules.forEach((r, i) => {
      const name = r.alert.value !== "" ? r.alert.value : r.record.value;
      for (const e of validateRule(r, checkExpr, checkTemplate)) {
        fail(`${e.pos}group ${goQuoteString(g.name)}, rule ${i + 1}, ${goQuoteString(name)}: ${e.msg}`, e.line ?? r.pos?.line ?? null);
      }
    });
  }
  if (errors.length > 0) throw new RuleFileError(filename, errors);
  return groups.map((g) => ({
    name: g.name,
    interval: g.interval,
    queryOffset: g.queryOffset,
    limit: g.limit,
    labels: Object.fromEntries(g.labels),
    rules: g.rules.map(
      (r): RuleConfig => ({
        record: r.record.value !== "" ? r.record.value : undefined,
        alert: r.alert.value !== "" ? r.alert.value : undefined,
        expr: r.expr.value,
        for: r.for,
        keepFiringFor: r.keepFiringFor,
        labels: Object.fromEntries(r.labels),
        annotations: Object.fromEntries(r.annotations),
        line: r.pos?.line ?? 0,
      }),
    ),
  }));
}

/** Reads and parses a rule file; an unreadable file is a ConfigError worded as Prometheus's. */
export function loadRuleFile(path: string, checkExpr: ExprChecker, checkTemplate?: TemplateChecker): RuleGroupConfig[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message;
    throw new ConfigError(`${path}: open ${path}: ${why}`, path, null, "");
  }
  return parseRuleFile(text, path, checkExpr, checkTemplate);
}
