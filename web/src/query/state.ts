/**
 * The query page's state lives in the URL with Prometheus's parameter names (g0.expr, g0.tab,
 * g0.range_input, g0.end_input, g0.moment_input, g0.step_input, g0.stacked/g0.display_mode),
 * so a link copied from Prometheus opens here and a link from here can be shared.
 */
import { formatDuration, formatUtc, parseDuration, parseTime } from "../time.ts";

export type PanelTab = "graph" | "table";

export interface PanelState {
  expr: string;
  tab: PanelTab;
  /** Graph range in seconds. */
  range: number;
  /** Graph end time (ms); null means "now". */
  end: number | null;
  /** Table evaluation time (ms); null means "now". */
  moment: number | null;
  /** Graph resolution in seconds; null means automatic. */
  step: number | null;
  stacked: boolean;
}

export function defaultPanel(): PanelState {
  return { expr: "", tab: "table", range: 3600, end: null, moment: null, step: null, stacked: false };
}

export function parsePanels(search: string): PanelState[] {
  const params = new URLSearchParams(search);
  const byIndex = new Map<number, PanelState>();
  for (const [key, value] of params) {
    const m = /^g(\d+)\.(\w+)$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    let panel = byIndex.get(index);
    if (!panel) {
      panel = defaultPanel();
      byIndex.set(index, panel);
    }
    applyParam(panel, m[2]!, value);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
}

function applyParam(panel: PanelState, name: string, value: string): void {
  switch (name) {
    case "expr":
      panel.expr = value;
      break;
    case "tab":
      // Prometheus 2 writes 0 (graph) / 1 (table); Prometheus 3 writes the names.
      panel.tab = value === "0" || value === "graph" ? "graph" : "table";
      break;
    case "range_input": {
      const r = parseDuration(value);
      if (r !== null) panel.range = r;
      break;
    }
    case "end_input":
      panel.end = parseTime(value);
      break;
    case "moment_input":
      panel.moment = parseTime(value);
      break;
    case "step_input": {
      const s = parseDuration(value);
      panel.step = s;
      break;
    }
    case "stacked":
      panel.stacked = value === "1" || value === "true";
      break;
    case "display_mode":
      panel.stacked = value === "stacked";
      break;
  }
}

export function serializePanels(panels: PanelState[]): string {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    const g = `g${i}.`;
    params.set(g + "expr", p.expr);
    params.set(g + "tab", p.tab);
    if (p.tab === "graph") {
      params.set(g + "range_input", formatDuration(p.range));
      if (p.end !== null) params.set(g + "end_input", formatUtc(p.end));
      if (p.step !== null) params.set(g + "step_input", String(p.step));
      params.set(g + "display_mode", p.stacked ? "stacked" : "lines");
    } else if (p.moment !== null) {
      params.set(g + "moment_input", formatUtc(p.moment));
    }
  });
  return params.toString();
}
