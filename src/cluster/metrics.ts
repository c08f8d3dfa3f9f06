/**
 * The cluster's own counters and histograms, read at scrape time into the shared
 * `MetricFamily` shape that the telemetry registry renders. Counters only grow; gauges are
 * computed when collected.
 */
import type { MetricSample } from "../model/index.ts";

// One family shape for every room (model's); re-exported for the collector in cluster.ts.
export type { MetricFamily } from "../model/index.ts";

/** A sample that always carries its suffix and labels (callers sum over label values). */
type ClusterSample = Required<MetricSample>;

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

  samples(): ClusterSample[] {
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

  samples(): ClusterSample[] {
    const out: ClusterSample[] = this.buckets.map((b, i) => ({ suffix: "_bucket", labels: { le: String(b) }, value: this.counts[i]! }));
    out.push({ suffix: "_bucket", labels: { le: "+Inf" }, value: this.count });
    out.push({ suffix: "_sum", labels: {}, value: this.sum });
    out.push({ suffix: "_count", labels: {}, value: this.count });
    return out;
  }
}
