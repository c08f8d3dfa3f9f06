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
  /**
   * Unlike the other hints, binding: only series whose ring hash (`labelsHash32` of the labels)
   * it holds are selected. A cluster member asked to serve some ranges of the hash ring gets
   * them here, so that series outside them are skipped before their samples are read.
   */
  hashRanges?: HashFilter;
}

/** A set of 32-bit series hashes (a cluster's HashRanges); `has` is called once per series. */
export interface HashFilter {
  has(hash: number): boolean;
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
  /** Who sent what, when the set was gathered from several members (a cluster's fan-out). */
  readonly members?: readonly MemberReadStats[];
}

/** What one cluster member sent for a read: query statistics explain a slow query with it. */
export interface MemberReadStats {
  /** The member's node name. */
  readonly member: string;
  readonly series: number;
  readonly samples: number;
  /** Bytes received from it; 0 for this node's own share, which never crosses the wire. */
  readonly bytes: number;
  /** Wall time from asking the member to its last byte. */
  readonly seconds: number;
  /** It evaluated part of the query over its data (aggregation pushdown) instead of sending raw series. */
  readonly pushdown: boolean;
}

/** Figures of the same member (and pushdown flag) added up, in order of first appearance. */
export function sumMemberReads(reads: readonly MemberReadStats[]): MemberReadStats[] {
  const by = new Map<string, { member: string; series: number; samples: number; bytes: number; seconds: number; pushdown: boolean }>();
  for (const r of reads) {
    const key = `${r.member}\u0000${r.pushdown}`;
    const acc = by.get(key);
    if (!acc) by.set(key, { ...r });
    else {
      acc.series += r.series;
      acc.samples += r.samples;
      acc.bytes += r.bytes;
      acc.seconds += r.seconds;
    }
  }
  return [...by.values()];
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
  /**
   * Optional: evaluates instant-vector expressions separately on disjoint shards of the series
   * (each series in exactly one shard), so that the caller can merge per-shard aggregates
   * instead of reading raw samples. Resolves to null when it declines (the caller then reads
   * raw series); see ShardedEvalRequest.
   */
  evalSharded?(req: ShardedEvalRequest, signal?: AbortSignal): Promise<ShardedEvalAnswer | null>;
}

/**
 * An instant vector over a window of steps, one slot per step, as the PromQL engine holds it.
 * `dropName`: `__name__` is still in `labels` but leaves at the end of evaluation (delayed
 * name removal), so shards can be merged before names are dropped.
 */
export interface StepVectorSeries {
  readonly labels: Labels;
  readonly dropName: boolean;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** Instant-vector PromQL expressions to evaluate at start, start+step, … ≤ end on each shard. */
export interface ShardedEvalRequest {
  readonly exprs: readonly string[];
  readonly start: number;
  readonly end: number;
  /** ms; 0 for a single evaluation at `start`. */
  readonly step: number;
  readonly lookbackDelta: number;
  /**
   * A step at t reads samples up to t − readLag (the smallest offset in the expressions): the
   * shards may answer only a first part of the steps when later ones read samples too new to
   * be on every replica yet.
   */
  readonly readLag: number;
  /** The oldest sample time any step reads (the earliest window start over the expressions' selectors). */
  readonly readsFrom: number;
  /** The matchers of the expressions' selectors: the storage may judge by them whether sharding pays. */
  readonly selectors: readonly (readonly Matcher[])[];
}

/** What one shard's evaluation produced: per expression, its series. */
export interface ShardVectors {
  readonly vectors: readonly (readonly StepVectorSeries[])[];
  readonly warnings: readonly string[];
  /** Samples the shard's evaluation read (Prometheus's totalQueryableSamples). */
  readonly samples: number;
}

/** What one member did for a sharded evaluation (reported in query statistics). */
export interface ShardMemberStats {
  readonly member: string;
  readonly series: number;
  readonly samples: number;
  readonly bytes: number;
  readonly seconds: number;
}

export interface ShardedEvalAnswer {
  /** The first `steps` steps of the request are answered (at least one). */
  readonly steps: number;
  readonly shards: readonly ShardVectors[];
  readonly warnings: readonly string[];
  readonly members: readonly ShardMemberStats[];
}

/** Evaluates a sharded request's expressions over one Queryable (a member's share of the data). */
export type ShardEvaluator = (q: Queryable, req: ShardedEvalRequest, signal?: AbortSignal) => Promise<ShardVectors>;
