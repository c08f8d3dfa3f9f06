/**
 * The columnar wire form of many series, used by the write and select protocols. Label strings
 * go into one table of unique strings (names and values repeat across series), each series is a
 * run of string-table indexes, and all timestamps and values are single Float64Arrays carried as
 * bytes (stale-marker bits intact). Encoding and decoding cost a few array operations per series
 * instead of one CBOR object per series.
 */
import type { Label, Labels } from "../model/index.ts";
import { chunkSampleCount, decodeXorChunk, XorChunkBuilder } from "../storage/index.ts";
import { bytesF64, f64Bytes } from "./codec.ts";

export interface WireBatch {
  /** Unique label strings. */
  st: string[];
  /** Per series: number of labels. */
  lc: Uint8Array;
  /** Per label, in series order: name index, value index (into `st`). */
  li: Uint8Array;
  /** Per series: number of samples. */
  sc: Uint8Array;
  /** All timestamps and values, series after series (float64 bytes); absent with `x`. */
  t?: Uint8Array;
  v?: Uint8Array;
  /**
   * Samples as Gorilla (XOR) chunks instead (select answers: ~1-2 bytes per sample instead of
   * 16, which matters because noise encrypts every byte in JavaScript): the chunks' bytes one
   * after the other, and each chunk's length (u32). A series has ceil(samples / XOR_CHUNK) chunks.
   */
  x?: Uint8Array;
  xl?: Uint8Array;
}

/** Samples per XOR chunk on the wire (the chunk header counts up to 65535). */
const XOR_CHUNK = 8192;

export interface BatchSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

function u32Bytes(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function bytesU32(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.byteLength >>> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.byteLength));
  return out;
}

export function encodeBatch(series: readonly BatchSeries[], opts: { xor?: boolean } = {}): WireBatch {
  const table = new Map<string, number>();
  const st: string[] = [];
  const idx = (s: string): number => {
    let i = table.get(s);
    if (i === undefined) {
      i = st.length;
      table.set(s, i);
      st.push(s);
    }
    return i;
  };
  let nLabels = 0;
  let nSamples = 0;
  for (const s of series) {
    nLabels += s.labels.length;
    nSamples += s.timestamps.length;
  }
  const lc = new Uint32Array(series.length);
  const li = new Uint32Array(nLabels * 2);
  const sc = new Uint32Array(series.length);
  const xor = opts.xor === true;
  const t = new Float64Array(xor ? 0 : nSamples);
  const v = new Float64Array(xor ? 0 : nSamples);
  const chunks: Uint8Array[] = [];
  let l = 0;
  let o = 0;
  series.forEach((s, i) => {
    lc[i] = s.labels.length;
    for (const lab of s.labels) {
      li[l++] = idx(lab.name);
      li[l++] = idx(lab.value);
    }
    sc[i] = s.timestamps.length;
    if (xor) {
      const words = new Uint32Array(s.values.buffer, s.values.byteOffset, s.values.length * 2);
      for (let from = 0; from < s.timestamps.length; from += XOR_CHUNK) {
        const b = new XorChunkBuilder();
        const to = Math.min(s.timestamps.length, from + XOR_CHUNK);
        for (let k = from; k < to; k++) b.append(s.timestamps[k]!, words[2 * k + 1]!, words[2 * k]!);
        chunks.push(b.bytes());
      }
      return;
    }
    t.set(s.timestamps, o);
    v.set(s.values, o); // typed-array copy keeps the stale marker's bits
    o += s.timestamps.length;
  });
  const base = { st, lc: u32Bytes(lc), li: u32Bytes(li), sc: u32Bytes(sc) };
  if (!xor) return { ...base, t: f64Bytes(t), v: f64Bytes(v) };
  const xl = new Uint32Array(chunks.length);
  let total = 0;
  chunks.forEach((c, i) => {
    xl[i] = c.length;
    total += c.length;
  });
  const x = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    x.set(c, off);
    off += c.length;
  }
  return { ...base, x, xl: u32Bytes(xl) };
}

export function decodeBatch(b: WireBatch): BatchSeries[] {
  if (!b || !Array.isArray(b.st)) throw new Error("malformed series batch");
  const st = b.st;
  const lc = bytesU32(b.lc);
  const li = bytesU32(b.li);
  const sc = bytesU32(b.sc);
  let total = 0;
  for (let i = 0; i < sc.length; i++) total += sc[i]!;
  let t: Float64Array;
  let v: Float64Array;
  if (b.x instanceof Uint8Array && b.xl instanceof Uint8Array) {
    t = new Float64Array(total);
    v = new Float64Array(total);
    const words = new Uint32Array(v.buffer);
    const xl = bytesU32(b.xl);
    let chunkOff = 0;
    let at = 0;
    for (let c = 0; c < xl.length; c++) {
      const bytes = b.x.subarray(chunkOff, chunkOff + xl[c]!);
      chunkOff += xl[c]!;
      const n = chunkSampleCount(bytes);
      if (at + n > total) throw new Error("malformed series batch: chunks hold more samples than counted");
      decodeXorChunk(bytes, t, words, at, n);
      at += n;
    }
    if (at !== total) throw new Error("malformed series batch: chunks hold fewer samples than counted");
  } else {
    t = bytesF64(b.t ?? new Uint8Array(0));
    v = bytesF64(b.v ?? new Uint8Array(0));
  }
  if (lc.length !== sc.length || t.length !== v.length || t.length !== total) throw new Error("malformed series batch: column lengths differ");
  // Label objects are shared between series of one batch: most pairs repeat.
  const pairCache = new Map<number, Label>();
  const out: BatchSeries[] = new Array(lc.length);
  let l = 0;
  let o = 0;
  for (let i = 0; i < lc.length; i++) {
    const n = lc[i]!;
    const labels: Label[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const ni = li[l++]!;
      const vi = li[l++]!;
      const key = ni * 0x100000 + vi;
      let lab = pairCache.get(key);
      if (!lab) {
        const name = st[ni];
        const value = st[vi];
        if (name === undefined || value === undefined) throw new Error("malformed series batch: bad string index");
        pairCache.set(key, (lab = { name, value }));
      }
      labels[k] = lab;
    }
    const c = sc[i]!;
    if (o + c > t.length) throw new Error("malformed series batch: sample counts exceed the samples");
    out[i] = { labels, timestamps: t.subarray(o, o + c), values: v.subarray(o, o + c) };
    o += c;
  }
  return out;
}
