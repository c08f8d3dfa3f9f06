/**
 * The engine's internal values. A range query is evaluated over all steps at once: an instant
 * vector is a list of series, each with one slot per step (a Float64Array of values and a
 * presence mask), so labels are handled once per series rather than once per step, and inner
 * loops run over typed arrays without allocating.
 */
import type { Labels } from "../../model/index.ts";
import type { PosRange } from "../ast.ts";

export interface StepSeries {
  labels: Labels;
  /** Prometheus 3 delayed name removal: drop `__name__` at the end of evaluation. */
  dropName: boolean;
  values: Float64Array;
  /** 1 where the series has a sample at that step. */
  present: Uint8Array;
}

export interface VectorValue {
  kind: "vector";
  series: StepSeries[];
}

export interface ScalarValue {
  kind: "scalar";
  values: Float64Array;
}

export interface StringValue {
  kind: "string";
  value: string;
}

/** A range vector: raw samples per series (only a query's final result or a range function's input). */
export interface RangeSeries {
  labels: Labels;
  dropName: boolean;
  timestamps: Float64Array;
  values: Float64Array;
}

export interface MatrixValue {
  kind: "matrix";
  series: RangeSeries[];
}

export type Value = VectorValue | ScalarValue | StringValue | MatrixValue;

/** An evaluation failure that becomes QueryError("execution", message). */
export class EvalError extends Error {}

/** Thrown when the evaluation exceeds the time limit or is aborted. */
export class EvalAbort extends Error {
  constructor(readonly reason: "timeout" | "canceled") {
    super(reason === "timeout" ? "query timed out in expression evaluation" : "query was canceled in expression evaluation");
  }
}

export class TooManySamples extends Error {
  constructor() {
    super("query processing would load too many samples into memory in query execution");
  }
}

export interface Annotation {
  level: "warning" | "info";
  message: string;
  pos: PosRange;
}

/** Collects annotations without duplicates (Prometheus keeps a set keyed by the message). */
export class Annotations {
  private readonly seen = new Map<string, Annotation>();
  add(level: "warning" | "info", message: string, pos: PosRange): void {
    const key = `${level}\u0000${message}\u0000${pos.start}:${pos.end}`;
    if (!this.seen.has(key)) this.seen.set(key, { level, message, pos });
  }
  all(): Annotation[] {
    return [...this.seen.values()];
  }
}

export function newSeries(labels: Labels, n: number, dropName = false): StepSeries {
  return { labels, dropName, values: new Float64Array(n), present: new Uint8Array(n) };
}
