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

/** Samples in columns, as the distributor collects a commit: run r is [ends[r-1], ends[r]). */
export interface RunColumns {
  readonly labels: readonly Labels[];
  readonly ends: Int32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/**
 * The wire form of the selected runs (all when `runs` is null), straight from the columns: the
 * same batch as encodeBatch would make of them, without a series object or two array views per
 * run, and with no sample copy at all when every run goes (the columns are sent as they are).
 */
export function encodeRuns(p: RunColumns, runs: Int32Array | null, count: number): WireBatch {
  const n = runs === null ? p.labels.length : count;
  const table = new Map<string, number>();
  const st: string[] = [];
  let nLabels = 0;
  let nSamples = 0;
  for (let k = 0; k < n; k++) {
    const r = runs === null ? k : runs[k]!;
    nLabels += p.labels[r]!.length;
    nSamples += p.ends[r]! - (r === 0 ? 0 : p.ends[r - 1]!);
  }
  const lc = new Uint32Array(n);
  const li = new Uint32Array(nLabels * 2);
  const sc = new Uint32Array(n);
  let l = 0;
  for (let k = 0; k < n; k++) {
    const r = runs === null ? k : runs[k]!;
    const labels = p.labels[r]!;
    lc[k] = labels.length;
    for (let j = 0; j < labels.length; j++) {
      const lab = labels[j]!;
      let ni = table.get(lab.name);
      if (ni === undefined) {
        ni = st.length;
        table.set(lab.name, ni);
        st.push(lab.name);
      }
      let vi = table.get(lab.value);
      if (vi === undefined) {
        vi = st.length;
        table.set(lab.value, vi);
        st.push(lab.value);
      }
      li[l++] = ni;
      li[l++] = vi;
    }
    sc[k] = p.ends[r]! - (r === 0 ? 0 : p.ends[r - 1]!);
  }
  let t: Float64Array;
  let v: Float64Array;
  if (runs === null) {
    t = p.timestamps.subarray(0, nSamples);
    v = p.values.subarray(0, nSamples);
  } else {
    t = new Float64Array(nSamples);
    v = new Float64Array(nSamples);
    // Runs are short (one sample per series in remote write): copy element by element, values
    // as their two 32-bit words (a NaN read as a number would lose the stale marker's bits).
    const fromT = p.timestamps;
    const fromW = new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2);
    const toW = new Uint32Array(v.buffer);
    let o = 0;
    for (let k = 0; k < n; k++) {
      const r = runs[k]!;
      const b = p.ends[r]!;
      for (let i = r === 0 ? 0 : p.ends[r - 1]!; i < b; i++, o++) {
        t[o] = fromT[i]!;
        toW[2 * o] = fromW[2 * i]!;
        toW[2 * o + 1] = fromW[2 * i + 1]!;
      }
    }
  }
  return { st, lc: u32Bytes(lc), li: u32Bytes(li), sc: u32Bytes(sc), t: f64Bytes(t), v: f64Bytes(v) };
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
