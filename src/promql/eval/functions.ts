/** Function calls: dispatch to range kernels, element-wise math, label and histogram functions. */
import { labelsFromPairs, METRIC_NAME, type Labels } from "../../model/index.ts";
import type { Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from "../ast.ts";
import { ann } from "./annotations.ts";
import { histogramFraction, histogramQuantile, histogramQuantiles } from "./histfns.ts";
import { labelJoin, labelReplace } from "./labelfns.ts";
import { evalInfo } from "./info.ts";
import { extendedKernel, extendedMode, extendedReach } from "./extended.ts";
import { evalSort } from "./sortfns.ts";
import { KEEPS_NAME, KERNELS, type Kernel, type WindowCtx } from "./rangefns.ts";
import { newSeries, EvalError, type StepSeries, type Value, type VectorValue } from "./types.ts";
import { firstAfter, withoutStale, type Evaluator, type Steps } from "./evaluator.ts";
import { isMatrixArg } from "./preprocess.ts";

type MathFn = (x: number) => number;

const MATH: Record<string, MathFn> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x) => (x < 0 ? -1 : x > 0 ? 1 : x),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
};

const DATE_FNS: Record<string, (d: Date) => number> = {
  year: (d) => d.getUTCFullYear(),
  month: (d) => d.getUTCMonth() + 1,
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86400000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
};

/** Native-histogram-only functions: float samples produce nothing. */
const NATIVE_ONLY = new Set([
  "histogram_count",
  "histogram_sum",
  "histogram_avg",
  "histogram_stddev",
  "histogram_stdvar",
]);

function scalarOut(values: Float64Array): Value {
  return { kind: "scalar", values };
}

function unwrapInvariant(e: Expr): Expr {
  return e.type === "StepInvariantExpr" ? e.expr : e;
}

export async function evalCall(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const name = e.func;
  // A range argument with `@` is step invariant; range functions read it directly.
  const args = e.args.map((a) => (a.type === "StepInvariantExpr" && isMatrixArg(a.expr) ? a.expr : a));
  if (args.some((a, i) => a !== e.args[i])) e = { ...e, args };
  const matrixIdx = args.findIndex(isMatrixArg);
  if (matrixIdx >= 0) {
    if (name === "absent_over_time") return await absentOverTime(ev, st, args[matrixIdx] as MatrixSelector | SubqueryExpr);
    const kernel = KERNELS[name];
    if (!kernel) throw new EvalError(`function ${name} is not supported on range vectors`);
    return await evalRangeFunction(ev, e, st, matrixIdx);
  }
  const mathFn = MATH[name];
  if (mathFn) return mapVector(await ev.evalVector(args[0]!, st), mathFn);
  const dateFn = DATE_FNS[name];
  if (dateFn) return await evalDateFn(ev, args, st, dateFn);
  switch (name) {
    case "time": {
      const out = new Float64Array(st.n);
      for (let i = 0; i < st.n; i++) out[i] = (st.start + i * st.step) / 1000;
      return scalarOut(out);
    }
    case "pi":
      return scalarOut(new Float64Array(st.n).fill(Math.PI));
    case "start":
      return scalarOut(new Float64Array(st.n).fill(ev.opts.queryStart / 1000));
    case "end":
      return scalarOut(new Float64Array(st.n).fill(ev.opts.queryEnd / 1000));
    case "range":
      return scalarOut(new Float64Array(st.n).fill((ev.opts.queryEnd - ev.opts.queryStart) / 1000));
    case "step":
      return scalarOut(new Float64Array(st.n).fill(ev.opts.isRangeQuery ? ev.opts.queryStep / 1000 : 0));
    case "min_of":
    case "max_of": {
      const a = await ev.evalScalar(args[0]!, st);
      const b = await ev.evalScalar(args[1]!, st);
      const out = new Float64Array(st.n);
      for (let i = 0; i < st.n; i++) out[i] = name === "min_of" ? Math.min(a[i]!, b[i]!) : Math.max(a[i]!, b[i]!);
      return scalarOut(out);
    }
    case "vector": {
      const v = await ev.evalScalar(args[0]!, st);
      const s = newSeries([], st.n);
      s.values.set(v);
      s.present.fill(1);
      return { kind: "vector", series: [s] };
    }
    case "scalar": {
      const v = await ev.evalVector(args[0]!, st);
      const out = new Float64Array(st.n).fill(NaN);
      const counts = new Uint32Array(st.n);
      for (const s of v.series) {
        for (let i = 0; i < st.n; i++) {
          if (s.present[i]) {
            counts[i]!++;
            out[i] = s.values[i]!;
          }
        }
      }
      for (let i = 0; i < st.n; i++) if (counts[i] !== 1) out[i] = NaN;
      return scalarOut(out);
    }
    case "timestamp": {
      const arg = unwrapInvariant(args[0]!);
      if (arg.type === "VectorSelector") {
        const v = await ev.evalVectorSelector(arg, st, true);
        for (const s of v.series) s.dropName = true;
        return v;
      }
      const v = await ev.evalVector(args[0]!, st);
      return {
        kind: "vector",
        series: v.series.map((s) => {
          const vals = new Float64Array(st.n);
          for (let i = 0; i < st.n; i++) vals[i] = (st.start + i * st.step) / 1000;
          return { labels: s.labels, dropName: true, values: vals, present: s.present };
        }),
      };
    }
    case "round": {
      const v = await ev.evalVector(args[0]!, st);
      const to = args.length > 1 ? await ev.evalScalar(args[1]!, st) : null;
      return {
        kind: "vector",
        series: v.series.map((s) => {
          const vals = new Float64Array(st.n);
          for (let i = 0; i < st.n; i++) {
            const inv = 1 / (to ? to[i]! : 1);
            vals[i] = Math.floor(s.values[i]! * inv + 0.5) / inv;
          }
          return { labels: s.labels, dropName: true, values: vals, present: s.present };
        }),
      };
    }
    case "clamp":
    case "clamp_min":
    case "clamp_max":
      return await evalClamp(ev, name, args, st);
    case "label_replace":
      return await labelReplace(ev, e, st);
    case "label_join":
      return await labelJoin(ev, e, st);
    case "sort":
    case "sort_desc":
    case "sort_by_label":
    case "sort_by_label_desc":
      return await evalSort(ev, e, st);
    case "absent":
      return await absent(ev, e, st);
    case "histogram_quantile":
      return await histogramQuantile(ev, e, st);
    case "histogram_quantiles":
      return await histogramQuantiles(ev, e, st);
    case "histogram_fraction":
      return await histogramFraction(ev, e, st);
    case "info":
      return await evalInfo(ev, e, st);
    case "start_timestamp":
      throw new EvalError("start_timestamp() is not supported: start timestamps are not stored");
    default:
      if (NATIVE_ONLY.has(name)) {
        await ev.evalVector(args[0]!, st);
        return { kind: "vector", series: [] };
      }
      throw new EvalError(`unknown function ${name}`);
  }
}

function mapVector(v: VectorValue, f: MathFn): VectorValue {
  return {
    kind: "vector",
    series: v.series.map((s) => {
      const vals = new Float64Array(s.values.length);
      for (let i = 0; i < vals.length; i++) if (s.present[i]) vals[i] = f(s.values[i]!);
      return { labels: s.labels, dropName: true, values: vals, present: s.present };
    }),
  };
}

async function evalDateFn(ev: Evaluator, args: Expr[], st: Steps, f: (d: Date) => number): Promise<Value> {
  if (args.length === 0) {
    const s = newSeries([], st.n);
    for (let i = 0; i < st.n; i++) {
      s.values[i] = f(new Date(st.start + i * st.step));
      s.present[i] = 1;
    }
    return { kind: "vector", series: [s] };
  }
  const v = await ev.evalVector(args[0]!, st);
  return mapVector(v, (x) => (Number.isFinite(x) ? f(new Date(Math.trunc(x) * 1000)) : NaN));
}

async function evalClamp(ev: Evaluator, name: string, args: Expr[], st: Steps): Promise<Value> {
  const v = await ev.evalVector(args[0]!, st);
  const lo = name === "clamp_max" ? null : await ev.evalScalar(args[1]!, st);
  const hi = name === "clamp" ? await ev.evalScalar(args[2]!, st) : name === "clamp_max" ? await ev.evalScalar(args[1]!, st) : null;
  return {
    kind: "vector",
    series: v.series.map((s) => {
      const vals = new Float64Array(st.n);
      const present = s.present.slice();
      for (let i = 0; i < st.n; i++) {
        if (!present[i]) continue;
        let x = s.values[i]!;
        if (name === "clamp" && hi![i]! < lo![i]!) {
          present[i] = 0;
          continue;
        }
        if (hi) x = goMin(hi[i]!, x);
        if (lo) x = goMax(lo[i]!, x);
        vals[i] = x;
      }
      return { labels: s.labels, dropName: true, values: vals, present };
    }),
  };
}

function goMax(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  return Math.max(a, b);
}
function goMin(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  return Math.min(a, b);
}

interface RangeInput {
  labels: Labels;
  dropName: boolean;
  timestamps: Float64Array;
  values: Float64Array;
}

async function rangeInputs(ev: Evaluator, arg: MatrixSelector | SubqueryExpr, st: Steps): Promise<{ series: RangeInput[]; range: number; offset: number; at: number | null }> {
  if (arg.type === "MatrixSelector") {
    const vs = arg.vectorSelector;
    const data = ev.data.get(vs) ?? [];
    const series: RangeInput[] = [];
    for (const s of data) {
      const w = withoutStale(s);
      series.push({ labels: s.labels, dropName: false, timestamps: w.timestamps, values: w.values });
    }
    return { series, range: arg.range, offset: vs.offset, at: vs.timestamp };
  }
  return { series: await ev.evalSubqueryPoints(arg, st), range: arg.range, offset: arg.offset, at: arg.timestamp };
}

/**
 * Evaluates a range-vector function. With a `sink`, each output series is handed over as soon as
 * it is computed, in one reused buffer, instead of being collected (aggregations fuse this way,
 * so `sum(rate(x[5m]))` never holds every series' rates at once).
 */
export async function evalRangeFunction(
  ev: Evaluator,
  e: Call,
  st: Steps,
  matrixIdx: number,
  sink?: (s: StepSeries) => void,
): Promise<Value> {
  const name = e.func;
  const arg = e.args[matrixIdx] as MatrixSelector | SubqueryExpr;
  const params: Float64Array[] = [];
  for (let i = 0; i < e.args.length; i++) if (i !== matrixIdx) params.push(await ev.evalScalar(e.args[i]!, st));
  if (name === "quantile_over_time") {
    const q = params[0]!;
    for (let i = 0; i < st.n; i++) {
      const x = q[i]!;
      if (Number.isNaN(x) || x < 0 || x > 1) ev.warn(ann.invalidQuantile(x), e.args[0]!.pos);
    }
  }
  if (name === "double_exponential_smoothing") {
    for (let i = 0; i < st.n; i++) {
      const sf = params[0]![i]!;
      const tf = params[1]![i]!;
      if (!(sf > 0 && sf < 1)) throw new EvalError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
      if (!(tf > 0 && tf < 1)) throw new EvalError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
    }
  }
  // An anchored/smoothed selector reads past its range and needs a kernel that knows why.
  const mode = arg.type === "MatrixSelector" ? extendedMode(arg.vectorSelector) : null;
  const kernel = mode === null ? KERNELS[name]! : extendedKernel(name, mode);
  const reach = arg.type === "MatrixSelector" ? extendedReach(arg.vectorSelector, ev.opts.lookbackDelta) : { before: 0, after: 0 };
  const { series, range, offset, at } = await rangeInputs(ev, arg, st);
  const keepName = KEEPS_NAME.has(name);
  const ctx: WindowCtx = { t: 0, mint: 0, maxt: 0, range, params: new Array(params.length).fill(0), resets: null };
  const out: StepSeries[] = [];
  let touched = 0;
  let produced = 0;
  let widest = 0;
  const checkCounter = name === "rate" || name === "increase";
  const shared = sink ? newSeries([], st.n) : null;
  for (const s of series) {
    if (ev.check()) await ev.pause();
    const ts = s.timestamps;
    const vs = s.values;
    const len = ts.length;
    if (len === 0) continue;
    let res: StepSeries;
    if (shared) {
      shared.values.fill(0);
      shared.present.fill(0);
      res = { labels: s.labels, dropName: !keepName || s.dropName, values: shared.values, present: shared.present };
    } else {
      ev.reserveSlots(st.n);
      res = newSeries(s.labels, st.n, !keepName || s.dropName);
    }
    if (checkCounter) ctx.resets = counterResets(vs);
    const w: StepWalk = { i: 0, lo: 0, hi: 0, touched: 0, produced: 0, widest };
    // The steps run in a plain function (fast locals); it returns early when a pause is due.
    while (walkSteps(ev, kernel, ts, vs, st, at, offset, range, reach, params, ctx, res, w)) await ev.pause();
    touched += w.touched;
    produced += w.produced;
    widest = w.widest;
    const any = w.produced > 0;
    if (any) {
      if (sink) sink(res);
      else out.push(res);
      if (checkCounter && !s.dropName) {
        const metric = s.labels.find((l) => l.name === METRIC_NAME)?.value ?? "";
        if (metric !== "" && !/(_total|_sum|_count|_bucket)$/.test(metric)) ev.info(ann.possibleNonCounter(metric), e.args[matrixIdx]!.pos);
      }
    }
  }
  ev.countSamples(touched, (sink ? 0 : produced) + widest);
  return { kind: "vector", series: out };
}

/** Where a series' walk over the steps is (so it can stop for a pause and resume). */
interface StepWalk {
  i: number;
  lo: number;
  hi: number;
  touched: number;
  produced: number;
  widest: number;
}

/**
 * Applies a range kernel at the steps from `w.i` on; returns true (with `w` saved) when the
 * evaluator asks for a pause, false once every step is done.
 */
function walkSteps(
  ev: Evaluator,
  kernel: Kernel,
  ts: Float64Array,
  vs: Float64Array,
  st: Steps,
  at: number | null,
  offset: number,
  range: number,
  reach: { before: number; after: number },
  params: Float64Array[],
  ctx: WindowCtx,
  res: StepSeries,
  w: StepWalk,
): boolean {
  const before = reach.before;
  const after = reach.after;
  const len = ts.length;
  let lo = w.lo;
  let hi = w.hi;
  let touched = 0;
  let produced = 0;
  let widest = w.widest;
  let i = w.i;
  let pause = false;
  for (; i < st.n && !pause; i++) {
    const t = st.start + i * st.step;
    const maxt = (at ?? t) - offset;
    const mint = maxt - range;
    // The samples read are (mint - before, maxt + after]; the kernel still sees the range itself.
    if (i === 0 || at !== null) {
      lo = firstAfter(ts, mint - before);
      hi = firstAfter(ts, maxt + after);
    } else {
      while (lo < len && ts[lo]! <= mint - before) lo++;
      while (hi < len && ts[hi]! <= maxt + after) hi++;
    }
    // One series can hold the loop for long (wide windows, many steps): count its work too.
    pause = ev.spend(hi - lo + 1);
    if (hi <= lo) continue;
    touched += hi - lo;
    if (hi - lo > widest) widest = hi - lo;
    ctx.t = t;
    ctx.mint = mint;
    ctx.maxt = maxt;
    for (let p = 0; p < params.length; p++) ctx.params[p] = params[p]![i]!;
    const r = kernel(ts, vs, lo, hi, ctx);
    if (r === null) continue;
    res.values[i] = r;
    res.present[i] = 1;
    produced++;
  }
  w.i = i;
  w.lo = lo;
  w.hi = hi;
  w.touched += touched;
  w.produced += produced;
  w.widest = widest;
  return pause && i < st.n;
}

/** The index of a call's range argument when it is a range function over one; else -1. */
export function rangeFunctionArg(e: Expr): number {
  if (e.type !== "Call" || !KERNELS[e.func]) return -1;
  return e.args.findIndex(isMatrixArg);
}

function counterResets(vs: Float64Array): Int32Array | null {
  let n = 0;
  for (let i = 1; i < vs.length; i++) if (vs[i]! < vs[i - 1]!) n++;
  if (n === 0) return null;
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 1; i < vs.length; i++) if (vs[i]! < vs[i - 1]!) out[k++] = i;
  return out;
}

/** Labels for absent()/absent_over_time(): the equality matchers of a plain (range) selector. */
function absentLabels(arg: Expr): Labels {
  let a = arg;
  while (a.type === "StepInvariantExpr" || a.type === "ParenExpr") a = a.expr;
  let vs: VectorSelector | null = null;
  if (a.type === "VectorSelector") vs = a;
  else if (a.type === "MatrixSelector") vs = a.vectorSelector;
  // A subquery gives no labels: Prometheus sees it as an anonymous range vector.
  if (!vs) return [];
  // Prometheus's rule, in matcher order: the first `=` of a name sets it, anything else removes it.
  const set = new Map<string, string>();
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === "=" && !has.has(m.name)) {
      set.set(m.name, m.value);
      has.add(m.name);
    } else set.delete(m.name);
  }
  const pairs: [string, string][] = [...set];
  return labelsFromPairs(pairs);
}

async function absent(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  return absentWhere(newSeries(absentLabels(e.args[0]!), st.n), st, (i) => v.series.some((s) => s.present[i] !== 0));
}

async function absentOverTime(ev: Evaluator, st: Steps, arg: MatrixSelector | SubqueryExpr): Promise<Value> {
  // Not among the functions an anchored/smoothed selector may feed: this throws Prometheus's error.
  const mode = arg.type === "MatrixSelector" ? extendedMode(arg.vectorSelector) : null;
  if (mode !== null) extendedKernel("absent_over_time", mode);
  const { series, range, offset, at } = await rangeInputs(ev, arg, st);
  return absentWhere(newSeries(absentLabels(arg), st.n, true), st, (i) => {
    const maxt = (at ?? st.start + i * st.step) - offset;
    const mint = maxt - range;
    return series.some((s) => {
      const hi = firstAfter(s.timestamps, maxt);
      return hi > 0 && s.timestamps[hi - 1]! > mint;
    });
  });
}

/** The result of absent()/absent_over_time(): `res` is 1 at the steps where nothing was `found`. */
function absentWhere(res: StepSeries, st: Steps, found: (i: number) => boolean): Value {
  let any = false;
  for (let i = 0; i < st.n; i++) {
    if (found(i)) continue;
    res.values[i] = 1;
    res.present[i] = 1;
    any = true;
  }
  return { kind: "vector", series: any ? [res] : [] };
}

