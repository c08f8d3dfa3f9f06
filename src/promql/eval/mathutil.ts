/** Numeric helpers shared by functions and aggregations, with Prometheus's exact float behaviour. */

/** The compensation left by the last `kahanInc` (an out-parameter: returning a pair allocates per sample). */
export const kahan = { c: 0 };

/** Kahan–Babuška compensated summation step: returns the new sum; the new compensation is `kahan.c`. */
export function kahanInc(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  kahan.c = c;
  return t;
}

/** Sort order of Prometheus's vectorByValueHeap: NaN first, then ascending. */
export function compareNaNFirst(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : -1;
  if (b !== b) return 1;
  return a - b;
}

/** Prometheus's quantile over a set of values (sorts `values` in place). */
export function quantileOf(q: number, values: Float64Array | number[]): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (values instanceof Float64Array) sortNaNFirst(values);
  else values.sort(compareNaNFirst);
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

function sortNaNFirst(a: Float64Array): void {
  // Float64Array.sort puts NaN last; move NaNs to the front to match Prometheus.
  a.sort();
  let nan = 0;
  for (let i = a.length - 1; i >= 0 && a[i] !== a[i]; i--) nan++;
  if (nan > 0) {
    a.copyWithin(nan, 0, a.length - nan);
    a.fill(NaN, 0, nan);
  }
}

/** Go's math.Pow special cases differ from JavaScript's ** in a few places. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** Go's math.Round: half away from zero. */
export function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(Math.abs(x));
  const t = Math.abs(x) - Math.floor(Math.abs(x)) === 0.5 ? Math.floor(Math.abs(x)) + 1 : r;
  return x < 0 ? -t : t;
}
