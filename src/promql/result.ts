/** What the engine returns; the HTTP API turns these into Prometheus's JSON shapes. */
import type { Labels, MemberReadStats, ShardMemberStats } from "../model/index.ts";

export interface VectorSample {
  labels: Labels;
  t: number;
  v: number;
}

/** One series of a matrix result; stale markers never appear in query results. */
export interface MatrixSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

export type QueryValue =
  | { resultType: "matrix"; result: MatrixSeries[] }
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "scalar"; t: number; v: number }
  | { resultType: "string"; t: number; v: string };

export interface QueryStats {
  /** Samples loaded from storage and touched during evaluation (what --query.max-samples caps). */
  totalQueryableSamples: number;
  peakSamples: number;
  /** Wall-clock phases in seconds. */
  execTotalTime: number;
  queryPreparationTime: number;
  innerEvalTime: number;
  /** Aggregations evaluated per shard by the storage (a cluster's members) and merged. */
  pushdown?: PushdownStats[];
  /** What each cluster member sent as raw series, per member, summed over the query's selects. */
  members?: MemberReadStats[];
}

export interface PushdownStats {
  /** What each shard evaluated. */
  expr: string;
  /** Steps answered by the shards (the rest, if any, from raw series). */
  steps: number;
  members: readonly ShardMemberStats[];
}

export interface QueryResult {
  value: QueryValue;
  /** Annotations rendered as Prometheus does, e.g. `PromQL warning: ... (1:6)`. */
  warnings: string[];
  infos: string[];
  stats: QueryStats;
}

/** Prometheus's API errorType values for query failures. */
export type QueryErrorType = "bad_data" | "execution" | "timeout" | "canceled" | "internal" | "unavailable";

export class QueryError extends Error {
  constructor(
    readonly type: QueryErrorType,
    message: string,
  ) {
    super(message);
  }
}
