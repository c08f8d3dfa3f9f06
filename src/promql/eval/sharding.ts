/**
 * Aggregations evaluated per shard of the series and merged exactly (pushdown). A shard holds
 * every sample of its series and no series is in two shards, so an aggregation over per-series
 * values (a selector, or a range function of one) can be computed per shard and the shards'
 * partial results combined: sums and counts add, min/max/group combine, avg is a sum over a
 * count, count_values adds its counts. quantile, stddev, stdvar, limitk and limit_ratio have no
 * exact merge of this kind here, and topk/bottomk none yet (the property test found a case,
 * bottomk over a gauge with NaN values, where picking again among the shards' picks differs from
 * one node's pick): they are evaluated from raw series.
 */
import { compareLabels, labelsKey, type ShardedEvalAnswer, type StepVectorSeries } from "../../model/index.ts";
import type { AggregateExpr, Expr, VectorSelector } from "../ast.ts";
import { formatExpr } from "../printer.ts";
import { evalAggregate } from "./aggregate.ts";
import { makeSteps, type Evaluator, type Steps } from "./evaluator.ts";
import { newSeries, type StepSeries, type Value } from "./types.ts";

/** Range functions whose value at a step depends on one series' window only. */
const PER_SERIES_RANGE_FUNCTIONS = new Set([
  "rate",
  "increase",
  "irate",
  "delta",
  "avg_over_time",
  "sum_over_time",
  "count_over_time",
  "present_over_time",
  "last_over_time",
  "first_over_time",
  "max_over_time",
  "min_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "quantile_over_time",
  "mad_over_time",
  "ts_of_last_over_time",
  "ts_of_first_over_time",
  "ts_of_max_over_time",
  "ts_of_min_over_time",
]);

const MERGEABLE_OPS = new Set(["sum", "count", "min", "max", "avg", "group", "count_values"]);

/** An aggregation to push down: the texts each shard evaluates and the selectors it replaces. */
export interface ShardCandidate {
  node: AggregateExpr;
  exprs: string[];
  selectors: VectorSelector[];
  /** The smallest offset of its selectors: a step at t reads samples up to t − readLag. */
  readLag: number;
}

function unwrap(e: Expr): Expr {
  while (e.type === "ParenExpr" || e.type === "StepInvariantExpr") e = e.expr;
  return e;
}

/**
 * A selector every shard reads alike: no `@` (its steps would not be the query's), no
 * duration expressions or experimental modifiers (printed text must mean the same to a peer).
 */
function plainSelector(vs: VectorSelector): boolean {
  return vs.timestamp === null && vs.startOrEnd === null && !vs.offsetExpr && !vs.anchored && !vs.smoothed;
}

/** The selectors of a per-series expression (a selector or a range function of one), else null. */
function perSeriesSelectors(e: Expr): VectorSelector[] | null {
  e = unwrap(e);
  if (e.type === "VectorSelector") return plainSelector(e) ? [e] : null;
  if (e.type !== "Call" || !PER_SERIES_RANGE_FUNCTIONS.has(e.func)) return null;
  let found: VectorSelector | null = null;
  for (const a of e.args) {
    const arg = unwrap(a);
    if (arg.type === "NumberLiteral") continue;
    if (arg.type !== "MatrixSelector" || found || arg.rangeExpr || !plainSelector(arg.vectorSelector)) return null;
    found = arg.vectorSelector;
  }
  return found ? [found] : null;
}

function literalParam(e: AggregateExpr): boolean {
  if (e.op === "count_values") return e.param !== null && unwrap(e.param).type === "StringLiteral";
  return e.param === null;
}

function candidateOf(e: AggregateExpr): ShardCandidate | null {
  if (!MERGEABLE_OPS.has(e.op) || !literalParam(e)) return null;
  const selectors = perSeriesSelectors(e.expr);
  if (!selectors) return null;
  const exprs =
    e.op === "avg" ? [formatExpr({ ...e, op: "sum" }), formatExpr({ ...e, op: "count" })] : [formatExpr(e)];
  return { node: e, exprs, selectors, readLag: Math.min(...selectors.map((s) => s.offset)) };
}

/**
 * The largest shardable aggregations of a preprocessed query evaluated at the query's own steps
 * (not inside a subquery or a step-invariant part, whose steps differ).
 */
export function shardCandidates(expr: Expr): ShardCandidate[] {
  const out: ShardCandidate[] = [];
  const visit = (e: Expr): void => {
    switch (e.type) {
      case "AggregateExpr": {
        const c = candidateOf(e);
        if (c) out.push(c);
        else {
          visit(e.expr);
          if (e.param) visit(e.param);
        }
        return;
      }
      case "BinaryExpr":
        visit(e.lhs);
        visit(e.rhs);
        return;
      case "Call":
        for (const a of e.args) visit(a);
        return;
      case "ParenExpr":
      case "UnaryExpr":
        visit(e.expr);
        return;
      default:
        return;
    }
  };
  visit(expr);
  return out;
}

/** Combines the shards' partial vectors (expression `which`) series by series, by label set. */
class ByLabels {
  readonly index = new Map<string, StepSeries>();
  constructor(private readonly n: number) {}
  get(s: StepVectorSeries): { series: StepSeries; fresh: boolean } {
    const k = labelsKey(s.labels);
    let series = this.index.get(k);
    const fresh = series === undefined;
    if (!series) this.index.set(k, (series = newSeries(s.labels, this.n, s.dropName)));
    else if (s.dropName) series.dropName = true;
    return { series, fresh };
  }
  sorted(): StepSeries[] {
    return [...this.index.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }
}

function mergeBy(shards: ShardedEvalAnswer["shards"], which: number, n: number, combine: (acc: number, x: number) => number): StepSeries[] {
  const acc = new ByLabels(n);
  for (const sh of shards) {
    for (const s of sh.vectors[which] ?? []) {
      const { series } = acc.get(s);
      for (let i = 0; i < n; i++) {
        if (!s.present[i]) continue;
        series.values[i] = series.present[i] ? combine(series.values[i]!, s.values[i]!) : s.values[i]!;
        series.present[i] = 1;
      }
    }
  }
  return acc.sorted();
}

const add = (a: number, b: number): number => a + b;
// PromQL's max/min: a NaN is replaced by any later value, so NaN remains only if all are NaN.
const max = (a: number, b: number): number => (a < b || a !== a ? b : a);
const min = (a: number, b: number): number => (a > b || a !== a ? b : a);

/** The aggregation's value over the answered steps `st`, from the shards' partial results. */
function mergeShards(e: AggregateExpr, st: Steps, answer: ShardedEvalAnswer): StepSeries[] {
  const n = st.n;
  const shards = answer.shards;
  switch (e.op) {
    case "sum":
    case "count":
    case "count_values":
      return mergeBy(shards, 0, n, add);
    case "max":
      return mergeBy(shards, 0, n, max);
    case "min":
      return mergeBy(shards, 0, n, min);
    case "group":
      return mergeBy(shards, 0, n, () => 1);
    case "avg": {
      const sums = mergeBy(shards, 0, n, add);
      const counts = new Map(mergeBy(shards, 1, n, add).map((s) => [labelsKey(s.labels), s]));
      for (const s of sums) {
        const c = counts.get(labelsKey(s.labels));
        for (let i = 0; i < n; i++) if (s.present[i]) s.values[i] = s.values[i]! / c!.values[i]!;
      }
      return sums;
    }
    default:
      throw new Error(`no shard merge for ${e.op}`);
  }
}

/**
 * Evaluates a pushed-down aggregation: the answered first steps from the shards, the remaining
 * ones (samples too new for one replica) from raw series like any aggregation.
 */
export async function evalShardedAggregate(ev: Evaluator, e: AggregateExpr, st: Steps, answer: ShardedEvalAnswer): Promise<Value> {
  const k = Math.min(answer.steps, st.n);
  for (const sh of answer.shards) ev.totalSamples += sh.samples;
  const head = mergeShards(e, makeSteps(st.start, st.start + (k - 1) * st.step, st.step), answer);
  if (k === st.n) return { kind: "vector", series: head };
  const tailSteps = makeSteps(st.start + k * st.step, st.end, st.step);
  const tail = await evalAggregate(ev, e, tailSteps);
  const out = new Map<string, StepSeries>();
  const place = (s: StepSeries, at: number, len: number) => {
    const key = labelsKey(s.labels);
    let o = out.get(key);
    if (!o) out.set(key, (o = newSeries(s.labels, st.n, s.dropName)));
    else if (s.dropName) o.dropName = true;
    o.values.set(s.values.subarray(0, len), at);
    o.present.set(s.present.subarray(0, len), at);
  };
  for (const s of head) place(s, 0, k);
  if (tail.kind === "vector") for (const s of tail.series) place(s, k, st.n - k);
  return { kind: "vector", series: [...out.values()] };
}
