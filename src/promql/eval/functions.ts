/** Function calls: dispatch to range kernels, element-wise math, label and histogram functions. */
import { compileAnchoredRegex, labelsFromPairs, labelsKey, METRIC_NAME, type Label, type Labels } from "../../model/index.ts";
import type { Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from "../ast.ts";
import { ann } from "./annotations.ts";
import { bucketFraction, bucketQuantile, type Bucket } from "./histogram.ts";
import { goRound } from "./mathutil.ts";
import { KEEPS_NAME, KERNELS, type WindowCtx } from "./rangefns.ts";
import { newSeries, EvalError, type StepSeries, type Value, type VectorValue } from "./types.ts";
import { mergeSameLabels, prepareSeries, withoutStale, type Evaluator, type Steps } from "./evaluator.ts";
import { formatFloat } from "./annotations.ts";

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

const SORT_FNS = new Set(["sort", "sort_desc", "sort_by_label", "sort_by_label_desc"]);

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
  const args = e.args.map((a) => (a.type === "StepInvariantExpr" && (a.expr.type === "MatrixSelector" || a.expr.type === "SubqueryExpr") ? a.expr : a));
  if (args.some((a, i) => a !== e.args[i])) e = { ...e, args };
  const matrixIdx = args.findIndex((a) => a.type === "MatrixSelector" || a.type === "SubqueryExpr");
  if (matrixIdx >= 0) {
    if (name === "absent_over_time") return await absentOverTime(ev, e, st, args[matrixIdx] as MatrixSelector | SubqueryExpr);
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
      throw new EvalError("info() is not supported by this engine yet");
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

async function evalRangeFunction(ev: Evaluator, e: Call, st: Steps, matrixIdx: number): Promise<Value> {
  const name = e.func;
  const kernel = KERNELS[name]!;
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
  const { series, range, offset, at } = await rangeInputs(ev, arg, st);
  const keepName = KEEPS_NAME.has(name);
  const ctx: WindowCtx = { t: 0, mint: 0, maxt: 0, range, params: new Array(params.length).fill(0), resets: null };
  const out: StepSeries[] = [];
  let touched = 0;
  let produced = 0;
  let widest = 0;
  const checkCounter = name === "rate" || name === "increase";
  for (const s of series) {
    if (ev.check()) await ev.pause();
    const ts = s.timestamps;
    const vs = s.values;
    const len = ts.length;
    if (len === 0) continue;
    const res = newSeries(s.labels, st.n, !keepName || s.dropName);
    if (checkCounter) ctx.resets = counterResets(vs);
    let lo = 0;
    let hi = 0;
    let any = false;
    for (let i = 0; i < st.n; i++) {
      const t = st.start + i * st.step;
      const maxt = (at ?? t) - offset;
      const mint = maxt - range;
      if (i === 0 || at !== null) {
        lo = firstAfter(ts, mint);
        hi = firstAfter(ts, maxt);
      } else {
        while (lo < len && ts[lo]! <= mint) lo++;
        while (hi < len && ts[hi]! <= maxt) hi++;
      }
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
      any = true;
    }
    if (any) {
      out.push(res);
      if (checkCounter && !s.dropName) {
        const metric = s.labels.find((l) => l.name === METRIC_NAME)?.value ?? "";
        if (metric !== "" && !/(_total|_sum|_count|_bucket)$/.test(metric)) ev.info(ann.possibleNonCounter(metric), e.args[matrixIdx]!.pos);
      }
    }
  }
  ev.countSamples(touched, produced + widest);
  return { kind: "vector", series: out };
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

function firstAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Labels for absent()/absent_over_time(): the equality matchers of a plain selector. */
function absentLabels(arg: Expr): Labels {
  let a = arg;
  while (a.type === "StepInvariantExpr" || a.type === "ParenExpr") a = a.expr;
  let vs: VectorSelector | null = null;
  if (a.type === "VectorSelector") vs = a;
  else if (a.type === "MatrixSelector") vs = a.vectorSelector;
  else if (a.type === "SubqueryExpr") {
    let inner = a.expr;
    while (inner.type === "StepInvariantExpr" || inner.type === "ParenExpr") inner = inner.expr;
    if (inner.type === "VectorSelector") vs = inner;
  }
  if (!vs) return [];
  const pairs: [string, string][] = [];
  const seen = new Map<string, number>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    seen.set(m.name, (seen.get(m.name) ?? 0) + 1);
  }
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === "=" && seen.get(m.name) === 1) pairs.push([m.name, m.value]);
  }
  return labelsFromPairs(pairs);
}

async function absent(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  const res = newSeries(absentLabels(e.args[0]!), st.n);
  let any = false;
  for (let i = 0; i < st.n; i++) {
    let found = false;
    for (const s of v.series) {
      if (s.present[i]) {
        found = true;
        break;
      }
    }
    if (!found) {
      res.values[i] = 1;
      res.present[i] = 1;
      any = true;
    }
  }
  return { kind: "vector", series: any ? [res] : [] };
}

async function absentOverTime(ev: Evaluator, e: Call, st: Steps, arg: MatrixSelector | SubqueryExpr): Promise<Value> {
  const { series, range, offset, at } = await rangeInputs(ev, arg, st);
  const res = newSeries(absentLabels(arg), st.n, true);
  let any = false;
  for (let i = 0; i < st.n; i++) {
    const t = st.start + i * st.step;
    const maxt = (at ?? t) - offset;
    const mint = maxt - range;
    let found = false;
    for (const s of series) {
      const hi = firstAfter(s.timestamps, maxt);
      if (hi > 0 && s.timestamps[hi - 1]! > mint) {
        found = true;
        break;
      }
    }
    if (!found) {
      res.values[i] = 1;
      res.present[i] = 1;
      any = true;
    }
  }
  return { kind: "vector", series: any ? [res] : [] };
}

function stringArg(e: Expr): string {
  let a = e;
  while (a.type === "StepInvariantExpr" || a.type === "ParenExpr") a = a.expr;
  if (a.type !== "StringLiteral") throw new EvalError("expected string literal argument");
  return a.value;
}

function isValidLabelName(name: string): boolean {
  return name.length > 0 && name.isWellFormed();
}

/** Go regexp.Expand for label_replace templates: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expandTemplate(tpl: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i]!;
    if (c !== "$" || i + 1 >= tpl.length) {
      out += c;
      continue;
    }
    const next = tpl[i + 1]!;
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === "{") {
      const close = tpl.indexOf("}", i + 2);
      if (close < 0) {
        out += c;
        continue;
      }
      name = tpl.slice(i + 2, close);
      end = close;
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        out += c;
        continue;
      }
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(tpl.slice(i + 1));
      if (!mm) {
        out += c;
        continue;
      }
      name = mm[0];
      end = i + name.length;
    }
    if (/^[0-9]+$/.test(name)) {
      const idx = Number(name);
      out += idx < m.length ? (m[idx] ?? "") : "";
    } else {
      out += m.groups?.[name] ?? "";
    }
    i = end;
  }
  return out;
}

function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = value === "";
  for (const l of ls) {
    if (l.name === name) continue;
    if (!placed && l.name > name) {
      out.push({ name, value });
      placed = true;
    }
    out.push(l);
  }
  if (!placed) out.push({ name, value });
  return out;
}

function getLabel(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return "";
}

async function labelReplace(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const dst = stringArg(e.args[1]!);
  const repl = stringArg(e.args[2]!);
  const src = stringArg(e.args[3]!);
  const regexStr = stringArg(e.args[4]!);
  let re: RegExp;
  try {
    re = compileAnchoredRegex(regexStr);
  } catch {
    throw new EvalError(`invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_replace(): ${dst}`);
  const v = await ev.evalVector(e.args[0]!, st);
  const out = v.series.map((s) => {
    const m = re.exec(getLabel(s.labels, src));
    if (!m) return s;
    const res = expandTemplate(repl, m);
    return { ...s, labels: setLabel(s.labels, dst, res), dropName: dst === METRIC_NAME ? false : s.dropName };
  });
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

async function labelJoin(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const dst = stringArg(e.args[1]!);
  const sep = stringArg(e.args[2]!);
  const srcs = e.args.slice(3).map(stringArg);
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_join(): ${dst}`);
  for (const s of srcs) if (!isValidLabelName(s)) throw new EvalError(`invalid source label name in label_join(): ${s}`);
  const v = await ev.evalVector(e.args[0]!, st);
  const out = v.series.map((s) => {
    const val = srcs.map((n) => getLabel(s.labels, n)).join(sep);
    return { ...s, labels: setLabel(s.labels, dst, val), dropName: dst === METRIC_NAME ? false : s.dropName };
  });
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

async function evalSort(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  if (ev.opts.isRangeQuery) ev.warn(ann.sortIneffective(), e.pos);
  if (st.n !== 1) return v;
  const series = [...v.series];
  const name = e.func;
  if (name === "sort" || name === "sort_desc") {
    const desc = name === "sort_desc";
    series.sort((a, b) => {
      const x = a.values[0]!;
      const y = b.values[0]!;
      // NaN sorts last in both directions.
      if (x !== x) return y !== y ? 0 : 1;
      if (y !== y) return -1;
      return desc ? y - x : x - y;
    });
  } else {
    const desc = name === "sort_by_label_desc";
    const names = e.args.slice(1).map(stringArg);
    series.sort((a, b) => {
      for (const n of names) {
        const c = naturalCompare(getLabel(a.labels, n), getLabel(b.labels, n));
        if (c !== 0) return desc ? -c : c;
      }
      // Ties fall back to the full label set, as Prometheus does.
      const c = compareLabelSets(a.labels, b.labels);
      return desc ? -c : c;
    });
  }
  return { kind: "vector", series };
}

function compareLabelSets(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]!.name !== b[i]!.name) return a[i]!.name < b[i]!.name ? -1 : 1;
    if (a[i]!.value !== b[i]!.value) return a[i]!.value < b[i]!.value ? -1 : 1;
  }
  return a.length - b.length;
}

/** Natural sort order (digit runs compared numerically), as sort_by_label uses. */
function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i]!;
    const cb = b[j]!;
    const da = ca >= "0" && ca <= "9";
    const db = cb >= "0" && cb <= "9";
    if (da && db) {
      let ei = i;
      while (ei < a.length && a[ei]! >= "0" && a[ei]! <= "9") ei++;
      let ej = j;
      while (ej < b.length && b[ej]! >= "0" && b[ej]! <= "9") ej++;
      const na = a.slice(i, ei).replace(/^0+/, "");
      const nb = b.slice(j, ej).replace(/^0+/, "");
      if (na.length !== nb.length) return na.length - nb.length;
      if (na !== nb) return na < nb ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

interface BucketGroup {
  labels: Labels;
  metricName: string;
  members: { upper: number; series: StepSeries }[];
}

/** Groups classic bucket series by their labels without `le` (and without the metric name in the output). */
function groupBuckets(ev: Evaluator, v: VectorValue, st: Steps, pos: Call["pos"]): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  const order: BucketGroup[] = [];
  for (const s of v.series) {
    const le = getLabel(s.labels, "le");
    const upper = parseLe(le);
    const metricName = getLabel(s.labels, METRIC_NAME);
    if (upper === null) {
      for (let i = 0; i < st.n; i++) {
        if (s.present[i]) {
          ev.warn(ann.badBucketLabel(metricName, le), pos);
          break;
        }
      }
      continue;
    }
    const keyLabels = s.labels.filter((l) => l.name !== "le");
    const key = labelsKey(keyLabels);
    let g = groups.get(key);
    if (!g) {
      g = { labels: keyLabels.filter((l) => l.name !== METRIC_NAME), metricName, members: [] };
      groups.set(key, g);
      order.push(g);
    }
    g.members.push({ upper, series: s });
  }
  return order;
}

function parseLe(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  const lower = t.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t) && !/^[+-]?0x[0-9a-f]+$/i.test(t)) return null;
  return Number(t);
}

function perGroupBuckets(
  g: BucketGroup,
  i: number,
  buf: Bucket[],
): Bucket[] {
  buf.length = 0;
  for (const m of g.members) if (m.series.present[i]) buf.push({ upper: m.upper, count: m.series.values[i]! });
  return buf;
}

async function histogramQuantile(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const q = await ev.evalScalar(e.args[0]!, st);
  const v = await ev.evalVector(e.args[1]!, st);
  for (let i = 0; i < st.n; i++) {
    const x = q[i]!;
    if (Number.isNaN(x) || x < 0 || x > 1) ev.warn(ann.invalidQuantile(x), e.args[0]!.pos);
  }
  const groups = groupBuckets(ev, v, st, e.args[1]!.pos);
  const out: StepSeries[] = [];
  const buf: Bucket[] = [];
  for (const g of groups) {
    const res = newSeries(g.labels, st.n);
    let any = false;
    for (let i = 0; i < st.n; i++) {
      const b = perGroupBuckets(g, i, buf);
      if (b.length === 0) continue;
      const r = bucketQuantile(q[i]!, b.map((x) => ({ ...x })));
      if (r.forcedMonotonic) ev.info(ann.forcedMonotonicity(g.metricName), e.args[1]!.pos);
      res.values[i] = r.value;
      res.present[i] = 1;
      any = true;
    }
    if (any) out.push(res);
  }
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

async function histogramQuantiles(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  const labelName = stringArg(e.args[1]!);
  const qs: { expr: Expr; values: Float64Array }[] = [];
  for (const a of e.args.slice(2)) qs.push({ expr: a, values: await ev.evalScalar(a, st) });
  for (const q of qs) {
    for (let i = 0; i < st.n; i++) {
      const x = q.values[i]!;
      if (Number.isNaN(x) || x < 0 || x > 1) ev.warn(ann.invalidQuantile(x), q.expr.pos);
    }
  }
  const groups = groupBuckets(ev, v, st, e.args[0]!.pos);
  const out: StepSeries[] = [];
  const buf: Bucket[] = [];
  for (const g of groups) {
    for (const q of qs) {
      const byValue = new Map<string, StepSeries>();
      for (let i = 0; i < st.n; i++) {
        const b = perGroupBuckets(g, i, buf);
        if (b.length === 0) continue;
        const r = bucketQuantile(q.values[i]!, b.map((x) => ({ ...x })));
        if (r.forcedMonotonic) ev.info(ann.forcedMonotonicity(g.metricName), e.args[0]!.pos);
        const qs2 = quantileLabel(q.values[i]!);
        let res = byValue.get(qs2);
        if (!res) {
          res = newSeries(setLabel(g.labels, labelName, qs2), st.n);
          byValue.set(qs2, res);
          out.push(res);
        }
        res.values[i] = r.value;
        res.present[i] = 1;
      }
    }
  }
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

async function histogramFraction(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const lower = await ev.evalScalar(e.args[0]!, st);
  const upper = await ev.evalScalar(e.args[1]!, st);
  const v = await ev.evalVector(e.args[2]!, st);
  const groups = groupBuckets(ev, v, st, e.args[2]!.pos);
  const out: StepSeries[] = [];
  const buf: Bucket[] = [];
  for (const g of groups) {
    const res = newSeries(g.labels, st.n);
    let any = false;
    for (let i = 0; i < st.n; i++) {
      const b = perGroupBuckets(g, i, buf);
      if (b.length === 0) continue;
      const r = bucketFraction(lower[i]!, upper[i]!, b.map((x) => ({ ...x })));
      if (r.forcedMonotonic) ev.info(ann.forcedMonotonicity(g.metricName), e.args[2]!.pos);
      res.values[i] = r.value;
      res.present[i] = 1;
      any = true;
    }
    if (any) out.push(res);
  }
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

/** The quantile label of histogram_quantiles: always with a decimal point ("0.0", "0.25", "1.0"). */
function quantileLabel(q: number): string {
  const s = formatFloat(q);
  return /^-?[0-9]+$/.test(s) ? `${s}.0` : s;
}

export { prepareSeries, goRound, SORT_FNS };
