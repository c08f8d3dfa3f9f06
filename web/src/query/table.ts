/** The table tab: an instant query's result, one row per series, as Prometheus shows it. */
import type { QueryData } from "../api.ts";
import { h, type Child } from "../dom.ts";
import { formatSeries } from "../format.ts";

/** Rendering tens of thousands of rows makes the page sluggish; Prometheus stops at 10000 too. */
const MAX_ROWS = 10000;

export function renderTable(data: QueryData): HTMLElement {
  let rows: Child[] = [];
  let total = 0;
  switch (data.resultType) {
    case "vector":
      total = data.result.length;
      rows = data.result.slice(0, MAX_ROWS).map((s) =>
        row(formatSeries(s.metric), s.value ? s.value[1] : s.histogram ? histogramText(s.histogram[1]) : ""),
      );
      break;
    case "matrix":
      total = data.result.length;
      rows = data.result.slice(0, MAX_ROWS).map((s) =>
        row(
          formatSeries(s.metric),
          h("div", { class: "matrix-values" }, ...(s.values ?? []).map(([t, v]) => h("div", null, `${v} @${t}`))),
        ),
      );
      break;
    case "scalar":
      total = 1;
      rows = [row("scalar", data.result[1])];
      break;
    case "string":
      total = 1;
      rows = [row("string", data.result[1])];
      break;
  }
  if (total === 0) return h("div", { class: "empty-result" }, "Empty query result");
  return h(
    "div",
    null,
    total > MAX_ROWS ? h("div", { class: "notice warning" }, `Showing ${MAX_ROWS} of ${total} series.`) : null,
    h("table", { class: "data-table result-table" }, h("tbody", null, ...rows)),
  );
}

function row(series: string, value: Child): HTMLElement {
  return h("tr", null, h("td", { class: "series" }, series), h("td", { class: "value" }, value));
}

function histogramText(hist: { count: string; sum: string }): string {
  return `histogram count=${hist.count} sum=${hist.sum}`;
}
