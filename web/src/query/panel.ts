/**
 * One query panel: editor, Table/Graph tabs and their controls, the result, and the errors and
 * warnings of the last run. The page owns a list of panels and keeps their state in the URL.
 */
import { apiGet, ApiError, type QueryData, type RangeSeries } from "../api.ts";
import { h } from "../dom.ts";
import { defaultStep, formatDuration, formatUtc, nextRange, parseDuration, parseTime } from "../time.ts";
import { createEditor, type PromQLEditor } from "./editor.ts";
import { openMetricsExplorer } from "./explorer.ts";
import { Graph } from "./graph.ts";
import type { PanelState, PanelTab } from "./state.ts";
import { renderTable } from "./table.ts";

export interface PanelHost {
  /** Called whenever the panel's state changes, so the page can rewrite the URL. */
  changed(): void;
  remove(panel: QueryPanel): void;
}

export class QueryPanel {
  readonly root: HTMLElement;
  private editor: PromQLEditor;
  private readonly resultEl: HTMLElement;
  private readonly messagesEl: HTMLElement;
  private readonly statsEl: HTMLElement;
  private readonly controlsEl: HTMLElement;
  private readonly tabButtons: Record<PanelTab, HTMLButtonElement>;
  private graph: Graph | null = null;
  private inflight: AbortController | null = null;

  constructor(
    readonly state: PanelState,
    private readonly host: PanelHost,
  ) {
    const editorEl = h("div", { class: "editor" });
    this.editor = createEditor(
      editorEl,
      state.expr,
      () => this.execute(),
      (expr) => {
        this.state.expr = expr;
      },
    );
    this.tabButtons = {
      table: h("button", { class: "tab", onclick: () => this.setTab("table") }, "Table"),
      graph: h("button", { class: "tab", onclick: () => this.setTab("graph") }, "Graph"),
    };
    this.statsEl = h("span", { class: "stats" });
    this.controlsEl = h("div", { class: "controls" });
    this.messagesEl = h("div", { class: "messages" });
    this.resultEl = h("div", { class: "result" });
    this.root = h(
      "section",
      { class: "panel" },
      h(
        "div",
        { class: "expr-row" },
        editorEl,
        h(
          "button",
          {
            class: "btn explorer-btn",
            title: "Open the metrics explorer",
            onclick: () => openMetricsExplorer((name) => this.editor.insert(name)),
          },
          "Metrics",
        ),
        h("button", { class: "btn primary execute", onclick: () => this.execute() }, "Execute"),
        h("button", { class: "btn icon remove", title: "Remove panel", onclick: () => this.host.remove(this) }, "✕"),
      ),
      h("div", { class: "tab-row" }, this.tabButtons.table, this.tabButtons.graph, this.statsEl),
      this.controlsEl,
      this.messagesEl,
      this.resultEl,
    );
    this.renderTabs();
  }

  focus(): void {
    this.editor.focus();
  }

  destroy(): void {
    this.inflight?.abort();
    this.graph?.destroy();
    this.editor.view.destroy();
  }

  private setTab(tab: PanelTab): void {
    if (this.state.tab === tab) return;
    this.state.tab = tab;
    this.renderTabs();
    this.host.changed();
    if (this.state.expr.trim() !== "") void this.run();
    else this.clearResult();
  }

  private renderTabs(): void {
    for (const tab of ["table", "graph"] as const) this.tabButtons[tab].classList.toggle("active", this.state.tab === tab);
    this.controlsEl.replaceChildren(...(this.state.tab === "graph" ? this.graphControls() : this.tableControls()));
  }

  private tableControls(): HTMLElement[] {
    const input = h("input", {
      class: "time-input",
      placeholder: "Evaluation time (UTC)",
      value: this.state.moment === null ? "" : formatUtc(this.state.moment),
      title: "YYYY-MM-DD HH:mm:ss in UTC; empty means now",
      onchange: () => {
        this.state.moment = parseTime(input.value);
        this.afterControlChange();
      },
    });
    return [h("label", { class: "control" }, h("span", null, "Evaluation time"), input)];
  }

  private graphControls(): HTMLElement[] {
    const range = h("input", {
      class: "range-input",
      value: formatDuration(this.state.range),
      title: "Range, e.g. 1h, 30m, 1d",
      onchange: () => {
        const r = parseDuration(range.value);
        if (r !== null) this.state.range = r;
        range.value = formatDuration(this.state.range);
        this.afterControlChange();
      },
    });
    const stepRange = (dir: 1 | -1) => {
      this.state.range = nextRange(this.state.range, dir);
      range.value = formatDuration(this.state.range);
      this.afterControlChange();
    };
    const end = h("input", {
      class: "time-input",
      placeholder: "End time (now)",
      value: this.state.end === null ? "" : formatUtc(this.state.end),
      title: "YYYY-MM-DD HH:mm:ss in UTC; empty means now",
      onchange: () => {
        this.state.end = parseTime(end.value);
        this.afterControlChange();
      },
    });
    const shiftEnd = (dir: 1 | -1) => {
      const base = this.state.end ?? Date.now();
      const next = base + (dir * this.state.range * 1000) / 2;
      this.state.end = dir > 0 && next >= Date.now() ? null : next;
      end.value = this.state.end === null ? "" : formatUtc(this.state.end);
      this.afterControlChange();
    };
    const step = h("input", {
      class: "step-input",
      placeholder: `Res. (${defaultStep(this.state.range)}s)`,
      value: this.state.step === null ? "" : String(this.state.step),
      title: "Resolution: seconds between points; empty means automatic",
      onchange: () => {
        this.state.step = parseDuration(step.value);
        step.value = this.state.step === null ? "" : String(this.state.step);
        this.afterControlChange();
      },
    });
    const mode = (stacked: boolean, label: string) =>
      h(
        "button",
        {
          class: "seg" + (this.state.stacked === stacked ? " active" : ""),
          onclick: () => {
            if (this.state.stacked === stacked) return;
            this.state.stacked = stacked;
            this.renderTabs();
            this.afterControlChange();
          },
        },
        label,
      );
    return [
      h(
        "div",
        { class: "control group" },
        h("button", { class: "btn small", title: "Shorter range", onclick: () => stepRange(-1) }, "−"),
        range,
        h("button", { class: "btn small", title: "Longer range", onclick: () => stepRange(1) }, "+"),
      ),
      h(
        "div",
        { class: "control group" },
        h("button", { class: "btn small", title: "Earlier", onclick: () => shiftEnd(-1) }, "‹‹"),
        end,
        h("button", { class: "btn small", title: "Later", onclick: () => shiftEnd(1) }, "››"),
      ),
      h("div", { class: "control" }, step),
      h("div", { class: "control segmented" }, mode(false, "Lines"), mode(true, "Stacked")),
    ];
  }

  private afterControlChange(): void {
    this.host.changed();
    if (this.state.expr.trim() !== "") void this.run();
  }

  execute(): void {
    this.editor.closeCompletion();
    this.state.expr = this.editor.getValue();
    this.host.changed();
    void this.run();
  }

  private clearResult(): void {
    this.graph?.destroy();
    this.graph = null;
    this.resultEl.replaceChildren();
    this.messagesEl.replaceChildren();
    this.statsEl.textContent = "";
  }

  /** Runs the panel's query for its current tab; a newer run cancels an older one. */
  async run(): Promise<void> {
    const expr = this.state.expr.trim();
    if (expr === "") {
      this.clearResult();
      return;
    }
    this.inflight?.abort();
    const ctrl = new AbortController();
    this.inflight = ctrl;
    this.root.classList.add("loading");
    const started = performance.now();
    try {
      if (this.state.tab === "graph") await this.runRange(expr, ctrl.signal, started);
      else await this.runInstant(expr, ctrl.signal, started);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      this.clearResult();
      const message = err instanceof ApiError ? `Error executing query: ${err.message}` : `Error: ${String(err)}`;
      this.messagesEl.replaceChildren(h("div", { class: "notice error", role: "alert" }, message));
    } finally {
      if (this.inflight === ctrl) {
        this.inflight = null;
        this.root.classList.remove("loading");
      }
    }
  }

  private async runInstant(expr: string, signal: AbortSignal, started: number): Promise<void> {
    const params: Record<string, string> = { query: expr };
    if (this.state.moment !== null) params.time = (this.state.moment / 1000).toFixed(3);
    const res = await apiGet<QueryData>("/api/v1/query", params, signal);
    if (signal.aborted) return;
    this.graph?.destroy();
    this.graph = null;
    this.showMessages(res.warnings, res.infos);
    const count = Array.isArray(res.data.result) && res.data.resultType !== "scalar" && res.data.resultType !== "string" ? res.data.result.length : 1;
    this.statsEl.textContent = `Load time: ${Math.round(performance.now() - started)}ms · Result series: ${count}`;
    this.resultEl.replaceChildren(renderTable(res.data));
  }

  private async runRange(expr: string, signal: AbortSignal, started: number): Promise<void> {
    const endMs = this.state.end ?? Date.now();
    const step = this.state.step ?? defaultStep(this.state.range);
    // Not aligned to the step: flooring "now" would hide the newest samples of a fresh series.
    const end = Math.round(endMs) / 1000;
    const start = end - this.state.range;
    const res = await apiGet<QueryData>(
      "/api/v1/query_range",
      { query: expr, start: String(start), end: String(end), step: String(step) },
      signal,
    );
    if (signal.aborted) return;
    this.showMessages(res.warnings, res.infos);
    if (res.data.resultType !== "matrix") {
      throw new ApiError(`expected a range vector result, got ${res.data.resultType}`, 200, "bad_data");
    }
    const series: RangeSeries[] = res.data.result;
    this.statsEl.textContent = `Load time: ${Math.round(performance.now() - started)}ms · Resolution: ${step}s · Result series: ${series.length}`;
    if (!this.graph) this.graph = new Graph();
    if (series.length === 0) {
      this.graph.destroy();
      this.graph = null;
      this.resultEl.replaceChildren(h("div", { class: "empty-result" }, "Empty query result"));
      return;
    }
    this.resultEl.replaceChildren(this.graph.root);
    this.graph.render({ series, start, end, step, stacked: this.state.stacked });
  }

  private showMessages(warnings: string[], infos: string[]): void {
    this.messagesEl.replaceChildren(
      // Prometheus's own annotations already say what they are ("PromQL warning: ...").
      ...warnings.map((w) => h("div", { class: "notice warning", role: "status" }, /^PromQL /.test(w) ? w : `Warning: ${w}`)),
      ...infos.map((i) => h("div", { class: "notice info", role: "status" }, /^PromQL /.test(i) ? i : `Info: ${i}`)),
    );
  }
}
