/**
 * The graph tab: a range query's matrix drawn with uPlot, with a legend below that toggles
 * series, a hover tooltip with the series under the cursor, and a stacked mode.
 */
import uPlot from "uplot";
import { h } from "../dom.ts";
import { formatAxisValue, formatSeries } from "../format.ts";
import { alignSeries, type AlignedData, type GraphInput } from "./align.ts";
import { formatUtc } from "../time.ts";

const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#3366cc", "#dc3912", "#109618", "#990099", "#0099c6", "#dd4477",
];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** Running sums so that each series is drawn on top of the previous visible ones. */
function stackColumns(columns: (number | null)[][], visible: boolean[]): (number | null)[][] {
  const out: (number | null)[][] = [];
  const len = columns[0]?.length ?? 0;
  const acc = new Float64Array(len);
  columns.forEach((col, s) => {
    if (!visible[s]) {
      out.push(col.map(() => null));
      return;
    }
    out.push(
      col.map((v, i) => {
        if (v === null) return null;
        acc[i]! += v;
        return acc[i]!;
      }),
    );
  });
  return out;
}

export class Graph {
  readonly root: HTMLElement;
  private readonly chartEl: HTMLElement;
  private readonly legendEl: HTMLElement;
  private readonly tooltip: HTMLElement;
  private plot: uPlot | null = null;
  private visible: boolean[] = [];
  private data: AlignedData | null = null;
  private input: GraphInput | null = null;
  private resizeObserver: ResizeObserver;

  constructor() {
    this.chartEl = h("div", { class: "graph-chart" });
    this.tooltip = h("div", { class: "graph-tooltip", hidden: true });
    this.legendEl = h("div", { class: "graph-legend" });
    this.root = h("div", { class: "graph" }, this.chartEl, this.tooltip, this.legendEl);
    this.resizeObserver = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resizeObserver.observe(this.chartEl);
  }

  render(input: GraphInput): void {
    this.input = input;
    this.data = alignSeries(input);
    this.visible = input.series.map(() => true);
    this.draw();
    this.renderLegend();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.chartEl.clientWidth), height: 320 };
  }

  private draw(): void {
    const input = this.input!;
    const data = this.data!;
    this.plot?.destroy();
    this.chartEl.replaceChildren();
    const columns = input.stacked ? stackColumns(data.columns, this.visible) : data.columns;
    const series: uPlot.Series[] = [{}];
    input.series.forEach((s, i) => {
      const color = seriesColor(i);
      series.push({
        label: formatSeries(s.metric),
        stroke: color,
        width: 1.5,
        fill: input.stacked ? color + "55" : undefined,
        show: this.visible[i],
        points: { show: true, size: 5, filter: isolatedPoints },
        spanGaps: false,
      });
    });
    const bands: uPlot.Band[] = [];
    if (input.stacked) {
      // Fill each stacked series down to the one below it instead of down to zero.
      let below = -1;
      input.series.forEach((_, i) => {
        if (!this.visible[i]) return;
        if (below >= 0) bands.push({ series: [i + 1, below + 1] });
        below = i;
      });
    }
    // The canvas cannot resolve CSS variables; read the theme's colors once per draw.
    const css = getComputedStyle(document.documentElement);
    const axisColor = css.getPropertyValue("--muted").trim() || "#6b7280";
    const gridColor = css.getPropertyValue("--border").trim() || "#dde1e7";
    const opts: uPlot.Options = {
      ...this.size(),
      series,
      bands,
      legend: { show: false },
      cursor: { focus: { prox: 30 }, drag: { x: true, y: false } },
      focus: { alpha: 0.35 },
      scales: { x: { time: true, min: input.start, max: input.end } },
      // Ticks fall on UTC boundaries, matching the UTC labels, the end-time input and the tooltip.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      axes: [
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          // Room for an "HH:mm:ss" label between ticks.
          space: 80,
          values: (_u, splits, _axis, _space, incr) => splits.map((t) => formatTick(t, incr)),
        },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          size: 60,
          values: (_u, vals) => vals.map(formatAxisValue),
        },
      ],
      hooks: {
        setCursor: [(u) => this.updateTooltip(u)],
      },
    };
    this.plot = new uPlot(opts, [Array.from(data.xs), ...columns] as uPlot.AlignedData, this.chartEl);
    this.markCounts();
  }

  private updateTooltip(u: uPlot): void {
    const idx = u.cursor.idx;
    const top = u.cursor.top ?? -1;
    if (idx === null || idx === undefined || top < 0 || !this.data || !this.input) {
      this.tooltip.hidden = true;
      return;
    }
    // The series closest to the cursor vertically, among the visible ones with a value there.
    let best = -1;
    let bestDist = Infinity;
    for (let s = 1; s < u.series.length; s++) {
      if (!u.series[s]!.show) continue;
      const v = u.data[s]![idx];
      if (v === null || v === undefined) continue;
      const y = u.valToPos(v, "y");
      const d = Math.abs(y - top);
      if (d < bestDist) {
        bestDist = d;
        best = s;
      }
    }
    if (best < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const raw = this.data.columns[best - 1]![idx];
    const t = u.data[0][idx]!;
    this.tooltip.replaceChildren(
      h("div", { class: "tt-time" }, `${formatUtc(t * 1000)} UTC`),
      h(
        "div",
        { class: "tt-series" },
        h("span", { class: "swatch", style: `background:${seriesColor(best - 1)}` }),
        h("span", { class: "tt-value" }, String(raw)),
      ),
      h("div", { class: "tt-labels" }, String(u.series[best]!.label ?? "")),
    );
    this.tooltip.hidden = false;
    const left = u.cursor.left ?? 0;
    const over = u.over.getBoundingClientRect();
    const root = this.root.getBoundingClientRect();
    const x = over.left - root.left + left;
    const y = over.top - root.top + top;
    const flip = x > root.width / 2;
    this.tooltip.style.left = flip ? "" : `${x + 14}px`;
    this.tooltip.style.right = flip ? `${root.width - x + 14}px` : "";
    this.tooltip.style.top = `${y + 14}px`;
  }

  private renderLegend(): void {
    const input = this.input!;
    this.legendEl.replaceChildren(
      ...input.series.map((s, i) =>
        h(
          "div",
          {
            class: "legend-item" + (this.visible[i] ? "" : " hidden-series"),
            title: "click: toggle this series · ctrl/⌘-click: show only this series",
            onclick: (ev: MouseEvent) => this.onLegendClick(i, ev.ctrlKey || ev.metaKey),
          },
          h("span", { class: "swatch", style: `background:${seriesColor(i)}` }),
          h("span", { class: "legend-label" }, formatSeries(s.metric)),
        ),
      ),
    );
  }

  private onLegendClick(i: number, only: boolean): void {
    if (only) {
      const alreadyOnly = this.visible.every((v, j) => v === (j === i));
      this.visible = this.visible.map((_, j) => alreadyOnly || j === i);
    } else {
      this.visible[i] = !this.visible[i];
    }
    if (this.input?.stacked) {
      this.draw();
    } else if (this.plot) {
      this.visible.forEach((v, j) => this.plot!.setSeries(j + 1, { show: v }));
    }
    this.markCounts();
    this.renderLegend();
  }

  /** Series drawn and shown, as data attributes: what a user sees, readable by tests. */
  private markCounts(): void {
    if (!this.plot) return;
    const drawn = this.plot.series.slice(1);
    this.root.dataset.series = String(drawn.length);
    this.root.dataset.visibleSeries = String(drawn.filter((s) => s.show !== false).length);
  }

  /** How many series the chart currently draws (for tests and the panel's summary). */
  visibleCount(): number {
    return this.visible.filter(Boolean).length;
  }
}

/** Draw points only where a value has no neighbours, so that lone samples stay visible. */
function isolatedPoints(u: uPlot, si: number): number[] {
  const col = u.data[si];
  const out: number[] = [];
  if (!col) return out;
  for (let i = 0; i < col.length; i++) {
    if (col[i] == null) continue;
    if (col[i - 1] == null && col[i + 1] == null) out.push(i);
  }
  return out;
}

const two = (n: number) => String(n).padStart(2, "0");

/** 24-hour UTC tick labels with the precision the tick spacing needs (like Prometheus's graph). */
function formatTick(seconds: number, incr: number): string {
  const d = new Date(seconds * 1000);
  const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (incr < 60) return `${hm}:${two(d.getUTCSeconds())}`;
  if (incr < 86400) return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}` : hm;
  return `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}
