/**
 * Wire encoding between members: one CBOR value per frame, behind a one-byte header that says
 * whether the payload is zstd-compressed (bulk frames are). Sample values travel as the raw bytes
 * of a Float64Array so the staleness marker's NaN bits survive (see model/values.ts).
 */
// The plain entry: cbor-x's node entry loads a native string extractor that crashes under Bun.
import { Encoder } from "cbor-x/encode";

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

const FLAG_ZSTD = 1;
/**
 * The payload is opaque bytes handed to the receiver as they are (a streamed part in a binary
 * format of its own, such as a select frame), not CBOR; never compressed here.
 */
const FLAG_BYTES = 2;
/** Payloads above this size are compressed; below it zstd costs more than it saves. */
const COMPRESS_ABOVE = 32 * 1024;

/** `compress: false` for payloads that carry their own compressed bytes (hand-off batches). */
export function encodeFrame(value: unknown, compress = true): Uint8Array {
  const raw = cbor.encode(value) as Uint8Array;
  if (compress && raw.length > COMPRESS_ABOVE) {
    const z = Bun.zstdCompressSync(raw, { level: 1 });
    const out = new Uint8Array(z.length + 1);
    out[0] = FLAG_ZSTD;
    out.set(z, 1);
    return out;
  }
  const out = new Uint8Array(raw.length + 1);
  out.set(raw, 1);
  return out;
}

/** A frame carrying `bytes` as they are (see FLAG_BYTES). */
export function encodeBytesFrame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = FLAG_BYTES;
  out.set(bytes, 1);
  return out;
}

/** The payload of a frame made by encodeBytesFrame, or null for a CBOR frame. */
export function bytesFramePayload(frame: Uint8Array): Uint8Array | null {
  return frame.length > 0 && frame[0]! & FLAG_BYTES ? frame.subarray(1) : null;
}

export function decodeFrame<T>(frame: Uint8Array): T {
  if (frame.length === 0) throw new Error("empty frame");
  if (frame[0]! & FLAG_BYTES) throw new Error("a bytes frame where a CBOR value was expected");
  const body = frame.subarray(1);
  const raw = frame[0]! & FLAG_ZSTD ? Bun.zstdDecompressSync(body) : body;
  return cbor.decode(raw) as T;
}

/** The bytes of a Float64Array (a view, no copy). */
export function f64Bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A Float64Array holding a copy of the bytes (copied so it is 8-byte aligned). */
export function bytesF64(b: Uint8Array): Float64Array {
  if (b.byteLength % 8 !== 0) throw new Error(`float64 payload of ${b.byteLength} bytes`);
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Labels travel as a flat [name, value, name, value, ...] array. */
export function flattenLabels(labels: readonly { name: string; value: string }[]): string[] {
  const out = new Array<string>(labels.length * 2);
  for (let i = 0; i < labels.length; i++) {
    out[2 * i] = labels[i]!.name;
    out[2 * i + 1] = labels[i]!.value;
  }
  return out;
}

export function unflattenLabels(flat: readonly string[]): { name: string; value: string }[] {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error("malformed label list");
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ name: String(flat[i]), value: String(flat[i + 1]) });
  return out;
}

/** CBOR bytes of a value, without the frame header (hand-off batches compress these with zstd). */
export function encodeCbor(value: unknown): Uint8Array {
  return cbor.encode(value) as Uint8Array;
}

export function decodeCbor<T>(bytes: Uint8Array): T {
  return cbor.decode(bytes) as T;
}
