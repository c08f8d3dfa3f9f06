/**
 * The evaluator: walks a preprocessed AST over a window of steps, with all selector data already
 * fetched. Synchronous; every node returns its value for all steps at once.
 */
import { isStaleAt, METRIC_NAME, type Labels, type Series, type ShardedEvalAnswer } from "../../model/index.ts";
import type { AggregateExpr, BinaryExpr, Call, Expr, PosRange, SubqueryExpr, VectorSelector } from "../ast.ts";
import { evalAggregate } from "./aggregate.ts";
import { evalShardedAggregate } from "./sharding.ts";
import { evalBinary } from "./binops.ts";
import { evalCall } from "./functions.ts";
import { subqueryRange } from "./preprocess.ts";
import {
  Annotations,
  EvalAbort,
  EvalError,
  TooManySamples,
  newSeries,
  type MatrixValue,
  type RangeSeries,
  type StepSeries,
  type Value,
  type VectorValue,
} from "./types.ts";
import { errs } from "./annotations.ts";
import { extendedMatrixSamples, extendedReach, smoothedAt } from "./extended.ts";
import { labelsKey } from "../../model/index.ts";

/** How long evaluation may hold the event loop before it yields. */
const YIELD_EVERY_MS = 20;
/** Samples of work between two looks at the clock in `spend` (well under a millisecond). */
const WORK_PER_CHECK = 1 << 15;

/** The steps an expression is evaluated at: start, start+step, …, end (n of them). */
export interface Steps {
  start: number;
  end: number;
  step: number;
  n: number;
}

export function makeSteps(start: number, end: number, step: number): Steps {
  if (end < start) return { start, end, step: step || 1, n: 0 };
  const st = step > 0 ? step : 1;
  return { start, end, step: st, n: step > 0 ? Math.floor((end - start) / step) + 1 : 1 };
}

export interface EvalOptions {
  lookbackDelta: number;
  subqueryStep: number;
  maxSamples: number;
  deadline: number;
  signal?: AbortSignal;
  /** The query's start/end/step (for start(), end(), range(), step() and the sort warning). */
  queryStart: number;
  queryEnd: number;
  queryStep: number;
  isRangeQuery: boolean;
}

/** Selector data with staleness markers removed (a stale marker only ends a series' lookback). */
export interface SelectedSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
  /** 1 where the sample is a staleness marker. */
  stale: Uint8Array | null;
}

export function prepareSeries(s: Series): SelectedSeries {
  let stale: Uint8Array | null = null;
  const vs = s.values;
  for (let i = 0; i < vs.length; i++) {
    if (vs[i] !== vs[i] && isStaleAt(vs, i)) {
      stale ??= new Uint8Array(vs.length);
      stale[i] = 1;
    }
  }
  return { labels: s.labels, timestamps: s.timestamps, values: s.values, stale };
}

export class Evaluator {
  readonly annotations = new Annotations();
  /** Aggregations already evaluated per shard of the data (pushdown), merged when reached. */
  readonly sharded = new Map<AggregateExpr, ShardedEvalAnswer>();
  /** Samples touched (what Prometheus reports as totalQueryableSamples). */
  totalSamples = 0;
  peakSamples = 0;
  // Starts at 63 so that the very first check() looks at the clock.
  private checkCounter = 63;
  private lastYield = Date.now();
  private allocatedSlots = 0;
  private work = 0;

  constructor(
    readonly data: Map<VectorSelector, SelectedSeries[]>,
    readonly opts: EvalOptions,
  ) {}

  /**
   * Throws on timeout/abort; cheap enough to call once per series. Returns true when the
   * evaluation has held the thread long enough that it should `await pause()`, so a heavy query
   * does not stall scrapes, heartbeats and other requests of the node.
   */
  check(): boolean {
    if ((++this.checkCounter & 63) !== 0) return false;
    return this.checkNow();
  }

  /**
   * For loops where one iteration can be heavy (a range function's step over a wide window):
   * counts units of work (samples) and looks at the clock every WORK_PER_CHECK of them, so a
   * single long series is interrupted promptly too. Returns true when a pause is due.
   */
  spend(units: number): boolean {
    this.work += units;
    if (this.work < WORK_PER_CHECK) return false;
    this.work = 0;
    return this.checkNow();
  }

  private checkNow(): boolean {
    if (this.opts.signal?.aborted) throw new EvalAbort("canceled");
    const now = Date.now();
    if (now > this.opts.deadline) throw new EvalAbort("timeout");
    return now - this.lastYield >= YIELD_EVERY_MS;
  }

  /** Gives the event loop a turn, then re-checks the limits. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
    if (this.opts.signal?.aborted) throw new EvalAbort("canceled");
    if (this.lastYield > this.opts.deadline) throw new EvalAbort("timeout");
  }

  /**
   * Records `loaded` samples read from storage (the total Prometheus reports) and `inMemory`
   * samples held at once by this node's evaluation (what --query.max-samples caps).
   */
  countSamples(loaded: number, inMemory: number = loaded): void {
    this.totalSamples += loaded;
    if (inMemory > this.peakSamples) this.peakSamples = inMemory;
    if (inMemory > this.opts.maxSamples) throw new TooManySamples();
  }

  /**
   * Series are stored with one slot per step, present or not, so a range query over very many
   * sparse series could allocate far more than it holds. Allocated slots are capped at twice
   * --query.max-samples and reported with the same error.
   */
  reserveSlots(n: number): void {
    this.allocatedSlots += n;
    if (this.allocatedSlots > 2 * this.opts.maxSamples) throw new TooManySamples();
  }

  warn(message: string, pos: PosRange): void {
    this.annotations.add("warning", message, pos);
  }

  info(message: string, pos: PosRange): void {
    this.annotations.add("info", message, pos);
  }

  async eval(e: Expr, st: Steps): Promise<Value> {
    if (this.check()) await this.pause();
    switch (e.type) {
      case "NumberLiteral":
        return { kind: "scalar", values: new Float64Array(st.n).fill(e.value) };
      case "StringLiteral":
        return { kind: "string", value: e.value };
      case "ParenExpr":
        return await this.eval(e.expr, st);
      case "UnaryExpr": {
        const v = await this.eval(e.expr, st);
        if (e.op === "+") return v;
        if (v.kind === "scalar") return { kind: "scalar", values: v.values.map((x) => -x) };
        if (v.kind === "vector") {
          return {
            kind: "vector",
            series: v.series.map((s) => ({ ...s, dropName: true, values: s.values.map((x) => -x) })),
          };
        }
        throw new EvalError("unary minus on a non-numeric value");
      }
      case "VectorSelector":
        return await this.evalVectorSelector(e, st, false);
      case "MatrixSelector":
        return this.evalMatrixSelector(e.vectorSelector, e.range, st);
      case "SubqueryExpr":
        return this.evalSubqueryAsMatrix(e, st);
      case "StepInvariantExpr":
        return this.evalStepInvariant(e.expr, st);
      case "Call":
        return await evalCall(this, e as Call, st);
      case "AggregateExpr": {
        const sharded = this.sharded.get(e);
        return sharded ? await evalShardedAggregate(this, e, st, sharded) : await evalAggregate(this, e as AggregateExpr, st);
      }
      case "BinaryExpr":
        return await evalBinary(this, e as BinaryExpr, st);
    }
  }

  async evalVector(e: Expr, st: Steps): Promise<VectorValue> {
    const v = await this.eval(e, st);
    if (v.kind !== "vector") throw new EvalError(`expected instant vector, got ${v.kind}`);
    return v;
  }

  async evalScalar(e: Expr, st: Steps): Promise<Float64Array> {
    const v = await this.eval(e, st);
    if (v.kind !== "scalar") throw new EvalError(`expected scalar, got ${v.kind}`);
    return v.values;
  }

  private async evalStepInvariant(inner: Expr, st: Steps): Promise<Value> {
    const one = makeSteps(st.start, st.start, 0);
    const v = await this.eval(inner, one);
    if (st.n === 1) return v;
    switch (v.kind) {
      case "scalar":
        return { kind: "scalar", values: new Float64Array(st.n).fill(v.values[0] ?? 0) };
      case "vector":
        return {
          kind: "vector",
          series: v.series.map((s) => ({
            labels: s.labels,
            dropName: s.dropName,
            values: new Float64Array(st.n).fill(s.values[0]!),
            present: new Uint8Array(st.n).fill(s.present[0]!),
          })),
        };
      default:
        return v;
    }
  }

  /** Instant vector selection with lookback; `wantTimestamps` returns sample times (for timestamp()). */
  async evalVectorSelector(vs: VectorSelector, st: Steps, wantTimestamps: boolean): Promise<VectorValue> {
    const data = this.data.get(vs) ?? [];
    const lookback = this.opts.lookbackDelta;
    const out: StepSeries[] = [];
    let total = 0;
    for (const s of data) {
      if (this.check()) await this.pause();
      const ts = s.timestamps;
      const len = ts.length;
      if (len === 0) continue;
      this.reserveSlots(st.n);
      const res = newSeries(s.labels, st.n);
      const found = vs.smoothed && !wantTimestamps ? smoothedSamples(s, st, vs.timestamp, vs.offset, lookback, res) : lookbackSamples(s, st, vs.timestamp, vs.offset, lookback, wantTimestamps, res);
      const any = found > 0;
      total += found;
      if (any) out.push(res);
      // Fail early, before allocating further series, once the cap is passed.
      if (total > this.opts.maxSamples) throw new TooManySamples();
    }
    this.countSamples(total);
    return { kind: "vector", series: out };
  }

  /** The raw samples of a range selector at a single evaluation time (an instant query's matrix result). */
  private evalMatrixSelector(vs: VectorSelector, range: number, st: Steps): MatrixValue {
    if (st.n !== 1) throw new EvalError("cannot do range evaluation of matrix selector");
    const data = this.data.get(vs) ?? [];
    const maxt = (vs.timestamp ?? st.start) - vs.offset;
    const mint = maxt - range;
    const reach = extendedReach(vs, this.opts.lookbackDelta);
    const out: RangeSeries[] = [];
    let total = 0;
    for (const s of data) {
      let sel: { timestamps: Float64Array; values: Float64Array } | null = windowSamples(s, mint - reach.before, maxt + reach.after);
      // Anchored/smoothed: samples at the range's start and end stand for the lookback around them.
      if (vs.anchored || vs.smoothed) sel = extendedMatrixSamples(sel.timestamps, sel.values, mint, maxt, vs.smoothed === true);
      if (sel === null) continue;
      if (sel.timestamps.length > 0) {
        out.push({ labels: s.labels, dropName: false, timestamps: sel.timestamps, values: sel.values });
        total += sel.timestamps.length;
      }
    }
    this.countSamples(total);
    return { kind: "matrix", series: out };
  }

  /** Evaluates a subquery's inner expression and returns its points as raw samples. */
  async evalSubqueryPoints(e: SubqueryExpr, st: Steps): Promise<RangeSeries[]> {
    const r = subqueryRange(e, st.start, st.end, this.opts.subqueryStep);
    const inner = makeSteps(r.start, r.end, r.step);
    if (inner.n > this.opts.maxSamples) throw new TooManySamples();
    const v = await this.eval(e.expr, inner);
    if (v.kind === "scalar") {
      // A scalar subquery behaves like a single series without labels.
      const ts = new Float64Array(inner.n);
      for (let i = 0; i < inner.n; i++) ts[i] = inner.start + i * inner.step;
      return [{ labels: [], dropName: false, timestamps: ts, values: v.values.slice() }];
    }
    if (v.kind !== "vector") throw new EvalError("subquery is only allowed on instant vector");
    const out: RangeSeries[] = [];
    for (const s of v.series) {
      let cnt = 0;
      for (let i = 0; i < inner.n; i++) cnt += s.present[i]!;
      const ts = new Float64Array(cnt);
      const vals = new Float64Array(cnt);
      let k = 0;
      for (let i = 0; i < inner.n; i++) {
        if (s.present[i]) {
          ts[k] = inner.start + i * inner.step;
          vals[k++] = s.values[i]!;
        }
      }
      out.push({ labels: s.labels, dropName: s.dropName, timestamps: ts, values: vals });
    }
    return out;
  }

  private async evalSubqueryAsMatrix(e: SubqueryExpr, st: Steps): Promise<MatrixValue> {
    if (st.n !== 1) throw new EvalError("cannot do range evaluation of subquery");
    const pts = await this.evalSubqueryPoints(e, st);
    const maxt = (e.timestamp ?? st.start) - e.offset;
    const mint = maxt - e.range;
    const out: RangeSeries[] = [];
    for (const s of pts) {
      const w = windowSamples({ labels: s.labels, timestamps: s.timestamps, values: s.values, stale: null }, mint, maxt);
      if (w.timestamps.length > 0) out.push({ ...s, timestamps: w.timestamps, values: w.values });
    }
    return { kind: "matrix", series: out };
  }
}

/**
 * Fills `res` with the sample each step sees (the last one at or before the step, within the
 * lookback, not a staleness marker); returns how many steps have one. A plain function apart
 * from the async caller, so that this hot loop is compiled on its own.
 */
function lookbackSamples(
  s: SelectedSeries,
  st: Steps,
  at: number | null | undefined,
  offset: number,
  lookback: number,
  wantTimestamps: boolean,
  res: StepSeries,
): number {
  const ts = s.timestamps;
  const vals = s.values;
  const stale = s.stale;
  const len = ts.length;
  const out = res.values;
  const present = res.present;
  let found = 0;
  let j = -1; // index of the last sample with t <= ref
  for (let i = 0; i < st.n; i++) {
    const ref = (at ?? st.start + i * st.step) - offset;
    if (i === 0 || (j >= 0 && ts[j]! > ref)) j = firstAfter(ts, ref) - 1;
    else while (j + 1 < len && ts[j + 1]! <= ref) j++;
    if (j < 0 || ts[j]! <= ref - lookback) continue;
    if (stale !== null && stale[j] === 1) continue;
    out[i] = wantTimestamps ? ts[j]! / 1000 : vals[j]!;
    present[i] = 1;
    found++;
  }
  return found;
}

/**
 * Like lookbackSamples for a `smoothed` selector: the value at each step is interpolated between
 * the samples around it, within the lookback either side (staleness markers left out).
 */
function smoothedSamples(s: SelectedSeries, st: Steps, at: number | null | undefined, offset: number, lookback: number, res: StepSeries): number {
  const w = withoutStale(s);
  const at1 = { value: 0, found: false };
  let found = 0;
  for (let i = 0; i < st.n; i++) {
    smoothedAt(w.timestamps, w.values, (at ?? st.start + i * st.step) - offset, lookback, at1);
    if (!at1.found) continue;
    res.values[i] = at1.value;
    res.present[i] = 1;
    found++;
  }
  return found;
}

/** The first index with ts[i] > t (ts.length if none), by binary search. */
export function firstAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Samples with mint < t <= maxt, staleness markers left out. */
function windowSamples(s: SelectedSeries, mint: number, maxt: number): { timestamps: Float64Array; values: Float64Array } {
  const lo = firstAfter(s.timestamps, mint);
  const hi = firstAfter(s.timestamps, maxt);
  // Views: selected data is read-only (the Queryable contract), so no copy is needed.
  if (s.stale === null) return { timestamps: s.timestamps.subarray(lo, hi), values: s.values.subarray(lo, hi) };
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = lo; i < hi; i++) {
    if (s.stale[i]) continue;
    ts.push(s.timestamps[i]!);
    vs.push(s.values[i]!);
  }
  return { timestamps: Float64Array.from(ts), values: Float64Array.from(vs) };
}

/** Removes staleness markers from a selected series (range functions never see them). */
export function withoutStale(s: SelectedSeries): { timestamps: Float64Array; values: Float64Array } {
  if (s.stale === null) return s;
  return windowSamples(s, -Infinity, Infinity);
}

/**
 * Merges series that ended up with the same label set (e.g. after delayed `__name__` removal);
 * the same step present in two of them is Prometheus's duplicate-labelset error.
 */
export function mergeSameLabels(series: StepSeries[], n: number, message: string = errs.sameLabelset): StepSeries[] {
  if (series.length <= 1) return series;
  const byKey = new Map<string, number>();
  const copied = new Set<number>();
  const out: StepSeries[] = [];
  for (const s of series) {
    const k = labelsKey(s.labels);
    const idx = byKey.get(k);
    if (idx === undefined) {
      byKey.set(k, out.length);
      out.push(s);
      continue;
    }
    // Copy on first merge so that input values are never modified.
    if (!copied.has(idx)) {
      const p = out[idx]!;
      out[idx] = { labels: p.labels, dropName: p.dropName, values: p.values.slice(), present: p.present.slice() };
      copied.add(idx);
    }
    const target = out[idx]!;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      if (target.present[i]) throw new EvalError(message);
      target.values[i] = s.values[i]!;
      target.present[i] = 1;
    }
  }
  return out;
}

/**
 * Whether a label describes the metric rather than the series: `__name__`, and the `__type__` and
 * `__unit__` labels of Prometheus's type-and-unit labels. Prometheus 3 drops all three together
 * wherever a result no longer is the metric it was read as (schema.IsMetadataLabel).
 */
export function isMetricSchemaLabel(name: string): boolean {
  return name === METRIC_NAME || name === "__type__" || name === "__unit__";
}

/** Labels without `__name__`, `__type__` and `__unit__`. */
export function dropMetricName(ls: Labels): Labels {
  for (let i = 0; i < ls.length; i++) {
    if (isMetricSchemaLabel(ls[i]!.name)) return ls.filter((l) => !isMetricSchemaLabel(l.name));
  }
  return ls;
}
