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
import { ByteWriter, CorruptError } from "./bytes.ts";

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
  const b = bytes[0];
  if (b !== undefined && b < 128) return b;
  return readUvarint(bytes, 0);
}

/** Where the last slow-path varint read ended (set by readUvarint). */
let varintEnd = 0;

/** A uvarint at `pos` (any length up to 2^53); sets varintEnd. Throws on truncation. */
function readUvarint(bytes: Uint8Array, pos: number): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = bytes[pos++];
    if (b === undefined) throw new CorruptError(`block chunk: unexpected end of data at ${pos - 1}`);
    x += (b & 127) * mul;
    if (b < 128) {
      varintEnd = pos;
      return x;
    }
    mul *= 128;
  }
  throw new CorruptError("block chunk: varint too long");
}

/**
 * A zigzag varint at `pos` (any length up to 2^53); sets varintEnd. The one-byte case (most
 * timestamp and value deltas) comes first; longer ones are read here too, without a call (large
 * gauges move by several bytes' worth every sample). Throws on truncation.
 */
function readZigzag(bytes: Uint8Array, pos: number): number {
  const b = bytes[pos];
  if (b !== undefined && b < 128) {
    varintEnd = pos + 1;
    return (b >>> 1) ^ -(b & 1);
  }
  let z = 0;
  let mul = 1;
  for (;;) {
    const c = bytes[pos++];
    if (c === undefined || mul > 2 ** 49) throw new CorruptError(`block chunk: bad varint at ${pos - 1}`);
    z += (c & 127) * mul;
    if (c < 128) break;
    mul *= 128;
  }
  varintEnd = pos;
  return z < 0x80000000 ? (z >>> 1) ^ -(z & 1) : unzigzag(z);
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/**
 * Decodes a block chunk into outT / outW (value words, lo at 2i) at `off`; returns the count.
 * With `outV` (a Float64Array over the same memory as outW) ordinary values are stored as
 * doubles directly, which is faster than through the words; exact bits are kept either way.
 * This is the hottest loop of a query: deltas are read by readZigzag (one byte is the common case)
 * and nothing is allocated (exceptions are read with a second cursor as their indices come up).
 */
export function decodeBlockChunk(bytes: Uint8Array, outT: Float64Array, outW: Uint32Array, off: number, outV?: Float64Array): number {
  const len = bytes.length;
  let pos = 0;
  const b = bytes[0];
  let n: number;
  if (b !== undefined && b < 128) {
    n = b;
    pos = 1;
  } else {
    n = readUvarint(bytes, 0);
    pos = varintEnd;
  }
  if (n === 0) return 0;
  // Timestamps: t0, t1 - t0, then delta-of-deltas (mostly 0: one byte each).
  let t = readZigzag(bytes, pos);
  pos = varintEnd;
  outT[off] = t;
  let d = 0;
  for (let i = 1; i < n; i++) {
    const x = readZigzag(bytes, pos);
    pos = varintEnd;
    if (i === 1) d = x;
    else d += x;
    t += d;
    outT[off + i] = t;
  }
  const kind = bytes[pos++];
  if (kind === 1) {
    if (pos + n * 8 > len) throw new CorruptError(`block chunk: unexpected end of data at ${len}`);
    const base = pos;
    let phi = 0;
    let plo = 0;
    for (let i = 0; i < n; i++) {
      const k = base + i;
      const xh = ((bytes[k]! << 24) | (bytes[n + k]! << 16) | (bytes[2 * n + k]! << 8) | bytes[3 * n + k]!) >>> 0;
      const xl = ((bytes[4 * n + k]! << 24) | (bytes[5 * n + k]! << 16) | (bytes[6 * n + k]! << 8) | bytes[7 * n + k]!) >>> 0;
      phi = (phi ^ xh) >>> 0;
      plo = (plo ^ xl) >>> 0;
      outW[2 * (off + i)] = plo;
      outW[2 * (off + i) + 1] = phi;
    }
    return n;
  }
  if (kind !== 0 && kind !== 2) throw new CorruptError(`block chunk: unknown value kind ${kind}`);
  const second = kind === 2;
  const e = bytes[pos++];
  if (e === undefined || e > MAX_EXP) throw new CorruptError(`block chunk: bad exponent ${e}`);
  const p = POW10[e]!;
  const nx = readUvarint(bytes, pos);
  pos = varintEnd;
  // The exceptions: (index gap, 8 bytes) each; skip them now, read them when their index comes.
  let xpos = pos;
  let nextX = -1;
  if (nx > 0) {
    nextX = readUvarint(bytes, xpos);
    xpos = varintEnd;
    for (let k = 0; k < nx; k++) {
      readUvarint(bytes, pos);
      pos = varintEnd + 8;
    }
    if (pos > len) throw new CorruptError(`block chunk: unexpected end of data at ${len}`);
  }
  let xLeft = nx;
  const f = outV === undefined ? new Float64Array(1) : null;
  const fw = f === null ? null : new Uint32Array(f.buffer);
  let m = 0;
  let dm = 0;
  for (let i = 0; i < n; i++) {
    const x = readZigzag(bytes, pos);
    pos = varintEnd;
    if (i === 0) m = x;
    else if (i === 1 || !second) m += dm = x;
    else m += dm += x;
    const j = off + i;
    if (i === nextX) {
      outW[2 * j] = (bytes[xpos]! | (bytes[xpos + 1]! << 8) | (bytes[xpos + 2]! << 16) | (bytes[xpos + 3]! << 24)) >>> 0;
      outW[2 * j + 1] = (bytes[xpos + 4]! | (bytes[xpos + 5]! << 8) | (bytes[xpos + 6]! << 16) | (bytes[xpos + 7]! << 24)) >>> 0;
      xpos += 8;
      if (--xLeft > 0) {
        nextX += readUvarint(bytes, xpos);
        xpos = varintEnd;
      } else nextX = -1;
      continue;
    }
    if (outV !== undefined) outV[j] = p === 1 ? m : m / p;
    else {
      f![0] = m / p;
      outW[2 * j] = fw![0]!;
      outW[2 * j + 1] = fw![1]!;
    }
  }
  return n;
}
