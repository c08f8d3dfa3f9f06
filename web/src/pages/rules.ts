/**
 * Alerts and rules as Prometheus's pages show them, for the whole cluster: /api/v1/rules answers
 * with every member's groups merged, each group naming the member that evaluates it
 * (`evaluatedBy`, "" when no member does).
 */
import { apiGet, type Metric } from "../api.ts";
import { h } from "../dom.ts";
import { formatAge, formatDuration, formatSeconds } from "../time.ts";
import { emptyState, healthBadge, labelBadges, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

interface Alert {
  labels: Metric;
  annotations: Metric;
  state: string;
  activeAt?: string;
  keepFiringSince?: string;
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
  keepFiringFor?: number;
  labels?: Metric;
  annotations?: Metric;
  alerts?: Alert[] | null;
  state?: string;
}
interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  limit?: number;
  rules: Rule[];
  lastEvaluation?: string;
  evaluationTime?: number;
  /** Shoal: the member evaluating the group; "" when none does. Absent from a plain Prometheus. */
  evaluatedBy?: string;
}

type AlertState = "inactive" | "pending" | "firing";
const STATES: AlertState[] = ["inactive", "pending", "firing"];

/** A time Prometheus reports before anything happened ("0001-01-01T00:00:00Z") means never. */
function age(rfc3339: string | undefined): string {
  const ms = rfc3339 ? Date.parse(rfc3339) : NaN;
  return Number.isNaN(ms) || ms <= 0 ? "never" : formatAge(ms);
}

/** A rule as the YAML a user wrote, with its labels and annotations. */
function ruleYaml(r: Rule): string {
  const lines = [r.type === "alerting" ? `alert: ${r.name}` : `record: ${r.name}`, `expr: ${r.query}`];
  if (r.duration) lines.push(`for: ${formatDuration(r.duration)}`);
  if (r.keepFiringFor) lines.push(`keep_firing_for: ${formatDuration(r.keepFiringFor)}`);
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

/** Who evaluates a group, as the pages show it. */
function evaluatedBy(g: RuleGroup): HTMLElement | null {
  if (g.evaluatedBy === undefined) return null;
  if (g.evaluatedBy === "") return h("span", { class: "evaluated-by badge neutral", title: "No cluster member reports evaluating this group" }, "not evaluated");
  return h("span", { class: "evaluated-by muted small-text" }, "evaluated by ", h("strong", null, g.evaluatedBy));
}

function warningNotices(warnings: string[]): HTMLElement[] {
  return warnings.map((w) => h("div", { class: "notice warning" }, w));
}

function ruleState(r: Rule): AlertState {
  if (r.state === "firing" || r.state === "pending" || r.state === "inactive") return r.state;
  const alerts = r.alerts ?? [];
  return alerts.some((a) => a.state === "firing") ? "firing" : alerts.length > 0 ? "pending" : "inactive";
}

function loadFilters(): { states: Set<AlertState>; showAnnotations: boolean } {
  try {
    const saved = JSON.parse(localStorage.getItem("shoal.alerts.filters") ?? "null") as { states?: string[]; showAnnotations?: boolean } | null;
    if (saved && Array.isArray(saved.states)) {
      return { states: new Set(saved.states.filter((s): s is AlertState => (STATES as string[]).includes(s))), showAnnotations: saved.showAnnotations === true };
    }
  } catch {
    // unreadable saved filters: start from the defaults
  }
  return { states: new Set(STATES), showAnnotations: false };
}

export function alertsPage(): Page {
  // Which alert rules the user opened, so that the periodic refresh keeps them open.
  const open = new Set<string>();
  const filters = loadFilters();
  let search = "";
  let last: RuleGroup[] | null = null;
  let warnings: string[] = [];
  const content = h("div");
  const counts = new Map<AlertState, HTMLElement>(STATES.map((s) => [s, h("span", { class: "count" })]));

  const save = () => localStorage.setItem("shoal.alerts.filters", JSON.stringify({ states: [...filters.states], showAnnotations: filters.showAnnotations }));
  const checkbox = (name: string, checked: boolean, label: (Node | string)[], onchange: (on: boolean) => void): HTMLElement => {
    const input = h("input", { type: "checkbox", name, checked, onchange: () => onchange(input.checked) });
    return h("label", { class: `check ${name}` }, input, ...label);
  };
  const stateChecks = STATES.map((s) =>
    checkbox(`state-${s}`, filters.states.has(s), [h("span", { class: `badge ${stateClass(s)}` }, s.toUpperCase()), " (", counts.get(s)!, ")"], (on) => {
      if (on) filters.states.add(s);
      else filters.states.delete(s);
      save();
      draw();
    }),
  );
  const annotationsCheck = checkbox("show-annotations", filters.showAnnotations, ["Show annotations"], (on) => {
    filters.showAnnotations = on;
    save();
    draw();
  });
  const searchInput = h("input", {
    class: "search",
    placeholder: "Filter by name or labels",
    oninput: () => {
      search = searchInput.value.trim().toLowerCase();
      draw();
    },
  });

  function draw(): void {
    if (!last) return;
    const byState = new Map<AlertState, number>(STATES.map((s) => [s, 0]));
    for (const g of last) for (const r of g.rules) byState.set(ruleState(r), byState.get(ruleState(r))! + 1);
    for (const s of STATES) counts.get(s)!.textContent = String(byState.get(s));
    if (last.length === 0) {
      content.replaceChildren(
        ...warningNotices(warnings),
        emptyState("No alerting rules", "No alerting rules are configured. Add rule_files with alerting rules to the configuration to see them here."),
      );
      return;
    }
    const sections: HTMLElement[] = [];
    for (const g of last) {
      const rules = g.rules.filter((r) => filters.states.has(ruleState(r)) && ruleMatches(r, search));
      if (rules.length === 0) continue;
      sections.push(
        h(
          "section",
          { class: "rule-group", "data-group": g.name },
          h("h2", null, g.name, h("span", { class: "muted small-text" }, ` ${g.file} `), evaluatedBy(g)),
          ...rules.map((r) => alertRule(r, `${g.file}/${g.name}/${r.name}`, open, filters.showAnnotations)),
        ),
      );
    }
    content.replaceChildren(...warningNotices(warnings), ...(sections.length > 0 ? sections : [emptyState("No matching alerts", "Change the filters to see more.")]));
  }

  return refreshingPage({
    title: "Alerts",
    className: "alerts-page",
    refreshMs: 10_000,
    header: h("div", { class: "page-tools" }, ...stateChecks, annotationsCheck, searchInput),
    load: async (signal) => {
      const res = await apiGet<{ groups: RuleGroup[] }>("/api/v1/rules", { type: "alert" }, signal);
      last = (res.data.groups ?? []).map((g) => ({ ...g, rules: g.rules.filter((r) => r.type === "alerting") })).filter((g) => g.rules.length > 0);
      warnings = res.warnings;
      draw();
      return content;
    },
  });
}

function stateClass(s: string): string {
  return s === "firing" ? "bad" : s === "pending" ? "warn" : "good";
}

function ruleMatches(r: Rule, q: string): boolean {
  if (q === "") return true;
  if (r.name.toLowerCase().includes(q)) return true;
  const labelText = (m: Metric | undefined) => Object.entries(m ?? {}).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(q));
  return labelText(r.labels) || (r.alerts ?? []).some((a) => labelText(a.labels));
}

function annotationList(annotations: Metric): HTMLElement {
  return h(
    "dl",
    { class: "annotations" },
    ...Object.keys(annotations)
      .sort()
      .map((k) => [h("dt", null, k), h("dd", null, annotations[k]!)]),
  );
}

function alertRule(r: Rule, key: string, open: Set<string>, showAnnotations: boolean): HTMLElement {
  const alerts = r.alerts ?? [];
  const state = ruleState(r);
  const rows: HTMLElement[] = [];
  for (const a of alerts) {
    rows.push(
      h(
        "tr",
        { class: `alert ${a.state}` },
        h("td", null, labelBadges(a.labels)),
        h("td", null, h("span", { class: `badge ${stateClass(a.state)}` }, a.state.toUpperCase())),
        h("td", { class: "active-since", title: a.activeAt ?? "" }, a.activeAt ? age(a.activeAt) : "–"),
        h("td", { class: "mono" }, a.value),
      ),
    );
    if (showAnnotations && Object.keys(a.annotations ?? {}).length > 0) {
      rows.push(h("tr", { class: "alert-annotations" }, h("td", { colspan: 4 }, annotationList(a.annotations))));
    }
  }
  const details = h(
    "details",
    {
      class: `alert-rule ${state}`,
      "data-rule": r.name,
      open: open.has(key),
      ontoggle: () => {
        if (details.open) open.add(key);
        else open.delete(key);
      },
    },
    h("summary", null, h("span", { class: `badge ${stateClass(state)}` }, state.toUpperCase()), ` ${r.name} `, h("span", { class: "muted" }, `(${alerts.length} active)`)),
    h("pre", { class: "rule-def" }, ruleYaml(r)),
    r.lastError ? h("div", { class: "notice error" }, r.lastError) : null,
    alerts.length > 0
      ? h(
          "table",
          { class: "data-table alerts-table" },
          h("thead", null, h("tr", null, ...["Labels", "State", "Active since", "Value"].map((c) => h("th", null, c)))),
          h("tbody", null, ...rows),
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
      const notices = warningNotices(res.warnings);
      if (groups.length === 0) {
        return h("div", null, ...notices, emptyState("No rule groups", "No recording or alerting rules are loaded. Add rule_files to the configuration to see them here."));
      }
      return h("div", null, ...notices, ...groups.map(groupSection));
    },
  });
}

function groupSection(g: RuleGroup): HTMLElement {
  const summary = [`every ${formatDuration(g.interval)}`];
  if (g.limit) summary.push(`limit ${g.limit}`);
  return h(
    "section",
    { class: "rule-group", "data-group": g.name },
    h("h2", null, g.name, h("span", { class: "muted small-text" }, ` ${g.file} · ${summary.join(" · ")} `), evaluatedBy(g)),
    h(
      "div",
      { class: "group-eval muted small-text" },
      `last evaluation ${age(g.lastEvaluation)}`,
      g.evaluationTime !== undefined ? ` · took ${formatSeconds(g.evaluationTime)}` : "",
    ),
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
            { class: "rule", "data-rule": r.name },
            h("td", null, h("pre", { class: "rule-def" }, ruleYaml(r))),
            h("td", { class: "health" }, healthBadge(r.health)),
            h("td", { class: "error-text" }, r.lastError ?? ""),
            h("td", { class: "last-evaluation", title: r.lastEvaluation ?? "" }, age(r.lastEvaluation)),
            h("td", null, r.evaluationTime !== undefined ? formatSeconds(r.evaluationTime) : "–"),
          ),
        ),
      ),
    ),
  );
}
