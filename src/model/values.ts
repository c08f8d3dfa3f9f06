/**
 * Prometheus's staleness marker is a NaN with a particular bit pattern. JavaScriptCore turns every
 * NaN it reads out of a typed array into the canonical NaN, so the marker cannot live in a JS
 * `number`: it lives only in the bits of a Float64Array (or in a chunk), is written with
 * `setStaleAt` and recognised with `isStaleAt`, and travels through `Appender.append` as a flag.
 * Copy value arrays with `slice`/`set`/`subarray` (which copy bits), never through numbers.
 */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** Whether values[i] holds the staleness marker's exact bits. Cheap for non-NaN values. */
export function isStaleAt(values: Float64Array, i: number): boolean {
  const v = values[i]!;
  if (v === v) return false;
  const w = wordsOf(values);
  return w[2 * i] === STALE_NAN_LO && w[2 * i + 1] === STALE_NAN_HI;
}

/** Writes the staleness marker's exact bits into values[i]. */
export function setStaleAt(values: Float64Array, i: number): void {
  const w = wordsOf(values);
  w[2 * i] = STALE_NAN_LO;
  w[2 * i + 1] = STALE_NAN_HI;
}
