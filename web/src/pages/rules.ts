/** Alerts and rules: what /api/v1/alerts and /api/v1/rules report, with a clear empty state. */
import { apiGet, type Metric } from "../api.ts";
import { h } from "../dom.ts";
import { formatAge, formatSeconds } from "../time.ts";
import { emptyState, healthBadge, labelBadges, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

interface Alert {
  labels: Metric;
  annotations: Metric;
  state: string;
  activeAt?: string;
  value: string;
}
interface Rule {
  name: string;
  query: string;
  type: "alerting" | "recording";
  health: string;
  lastError?: string;
  lastEvaluation?: string;
  evaluationTime?: number;
  duration?: number;
  labels?: Metric;
  annotations?: Metric;
  alerts?: Alert[];
  state?: string;
}
interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  lastEvaluation?: string;
  evaluationTime?: number;
}

/** A rule as the YAML a user wrote, with its labels and annotations. */
function ruleYaml(r: Rule): string {
  const lines = [r.type === "alerting" ? `alert: ${r.name}` : `record: ${r.name}`, `expr: ${r.query}`];
  if (r.duration) lines.push(`for: ${r.duration}s`);
  for (const [key, map] of [
    ["labels", r.labels],
    ["annotations", r.annotations],
  ] as const) {
    const entries = Object.entries(map ?? {});
    if (entries.length === 0) continue;
    lines.push(`${key}:`);
    for (const [k, v] of entries) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  return lines.join("\n");
}

export function alertsPage(): Page {
  // Which alert rules the user opened, so that the periodic refresh keeps them open.
  const open = new Set<string>();
  return refreshingPage({
    title: "Alerts",
    className: "alerts-page",
    refreshMs: 10_000,
    load: async (signal) => {
      const res = await apiGet<{ groups: RuleGroup[] }>("/api/v1/rules", { type: "alert" }, signal);
      const groups = (res.data.groups ?? []).filter((g) => g.rules.some((r) => r.type === "alerting"));
      if (groups.length === 0) {
        return emptyState("No alerting rules", "No alerting rules are configured. Add rule_files with alerting rules to the configuration to see them here.");
      }
      return h(
        "div",
        null,
        ...groups.map((g) =>
          h(
            "section",
            { class: "rule-group" },
            h("h2", null, g.name, h("span", { class: "muted small-text" }, ` ${g.file}`)),
            ...g.rules.filter((r) => r.type === "alerting").map((r) => alertRule(r, `${g.file}/${g.name}/${r.name}`, open)),
          ),
        ),
      );
    },
  });
}

function alertRule(r: Rule, key: string, open: Set<string>): HTMLElement {
  const alerts = r.alerts ?? [];
  const state = r.state ?? (alerts.some((a) => a.state === "firing") ? "firing" : alerts.length > 0 ? "pending" : "inactive");
  const details = h(
    "details",
    {
      class: `alert-rule ${state}`,
      open: open.has(key),
      ontoggle: () => {
        if (details.open) open.add(key);
        else open.delete(key);
      },
    },
    h("summary", null, h("span", { class: `badge ${state === "firing" ? "bad" : state === "pending" ? "warn" : "good"}` }, state.toUpperCase()), ` ${r.name} `, h("span", { class: "muted" }, `(${alerts.length} active)`)),
    h("pre", { class: "rule-def" }, ruleYaml(r)),
    alerts.length > 0
      ? h(
          "table",
          { class: "data-table" },
          h("thead", null, h("tr", null, ...["Labels", "State", "Active since", "Value"].map((c) => h("th", null, c)))),
          h(
            "tbody",
            null,
            ...alerts.map((a) =>
              h("tr", null, h("td", null, labelBadges(a.labels)), h("td", null, a.state), h("td", null, a.activeAt ? formatAge(Date.parse(a.activeAt)) : "–"), h("td", { class: "mono" }, a.value)),
            ),
          ),
        )
      : null,
  );
  return details;
}

export function rulesPage(): Page {
  return refreshingPage({
    title: "Rules",
    className: "rules-page",
    refreshMs: 10_000,
    load: async (signal) => {
      const res = await apiGet<{ groups: RuleGroup[] }>("/api/v1/rules", undefined, signal);
      const groups = res.data.groups ?? [];
      if (groups.length === 0) {
        return emptyState("No rule groups", "No recording or alerting rules are loaded. Add rule_files to the configuration to see them here.");
      }
      return h(
        "div",
        null,
        ...groups.map((g) =>
          h(
            "section",
            { class: "rule-group" },
            h("h2", null, g.name, h("span", { class: "muted small-text" }, ` ${g.file} · every ${g.interval}s`)),
            h(
              "table",
              { class: "data-table" },
              h("thead", null, h("tr", null, ...["Rule", "Health", "Error", "Last evaluation", "Evaluation time"].map((c) => h("th", null, c)))),
              h(
                "tbody",
                null,
                ...g.rules.map((r) =>
                  h(
                    "tr",
                    null,
                    h("td", null, h("pre", { class: "rule-def" }, ruleYaml(r))),
                    h("td", null, healthBadge(r.health)),
                    h("td", { class: "error-text" }, r.lastError ?? ""),
                    h("td", null, r.lastEvaluation ? formatAge(Date.parse(r.lastEvaluation)) : "–"),
                    h("td", null, r.evaluationTime !== undefined ? formatSeconds(r.evaluationTime) : "–"),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    },
  });
}
