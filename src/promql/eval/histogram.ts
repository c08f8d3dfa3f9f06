/**
 * histogram_quantile and histogram_fraction over classic (`le`-labelled) buckets, following
 * Prometheus's quantile.go: buckets sorted by upper bound, equal bounds coalesced, tiny precision
 * errors corrected, monotonicity forced (reported as an info annotation), linear interpolation.
 * Works in place on scratch typed arrays: `up` (sorted ascending) and `cnt`, `n` entries.
 */

export interface BucketResult {
  value: number;
  forcedMonotonic: boolean;
}

/** Coalesces equal bounds, fixes precision errors and forces monotonicity; returns [n, forced]. */
function prepare(up: Float64Array, cnt: Float64Array, n: number): [number, boolean] {
  let k = 0;
  for (let i = 1; i < n; i++) {
    if (up[i] === up[k]) cnt[k]! += cnt[i]!;
    else {
      k++;
      up[k] = up[i]!;
      cnt[k] = cnt[i]!;
    }
  }
  n = k + 1;
  let prev = cnt[0]!;
  for (let i = 1; i < n; i++) {
    const curr = cnt[i]!;
    const delta = Math.abs(curr - prev);
    if (delta === 0) continue;
    if (delta / curr <= 1e-12) cnt[i] = prev;
    else prev = curr;
  }
  let forced = false;
  let max = cnt[0]!;
  for (let i = 1; i < n; i++) {
    const c = cnt[i]!;
    if (c > max) max = c;
    else if (c < max) {
      cnt[i] = max;
      forced = true;
    }
  }
  return [n, forced];
}

export function bucketQuantile(q: number, up: Float64Array, cnt: Float64Array, n: number): BucketResult {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  if (n === 0 || up[n - 1] !== Infinity) return { value: NaN, forcedMonotonic: false };
  const [m, forced] = prepare(up, cnt, n);
  if (m < 2) return { value: NaN, forcedMonotonic: false };
  const observations = cnt[m - 1]!;
  if (observations === 0) return { value: NaN, forcedMonotonic: false };
  let rank = q * observations;
  // First bucket (the +Inf one excluded from the search) whose count reaches the rank.
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cnt[mid]! >= rank) hi = mid;
    else lo = mid + 1;
  }
  const b = lo;
  if (b === m - 1) return { value: up[m - 2]!, forcedMonotonic: forced };
  if (b === 0 && up[0]! <= 0) return { value: up[0]!, forcedMonotonic: forced };
  let start = 0;
  const end = up[b]!;
  let count = cnt[b]!;
  if (b > 0) {
    start = up[b - 1]!;
    count -= cnt[b - 1]!;
    rank -= cnt[b - 1]!;
  }
  return { value: start + (end - start) * (rank / count), forcedMonotonic: forced };
}

/** Fraction of observations in [lower, upper], interpolating linearly within buckets. */
export function bucketFraction(lower: number, upper: number, up: Float64Array, cnt: Float64Array, n: number): BucketResult {
  if (n === 0 || up[n - 1] !== Infinity) return { value: NaN, forcedMonotonic: false };
  const [m, forced] = prepare(up, cnt, n);
  const total = cnt[m - 1]!;
  if (total === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return { value: NaN, forcedMonotonic: forced };
  if (lower >= upper) return { value: 0, forcedMonotonic: forced };
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < m; i++) {
    const bUpper = up[i]!;
    // The lowest bucket starts at 0 when its bound is positive (as histogram_quantile assumes).
    const bLower = i === 0 ? (bUpper > 0 ? 0 : -Infinity) : up[i - 1]!;
    const count = cnt[i]! - (i === 0 ? 0 : cnt[i - 1]!);
    if (!lowerSet && bLower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && bLower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && bLower < lower && bUpper > lower) {
      lowerRank = rank + shareBelow(bLower, bUpper, count, lower);
      lowerSet = true;
    }
    if (!upperSet && bLower < upper && bUpper > upper) {
      upperRank = rank + shareBelow(bLower, bUpper, count, upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += count;
  }
  if (!lowerSet || lowerRank > total) lowerRank = total;
  if (!upperSet || upperRank > total) upperRank = total;
  return { value: (upperRank - lowerRank) / total, forcedMonotonic: forced };
}

/**
 * The part of a bucket's count below `v`. A bucket of infinite width is not interpolated: its
 * observations count as sitting at its infinite end (all below v for (-Inf, x], none for [x, +Inf)).
 */
function shareBelow(lower: number, upper: number, count: number, v: number): number {
  if (lower === -Infinity) return count;
  if (upper === Infinity) return 0;
  return (count * (v - lower)) / (upper - lower);
}
