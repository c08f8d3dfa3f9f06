/**
 * The experimental `anchored` and `smoothed` range selectors
 * (`--enable-feature=promql-extended-range-selectors`), with Prometheus 3.14's semantics.
 *
 * Both look one lookback delta further back than the range: `anchored` takes the last sample at
 * or before the range start as the value there (so `increase` counts exactly what happened
 * since), `smoothed` interpolates linearly between the samples around each boundary (and also
 * looks one lookback delta past the end). A plain selector with `smoothed` interpolates at the
 * evaluation time instead of taking the last sample.
 */
import type { VectorSelector } from "../ast.ts";
import { KERNELS, type Kernel, type WindowCtx } from "./rangefns.ts";
import { EvalError } from "./types.ts";

/** Functions that make sense of samples outside the range (Prometheus's AnchoredSafeFunctions). */
const ANCHORED_SAFE = new Set(["changes", "delta", "increase", "rate", "resets"]);
/** Functions that make sense of interpolated boundary samples (SmoothedSafeFunctions). */
const SMOOTHED_SAFE = new Set(["delta", "increase", "rate"]);

/** The extended mode of a range selector, or null for a plain one. */
export function extendedMode(vs: VectorSelector): "anchored" | "smoothed" | null {
  return vs.anchored ? "anchored" : vs.smoothed ? "smoothed" : null;
}

/** How much further than the range a selector reads: back before its start, on past its end. */
export function extendedReach(vs: VectorSelector, lookback: number): { before: number; after: number } {
  if (vs.anchored) return { before: lookback, after: 0 };
  if (vs.smoothed) return { before: lookback, after: lookback };
  return { before: 0, after: 0 };
}

/**
 * The kernel a range function uses over an extended selector; throws Prometheus's error when the
 * function cannot work with it.
 */
export function extendedKernel(func: string, mode: "anchored" | "smoothed"): Kernel {
  const safe = mode === "anchored" ? ANCHORED_SAFE : SMOOTHED_SAFE;
  if (!safe.has(func)) {
    throw new EvalError(`${mode} modifier can only be used with: ${[...safe].sort().join(", ")} - not with ${func}`);
  }
  const smoothed = mode === "smoothed";
  switch (func) {
    case "rate":
      return extendedRate(true, true, smoothed);
    case "increase":
      return extendedRate(true, false, smoothed);
    case "delta":
      return extendedRate(false, false, smoothed);
    default:
      return anchoredFromBaseline(KERNELS[func]!);
  }
}

/** Linear interpolation at `t`; a counter that dropped is taken to have restarted from 0. */
function interpolate(t1: number, v1: number, t2: number, v2: number, t: number, isCounter: boolean): number {
  const y1 = isCounter && v2 < v1 ? 0 : v1;
  return y1 + ((v2 - y1) * (t - t1)) / (t2 - t1);
}

/** The first index in [lo, hi) with ts > t (or ts >= t when `orEqual`), or hi; binary search. */
function firstFrom(ts: Float64Array, lo: number, hi: number, t: number, orEqual: boolean): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const x = ts[mid]!;
    if (x > t || (orEqual && x === t)) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * The boundary samples of an extended window [lo, hi) for the range (start, end]: indices of the
 * samples that stand for the start and the end, and the values there (interpolated when
 * smoothed). Null when no sample lies inside the range. Shared by rates and the matrix result.
 */
function boundaries(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  start: number,
  end: number,
  smoothed: boolean,
  isCounter: boolean,
): { first: number; last: number; left: number; right: number } | null {
  let last = hi - 1;
  // As Prometheus searches: over all samples but the last.
  const first = Math.max(lo, firstFrom(ts, lo, last, start, false) - 1);
  if (smoothed) last = firstFrom(ts, lo, last, end, true);
  if (ts[last]! <= start) return null;
  const left = smoothed && ts[first]! < start ? interpolate(ts[first]!, vs[first]!, ts[first + 1]!, vs[first + 1]!, start, isCounter) : vs[first]!;
  const right = smoothed && last > lo && ts[last]! > end ? interpolate(ts[last - 1]!, vs[last - 1]!, ts[last]!, vs[last]!, end, isCounter) : vs[last]!;
  return { first, last, left, right };
}

/** rate/increase/delta over an anchored or smoothed window (Prometheus's extendedRate). */
function extendedRate(isCounter: boolean, isRate: boolean, smoothed: boolean): Kernel {
  return (ts, vs, lo, hi, c: WindowCtx) => {
    const start = c.mint;
    const end = c.maxt;
    const b = boundaries(ts, vs, lo, hi, start, end, smoothed, isCounter);
    if (b === null) return null;
    if (smoothed && ts[b.first]! > end) return null;
    let result = b.right - b.left;
    if (isCounter) {
      // Resets inside the range; the boundary values already account for those at the edges.
      let f = b.first;
      let l = b.last;
      if (ts[f]! <= start) f++;
      if (ts[l]! >= end) l--;
      let prev = b.left;
      for (let k = f; k <= l; k++) {
        if (vs[k]! < prev) result += prev;
        prev = vs[k]!;
      }
      if (b.right < prev) result += prev;
    }
    return isRate ? result / (c.range / 1000) : result;
  };
}

/**
 * changes/resets over an anchored window: the last sample at or before the range start is the
 * baseline, followed by the samples in the range; nothing when the range itself has no sample.
 */
function anchoredFromBaseline(kernel: Kernel): Kernel {
  return (ts, vs, lo, hi, c) => {
    const firstIn = firstFrom(ts, lo, hi, c.mint, false);
    if (firstIn >= hi) return null;
    return kernel(ts, vs, Math.max(lo, firstIn - 1), hi, c);
  };
}

/**
 * The samples an instant query returns for an extended range selector (Prometheus's
 * extendFloats): the in-range samples between a sample at the range start and one at its end,
 * taken from the lookback (anchored) or interpolated (smoothed). Null when none is in range.
 */
export function extendedMatrixSamples(
  ts: Float64Array,
  vs: Float64Array,
  start: number,
  end: number,
  smoothed: boolean,
): { timestamps: Float64Array; values: Float64Array } | null {
  if (ts.length === 0) return null;
  const b = boundaries(ts, vs, 0, ts.length, start, end, smoothed, false);
  if (b === null) return null;
  let f = b.first;
  let l = b.last;
  if (ts[f]! <= start) f++;
  if (ts[l]! >= end) l--;
  const count = Math.max(l - f + 1, 0);
  const outT = new Float64Array(count + 2);
  const outV = new Float64Array(count + 2);
  outT[0] = start;
  outV[0] = b.left;
  for (let k = 0; k < count; k++) {
    outT[k + 1] = ts[f + k]!;
    outV[k + 1] = vs[f + k]!;
  }
  outT[count + 1] = end;
  outV[count + 1] = b.right;
  return { timestamps: outT, values: outV };
}

/**
 * The value a `smoothed` instant selector sees at `ref` from samples within one lookback delta
 * either side: the sample at `ref`, else the interpolation between its neighbours, else the
 * previous sample carried forward. `found` is false when there is no earlier sample. Writes into
 * `out` so that the per-step loop allocates nothing.
 */
export function smoothedAt(ts: Float64Array, vs: Float64Array, ref: number, lookback: number, out: { value: number; found: boolean }): void {
  const lo = firstFrom(ts, 0, ts.length, ref - lookback, false);
  const hi = firstFrom(ts, lo, ts.length, ref + lookback, false);
  const i = firstFrom(ts, lo, hi, ref, true);
  out.found = true;
  if (i < hi && ts[i] === ref) out.value = vs[i]!;
  else if (i > lo && i < hi) out.value = interpolate(ts[i - 1]!, vs[i - 1]!, ts[i]!, vs[i]!, ref, false);
  else if (i > lo) out.value = vs[i - 1]!;
  else out.found = false;
}
