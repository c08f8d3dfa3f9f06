/**
 * The node's own metrics: counters, gauges and histograms with optional labels, plus collectors
 * that read a value at scrape time (storage statistics, process figures). Rendered in the
 * Prometheus text format 0.0.4, which `promtool check metrics` lints.
 */
import type { MetricFamily, MetricSample, MetricType } from "../model/index.ts";

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  collect(): MetricSample[];
}

function labelKey(labelNames: readonly string[], values: readonly string[]): string {
  if (values.length !== labelNames.length) {
    throw new Error(`expected ${labelNames.length} label values, got ${values.length}`);
  }
  return values.join("\xff");
}

function toRecord(labelNames: readonly string[], key: string): Record<string, string> {
  if (labelNames.length === 0) return {};
  const vals = key.split("\xff");
  const out: Record<string, string> = {};
  labelNames.forEach((n, i) => (out[n] = vals[i]!));
  return out;
}

export class Counter implements Family {
  readonly type = "counter";
  private readonly vals = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[] = [],
  ) {
    if (labelNames.length === 0) this.vals.set("", 0);
  }
  inc(by = 1, ...labelValues: string[]): void {
    const k = labelKey(this.labelNames, labelValues);
    this.vals.set(k, (this.vals.get(k) ?? 0) + by);
  }
  get(...labelValues: string[]): number {
    return this.vals.get(labelKey(this.labelNames, labelValues)) ?? 0;
  }
  collect(): MetricSample[] {
    return [...this.vals].map(([k, value]) => ({ labels: toRecord(this.labelNames, k), value }));
  }
}

export class Gauge implements Family {
  readonly type = "gauge";
  private readonly vals = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[] = [],
  ) {
    if (labelNames.length === 0) this.vals.set("", 0);
  }
  set(v: number, ...labelValues: string[]): void {
    this.vals.set(labelKey(this.labelNames, labelValues), v);
  }
  inc(by = 1, ...labelValues: string[]): void {
    const k = labelKey(this.labelNames, labelValues);
    this.vals.set(k, (this.vals.get(k) ?? 0) + by);
  }
  collect(): MetricSample[] {
    return [...this.vals].map(([k, value]) => ({ labels: toRecord(this.labelNames, k), value }));
  }
}

interface HistogramCell {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram, optionally with labels (one set of buckets per label combination). */
export class Histogram implements Family {
  readonly type = "histogram";
  private readonly cells = new Map<string, HistogramCell>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly labelNames: readonly string[] = [],
  ) {
    if (labelNames.length === 0) this.cells.set("", this.newCell());
  }
  private newCell(): HistogramCell {
    return { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }
  observe(v: number, ...labelValues: string[]): void {
    const k = labelKey(this.labelNames, labelValues);
    let cell = this.cells.get(k);
    if (!cell) this.cells.set(k, (cell = this.newCell()));
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) cell.counts[i]!++;
    cell.sum += v;
    cell.count++;
  }
  collect(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const [k, cell] of this.cells) {
      const labels = toRecord(this.labelNames, k);
      this.bounds.forEach((b, i) => out.push({ suffix: "_bucket", labels: { ...labels, le: formatSampleValue(b) }, value: cell.counts[i]! }));
      out.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: cell.count });
      out.push({ suffix: "_sum", labels, value: cell.sum });
      out.push({ suffix: "_count", labels, value: cell.count });
    }
    return out;
  }
}

interface SummaryCell {
  sum: number;
  count: number;
  /** Observations per age slot (reservoir-sampled beyond the slot's capacity). */
  slots: { slot: number; seen: number; values: number[] }[];
}

export interface SummaryOptions {
  /** Quantiles over the recent window (e.g. [0.5, 0.9, 0.99]); none: only _sum and _count. */
  quantiles?: readonly number[];
  /** How far back the quantiles look: Prometheus's client default, 10 minutes. */
  maxAgeMs?: number;
  /** The window moves in this many steps (Prometheus's default, 5). */
  ageBuckets?: number;
  /** Observations kept per step; beyond it a uniform sample of them is kept. */
  slotCapacity?: number;
  now?: () => number;
}

/**
 * A summary as Prometheus's client library exposes one: `_sum` and `_count` over all time, and
 * quantiles over the observations of the last `maxAgeMs` (NaN when there are none). The
 * quantiles are exact ranks over the kept observations, bounded in memory by `slotCapacity`.
 */
export class Summary implements Family {
  readonly type = "summary";
  private readonly cells = new Map<string, SummaryCell>();
  private readonly quantiles: readonly number[];
  private readonly slotMs: number;
  private readonly ageBuckets: number;
  private readonly capacity: number;
  private readonly now: () => number;
  constructor(
    readonly name: string,
    readonly help: string,
    opts: SummaryOptions = {},
    private readonly labelNames: readonly string[] = [],
  ) {
    this.quantiles = opts.quantiles ?? [];
    this.ageBuckets = opts.ageBuckets ?? 5;
    this.slotMs = (opts.maxAgeMs ?? 600_000) / this.ageBuckets;
    this.capacity = opts.slotCapacity ?? 2048;
    this.now = opts.now ?? Date.now;
    if (labelNames.length === 0) this.cells.set("", { sum: 0, count: 0, slots: [] });
  }
  observe(v: number, ...labelValues: string[]): void {
    const k = labelKey(this.labelNames, labelValues);
    let cell = this.cells.get(k);
    if (!cell) this.cells.set(k, (cell = { sum: 0, count: 0, slots: [] }));
    cell.sum += v;
    cell.count++;
    if (this.quantiles.length === 0) return;
    const slot = Math.floor(this.now() / this.slotMs);
    let cur = cell.slots[cell.slots.length - 1];
    if (cur === undefined || cur.slot !== slot) {
      cell.slots = cell.slots.filter((s) => s.slot > slot - this.ageBuckets);
      cell.slots.push((cur = { slot, seen: 0, values: [] }));
    }
    cur.seen++;
    if (cur.values.length < this.capacity) cur.values.push(v);
    else {
      const at = Math.floor(Math.random() * cur.seen);
      if (at < this.capacity) cur.values[at] = v;
    }
  }
  collect(): MetricSample[] {
    const out: MetricSample[] = [];
    const oldest = Math.floor(this.now() / this.slotMs) - this.ageBuckets;
    for (const [k, cell] of this.cells) {
      const labels = toRecord(this.labelNames, k);
      if (this.quantiles.length > 0) {
        const window = cell.slots.filter((s) => s.slot > oldest).flatMap((s) => s.values);
        window.sort((a, b) => a - b);
        for (const q of this.quantiles) {
          const value = window.length === 0 ? NaN : window[Math.min(window.length - 1, Math.max(0, Math.ceil(q * window.length) - 1))]!;
          out.push({ labels: { ...labels, quantile: formatSampleValue(q) }, value });
        }
      }
      out.push({ suffix: "_sum", labels, value: cell.sum });
      out.push({ suffix: "_count", labels, value: cell.count });
    }
    return out;
  }
}

export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(v);
  return out;
}

/**
 * Go's strconv.FormatFloat(v, 'g', -1, 64), which the text exposition format uses: shortest
 * digits, exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`).
 */
export function formatSampleValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v !== v) return "NaN";
  if (v === 0) return "0";
  const e = v.toExponential();
  const at = e.indexOf("e");
  const exp = Number(e.slice(at + 1));
  if (exp < -4 || exp >= 6) {
    const digits = e.slice(at + 2);
    return e.slice(0, at + 2) + (digits.length < 2 ? "0" + digits : digits);
  }
  return String(v);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export class Registry {
  private readonly families: Family[] = [];
  private readonly collectors: (() => MetricFamily[])[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, bounds: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, bounds, labelNames));
  }
  summary(name: string, help: string, opts: SummaryOptions = {}, labelNames: readonly string[] = []): Summary {
    return this.add(new Summary(name, help, opts, labelNames));
  }
  /** A function called at every scrape that reports whole families (e.g. storage stats). */
  collector(fn: () => MetricFamily[]): void {
    this.collectors.push(fn);
  }

  private add<F extends Family>(f: F): F {
    this.families.push(f);
    return f;
  }

  gather(): MetricFamily[] {
    const out: MetricFamily[] = this.families.map((f) => ({ name: f.name, help: f.help, type: f.type, samples: f.collect() }));
    for (const c of this.collectors) {
      try {
        out.push(...c());
      } catch {
        // A failing collector must not take /metrics down; its families are simply absent.
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Text format 0.0.4. */
  render(): string {
    const parts: string[] = [];
    for (const f of this.gather()) {
      parts.push(`# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`);
      for (const s of f.samples) {
        const labels = s.labels ? Object.entries(s.labels) : [];
        const ls = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
        parts.push(`${f.name}${s.suffix ?? ""}${ls} ${formatSampleValue(s.value)}\n`);
      }
    }
    return parts.join("");
  }
}
