/**
 * The two interfaces that hold Shoal together (see DESIGN.md): everything that writes samples
 * talks to an `Appender`, everything that reads talks to a `Queryable`. The local TSDB and the
 * cluster implement both; the scraper, remote write and the PromQL engine know only these.
 */
import type { Labels } from "./labels.ts";
import type { Matcher } from "./matchers.ts";

/** Timestamps are milliseconds since the Unix epoch; values are float64. */

/** Why a sample was refused; counted per reason in metrics, as Prometheus does. */
export type RejectReason = "out_of_order" | "duplicate" | "too_old" | "invalid";

export class AppendError extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Collects samples and makes them durable and visible on `commit` (all or nothing).
 * `append` throws `AppendError` for a sample it can reject at once (out of order, duplicate
 * timestamp with a different value); the rest of the batch is unaffected.
 * `stale` marks a staleness marker (see values.ts for why it is a flag and not a NaN); `v` is
 * then ignored.
 */
export interface Appender {
  append(labels: Labels, t: number, v: number, stale?: boolean): void;
  commit(): Promise<void>;
  rollback(): void;
}

export interface AppenderOptions {
  /**
   * One refused sample refuses the whole commit (remote write, as Prometheus's receiver does).
   * Without it (scrapes) refused samples are reported and the rest stored. Storage that refuses
   * samples at `append` time may ignore it: the caller then rolls back itself.
   */
  allOrNothing?: boolean;
}

export interface Appendable {
  appender(opts?: AppenderOptions): Appender;
}

/** What a selection will be used for, so a storage may prune; always safe to ignore. */
export interface SelectHints {
  start: number;
  end: number;
  step?: number;
  func?: string;
  /** At most this many series are wanted (0 or absent: no limit). */
  limit?: number;
  /**
   * Aborted when the caller gives up (query timeout or cancellation): a storage may stop early
   * and throw the signal's reason. Set it non-enumerable (as the engine does) so that hints
   * serialized for another process never carry it.
   */
  signal?: AbortSignal;
}

/**
 * One series with its samples in [mint, maxt], timestamps strictly increasing. Staleness markers
 * are kept as their exact bits in `values` (test with `isStaleAt`).
 */
export interface Series {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Series sorted by `compareLabels`, each label set once, plus non-fatal warnings. */
export interface SeriesSet {
  readonly series: Series[];
  readonly warnings: string[];
}

export interface LabelQueryResult {
  readonly values: string[];
  readonly warnings: string[];
}

export interface Querier {
  select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesSet>;
  /** Sorted label names of series matching all matchers (all series when none are given). */
  labelNames(matchers?: readonly Matcher[]): Promise<LabelQueryResult>;
  /** Sorted values of one label over series matching all matchers. */
  labelValues(name: string, matchers?: readonly Matcher[]): Promise<LabelQueryResult>;
  close(): void;
}

export interface Queryable {
  /** A view of the data with timestamps in [mint, maxt] (inclusive). */
  querier(mint: number, maxt: number): Querier;
}
