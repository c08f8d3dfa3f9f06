/**
 * How committed samples reach whatever forwards them (remote write out), without the writer
 * knowing who listens. Columnar so that a commit of a million samples hands over three typed
 * arrays and one label set per series, not a million objects.
 */
import type { Labels } from "./labels.ts";

/**
 * Samples, columnar: run `r` holds samples `[r === 0 ? 0 : ends[r - 1], ends[r])` of series
 * `labels[r]`. The arrays may be longer than used (only the first `runs` runs count). Valid only
 * during the call that receives them: the caller reuses the arrays. Staleness markers keep their
 * exact bits (test with `isStaleAt`).
 */
export interface SampleRuns {
  readonly runs: number;
  readonly labels: readonly Labels[];
  readonly ends: Int32Array;
  /** Milliseconds since the epoch. */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Where committed samples go to be forwarded. */
export interface SampleSink {
  /** False while nothing listens: writers skip collecting samples altogether. */
  readonly active: boolean;
  /** Resolves once the samples are durable in the sink; a rejection fails the write that fed it. */
  write(batch: SampleRuns): Promise<void>;
}
