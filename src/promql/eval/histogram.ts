/**
 * histogram_quantile and histogram_fraction over classic (`le`-labelled) buckets, following
 * Prometheus's quantile.go: sort by upper bound, coalesce equal bounds, correct tiny precision
 * errors, force monotonicity (reported as an info annotation), then interpolate linearly.
 */

export interface Bucket {
  upper: number;
  count: number;
}

export interface BucketResult {
  value: number;
  forcedMonotonic: boolean;
}

function prepare(buckets: Bucket[]): { buckets: Bucket[]; forced: boolean } {
  buckets.sort((a, b) => (a.upper < b.upper ? -1 : a.upper > b.upper ? 1 : 0));
  // Coalesce equal upper bounds.
  const out: Bucket[] = [];
  for (const b of buckets) {
    const last = out[out.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else out.push({ upper: b.upper, count: b.count });
  }
  // Precision errors first (tolerance 1e-12 relative), then the monotonic envelope.
  let prev = out[0]!.count;
  for (let i = 1; i < out.length; i++) {
    const curr = out[i]!.count;
    const delta = Math.abs(curr - prev);
    if (delta === 0) continue;
    if (delta / curr <= 1e-12) out[i]!.count = prev;
    else prev = curr;
  }
  let forced = false;
  let max = out[0]!.count;
  for (let i = 1; i < out.length; i++) {
    const c = out[i]!.count;
    if (c > max) max = c;
    else if (c < max) {
      out[i]!.count = max;
      forced = true;
    }
  }
  return { buckets: out, forced };
}

export function bucketQuantile(q: number, input: Bucket[]): BucketResult {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  const sorted = [...input].sort((a, b) => a.upper - b.upper);
  if (sorted[sorted.length - 1]!.upper !== Infinity) return { value: NaN, forcedMonotonic: false };
  const { buckets, forced } = prepare(input);
  if (buckets.length < 2) return { value: NaN, forcedMonotonic: false };
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return { value: NaN, forcedMonotonic: false };
  let rank = q * observations;
  // First bucket (excluding +Inf) whose count reaches the rank.
  let b = 0;
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buckets[mid]!.count >= rank) hi = mid;
    else lo = mid + 1;
  }
  b = lo;
  if (b === buckets.length - 1) return { value: buckets[buckets.length - 2]!.upper, forcedMonotonic: forced };
  if (b === 0 && buckets[0]!.upper <= 0) return { value: buckets[0]!.upper, forcedMonotonic: forced };
  let start = 0;
  const end = buckets[b]!.upper;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.upper;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return { value: start + (end - start) * (rank / count), forcedMonotonic: forced };
}

/** Fraction of observations in [lower, upper], interpolating linearly within buckets. */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): BucketResult {
  const sorted = [...input].sort((a, b) => a.upper - b.upper);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upper !== Infinity) return { value: NaN, forcedMonotonic: false };
  const { buckets, forced } = prepare(input);
  const total = buckets[buckets.length - 1]!.count;
  if (total === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return { value: NaN, forcedMonotonic: forced };
  if (lower >= upper) return { value: 0, forcedMonotonic: forced };
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const bUpper = buckets[i]!.upper;
    let bLower = i === 0 ? -Infinity : buckets[i - 1]!.upper;
    if (i === 0 && bUpper > 0) bLower = 0;
    const count = buckets[i]!.count - (i === 0 ? 0 : buckets[i - 1]!.count);
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
      lowerRank = rank + infiniteShare(bLower, bUpper, count, lower);
      lowerSet = true;
    }
    if (!upperSet && bLower < upper && bUpper > upper) {
      upperRank = rank + infiniteShare(bLower, bUpper, count, upper);
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
function infiniteShare(lower: number, upper: number, count: number, v: number): number {
  if (lower === -Infinity) return count;
  if (upper === Infinity) return 0;
  return (count * (v - lower)) / (upper - lower);
}
