/**
 * A metric family as a component reports it at scrape time and the telemetry registry renders
 * it in the exposition format. Rooms that keep their own figures (the cluster, storage) hand
 * families of this shape to the registry's collectors, so there is one shape to render.
 */
export type MetricType = "counter" | "gauge" | "histogram" | "summary";

export interface MetricSample {
  /** Suffix appended to the family name (`_bucket`, `_sum`, `_count`), or "". */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}
