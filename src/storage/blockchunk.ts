/**
 * The chunk encoding of blocks on disk, built for zstd rather than for appending: columns of
 * byte-aligned varints instead of a bit stream, so zstd can see what repeats (every series of a
 * target shares its scrape timestamps; counters repeat their increments).
 *
 *   uvarint n
 *   timestamps  zigzag varints: t0, t1−t0, then delta-of-deltas
 *   u8 value kind
 *     0 decimal: u8 exponent E; each value is m/10^E with an integer m. The m's are written as
 *       zigzag varints of first differences (kind flag bit 1 = second differences). Values that
 *       are not such numbers (NaN, stale markers, ±Inf, −0, anything not round-tripping) are
 *       listed as exceptions: uvarint count, then (uvarint index gap, 8 raw bytes) each, and the
 *       m stream repeats the previous m at their positions.
 *     1 raw: 8 bytes per value, XOR with the previous value's bits, byte planes transposed.
 * Every value comes back with its exact bits.
 */
import { ByteReader, ByteWriter } from "./bytes.ts";

const POW10 = Array.from({ length: 19 }, (_, i) => 10 ** i);
const MAX_EXP = 18;
/** Mantissas stay below 2^50 so that second differences and zigzag stay exact integers. */
const MAX_MANTISSA = 2 ** 50;

/** Smallest e (≤ MAX_EXP) with v·10^e an integer that divides back to exactly v, or -1. */
function decimalExponent(v: number): number {
  if (Number.isInteger(v)) return Math.abs(v) <= MAX_MANTISSA && !Object.is(v, -0) ? 0 : -1;
  if (!Number.isFinite(v)) return -1;
  for (let e = 1; e <= MAX_EXP; e++) {
    const m = Math.round(v * POW10[e]!);
    if (Math.abs(m) > MAX_MANTISSA) return -1;
    if (m / POW10[e]! === v) return e;
  }
  return -1;
}

function varintSize(x: number): number {
  let z = x >= 0 ? x * 2 : -x * 2 - 1;
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

/** Encodes samples [from, to) of ts/vs (value bits kept) into w. */
export function encodeBlockChunk(w: ByteWriter, ts: Float64Array, vs: Float64Array, from: number, to: number): void {
  const n = to - from;
  const words = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  w.uvarint(n);
  let prevT = 0;
  let prevD = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[from + i]!;
    if (i === 0) w.varint(t);
    else if (i === 1) w.varint((prevD = t - prevT));
    else {
      const d = t - prevT;
      w.varint(d - prevD);
      prevD = d;
    }
    prevT = t;
  }
  // Decimal attempt: a common exponent for all regular values.
  let E = 0;
  const exceptional: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = vs[from + i]!;
    const e = v === v ? decimalExponent(v) : -1;
    if (e < 0) exceptional.push(i);
    else if (e > E) E = e;
  }
  let ok = exceptional.length <= n / 4;
  const ms = new Float64Array(n);
  if (ok) {
    const p = POW10[E]!;
    let prev = 0;
    let xi = 0;
    for (let i = 0; i < n; i++) {
      if (xi < exceptional.length && exceptional[xi] === i) {
        ms[i] = prev;
        xi++;
        continue;
      }
      const v = vs[from + i]!;
      const m = Math.round(v * p);
      if (Math.abs(m) > MAX_MANTISSA || m / p !== v) {
        ok = false;
        break;
      }
      ms[i] = prev = m;
    }
  }
  if (ok) {
    // First or second differences, whichever is smaller.
    let size1 = 0;
    let size2 = 0;
    for (let i = 1; i < n; i++) {
      const d = ms[i]! - ms[i - 1]!;
      size1 += varintSize(d);
      size2 += varintSize(i === 1 ? d : d - (ms[i - 1]! - ms[i - 2]!));
    }
    const second = size2 < size1;
    w.u8(second ? 2 : 0);
    w.u8(E);
    w.uvarint(exceptional.length);
    let last = 0;
    for (const i of exceptional) {
      w.uvarint(i - last);
      last = i;
      w.u32(words[2 * (from + i)]!);
      w.u32(words[2 * (from + i) + 1]!);
    }
    if (n > 0) w.varint(ms[0]!);
    for (let i = 1; i < n; i++) {
      const d = ms[i]! - ms[i - 1]!;
      w.varint(second && i > 1 ? d - (ms[i - 1]! - ms[i - 2]!) : d);
    }
    return;
  }
  // Raw: XOR with the previous value, byte planes transposed (high bytes first).
  w.u8(1);
  w.ensure(n * 8);
  const base = w.pos;
  let phi = 0;
  let plo = 0;
  for (let i = 0; i < n; i++) {
    const lo = words[2 * (from + i)]!;
    const hi = words[2 * (from + i) + 1]!;
    const xh = (hi ^ phi) >>> 0;
    const xl = (lo ^ plo) >>> 0;
    phi = hi;
    plo = lo;
    w.buf[base + i] = xh >>> 24;
    w.buf[base + n + i] = (xh >>> 16) & 0xff;
    w.buf[base + 2 * n + i] = (xh >>> 8) & 0xff;
    w.buf[base + 3 * n + i] = xh & 0xff;
    w.buf[base + 4 * n + i] = xl >>> 24;
    w.buf[base + 5 * n + i] = (xl >>> 16) & 0xff;
    w.buf[base + 6 * n + i] = (xl >>> 8) & 0xff;
    w.buf[base + 7 * n + i] = xl & 0xff;
  }
  w.pos = base + n * 8;
}

/** Number of samples in an encoded block chunk. */
export function blockChunkCount(bytes: Uint8Array): number {
  return new ByteReader(bytes).uvarint();
}

/** Decodes a block chunk into outT / outW (value words, lo at 2i) at `off`; returns the count. */
export function decodeBlockChunk(bytes: Uint8Array, outT: Float64Array, outW: Uint32Array, off: number): number {
  const r = new ByteReader(bytes);
  const n = r.uvarint();
  let t = 0;
  let d = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) t = r.varint();
    else if (i === 1) t += d = r.varint();
    else t += d += r.varint();
    outT[off + i] = t;
  }
  const kind = r.u8();
  if (kind === 1) {
    const b = r.bytes(n * 8);
    let phi = 0;
    let plo = 0;
    for (let i = 0; i < n; i++) {
      const xh = ((b[i]! << 24) | (b[n + i]! << 16) | (b[2 * n + i]! << 8) | b[3 * n + i]!) >>> 0;
      const xl = ((b[4 * n + i]! << 24) | (b[5 * n + i]! << 16) | (b[6 * n + i]! << 8) | b[7 * n + i]!) >>> 0;
      phi = (phi ^ xh) >>> 0;
      plo = (plo ^ xl) >>> 0;
      outW[2 * (off + i)] = plo;
      outW[2 * (off + i) + 1] = phi;
    }
    return n;
  }
  const second = kind === 2;
  const p = POW10[r.u8()]!;
  const nx = r.uvarint();
  const xIdx = new Int32Array(nx);
  const xLo = new Uint32Array(nx);
  const xHi = new Uint32Array(nx);
  let last = 0;
  for (let k = 0; k < nx; k++) {
    xIdx[k] = last += r.uvarint();
    xLo[k] = r.u32();
    xHi[k] = r.u32();
  }
  const f = new Float64Array(1);
  const fw = new Uint32Array(f.buffer);
  let m = 0;
  let dm = 0;
  let xi = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) m = r.varint();
    else if (i === 1 || !second) m += dm = r.varint();
    else m += dm += r.varint();
    const j = off + i;
    if (xi < nx && xIdx[xi] === i) {
      outW[2 * j] = xLo[xi]!;
      outW[2 * j + 1] = xHi[xi]!;
      xi++;
      continue;
    }
    f[0] = m / p;
    outW[2 * j] = fw[0]!;
    outW[2 * j + 1] = fw[1]!;
  }
  return n;
}
