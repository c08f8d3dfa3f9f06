/**
 * The cluster's rule groups from every member's own list. Every member loads every group but
 * evaluates only those it owns, so a group's state (health, last evaluation, alerts) is taken
 * from the member whose list names itself as the evaluator. During a hand-over two members may
 * both evaluate a group for a moment: the more recent evaluation wins. A group nobody reports
 * evaluating is listed with its definition only: health "unknown", no alerts, evaluatedBy "".
 */
import type { RuleGroupStatus, RuleStatus } from "../model/index.ts";

export interface MemberRuleGroups {
  /** The member's --cluster.node-name. */
  member: string;
  groups: readonly RuleGroupStatus[];
}

function evaluatedAtMs(g: RuleGroupStatus): number {
  const t = Date.parse(g.lastEvaluation);
  return Number.isNaN(t) ? -Infinity : t;
}

/** A group's definition without any member's evaluation state: what nobody evaluates has no alerts. */
function unevaluated(g: RuleGroupStatus): RuleGroupStatus {
  const rules = g.rules.map((r): RuleStatus => {
    const { lastError: _lastError, ...rest } = r;
    if (rest.type === "recording") return { ...rest, health: "unknown" };
    return { ...rest, health: "unknown", state: "inactive", alerts: [] };
  });
  return { ...g, rules, evaluatedBy: "" };
}

/** One entry per group (file, name); see the file comment for which member's entry is shown. */
export function mergeRuleGroups(lists: readonly MemberRuleGroups[]): RuleGroupStatus[] {
  const evaluated = new Map<string, RuleGroupStatus>();
  const definitions = new Map<string, RuleGroupStatus>();
  for (const { member, groups } of lists) {
    for (const g of groups) {
      // Unambiguous even when a file or group name holds Prometheus's `;` separator.
      const key = JSON.stringify([g.file, g.name]);
      if (!definitions.has(key)) definitions.set(key, g);
      if (member === "" || g.evaluatedBy !== member) continue;
      const seen = evaluated.get(key);
      if (!seen || evaluatedAtMs(g) > evaluatedAtMs(seen)) evaluated.set(key, g);
    }
  }
  const out: RuleGroupStatus[] = [];
  for (const [key, def] of definitions) out.push(evaluated.get(key) ?? unevaluated(def));
  return out;
}
