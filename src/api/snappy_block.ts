/**
 * Snappy block decompression for remote write and remote read. snappyjs does the work, but it
 * trusts the stream: a literal whose 4-byte length has the top bit set turns into a negative
 * length, moves its read position backwards and spins for minutes (a 7-byte body is enough).
 * So every body is first walked once, element by element, without copying: each literal and
 * copy must stay inside the input and the output, and the output must be exactly the declared
 * length. Only a stream that passes is handed to snappyjs.
 */
import * as snappy from "snappyjs";

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

/** Throws SnappyError naming the first element that does not fit. */
function checkBlock(buf: Uint8Array, declared: number): void {
  let pos = preambleLength(buf);
  let out = 0;
  while (pos < buf.length) {
    const at = pos;
    const c = buf[pos++]!;
    const kind = c & 3;
    let len: number;
    if (kind === 0) {
      len = (c >>> 2) + 1;
      if (len > 60) {
        const n = len - 60;
        if (pos + n > buf.length) throw new SnappyError(`literal length at byte ${at} runs past the input`);
        len = 0;
        for (let i = 0; i < n; i++) len += buf[pos + i]! * 2 ** (8 * i);
        len += 1;
        pos += n;
      }
      if (pos + len > buf.length) throw new SnappyError(`literal at byte ${at} runs past the input`);
      pos += len;
    } else {
      let offset: number;
      if (kind === 1) {
        if (pos + 1 > buf.length) throw new SnappyError(`copy at byte ${at} runs past the input`);
        len = ((c >>> 2) & 7) + 4;
        offset = buf[pos]! + ((c >>> 5) << 8);
        pos += 1;
      } else {
        const n = kind === 2 ? 2 : 4;
        if (pos + n > buf.length) throw new SnappyError(`copy at byte ${at} runs past the input`);
        len = (c >>> 2) + 1;
        offset = 0;
        for (let i = 0; i < n; i++) offset += buf[pos + i]! * 2 ** (8 * i);
        pos += n;
      }
      if (offset === 0 || offset > out) throw new SnappyError(`copy at byte ${at} refers to data before the start`);
    }
    out += len;
    if (out > declared) throw new SnappyError(`output exceeds the declared length of ${declared} bytes`);
  }
  if (out !== declared) throw new SnappyError(`output is ${out} bytes, the preamble declared ${declared}`);
}

/** Decompresses a snappy block of at most `maxLength` decoded bytes; throws SnappyError. */
export function uncompressBlock(buf: Uint8Array, maxLength: number): Uint8Array {
  const declared = snappyDecodedLength(buf);
  if (declared < 0) throw new SnappyError("bad length preamble");
  if (declared > maxLength) throw new SnappyError(`decoded length ${declared} exceeds the limit of ${maxLength} bytes`);
  checkBlock(buf, declared);
  return snappy.uncompress(buf, maxLength);
}
