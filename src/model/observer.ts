/**
 * How a room reports a measured value (a duration, a size) without knowing the metrics library:
 * the telemetry room hands in summaries and histograms that implement it. Label values, when the
 * instrument has labels, follow the value in the instrument's label order.
 */
export interface Observer {
  observe(value: number, ...labelValues: string[]): void;
}

/** An Observer that discards everything (a component created without telemetry, e.g. in tools). */
export const nopObserver: Observer = { observe: () => {} };
