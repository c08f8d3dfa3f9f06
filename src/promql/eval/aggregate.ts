/**
 * Aggregation operators. Series are mapped to groups once; each group accumulates over all
 * steps in typed arrays. topk/bottomk/limitk/limit_ratio select whole input series per step.
 */
import { goQuoteString, labelsKey, METRIC_NAME, type Label, type Labels } from "../../model/index.ts";
import type { AggregateExpr } from "../ast.ts";
import { ann, fmtG, formatFloat } from "./annotations.ts";
import { mergeSameLabels, type Evaluator, type Steps } from "./evaluator.ts";
import { evalRangeFunction, rangeFunctionArg } from "./functions.ts";
import { kahan, kahanInc, quantileOf } from "./mathutil.ts";
import { EvalError, newSeries, type StepSeries, type Value } from "./types.ts";

interface Grouping {
  /** Group index per input series. */
  groupOf: Int32Array;
  labels: Labels[];
  count: number;
}

function groupLabels(ls: Labels, grouping: Set<string>, without: boolean): Labels {
  if (without) return ls.filter((l) => l.name !== METRIC_NAME && !grouping.has(l.name));
  if (grouping.size === 0) return [];
  return ls.filter((l) => grouping.has(l.name));
}

function computeGroups(series: StepSeries[], e: AggregateExpr): Grouping {
  const g = new Set(e.grouping);
  const keyIdx = new Map<string, number>();
  const groupOf = new Int32Array(series.length);
  const labels: Labels[] = [];
  for (let i = 0; i < series.length; i++) {
    const gl = groupLabels(series[i]!.labels, g, e.without);
    const k = labelsKey(gl);
    let idx = keyIdx.get(k);
    if (idx === undefined) {
      idx = labels.length;
      keyIdx.set(k, idx);
      labels.push(gl);
    }
    groupOf[i] = idx;
  }
  return { groupOf, labels, count: labels.length };
}

export async function evalAggregate(ev: Evaluator, e: AggregateExpr, st: Steps): Promise<Value> {
  if (e.op === "count_values") return await countValues(ev, e, st);
  const param = e.param ? await ev.evalScalar(e.param, st) : null;
  if (e.op === "topk" || e.op === "bottomk" || e.op === "limitk" || e.op === "limit_ratio") {
    const input = await ev.evalVector(e.expr, st);
    return await selectK(ev, e, st, input.series, param!);
  }
  const reducer = new Reducer(ev, e, st.n, param);
  // `sum(rate(x[5m]))` and friends: fold each series' result in as it is computed.
  let inner = e.expr;
  while (inner.type === "ParenExpr") inner = inner.expr;
  const idx = rangeFunctionArg(inner);
  if (idx >= 0 && inner.type === "Call") {
    await evalRangeFunction(ev, inner, st, idx, (s) => reducer.add(s));
  } else {
    const input = await ev.evalVector(e.expr, st);
    for (const s of input.series) {
      if (ev.check()) await ev.pause();
      reducer.add(s);
    }
  }
  return { kind: "vector", series: reducer.finish() };
}

/**
 * Accumulates sum, avg, min, max, count, group, stddev, stdvar and quantile per group and step,
 * with Prometheus's float semantics (Kahan sums, avg falling back to an incremental mean on
 * overflow, NaN handling of min/max). Series are added one at a time and not retained.
 */
class Reducer {
  private readonly grouping: Set<string>;
  private readonly groupIndex = new Map<string, number>();
  private readonly labels: Labels[] = [];
  private readonly dropName: boolean[] = [];
  private readonly value: Float64Array[] = [];
  private readonly comp: Float64Array[] = [];
  private readonly cnt: Float64Array[] = [];
  private readonly mean: Float64Array[] = [];
  private readonly incremental: Uint8Array[] = [];
  private readonly lists: number[][][] = [];

  constructor(
    private readonly ev: Evaluator,
    private readonly e: AggregateExpr,
    private readonly n: number,
    private readonly param: Float64Array | null,
  ) {
    this.grouping = new Set(e.grouping);
    if (e.op === "quantile" && param) {
      for (let i = 0; i < n; i++) {
        const q = param[i]!;
        if (Number.isNaN(q) || q < 0 || q > 1) ev.warn(ann.invalidQuantile(q), e.param!.pos);
      }
    }
  }

  private group(ls: Labels): number {
    const gl = groupLabels(ls, this.grouping, this.e.without);
    const k = labelsKey(gl);
    let g = this.groupIndex.get(k);
    if (g === undefined) {
      g = this.labels.length;
      this.groupIndex.set(k, g);
      this.labels.push(gl);
      this.dropName.push(false);
      this.ev.reserveSlots(this.n);
      const n = this.n;
      this.value.push(new Float64Array(n));
      this.comp.push(new Float64Array(n));
      this.cnt.push(new Float64Array(n));
      const op = this.e.op;
      const needsMean = op === "avg" || op === "stddev" || op === "stdvar";
      this.mean.push(needsMean ? new Float64Array(n) : EMPTY_F64);
      this.incremental.push(op === "avg" ? new Uint8Array(n) : EMPTY_U8);
      this.lists.push(op === "quantile" ? Array.from({ length: n }, () => []) : []);
    }
    return g;
  }

  add(s: StepSeries): void {
    const g = this.group(s.labels);
    const value = this.value[g]!;
    const comp = this.comp[g]!;
    const cnt = this.cnt[g]!;
    const mean = this.mean[g]!;
    const incremental = this.incremental[g]!;
    const vals = s.values;
    const pres = s.present;
    const op = this.e.op;
    let touched = false;
    for (let i = 0; i < this.n; i++) {
      if (!pres[i]) continue;
      touched = true;
      const f = vals[i]!;
      const first = cnt[i] === 0;
      cnt[i]! += 1;
      switch (op) {
        case "sum":
          if (first) value[i] = f;
          else {
            // Kahan-Babuska step, inlined (this is the hottest loop of most dashboards).
            const sum = value[i]!;
            const t = sum + f;
            if (t === Infinity || t === -Infinity) comp[i] = 0;
            else if (Math.abs(sum) >= Math.abs(f)) comp[i]! += sum - t + f;
            else comp[i]! += f - t + sum;
            value[i] = t;
          }
          break;
        case "avg": {
          if (first) {
            value[i] = f;
            mean[i] = f;
            break;
          }
          const c = cnt[i]!;
          if (!incremental[i]) {
            const nv = kahanInc(f, value[i]!, comp[i]!);
            if (Number.isFinite(nv) || Number.isNaN(nv)) {
              value[i] = nv;
              comp[i] = kahan.c;
              break;
            }
            incremental[i] = 1;
            mean[i] = value[i]! / (c - 1);
            comp[i] = comp[i]! / (c - 1);
          }
          const q = (c - 1) / c;
          mean[i] = kahanInc(f / c, q * mean[i]!, q * comp[i]!);
          comp[i] = kahan.c;
          break;
        }
        case "max":
          if (first || value[i]! < f || value[i] !== value[i]) value[i] = f;
          break;
        case "min":
          if (first || value[i]! > f || value[i] !== value[i]) value[i] = f;
          break;
        case "count":
        case "group":
          break;
        case "stddev":
        case "stdvar": {
          if (first) {
            value[i] = Number.isFinite(f) ? 0 : NaN;
            mean[i] = f;
            break;
          }
          const c = cnt[i]!;
          const delta = f - mean[i]!;
          mean[i]! += delta / c;
          value[i]! += delta * (f - mean[i]!);
          break;
        }
        case "quantile":
          this.lists[g]![i]!.push(f);
          break;
        default:
          throw new EvalError(`unsupported aggregation ${op}`);
      }
    }
    if (touched && s.dropName) this.dropName[g] = true;
  }

  finish(): StepSeries[] {
    const out: StepSeries[] = [];
    const op = this.e.op;
    for (let g = 0; g < this.labels.length; g++) {
      const value = this.value[g]!;
      const comp = this.comp[g]!;
      const cnt = this.cnt[g]!;
      const mean = this.mean[g]!;
      const incremental = this.incremental[g]!;
      const res = newSeries(this.labels[g]!, this.n, this.dropName[g]!);
      let any = false;
      for (let i = 0; i < this.n; i++) {
        const c = cnt[i]!;
        if (c === 0) continue;
        let r: number;
        switch (op) {
          case "sum":
            r = value[i]! + comp[i]!;
            break;
          case "avg":
            r = incremental[i] ? mean[i]! + comp[i]! : value[i]! / c + comp[i]! / c;
            break;
          case "count":
            r = c;
            break;
          case "group":
            r = 1;
            break;
          case "stdvar":
            r = value[i]! / c;
            break;
          case "stddev":
            r = Math.sqrt(value[i]! / c);
            break;
          case "quantile":
            r = quantileOf(this.param![i]!, this.lists[g]![i]!);
            break;
          default:
            r = value[i]!;
        }
        res.values[i] = r;
        res.present[i] = 1;
        any = true;
      }
      if (any) out.push(res);
    }
    return out;
  }
}

const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

const textEncoder = new TextEncoder();

/**
 * Prometheus's labels.Hash() (its default "stringlabels" build): xxHash64 over the label set's
 * encoding, each name and value preceded by its byte length (one byte below 255, else 255 and
 * three bytes little-endian). limit_ratio samples series by this hash, so it must match.
 */
function prometheusLabelsHash(ls: Labels): bigint {
  const parts: Uint8Array[] = [];
  let len = 0;
  for (const l of ls) {
    for (const str of [l.name, l.value]) {
      const b = textEncoder.encode(str);
      parts.push(b);
      len += b.length + (b.length < 255 ? 1 : 4);
    }
  }
  const buf = new Uint8Array(len);
  let o = 0;
  for (const b of parts) {
    if (b.length < 255) buf[o++] = b.length;
    else {
      buf[o++] = 255;
      buf[o++] = b.length & 0xff;
      buf[o++] = (b.length >> 8) & 0xff;
      buf[o++] = (b.length >> 16) & 0xff;
    }
    buf.set(b, o);
    o += b.length;
  }
  return BigInt.asUintN(64, BigInt(Bun.hash.xxHash64(buf)));
}

function ratioOffset(ls: Labels): number {
  return Number(prometheusLabelsHash(ls)) / 18446744073709551615;
}

export async function selectK(ev: Evaluator, e: AggregateExpr, st: Steps, series: StepSeries[], param: Float64Array): Promise<Value> {
  const n = st.n;
  const op = e.op;
  let max = -Infinity;
  let min = Infinity;
  let anyNaN = false;
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    if (p !== p) anyNaN = true;
    else {
      if (p > max) max = p;
      if (p < min) min = p;
    }
  }
  if (op === "limit_ratio") {
    if (max === 0 && min === 0 && !anyNaN) return { kind: "vector", series: [] };
    if (anyNaN) throw new EvalError("Ratio value is NaN");
    if (max > 1) ev.warn(ann.invalidRatio(max, 1), e.param!.pos);
    if (min < -1) ev.warn(ann.invalidRatio(min, -1), e.param!.pos);
  } else {
    if (!anyNaN && max < 1) return { kind: "vector", series: [] };
    if (anyNaN) throw new EvalError("Parameter value is NaN");
    if (min <= -9223372036854775808) throw new EvalError(`Scalar value ${fmtG(min)} underflows int64`);
    if (max >= 9223372036854775807) throw new EvalError(`Scalar value ${fmtG(max)} overflows int64`);
  }
  const grp = computeGroups(series, e);
  const members: number[][] = Array.from({ length: grp.count }, () => []);
  for (let si = 0; si < series.length; si++) members[grp.groupOf[si]!]!.push(si);

  // Selected[si] marks, per step, the input series kept.
  const selected: (Uint8Array | null)[] = new Array(series.length).fill(null);
  // Instant-query output order: per group, in Prometheus's heap order.
  const instantOrder: number[] = [];
  const offsets = op === "limit_ratio" ? series.map((s) => ratioOffset(s.labels)) : null;
  const heap: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ev.check()) await ev.pause();
    const p = param[i]!;
    for (const mem of members) {
      heap.length = 0;
      if (op === "limit_ratio") {
        const r = p < -1 ? -1 : p > 1 ? 1 : p;
        if (r === 0) continue;
        for (const si of mem) {
          if (!series[si]!.present[i]) continue;
          const off = offsets![si]!;
          if ((r >= 0 && off < r) || (r < 0 && off >= 1 + r)) heap.push(si);
        }
      } else {
        const k = Math.min(Math.trunc(p), series.length);
        if (k < 1) continue;
        // `w` is the index in `heap` of the weakest kept element, recomputed only when it changes.
        let w = -1;
        for (const si of mem) {
          const s = series[si]!;
          if (!s.present[i]) continue;
          if (op === "limitk") {
            if (heap.length < k) heap.push(si);
            continue;
          }
          const f = s.values[i]!;
          if (heap.length < k) {
            heap.push(si);
            if (heap.length === k) w = weakestIndex(op, heap, series, i);
            continue;
          }
          const wv = series[heap[w]!]!.values[i]!;
          const beats = op === "topk" ? wv < f || (wv !== wv && f === f) : wv > f || (wv !== wv && f === f);
          if (beats) {
            heap[w] = si;
            w = weakestIndex(op, heap, series, i);
          }
        }
        if (op === "topk" || op === "bottomk") {
          heap.sort((a, b) => {
            const x = series[a]!.values[i]!;
            const y = series[b]!.values[i]!;
            // Best first; NaN last.
            if (x !== x) return y !== y ? 0 : 1;
            if (y !== y) return -1;
            return op === "topk" ? y - x : x - y;
          });
        }
      }
      for (const si of heap) {
        let sel = selected[si];
        if (!sel) {
          sel = new Uint8Array(n);
          selected[si] = sel;
        }
        sel[i] = 1;
        if (n === 1) instantOrder.push(si);
      }
    }
  }
  const out: StepSeries[] = [];
  const order = n === 1 ? instantOrder : selected.map((_, i) => i).filter((i) => selected[i] !== null);
  for (const si of order) {
    const s = series[si]!;
    const sel = selected[si]!;
    const res = newSeries(s.labels, n, s.dropName);
    for (let i = 0; i < n; i++) {
      if (sel[i]) {
        res.values[i] = s.values[i]!;
        res.present[i] = 1;
      }
    }
    out.push(res);
  }
  return { kind: "vector", series: out };
}

function weakestIndex(op: string, heap: number[], series: StepSeries[], i: number): number {
  let w = 0;
  for (let h = 1; h < heap.length; h++) {
    if (weaker(op, series[heap[h]!]!.values[i]!, series[heap[w]!]!.values[i]!)) w = h;
  }
  return w;
}

/** Whether a is a weaker keep candidate than b (NaN is always the weakest). */
function weaker(op: string, a: number, b: number): boolean {
  if (a !== a) return b === b;
  if (b !== b) return false;
  return op === "topk" ? a < b : a > b;
}

async function countValues(ev: Evaluator, e: AggregateExpr, st: Steps): Promise<Value> {
  let p = e.param!;
  while (p.type === "StepInvariantExpr" || p.type === "ParenExpr") p = p.expr;
  if (p.type !== "StringLiteral") throw new EvalError("count_values requires a string parameter");
  const valueLabel = p.value;
  if (valueLabel === "" || !valueLabel.isWellFormed()) throw new EvalError(`invalid label name ${goQuoteString(valueLabel)}`);
  const input = await ev.evalVector(e.expr, st);
  const n = st.n;
  const grouping = new Set(e.grouping);
  if (!e.without) grouping.add(valueLabel);
  const outMap = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (const s of input.series) {
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const str = formatFloat(s.values[i]!);
      const withValue: Label[] = s.labels.filter((l) => l.name !== valueLabel);
      withValue.push({ name: valueLabel, value: str });
      withValue.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const gl = groupLabels(withValue, grouping, e.without);
      const k = labelsKey(gl);
      let res = outMap.get(k);
      if (!res) {
        res = newSeries(gl, n);
        outMap.set(k, res);
        out.push(res);
      }
      res.values[i]! += 1;
      res.present[i] = 1;
    }
  }
  return { kind: "vector", series: mergeSameLabels(out, n) };
}
