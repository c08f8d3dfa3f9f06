/**
 * Range-vector functions (`rate`, `*_over_time`, …) as kernels over a window [lo, hi) of one
 * series' samples. They return null when Prometheus would output no sample for that step.
 */
import { compareNaNFirst, kahan, kahanInc, quantileOf } from "./mathutil.ts";

export interface WindowCtx {
  /** Evaluation time of the step (ms). */
  t: number;
  /** The window is (mint, maxt]. */
  mint: number;
  maxt: number;
  range: number;
  /** Scalar parameters at this step, in argument order (matrix argument excluded). */
  params: number[];
  /**
   * For rate/increase: the indices i of the series where vs[i] < vs[i-1] (counter resets), so a
   * window needs no scan when it has none; null when the series has no reset at all.
   */
  resets: Int32Array | null;
}

export type Kernel = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, c: WindowCtx) => number | null;

function extrapolatedRate(isCounter: boolean, isRate: boolean): Kernel {
  return (ts, vs, lo, hi, c) => {
    const n = hi - lo;
    if (n < 2) return null;
    const first = vs[lo]!;
    const last = vs[hi - 1]!;
    let result = last - first;
    if (isCounter && c.resets !== null) {
      // Counter resets add back the value before the drop, in sample order as Prometheus does.
      const r = c.resets;
      let a = 0;
      let b = r.length;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (r[mid]! <= lo) a = mid + 1;
        else b = mid;
      }
      for (let k = a; k < r.length && r[k]! < hi; k++) result += vs[r[k]! - 1]!;
    }
    return extrapolate(result, ts[lo]!, ts[hi - 1]!, first, n, c, isCounter, isRate);
  };
}

function extrapolate(
  result: number,
  firstT: number,
  lastT: number,
  first: number,
  n: number,
  c: WindowCtx,
  isCounter: boolean,
  isRate: boolean,
): number {
  let durationToStart = (firstT - c.mint) / 1000;
  let durationToEnd = (c.maxt - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avg = sampledInterval / (n - 1);
  const threshold = avg * 1.1;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= c.range / 1000;
  return result * factor;
}

function instantValue(isRate: boolean): Kernel {
  return (ts, vs, lo, hi) => {
    if (hi - lo < 2) return null;
    const last = vs[hi - 1]!;
    const prev = vs[hi - 2]!;
    let result = isRate && last < prev ? last : last - prev;
    const interval = ts[hi - 1]! - ts[hi - 2]!;
    if (interval === 0) return null;
    if (isRate) result /= interval / 1000;
    return result;
  };
}

/** Least-squares fit with Kahan sums, x in seconds relative to `interceptTime`. */
function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = vs[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1000;
    sumX = kahanInc(x, sumX, cX);
    cX = kahan.c;
    sumY = kahanInc(y, sumY, cY);
    cY = kahan.c;
    sumXY = kahanInc(x * y, sumXY, cXY);
    cXY = kahan.c;
    sumX2 = kahanInc(x * x, sumX2, cX2);
    cX2 = kahan.c;
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function avgOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number | null {
  if (hi <= lo) return null;
  // Direct mean with Kahan summation while the sum stays finite, then the incremental mean,
  // as Prometheus does (Kahan steps inlined: this loop is hot).
  let sum = vs[lo]!;
  let kc = 0;
  let i = lo + 1;
  for (; i < hi; i++) {
    const f = vs[i]!;
    const t = sum + f;
    if (t === Infinity || t === -Infinity) break;
    if (Math.abs(sum) >= Math.abs(f)) kc += sum - t + f;
    else kc += f - t + sum;
    sum = t;
  }
  const n = hi - lo;
  if (i === hi) return sum / n + kc / n;
  // The sum would overflow at sample i: continue with the incremental mean from there.
  let count = i - lo;
  let mean = sum / count;
  kc /= count;
  for (; i < hi; i++) {
    const f = vs[i]!;
    count++;
    const q = (count - 1) / count;
    mean = kahanInc(f / count, q * mean, q * kc);
    kc = kahan.c;
  }
  return mean + kc;
}

function variance(vs: Float64Array, lo: number, hi: number): number {
  let count = 0;
  let mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = lo; i < hi; i++) {
    const f = vs[i]!;
    count++;
    const delta = f - (mean + cMean);
    mean = kahanInc(delta / count, mean, cMean);
    cMean = kahan.c;
    aux = kahanInc(delta * (f - (mean + cMean)), aux, cAux);
    cAux = kahan.c;
  }
  return (aux + cAux) / count;
}

function trendValue(i: number, tf: number, s0: number, s1: number, b: number): number {
  if (i === 0) return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

const scratch = { buf: new Float64Array(64) };
function windowCopy(vs: Float64Array, lo: number, hi: number): Float64Array {
  const n = hi - lo;
  if (scratch.buf.length < n) scratch.buf = new Float64Array(Math.max(n, scratch.buf.length * 2));
  const a = scratch.buf.subarray(0, n);
  a.set(vs.subarray(lo, hi));
  return a;
}

export const KERNELS: Record<string, Kernel> = {
  rate: extrapolatedRate(true, true),
  increase: extrapolatedRate(true, false),
  delta: extrapolatedRate(false, false),
  irate: instantValue(true),
  idelta: instantValue(false),
  deriv: (ts, vs, lo, hi) => {
    if (hi - lo < 2) return null;
    return linearRegression(ts, vs, lo, hi, ts[lo]!)[0];
  },
  predict_linear: (ts, vs, lo, hi, c) => {
    if (hi - lo < 2) return null;
    const [slope, intercept] = linearRegression(ts, vs, lo, hi, c.t);
    return slope * c.params[0]! + intercept;
  },
  avg_over_time: avgOverTime,
  sum_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let sum = 0;
    let c = 0;
    for (let i = lo; i < hi; i++) {
      const inc = vs[i]!;
      const t = sum + inc;
      if (t === Infinity || t === -Infinity) c = 0;
      else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
      else c += inc - t + sum;
      sum = t;
    }
    return sum + c;
  },
  count_over_time: (_ts, _vs, lo, hi) => (hi > lo ? hi - lo : null),
  present_over_time: (_ts, _vs, lo, hi) => (hi > lo ? 1 : null),
  last_over_time: (_ts, vs, lo, hi) => (hi > lo ? vs[hi - 1]! : null),
  first_over_time: (_ts, vs, lo, hi) => (hi > lo ? vs[lo]! : null),
  ts_of_last_over_time: (ts, _vs, lo, hi) => (hi > lo ? ts[hi - 1]! / 1000 : null),
  ts_of_first_over_time: (ts, _vs, lo, hi) => (hi > lo ? ts[lo]! / 1000 : null),
  max_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let m = vs[lo]!;
    for (let i = lo; i < hi; i++) {
      const f = vs[i]!;
      if (f > m || m !== m) m = f;
    }
    return m;
  },
  min_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let m = vs[lo]!;
    for (let i = lo; i < hi; i++) {
      const f = vs[i]!;
      if (f < m || m !== m) m = f;
    }
    return m;
  },
  ts_of_max_over_time: (ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let m = vs[lo]!;
    let t = ts[lo]!;
    for (let i = lo; i < hi; i++) {
      const f = vs[i]!;
      if (f >= m || m !== m) {
        m = f;
        t = ts[i]!;
      }
    }
    return t / 1000;
  },
  ts_of_min_over_time: (ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let m = vs[lo]!;
    let t = ts[lo]!;
    for (let i = lo; i < hi; i++) {
      const f = vs[i]!;
      if (f <= m || m !== m) {
        m = f;
        t = ts[i]!;
      }
    }
    return t / 1000;
  },
  stddev_over_time: (_ts, vs, lo, hi) => (hi > lo ? Math.sqrt(variance(vs, lo, hi)) : null),
  stdvar_over_time: (_ts, vs, lo, hi) => (hi > lo ? variance(vs, lo, hi) : null),
  quantile_over_time: (_ts, vs, lo, hi, c) => (hi > lo ? quantileOf(c.params[0]!, windowCopy(vs, lo, hi)) : null),
  mad_over_time: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    for (let i = lo; i < hi; i++) if (vs[i] !== vs[i]) return NaN;
    const a = windowCopy(vs, lo, hi);
    const median = quantileOf(0.5, a);
    const dev = Array.from(a, (v) => Math.abs(v - median));
    return quantileOf(0.5, dev);
  },
  changes: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let changes = 0;
    let prev = vs[lo]!;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur !== prev && !(cur !== cur && prev !== prev)) changes++;
      prev = cur;
    }
    return changes;
  },
  resets: (_ts, vs, lo, hi) => {
    if (hi <= lo) return null;
    let resets = 0;
    let prev = vs[lo]!;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) resets++;
      prev = cur;
    }
    return resets;
  },
  double_exponential_smoothing: (_ts, vs, lo, hi, c) => {
    const l = hi - lo;
    if (l < 2) return null;
    const sf = c.params[0]!;
    const tf = c.params[1]!;
    let s0 = 0;
    let s1 = vs[lo]!;
    let b = vs[lo + 1]! - vs[lo]!;
    for (let i = 1; i < l; i++) {
      const x = sf * vs[lo + i]!;
      b = trendValue(i - 1, tf, s0, s1, b);
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
};

/** Functions that keep the metric name (they act like an offset). */
export const KEEPS_NAME = new Set(["last_over_time", "first_over_time"]);

export { compareNaNFirst };
