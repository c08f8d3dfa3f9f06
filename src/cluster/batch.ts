/**
 * The columnar wire form of many series, used by the write and select protocols. Label strings
 * go into one table of unique strings (names and values repeat across series), each series is a
 * run of string-table indexes, and all timestamps and values are single Float64Arrays carried as
 * bytes (stale-marker bits intact). Encoding and decoding cost a few array operations per series
 * instead of one CBOR object per series.
 */
import type { Label, Labels } from "../model/index.ts";
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
  /** All timestamps and values, series after series (float64 bytes). */
  t: Uint8Array;
  v: Uint8Array;
}

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

export function encodeBatch(series: readonly BatchSeries[]): WireBatch {
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
  const t = new Float64Array(nSamples);
  const v = new Float64Array(nSamples);
  let l = 0;
  let o = 0;
  series.forEach((s, i) => {
    lc[i] = s.labels.length;
    for (const lab of s.labels) {
      li[l++] = idx(lab.name);
      li[l++] = idx(lab.value);
    }
    sc[i] = s.timestamps.length;
    t.set(s.timestamps, o);
    v.set(s.values, o); // typed-array copy keeps the stale marker's bits
    o += s.timestamps.length;
  });
  return { st, lc: u32Bytes(lc), li: u32Bytes(li), sc: u32Bytes(sc), t: f64Bytes(t), v: f64Bytes(v) };
}

export function decodeBatch(b: WireBatch): BatchSeries[] {
  if (!b || !Array.isArray(b.st)) throw new Error("malformed series batch");
  const st = b.st;
  const lc = bytesU32(b.lc);
  const li = bytesU32(b.li);
  const sc = bytesU32(b.sc);
  const t = bytesF64(b.t);
  const v = bytesF64(b.v);
  if (lc.length !== sc.length || t.length !== v.length) throw new Error("malformed series batch: column lengths differ");
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
