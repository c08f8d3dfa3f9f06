/**
 * /api/v1/rules, /api/v1/alerts and /api/v1/alertmanagers.
 *
 * Rule groups are evaluated by one member each, so a node on its own knows the state of only
 * the groups it evaluates. Both rule endpoints answer for the whole cluster from any node: they
 * ask every live member for its own view (`scope=local`, a Shoal parameter that answers from
 * this node alone without asking anyone) and merge the answers (rules_merge.ts). A member that
 * does not answer in time is named in the response's `warnings`; its groups show as not
 * evaluated unless another member evaluates them.
 */
import type { Hono } from "hono";
import type { RuleGroupStatus } from "../model/index.ts";
import type { ApiDeps } from "./deps.ts";
import { askMembers } from "./members.ts";
import { invalidParam, readForm, type Form } from "./params.ts";
import { success } from "./respond.ts";
import { mergeRuleGroups } from "./rules_merge.ts";
import { activeAlertsView, parseRulesQuery, rulesView } from "./rules_view.ts";
import { parseMatcherSets } from "./series_routes.ts";

/** Parameters of /api/v1/rules that a member's answer depends on (pagination applies after the merge). */
const FORWARDED = ["type", "rule_name[]", "rule_group[]", "file[]", "match[]", "exclude_alerts"];

/** Whether the request asks for this node's own view only (`scope=local`) or the cluster's (default). */
function localScope(form: Form): boolean {
  const scope = form.get("scope");
  if (scope !== "" && scope !== "local" && scope !== "cluster") throw invalidParam("scope", `not supported value ${JSON.stringify(scope)} (want "local" or "cluster")`);
  return scope === "local";
}

interface ClusterGroups {
  groups: RuleGroupStatus[];
  warnings: string[];
}

/**
 * The cluster's rule groups: this node's own list plus every other live member's `scope=local`
 * answer to `query`, merged. Without a member directory (a node outside any cluster) this
 * node's list as it is.
 */
async function clusterRuleGroups(deps: ApiDeps, query: URLSearchParams): Promise<ClusterGroups> {
  const dir = deps.members;
  if (!dir) return { groups: deps.rules.ruleGroups(), warnings: [] };
  query.set("scope", "local");
  const asked = await askMembers<{ groups?: RuleGroupStatus[] }>(dir, `/api/v1/rules?${query.toString()}`, () => ({ groups: deps.rules.ruleGroups() }));
  const groups = mergeRuleGroups(asked.answers.map((a) => ({ member: a.member.name, groups: a.data.groups ?? [] })));
  const warnings = asked.failed.map((f) => `cannot list the rule groups of cluster member ${f.member.name} (${f.member.httpAddress}): ${f.error}`);
  return { groups, warnings };
}

export function registerRulesRoutes(app: Hono, deps: ApiDeps): void {
  app.get("/api/v1/rules", async (c) => {
    const form = await readForm(c);
    const local = localScope(form);
    const q = parseRulesQuery(form, (selectors) => parseMatcherSets(deps, selectors, false));
    if (local) return success(rulesView(deps.rules.ruleGroups(), q));
    const forward = new URLSearchParams();
    for (const name of FORWARDED) for (const v of form.all(name)) forward.append(name, v);
    const { groups, warnings } = await clusterRuleGroups(deps, forward);
    return success(rulesView(groups, q), warnings);
  });

  app.get("/api/v1/alerts", async (c) => {
    const form = await readForm(c);
    if (localScope(form)) return success({ alerts: activeAlertsView(deps.rules.ruleGroups()) });
    const { groups, warnings } = await clusterRuleGroups(deps, new URLSearchParams({ type: "alert" }));
    return success({ alerts: activeAlertsView(groups) }, warnings);
  });

  app.get("/api/v1/alertmanagers", () => {
    const { activeAlertmanagers, droppedAlertmanagers } = deps.alertmanagers.alertmanagers();
    return success({ activeAlertmanagers: activeAlertmanagers.map((a) => ({ url: a.url })), droppedAlertmanagers: droppedAlertmanagers.map((a) => ({ url: a.url })) });
  });
}
