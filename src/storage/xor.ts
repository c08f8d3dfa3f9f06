/**
 * Gorilla ("XOR") chunks, the layout Prometheus uses for float samples: timestamps as
 * delta-of-delta in variable-width buckets, values as the XOR with the previous value, storing
 * only the meaningful bits. Values travel as their two 32-bit halves (hi, lo) and never as a JS
 * number, so every NaN payload — the staleness marker in particular — survives bit-exact.
 *
 * Byte layout: [count u16 BE][bit stream]. The first timestamp is a zigzag varint, the first
 * value 64 raw bits, the second timestamp a zigzag varint delta; after that delta-of-delta
 * buckets '0' | '10'+7 | '110'+14 | '1110'+20 | '1111'+64 bits (two's complement). The 7-bit
 * bucket (Prometheus's smallest is 14) fits the few milliseconds of jitter of real scrapes.
 */

/** Prometheus cuts head chunks at 120 samples: a good compression/latency balance. */
export const SAMPLES_PER_CHUNK = 120;
const HEADER_BYTES = 2;
/** Worst case bits of one sample (first sample: 10-byte varint + 64 bits; later: 68 + 77). */
const MAX_SAMPLE_BITS = 160;
const TWO_32 = 4294967296;

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

const NO_BYTES = new Uint8Array(0);

/**
 * An appendable chunk. The head's series extend it (one object per series, not two); the buffer
 * is allocated on the first append and grows by half its size when needed.
 */
export class XorChunkBuilder {
  buf: Uint8Array;
  bitPos = HEADER_BYTES * 8;
  count = 0;
  minT = 0;
  lastT = 0;
  lastDelta = 0;
  lastHi = 0;
  lastLo = 0;
  leading = 0xff;
  trailing = 0;

  constructor(initialBytes = 0) {
    this.buf = initialBytes > 0 ? new Uint8Array(initialBytes) : NO_BYTES;
  }

  /** Empties the chunk; keeps the buffer for reuse unless `release`. */
  resetChunk(release: boolean): void {
    if (release) this.buf = NO_BYTES;
    else this.buf.fill(0, 0, (this.bitPos + 7) >>> 3);
    this.bitPos = HEADER_BYTES * 8;
    this.count = 0;
    this.leading = 0xff;
    this.trailing = 0;
  }

  /** Appends a sample given its value bits; timestamps must increase (the caller checks). */
  append(t: number, hi: number, lo: number): void {
    const need = (this.bitPos + MAX_SAMPLE_BITS + 7) >>> 3;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, 24, this.buf.length + (this.buf.length >>> 1)));
      next.set(this.buf);
      this.buf = next;
    }
    const n = this.count;
    if (n === 0) {
      this.writeZigzagVarint(t);
      this.writeBits(hi >>> 0, 32);
      this.writeBits(lo >>> 0, 32);
      this.minT = t;
      this.lastHi = hi >>> 0;
      this.lastLo = lo >>> 0;
    } else if (n === 1) {
      const delta = t - this.lastT;
      this.writeZigzagVarint(delta);
      this.lastDelta = delta;
      this.writeValue(hi, lo);
    } else {
      const delta = t - this.lastT;
      const dod = delta - this.lastDelta;
      if (dod === 0) {
        this.writeBits(0, 1);
      } else if (dod >= -64 && dod <= 63) {
        this.writeBits(0b10, 2);
        this.writeBits(dod & 0x7f, 7);
      } else if (dod >= -8192 && dod <= 8191) {
        this.writeBits(0b110, 3);
        this.writeBits(dod & 0x3fff, 14);
      } else if (dod >= -524288 && dod <= 524287) {
        this.writeBits(0b1110, 4);
        this.writeBits(dod & 0xfffff, 20);
      } else {
        this.writeBits(0b1111, 4);
        const dhi = Math.floor(dod / TWO_32);
        this.writeBits(dhi >>> 0, 32);
        this.writeBits((dod - dhi * TWO_32) >>> 0, 32);
      }
      this.lastDelta = delta;
      this.writeValue(hi, lo);
    }
    this.lastT = t;
    this.count = n + 1;
  }

  /** A compact, immutable copy of the encoded chunk (count header filled in). */
  bytes(): Uint8Array {
    const len = (this.bitPos + 7) >>> 3;
    const out = this.buf.slice(0, len);
    out[0] = this.count >>> 8;
    out[1] = this.count & 0xff;
    return out;
  }

  /** Bytes the chunk would occupy once sealed. */
  get byteLength(): number {
    return (this.bitPos + 7) >>> 3;
  }

  private writeValue(hi: number, lo: number): void {
    hi >>>= 0;
    lo >>>= 0;
    const xhi = (hi ^ this.lastHi) >>> 0;
    const xlo = (lo ^ this.lastLo) >>> 0;
    this.lastHi = hi;
    this.lastLo = lo;
    if (xhi === 0 && xlo === 0) {
      this.writeBits(0, 1);
      return;
    }
    let lead = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const trail = xlo !== 0 ? ctz32(xlo) : 32 + ctz32(xhi);
    if (lead > 31) lead = 31;
    if (this.leading !== 0xff && lead >= this.leading && trail >= this.trailing) {
      this.writeBits(0b10, 2);
      this.writeShifted(xhi, xlo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = lead;
    this.trailing = trail;
    const sig = 64 - lead - trail;
    this.writeBits(0b11, 2);
    this.writeBits(lead, 5);
    this.writeBits(sig & 63, 6);
    this.writeShifted(xhi, xlo, trail, sig);
  }

  /** Writes the low `n` bits of (hi:lo) >> shift. */
  private writeShifted(hi: number, lo: number, shift: number, n: number): void {
    let shi: number;
    let slo: number;
    if (shift === 0) {
      shi = hi;
      slo = lo;
    } else if (shift >= 32) {
      shi = 0;
      slo = hi >>> (shift - 32);
    } else {
      slo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
      shi = hi >>> shift;
    }
    if (n > 32) {
      const h = n - 32;
      this.writeBits(h === 32 ? shi : shi & ((1 << h) - 1), h);
      this.writeBits(slo, 32);
    } else {
      this.writeBits(n === 32 ? slo : slo & ((1 << n) - 1), n);
    }
  }

  private writeZigzagVarint(x: number): void {
    let z = x >= 0 ? x * 2 : -x * 2 - 1;
    while (z >= 128) {
      this.writeBits((z % 128) | 128, 8);
      z = Math.floor(z / 128);
    }
    this.writeBits(z, 8);
  }

  /** Writes the low n (≤ 32) bits of v, most significant first. */
  private writeBits(v: number, n: number): void {
    const buf = this.buf;
    let pos = this.bitPos;
    while (n > 0) {
      const free = 8 - (pos & 7);
      const take = n < free ? n : free;
      const bits = (v >>> (n - take)) & ((1 << take) - 1);
      buf[pos >>> 3]! |= bits << (free - take);
      pos += take;
      n -= take;
    }
    this.bitPos = pos;
  }
}

export function chunkSampleCount(bytes: Uint8Array): number {
  return (bytes[0]! << 8) | bytes[1]!;
}

/**
 * `n` bits (1..32) of `bytes` starting at bit `pos` (most significant first), as an unsigned
 * number. Reads a 40-bit window at once instead of looping per byte: bytes past the end read as
 * zeros (a chunk's buffer is zero-filled beyond what was written).
 */
function bitsAt(bytes: Uint8Array, pos: number, n: number): number {
  const k = pos >>> 3;
  const shift = pos & 7;
  const w = ((bytes[k]! << 24) | (bytes[k + 1]! << 16) | (bytes[k + 2]! << 8) | bytes[k + 3]!) >>> 0;
  const top = shift === 0 ? w : ((w << shift) | (bytes[k + 4]! >>> (8 - shift))) >>> 0;
  return n === 32 ? top : top >>> (32 - n);
}

/** Where the last zigzagVarintAt ended. */
let varintEndBit = 0;

/** A zigzag varint written bytewise (not byte-aligned) at bit `pos`; sets varintEndBit. */
function zigzagVarintAt(bytes: Uint8Array, pos: number): number {
  let z = 0;
  let mul = 1;
  for (;;) {
    const b = bitsAt(bytes, pos, 8);
    pos += 8;
    z += (b & 127) * mul;
    if (b < 128) break;
    mul *= 128;
  }
  varintEndBit = pos;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/**
 * Decodes a chunk into `outT` and the value words `outW` (a Uint32Array view of a Float64Array:
 * little-endian, lo word at 2i, hi word at 2i+1) starting at index `off`. Returns the count.
 * The bit position is a local and bits are read through `bitsAt` (no closures over state):
 * this decodes every query's newest samples.
 */
export function decodeXorChunk(
  bytes: Uint8Array,
  outT: Float64Array,
  outW: Uint32Array,
  off: number,
  count: number = chunkSampleCount(bytes),
): number {
  let pos = HEADER_BYTES * 8;
  let t = 0;
  let delta = 0;
  let hi = 0;
  let lo = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      t = zigzagVarintAt(bytes, pos);
      pos = varintEndBit;
      hi = bitsAt(bytes, pos, 32);
      lo = bitsAt(bytes, pos + 32, 32);
      pos += 64;
    } else {
      if (i === 1) {
        delta = zigzagVarintAt(bytes, pos);
        pos = varintEndBit;
      } else {
        // Prefix code: 0 | 10+7 bits | 110+14 | 1110+20 | 1111+64. Peek 4 bits at once.
        const p4 = bitsAt(bytes, pos, 4);
        let dod: number;
        if (p4 < 8) {
          dod = 0;
          pos += 1;
        } else if (p4 < 12) {
          dod = (bitsAt(bytes, pos + 2, 7) << 25) >> 25;
          pos += 9;
        } else if (p4 < 14) {
          dod = (bitsAt(bytes, pos + 3, 14) << 18) >> 18;
          pos += 17;
        } else if (p4 === 14) {
          dod = (bitsAt(bytes, pos + 4, 20) << 12) >> 12;
          pos += 24;
        } else {
          const dhi = bitsAt(bytes, pos + 4, 32) | 0;
          dod = dhi * TWO_32 + bitsAt(bytes, pos + 36, 32);
          pos += 68;
        }
        delta += dod;
      }
      t += delta;
      // Value: 0 (same) | 10 + meaningful bits in the previous window | 11 + 5 + 6 + bits.
      const p2 = bitsAt(bytes, pos, 2);
      if (p2 < 2) pos += 1;
      else {
        pos += 2;
        if (p2 === 3) {
          leading = bitsAt(bytes, pos, 5);
          let sig = bitsAt(bytes, pos + 5, 6);
          pos += 11;
          if (sig === 0) sig = 64;
          trailing = 64 - leading - sig;
        }
        const sig = 64 - leading - trailing;
        let xhi = 0;
        let xlo: number;
        if (sig > 32) {
          xhi = bitsAt(bytes, pos, sig - 32);
          xlo = bitsAt(bytes, pos + sig - 32, 32);
        } else {
          xlo = bitsAt(bytes, pos, sig);
        }
        pos += sig;
        if (trailing >= 32) {
          xhi = xlo << (trailing - 32);
          xlo = 0;
        } else if (trailing > 0) {
          xhi = (xhi << trailing) | (xlo >>> (32 - trailing));
          xlo = xlo << trailing;
        }
        hi = (hi ^ xhi) >>> 0;
        lo = (lo ^ xlo) >>> 0;
      }
    }
    const j = off + i;
    outT[j] = t;
    outW[2 * j] = lo;
    outW[2 * j + 1] = hi;
  }
  return count;
}

/** Decodes a whole chunk into fresh arrays (values keep their exact bits). */
export function decodeChunkArrays(bytes: Uint8Array): { timestamps: Float64Array; values: Float64Array } {
  const n = chunkSampleCount(bytes);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  decodeXorChunk(bytes, timestamps, new Uint32Array(values.buffer), 0);
  return { timestamps, values };
}
