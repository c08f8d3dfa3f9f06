/**
 * Room for the decoded samples of one select: slabs of timestamps and values that many series'
 * samples are decoded into, each series answered as views of a slab. Allocating an ArrayBuffer
 * per series is slow in JavaScriptCore (it was a fifth of a large query's time), and the decoded
 * samples are read-only from then on (the Queryable contract), so they can share memory; a slab
 * lives as long as any series viewing it.
 */
const SLAB_SAMPLES = 64 * 1024;
/**
 * The first slab of a select is small and each next one four times larger, up to SLAB_SAMPLES:
 * most selects (a rule, a panel of a dashboard) read a few thousand samples, and zeroing a
 * 1 MiB slab for each of them was a quarter of the time of evaluating a thousand rules.
 */
const FIRST_SLAB_SAMPLES = 2048;

export class SampleArena {
  private ts = new Float64Array(0);
  private vs = new Float64Array(0);
  private w = new Uint32Array(0);
  private used = 0;
  private nextSlab: number;

  /** `slabSamples` 0: every reservation gets a buffer of exactly its size (one-off reads). */
  constructor(private readonly slabSamples: number = SLAB_SAMPLES) {
    this.nextSlab = Math.min(FIRST_SLAB_SAMPLES, slabSamples);
  }

  /**
   * Reserves `n` consecutive samples; returns the slab arrays (values with a word view for exact
   * bits) and the offset of the reservation in them. Valid until the next `reserve`.
   */
  reserve(n: number): { ts: Float64Array; vs: Float64Array; w: Uint32Array; off: number } {
    if (this.used + n > this.ts.length) {
      const size = Math.max(n, this.nextSlab);
      this.nextSlab = Math.min(this.nextSlab * 4, this.slabSamples);
      const ab = new ArrayBuffer(size * 16);
      this.ts = new Float64Array(ab, 0, size);
      this.vs = new Float64Array(ab, size * 8, size);
      this.w = new Uint32Array(ab, size * 8, size * 2);
      this.used = 0;
    }
    const off = this.used;
    this.used += n;
    return { ts: this.ts, vs: this.vs, w: this.w, off };
  }
}

/**
 * Samples of ts/vs in [from, to) with mint <= t <= maxt, as views (no copy), or null when none.
 * Decoded sample buffers are never written after decoding, so views are safe to hand out.
 */
export function viewRange(
  ts: Float64Array,
  vs: Float64Array,
  from: number,
  to: number,
  mint: number,
  maxt: number,
): { timestamps: Float64Array; values: Float64Array } | null {
  let a = from;
  if (to > from && ts[from]! < mint) {
    let hi = to;
    while (a < hi) {
      const mid = (a + hi) >>> 1;
      if (ts[mid]! < mint) a = mid + 1;
      else hi = mid;
    }
  }
  let b = to;
  if (b > a && ts[b - 1]! > maxt) {
    let lo = a;
    while (lo < b) {
      const mid = (lo + b) >>> 1;
      if (ts[mid]! <= maxt) lo = mid + 1;
      else b = mid;
    }
  }
  if (a >= b) return null;
  if (a === 0 && b === ts.length) return { timestamps: ts, values: vs };
  return { timestamps: ts.subarray(a, b), values: vs.subarray(a, b) };
}
