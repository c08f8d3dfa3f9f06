/**
 * The binary frame of a select answer (/shoal/select/2): one frame per batch of series, laid out
 * as columns of typed arrays so that decoding is one native zstd call, a handful of typed-array
 * views and one pass over the samples: no object per sample and no CBOR value per series.
 *
 * Samples are two columns for the whole batch: timestamps as differences from the previous
 * sample (series after series), and values as the XOR of each value's 64 bits with the
 * previous one's (so the staleness marker's NaN bits travel exactly). Both leave mostly zero
 * bytes for zstd to squeeze (under 2 bytes a sample on typical data, less than Gorilla chunks,
 * at a fraction of their CPU: every byte between members is also encrypted by noise in
 * JavaScript, so bytes are CPU too). Label strings go once into a string table (names and
 * values repeat across series); a series' labels are pairs of indexes into it. A CRC32 over
 * everything after the header's checksum field catches a corrupt frame before any of it is
 * believed.
 *
 * Layout, little-endian:
 *
 *   header (40 bytes)   u32 magic "SSF1" | u32 layout version | u32 crc32 of bytes [12, end)
 *                       | u32 series S | u32 strings N | u32 label pairs P | u32 samples T
 *                       | u32 string bytes B | u32 flags | u32 compressed body bytes Z
 *   zstd(body), Z bytes, where the body is:
 *     f64[T]            timestamps: each minus the one before it (the first as is); with flag
 *                       RAW_TIMESTAMPS (a timestamp that is not an exact integer) as they are
 *     u32[2T]           value words (lo, hi), each XORed with the previous value's
 *     u32[N + 1]        string offsets into the string bytes (the last is B)
 *     u32[S]            labels per series
 *     u32[2P]           name index, value index per label, series after series
 *     u32[S]            samples per series
 *     u8[B]             UTF-8 of every string, one after the other
 */
import type { Label, Series } from "../model/index.ts";

/** "SSF1" read as a little-endian u32. */
const MAGIC = 0x31465353;
const LAYOUT_VERSION = 1;
const HEADER_BYTES = 40;
/** Flag: the timestamp column holds the timestamps themselves, not differences. */
const RAW_TIMESTAMPS = 1;
/** zstd's fastest level: the columns are already mostly zero bytes. */
const ZSTD_LEVEL = 1;

/**
 * Limits of one frame: a few MB once compressed, and a body (16 bytes a sample before
 * compression) that the sender and the receiver hold at once without strain.
 */
const MAX_SERIES_PER_FRAME = 2000;
const MAX_SAMPLES_PER_FRAME = 1 << 20;

/** A select frame that cannot be believed: truncated, inconsistent, or failing its checksum. */
export class SelectFrameError extends Error {
  constructor(message: string) {
    super(`corrupt select frame: ${message}`);
    this.name = "SelectFrameError";
  }
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** A growable byte buffer for the string bytes, whose size is known only after encoding. */
class Bytes {
  buf = new Uint8Array(1024);
  length = 0;
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.length + n, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/** Encodes a batch of series (labels, increasing timestamps, values with their exact bits). */
export function encodeSelectFrame(series: readonly Series[]): Uint8Array {
  const table = new Map<string, number>();
  const strings = new Bytes();
  const offsets: number[] = [0];
  const index = (s: string): number => {
    let i = table.get(s);
    if (i === undefined) {
      i = offsets.length - 1;
      table.set(s, i);
      // Worst case 3 bytes per UTF-16 unit.
      strings.reserve(s.length * 3);
      strings.length += utf8.encodeInto(s, strings.buf.subarray(strings.length)).written;
      offsets.push(strings.length);
    }
    return i;
  };
  const S = series.length;
  let P = 0;
  let T = 0;
  for (const s of series) {
    P += s.labels.length;
    T += s.timestamps.length;
  }
  const labelCounts = new Uint32Array(S);
  const labelIndexes = new Uint32Array(P * 2);
  const sampleCounts = new Uint32Array(S);
  let l = 0;
  for (let i = 0; i < S; i++) {
    const s = series[i]!;
    labelCounts[i] = s.labels.length;
    for (const lab of s.labels) {
      labelIndexes[l++] = index(lab.name);
      labelIndexes[l++] = index(lab.value);
    }
    sampleCounts[i] = s.timestamps.length;
  }
  const N = offsets.length - 1;
  const B = strings.length;
  const body = new ArrayBuffer(16 * T + 4 * (N + 1) + 8 * S + 8 * P + B);
  const times = new Float64Array(body, 0, T);
  const words = new Uint32Array(body, 8 * T, 2 * T);
  let flags = 0;
  let o = 0;
  let prevT = 0;
  // The running sum the decoder will compute: where it does not give back a timestamp exactly
  // (not integer milliseconds), the timestamps travel as they are.
  let sum = 0;
  let exact = true;
  let prevLo = 0;
  let prevHi = 0;
  for (const s of series) {
    const n = s.timestamps.length;
    const ts = s.timestamps;
    // Values as their two 32-bit words: a NaN read as a number could lose the stale marker's bits.
    const vw = new Uint32Array(s.values.buffer, s.values.byteOffset, 2 * n);
    for (let i = 0; i < n; i++, o++) {
      const t = ts[i]!;
      const d = t - prevT;
      times[o] = d;
      sum += d;
      if (sum !== t) exact = false;
      prevT = t;
      const lo = vw[2 * i]!;
      const hi = vw[2 * i + 1]!;
      words[2 * o] = lo ^ prevLo;
      words[2 * o + 1] = hi ^ prevHi;
      prevLo = lo;
      prevHi = hi;
    }
  }
  if (!exact) {
    flags |= RAW_TIMESTAMPS;
    o = 0;
    for (const s of series) {
      times.set(s.timestamps, o);
      o += s.timestamps.length;
    }
  }
  let at = 16 * T;
  const put = (a: Uint32Array): void => {
    new Uint32Array(body, at, a.length).set(a);
    at += a.byteLength;
  };
  put(Uint32Array.from(offsets));
  put(labelCounts);
  put(labelIndexes);
  put(sampleCounts);
  new Uint8Array(body, at, B).set(strings.buf.subarray(0, B));
  const z = Bun.zstdCompressSync(new Uint8Array(body), { level: ZSTD_LEVEL });
  const out = new Uint8Array(HEADER_BYTES + z.length);
  const dv = new DataView(out.buffer);
  const head = [MAGIC, LAYOUT_VERSION, 0, S, N, P, T, B, flags, z.length];
  head.forEach((v, i) => dv.setUint32(4 * i, v, true));
  out.set(z, HEADER_BYTES);
  dv.setUint32(8, Bun.hash.crc32(out.subarray(12)) >>> 0, true);
  return out;
}

/** The frames of a whole answer, in order: cut by series and samples (a series is never split). */
export function* selectFrames(series: readonly Series[]): Generator<Uint8Array> {
  let from = 0;
  while (from < series.length) {
    let to = from;
    let samples = 0;
    while (to < series.length && to - from < MAX_SERIES_PER_FRAME) {
      const n = series[to]!.timestamps.length;
      if (to > from && samples + n > MAX_SAMPLES_PER_FRAME) break;
      samples += n;
      to++;
    }
    yield encodeSelectFrame(series.slice(from, to));
    from = to;
  }
}

export interface DecodedSelectFrame {
  /** Series in frame order; their timestamps and values are views of two arrays per frame. */
  series: Series[];
  samples: number;
}

/**
 * Decodes a frame; throws SelectFrameError naming what is wrong when it is not a whole,
 * consistent frame. Label objects are shared between series of the frame (most pairs repeat).
 */
export function decodeSelectFrame(frame: Uint8Array): DecodedSelectFrame {
  if (frame.byteLength < HEADER_BYTES) throw new SelectFrameError(`${frame.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const u32 = (i: number): number => dv.getUint32(4 * i, true);
  if (u32(0) !== MAGIC) throw new SelectFrameError("bad magic (not a select frame)");
  if (u32(1) !== LAYOUT_VERSION) throw new SelectFrameError(`layout version ${u32(1)}, this node reads ${LAYOUT_VERSION}`);
  const S = u32(3);
  const N = u32(4);
  const P = u32(5);
  const T = u32(6);
  const B = u32(7);
  const flags = u32(8);
  const Z = u32(9);
  if (HEADER_BYTES + Z !== frame.byteLength) throw new SelectFrameError(`header describes ${HEADER_BYTES + Z} bytes, the frame has ${frame.byteLength}`);
  if (flags & ~RAW_TIMESTAMPS) throw new SelectFrameError(`unknown flags ${flags}`);
  if ((Bun.hash.crc32(frame.subarray(12)) >>> 0) !== u32(2)) throw new SelectFrameError("checksum mismatch");
  const bodyBytes = 16 * T + 4 * (N + 1) + 8 * S + 8 * P + B;
  let raw: Uint8Array;
  try {
    raw = Bun.zstdDecompressSync(frame.subarray(HEADER_BYTES));
  } catch (err) {
    throw new SelectFrameError(`body does not decompress: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (raw.byteLength !== bodyBytes) throw new SelectFrameError(`body of ${raw.byteLength} bytes, the header describes ${bodyBytes}`);
  // The columns are read through views, which need an 8-byte aligned start. (A copy made with
  // the constructor: Buffer's slice() would be a view.)
  const body = raw.byteOffset % 8 === 0 ? raw : new Uint8Array(raw);
  const buf = body.buffer;
  let at = body.byteOffset;
  const times = new Float64Array(buf, at, T);
  const values = new Float64Array(buf, at + 8 * T, T);
  const words = new Uint32Array(buf, at + 8 * T, 2 * T);
  at += 16 * T;
  const view = (n: number): Uint32Array => {
    const a = new Uint32Array(buf, at, n);
    at += 4 * n;
    return a;
  };
  const offsets = view(N + 1);
  const labelCounts = view(S);
  const labelIndexes = view(2 * P);
  const sampleCounts = view(S);
  const stringBytes = new Uint8Array(buf, at, B);

  const strings = new Array<string>(N);
  for (let i = 0; i < N; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (from > to || to > B) throw new SelectFrameError(`string ${i} spans [${from}, ${to}) outside the ${B} string bytes`);
    try {
      strings[i] = utf8Strict.decode(stringBytes.subarray(from, to));
    } catch {
      throw new SelectFrameError(`string ${i} is not valid UTF-8`);
    }
  }
  let countedPairs = 0;
  let countedSamples = 0;
  for (let i = 0; i < S; i++) {
    countedPairs += labelCounts[i]!;
    countedSamples += sampleCounts[i]!;
  }
  if (countedPairs !== P) throw new SelectFrameError(`series hold ${countedPairs} labels, the header says ${P}`);
  if (countedSamples !== T) throw new SelectFrameError(`series hold ${countedSamples} samples, the header says ${T}`);

  // Undo the differences and XORs in place: the decompressed body becomes the sample columns.
  if (!(flags & RAW_TIMESTAMPS)) {
    let t = 0;
    for (let i = 0; i < T; i++) times[i] = t += times[i]!;
  }
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 2 * T; i += 2) {
    lo = (lo ^ words[i]!) >>> 0;
    hi = (hi ^ words[i + 1]!) >>> 0;
    words[i] = lo;
    words[i + 1] = hi;
  }

  const pairCache = new Map<number, Label>();
  const series = new Array<Series>(S);
  let l = 0;
  let o = 0;
  for (let i = 0; i < S; i++) {
    const n = labelCounts[i]!;
    const labels: Label[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const ni = labelIndexes[l++]!;
      const vi = labelIndexes[l++]!;
      if (ni >= N || vi >= N) throw new SelectFrameError(`series ${i} refers to string ${Math.max(ni, vi)} of ${N}`);
      const key = ni * N + vi;
      let lab = pairCache.get(key);
      if (!lab) pairCache.set(key, (lab = { name: strings[ni]!, value: strings[vi]! }));
      labels[k] = lab;
    }
    const c = sampleCounts[i]!;
    series[i] = { labels, timestamps: times.subarray(o, o + c), values: values.subarray(o, o + c) };
    o += c;
  }
  return { series, samples: T };
}
