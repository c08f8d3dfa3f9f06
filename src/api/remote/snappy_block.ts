/**
 * Snappy block decompression for remote write and remote read, in one pass that checks every
 * element as it goes: each literal and copy must stay inside the input and the output, copies
 * may not reach before the start, and the output must be exactly the declared length.
 *
 * Why not snappyjs (still used to compress, and as the reference in tests): it trusts the
 * stream (a literal whose 4-byte length has the top bit set moves its read position backwards
 * and spins for minutes on a 7-byte body), so every body needed a separate checking pass first;
 * and it copies byte by byte. Remote-write bodies are mostly back-references to the previous
 * series' labels, 20-60 bytes each: native `copyWithin` and `set` copy those several times
 * faster. Decompression was an eighth of the node's CPU under remote-write load.
 */
export class SnappyError extends Error {}

/** The uncompressed length from the varint preamble, or -1 when the preamble is malformed. */
export function snappyDecodedLength(buf: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < buf.length && i < 5; i++, shift += 7) {
    const c = buf[i]!;
    result += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return result;
  }
  return -1;
}

function preambleLength(buf: Uint8Array): number {
  let i = 0;
  while (buf[i]! >= 0x80) i++;
  return i + 1;
}

/** Copies shorter than this go byte by byte: a native call costs more than a short loop. */
const NATIVE_COPY_MIN = 16;

/** Decompresses a snappy block of at most `maxLength` decoded bytes; throws SnappyError. */
export function uncompressBlock(buf: Uint8Array, maxLength: number): Uint8Array {
  const declared = snappyDecodedLength(buf);
  if (declared < 0) throw new SnappyError("bad length preamble");
  if (declared > maxLength) throw new SnappyError(`decoded length ${declared} exceeds the limit of ${maxLength} bytes`);
  const inLen = buf.length;
  let pos = preambleLength(buf);
  // No element yields more than 64 bytes from 3 of input (a copy with a 2-byte offset), so a
  // larger declared length is corrupt: refuse it before allocating what a 5-byte body claims.
  if (declared > Math.ceil(((inLen - pos) * 64) / 3)) {
    throw new SnappyError(`the preamble declares ${declared} bytes, more than ${inLen - pos} bytes of input can hold`);
  }
  const out = new Uint8Array(declared);
  let o = 0;
  while (pos < inLen) {
    const at = pos;
    const c = buf[pos++]!;
    const kind = c & 3;
    if (kind === 0) {
      let len = (c >>> 2) + 1;
      if (len > 60) {
        const n = len - 60;
        if (pos + n > inLen) throw new SnappyError(`literal length at byte ${at} runs past the input`);
        len = buf[pos]!;
        if (n > 1) len += buf[pos + 1]! * 0x100;
        if (n > 2) len += buf[pos + 2]! * 0x10000;
        if (n > 3) len += buf[pos + 3]! * 0x1000000;
        len += 1;
        pos += n;
      }
      if (len > inLen - pos) throw new SnappyError(`literal at byte ${at} runs past the input`);
      if (len > declared - o) throw new SnappyError(`output exceeds the declared length of ${declared} bytes`);
      if (len < NATIVE_COPY_MIN) {
        for (let i = 0; i < len; i++) out[o + i] = buf[pos + i]!;
      } else {
        out.set(buf.subarray(pos, pos + len), o);
      }
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= inLen) throw new SnappyError(`copy at byte ${at} runs past the input`);
      len = ((c >>> 2) & 7) + 4;
      offset = buf[pos]! + ((c >>> 5) << 8);
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > inLen) throw new SnappyError(`copy at byte ${at} runs past the input`);
      len = (c >>> 2) + 1;
      offset = buf[pos]! + buf[pos + 1]! * 0x100;
      pos += 2;
    } else {
      if (pos + 4 > inLen) throw new SnappyError(`copy at byte ${at} runs past the input`);
      len = (c >>> 2) + 1;
      offset = buf[pos]! + buf[pos + 1]! * 0x100 + buf[pos + 2]! * 0x10000 + buf[pos + 3]! * 0x1000000;
      pos += 4;
    }
    if (offset === 0 || offset > o) throw new SnappyError(`copy at byte ${at} refers to data before the start`);
    if (len > declared - o) throw new SnappyError(`output exceeds the declared length of ${declared} bytes`);
    const from = o - offset;
    if (len >= NATIVE_COPY_MIN && offset >= len) {
      out.copyWithin(o, from, from + len);
    } else {
      // Overlapping copies repeat the last `offset` bytes: byte order matters.
      for (let i = 0; i < len; i++) out[o + i] = out[from + i]!;
    }
    o += len;
  }
  if (o !== declared) throw new SnappyError(`output is ${o} bytes, the preamble declared ${declared}`);
  return out;
}
