/** histogram_quantile, histogram_quantiles and histogram_fraction over classic `le` buckets. */
import { getLabel, labelsKey, labelsWith as setLabel, METRIC_NAME, type Labels } from "../../model/index.ts";
import type { Call, Expr } from "../ast.ts";
import { ann, formatFloat } from "./annotations.ts";
import { dropMetricName, mergeSameLabels, type Evaluator, type Steps } from "./evaluator.ts";
import { bucketFraction, bucketQuantile, type BucketResult } from "./histogram.ts";
import { stringArg } from "./labelfns.ts";
import { newSeries, type StepSeries, type Value, type VectorValue } from "./types.ts";

interface BucketGroup {
  labels: Labels;
  metricName: string;
  /** Bucket series sorted by upper bound. */
  members: { upper: number; series: StepSeries }[];
}

/** Scratch space for one group's buckets at one step. */
class Scratch {
  up = new Float64Array(32);
  cnt = new Float64Array(32);
  /** Copies the buckets of group g present at step i (already sorted); returns their number. */
  fill(g: BucketGroup, i: number): number {
    if (this.up.length < g.members.length) {
      this.up = new Float64Array(g.members.length * 2);
      this.cnt = new Float64Array(g.members.length * 2);
    }
    let n = 0;
    for (const m of g.members) {
      if (!m.series.present[i]) continue;
      this.up[n] = m.upper;
      this.cnt[n++] = m.series.values[i]!;
    }
    return n;
  }
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
      g = { labels: dropMetricName(keyLabels), metricName, members: [] };
      groups.set(key, g);
      order.push(g);
    }
    g.members.push({ upper, series: s });
  }
  for (const g of order) g.members.sort((a, b) => a.upper - b.upper);
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

export async function histogramQuantile(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const q = await ev.evalScalar(e.args[0]!, st);
  const v = await ev.evalVector(e.args[1]!, st);
  warnInvalidQuantiles(ev, q, st.n, e.args[0]!);
  return perGroup(ev, groupBuckets(ev, v, st, e.args[1]!.pos), st, e.args[1]!, (i, up, cnt, nb) => bucketQuantile(q[i]!, up, cnt, nb));
}

export async function histogramQuantiles(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  const labelName = stringArg(e.args[1]!);
  const qs: { expr: Expr; values: Float64Array }[] = [];
  for (const a of e.args.slice(2)) qs.push({ expr: a, values: await ev.evalScalar(a, st) });
  for (const q of qs) warnInvalidQuantiles(ev, q.values, st.n, q.expr);
  const groups = groupBuckets(ev, v, st, e.args[0]!.pos);
  const out: StepSeries[] = [];
  const scratch = new Scratch();
  for (const g of groups) {
    for (const q of qs) {
      const byValue = new Map<string, StepSeries>();
      for (let i = 0; i < st.n; i++) {
        const nb = scratch.fill(g, i);
        if (nb === 0) continue;
        const r = bucketQuantile(q.values[i]!, scratch.up, scratch.cnt, nb);
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

export async function histogramFraction(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const lower = await ev.evalScalar(e.args[0]!, st);
  const upper = await ev.evalScalar(e.args[1]!, st);
  const v = await ev.evalVector(e.args[2]!, st);
  return perGroup(ev, groupBuckets(ev, v, st, e.args[2]!.pos), st, e.args[2]!, (i, up, cnt, nb) => bucketFraction(lower[i]!, upper[i]!, up, cnt, nb));
}

/** A warning for each step whose quantile is NaN or outside [0, 1] (the result is ±Inf or NaN there). */
function warnInvalidQuantiles(ev: Evaluator, q: Float64Array, n: number, arg: Expr): void {
  for (let i = 0; i < n; i++) {
    const x = q[i]!;
    if (Number.isNaN(x) || x < 0 || x > 1) ev.warn(ann.invalidQuantile(x), arg.pos);
  }
}

/**
 * One series per bucket group (histogram_quantile, histogram_fraction): `at` reduces the group's
 * buckets present at step i (sorted upper bounds `up`, counts `cnt`, `nb` of them) to its value.
 */
function perGroup(
  ev: Evaluator,
  groups: readonly BucketGroup[],
  st: Steps,
  bucketsArg: Expr,
  at: (i: number, up: Float64Array, cnt: Float64Array, nb: number) => BucketResult,
): Value {
  const out: StepSeries[] = [];
  const scratch = new Scratch();
  for (const g of groups) {
    const res = newSeries(g.labels, st.n);
    let any = false;
    for (let i = 0; i < st.n; i++) {
      const nb = scratch.fill(g, i);
      if (nb === 0) continue;
      const r = at(i, scratch.up, scratch.cnt, nb);
      if (r.forcedMonotonic) ev.info(ann.forcedMonotonicity(g.metricName), bucketsArg.pos);
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

