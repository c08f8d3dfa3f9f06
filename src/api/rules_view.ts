/**
 * What /api/v1/rules shows of a list of rule groups: Prometheus's parameters (`type`,
 * `rule_name[]`, `rule_group[]`, `file[]`, `match[]`, `exclude_alerts`, `group_limit`,
 * `group_next_token`) with its error messages, its filtering and pagination, and its JSON field
 * order. The same view serves a node's own groups and the cluster's merged ones.
 */
import { createHash } from "node:crypto";
import type { AlertStatus, AlertingRuleStatus, Matcher, RecordingRuleStatus, RuleGroupStatus } from "../model/index.ts";
import { invalidParam, type Form } from "./params.ts";

export interface RulesQuery {
  returnAlerting: boolean;
  returnRecording: boolean;
  ruleNames: ReadonlySet<string>;
  groupNames: ReadonlySet<string>;
  files: ReadonlySet<string>;
  /** Sets of matchers on the rule's own labels: a rule is kept when all matchers of any one set match. */
  matcherSets: readonly Matcher[][];
  excludeAlerts: boolean;
  /** 0: no pagination. */
  groupLimit: number;
  nextToken: string;
}

/** Go's strconv.ParseBool on an already lower-cased value. */
function parseBool(s: string): boolean {
  if (s === "1" || s === "t" || s === "true") return true;
  if (s === "0" || s === "f" || s === "false") return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** Go's strconv.ParseInt(s, 10, 32). */
function parseInt32(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 2147483647 || n < -2147483648) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/**
 * Reads the parameters; `parseMatcherSets` turns the `match[]` selectors into matcher sets (and
 * throws the API error for a bad one). Throws Prometheus's 400 for a bad value.
 */
export function parseRulesQuery(form: Form, parseMatcherSets: (selectors: string[]) => Matcher[][]): RulesQuery {
  const matcherSets = parseMatcherSets(form.all("match[]"));
  const type = form.get("type").toLowerCase();
  if (type !== "" && type !== "alert" && type !== "record") throw invalidParam("type", `not supported value ${JSON.stringify(type)}`);
  let excludeAlerts = false;
  const exclude = form.get("exclude_alerts").toLowerCase();
  if (exclude !== "") {
    try {
      excludeAlerts = parseBool(exclude);
    } catch (e) {
      throw invalidParam("exclude_alerts", `error converting exclude_alerts: ${(e as Error).message}`);
    }
  }
  const limitText = form.get("group_limit");
  const nextToken = form.get("group_next_token");
  if (nextToken !== "" && limitText === "") throw invalidParam("group_next_token", "group_limit needs to be present in order to paginate over the groups");
  let groupLimit = 0;
  if (limitText !== "") {
    try {
      groupLimit = parseInt32(limitText);
    } catch (e) {
      throw invalidParam("group_limit", `group_limit needs to be a valid number: ${(e as Error).message}`);
    }
    if (groupLimit <= 0) throw invalidParam("group_limit", "group_limit needs to be greater than 0");
  }
  return {
    returnAlerting: type === "" || type === "alert",
    returnRecording: type === "" || type === "record",
    ruleNames: new Set(form.all("rule_name[]")),
    groupNames: new Set(form.all("rule_group[]")),
    files: new Set(form.all("file[]")),
    matcherSets,
    excludeAlerts,
    groupLimit,
    nextToken,
  };
}

/** Prometheus's pagination token for a group: the hex SHA-256 of `file;name`. */
export function groupNextToken(file: string, name: string): string {
  return createHash("sha256").update(`${file};${name}`).digest("hex");
}

/** Prometheus's order of groups: by file, then by name. */
export function compareGroups(a: RuleGroupStatus, b: RuleGroupStatus): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function alertView(a: AlertStatus): Record<string, unknown> {
  return {
    labels: a.labels,
    annotations: a.annotations,
    state: a.state,
    activeAt: a.activeAt,
    ...(a.keepFiringSince ? { keepFiringSince: a.keepFiringSince } : {}),
    value: a.value,
  };
}

function alertingRuleView(r: AlertingRuleStatus, excludeAlerts: boolean): Record<string, unknown> {
  return {
    state: r.state,
    name: r.name,
    query: r.query,
    duration: r.duration,
    keepFiringFor: r.keepFiringFor,
    labels: r.labels,
    annotations: r.annotations,
    // Prometheus sends null, not [], when asked to leave the alerts out.
    alerts: excludeAlerts ? null : r.alerts.map(alertView),
    health: r.health,
    ...(r.lastError ? { lastError: r.lastError } : {}),
    evaluationTime: r.evaluationTime,
    lastEvaluation: r.lastEvaluation,
    type: "alerting",
  };
}

function recordingRuleView(r: RecordingRuleStatus): Record<string, unknown> {
  return {
    name: r.name,
    query: r.query,
    labels: r.labels,
    health: r.health,
    ...(r.lastError ? { lastError: r.lastError } : {}),
    evaluationTime: r.evaluationTime,
    lastEvaluation: r.lastEvaluation,
    type: "recording",
  };
}

function matchesAnySet(sets: readonly Matcher[][], labels: Record<string, string>): boolean {
  if (sets.length === 0) return true;
  return sets.some((set) => set.every((m) => m.matches(labels[m.name] ?? "")));
}

export interface RulesView {
  groups: Record<string, unknown>[];
  groupNextToken?: string;
}

/**
 * The groups as /api/v1/rules returns them: sorted by file and name, filtered, paginated. A group
 * left without rules by the filters is not listed. Throws Prometheus's 400 for a token that names
 * no group.
 */
export function rulesView(groups: readonly RuleGroupStatus[], q: RulesQuery): RulesView {
  const out: RulesView = { groups: [] };
  let foundToken = false;
  for (const g of [...groups].sort(compareGroups)) {
    if (q.groupLimit > 0 && q.nextToken !== "" && !foundToken) {
      if (q.nextToken !== groupNextToken(g.file, g.name)) continue;
      foundToken = true;
    }
    if (q.groupNames.size > 0 && !q.groupNames.has(g.name)) continue;
    if (q.files.size > 0 && !q.files.has(g.file)) continue;
    const rules: Record<string, unknown>[] = [];
    for (const r of g.rules) {
      if (!matchesAnySet(q.matcherSets, r.labels)) continue;
      if (q.ruleNames.size > 0 && !q.ruleNames.has(r.name)) continue;
      if (r.type === "alerting" && q.returnAlerting) rules.push(alertingRuleView(r, q.excludeAlerts));
      else if (r.type === "recording" && q.returnRecording) rules.push(recordingRuleView(r));
    }
    if (rules.length === 0) continue;
    if (q.groupLimit > 0 && out.groups.length === q.groupLimit) {
      // One more group than the page holds: there is a next page, starting here.
      out.groupNextToken = groupNextToken(g.file, g.name);
      break;
    }
    out.groups.push({
      name: g.name,
      file: g.file,
      rules,
      interval: g.interval,
      limit: g.limit,
      evaluationTime: g.evaluationTime,
      lastEvaluation: g.lastEvaluation,
      evaluatedBy: g.evaluatedBy,
    });
  }
  if (q.groupLimit > 0 && q.nextToken !== "" && !foundToken) {
    throw invalidParam("group_next_token", `invalid group_next_token '${q.nextToken}'. were rule groups changed?`);
  }
  return out;
}

/** The active alerts of the groups evaluated (those naming an evaluator), as /api/v1/alerts lists them. */
export function activeAlertsView(groups: readonly RuleGroupStatus[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const g of [...groups].sort(compareGroups)) {
    if (g.evaluatedBy === "") continue;
    for (const r of g.rules) if (r.type === "alerting") for (const a of r.alerts) out.push(alertView(a));
  }
  return out;
}
