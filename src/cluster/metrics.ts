/**
 * The cluster's own metrics as plain data: families of labelled samples that the telemetry room
 * renders in the exposition format. Counters only grow; gauges are computed when collected.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSample {
  /** Suffix appended to the family name ("_bucket", "_sum", "_count" for histograms), or "". */
  readonly suffix: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: MetricSample[];
}

/** A counter keyed by label values. */
export class LabelledCounter {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(private readonly labelNames: readonly string[]) {}

  inc(labelValues: readonly string[], by = 1): void {
    const key = labelValues.join("\xff");
    let e = this.values.get(key);
    if (!e) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = labelValues[i] ?? ""));
      this.values.set(key, (e = { labels, value: 0 }));
    }
    e.value += by;
  }

  samples(): MetricSample[] {
    return [...this.values.values()].map((e) => ({ suffix: "", labels: e.labels, value: e.value }));
  }
}

export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }

  samples(): MetricSample[] {
    const out: MetricSample[] = this.buckets.map((b, i) => ({ suffix: "_bucket", labels: { le: String(b) }, value: this.counts[i]! }));
    out.push({ suffix: "_bucket", labels: { le: "+Inf" }, value: this.count });
    out.push({ suffix: "_sum", labels: {}, value: this.sum });
    out.push({ suffix: "_count", labels: {}, value: this.count });
    return out;
  }
}

/** Renders families in the Prometheus text format (used by tests and as a fallback). */
export function renderMetricsText(families: readonly MetricFamily[]): string {
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  let out = "";
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const ls = Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`);
      out += `${f.name}${s.suffix}${ls.length ? `{${ls.join(",")}}` : ""} ${s.value}\n`;
    }
  }
  return out;
}
