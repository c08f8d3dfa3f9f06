/**
 * Decoder for remote-write 2.0 `io.prometheus.write.v2.Request` messages into the same typed
 * arrays as 1.0 (write_decode.ts), so that everything after decoding is shared.
 *
 * A 2.0 request names strings once, in its `symbols` table, and series refer to them by index
 * (`labels_refs`: name, value, name, value, …). The label cache is keyed by the referenced
 * strings' bytes, written into a scratch buffer, so that a series seen before costs no string
 * decoding whatever its indexes are in this request. Keys start with a zero byte, which no 1.0
 * label field can (field number 0 is illegal), so a 2.0 key never matches a 1.0 entry: 2.0
 * sorts labels as Prometheus does, 1.0 refuses unsorted ones.
 *
 * Schema (prometheus/prompb/io/prometheus/write/v2/types.proto): Request { repeated string
 * symbols = 4; repeated TimeSeries timeseries = 5; } TimeSeries { repeated uint32 labels_refs = 1;
 * repeated Sample samples = 2; repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
 * Metadata metadata = 5; } Sample { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }.
 * Exemplars and metadata are read past; native histograms are counted (not stored).
 */
import type { Labels } from "../../model/index.ts";
import { buildLabels, readSample, Reader, SampleBuffer, WriteDecodeError, type DecodedWrite, type LabelsCache } from "./write_decode.ts";

/** Grows a scratch array to at least `n` elements, keeping its content. */
function ensure<T extends Uint8Array | Uint32Array>(a: T, n: number, make: (len: number) => T): T {
  if (a.length >= n) return a;
  const b = make(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

let refScratch = new Uint32Array(64);
let keyScratch = new Uint8Array(1024);

function writeVarint(buf: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[at++] = n;
  return at;
}

/** Reads labels_refs of one TimeSeries (packed, or one varint per field) into refScratch. */
function readRefs(r: Reader, wireType: number, count: number): number {
  if (wireType === 0) {
    refScratch = ensure(refScratch, count + 1, (n) => new Uint32Array(n));
    refScratch[count++] = r.uint32();
    return count;
  }
  const n = r.len();
  const end = r.pos + n;
  const outer = r.end;
  r.end = end; // a varint may not run past the packed field
  while (r.pos < end) {
    refScratch = ensure(refScratch, count + 1, (n) => new Uint32Array(n));
    refScratch[count++] = r.uint32();
  }
  r.end = outer;
  return count;
}

/** Decodes a 2.0 Request; throws WriteDecodeError naming the first problem. */
export function decodeWriteRequestV2(buf: Uint8Array, cache?: LabelsCache): DecodedWrite {
  const r = new Reader(buf, buf.length);
  // Symbols may come after the series on the wire: a first pass finds both.
  const symStart: number[] = [];
  const symEnd: number[] = [];
  const tsStart: number[] = [];
  const tsEnd: number[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 4 && wt === 2) {
      const n = r.len();
      symStart.push(r.pos);
      symEnd.push(r.pos + n);
      r.pos += n;
    } else if (field === 5 && wt === 2) {
      const n = r.len();
      tsStart.push(r.pos);
      tsEnd.push(r.pos + n);
      r.pos += n;
    } else if (field === 0) r.fail("illegal field number 0");
    else r.skip(wt);
  }
  const nSym = symStart.length;
  const symbols: (string | undefined)[] = new Array(nSym);
  const symbol = (ref: number): string => {
    let s = symbols[ref];
    if (s === undefined) {
      r.pos = symStart[ref]!;
      s = symbols[ref] = r.string(symEnd[ref]! - symStart[ref]!);
    }
    return s;
  };

  const series: Labels[] = [];
  const ids: number[] = [];
  const offsets: number[] = [0];
  const samples = new SampleBuffer(Math.max(64, Math.min(1 << 16, buf.length >>> 5)));
  let histogramCount = 0;
  for (let i = 0; i < tsStart.length; i++) {
    const start = tsStart[i]!;
    const end = tsEnd[i]!;
    r.pos = start;
    r.end = end;
    const first = samples.n;
    let refs = 0;
    let histograms = 0;
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && (wt === 2 || wt === 0)) refs = readRefs(r, wt, refs);
      else if (field === 2 && wt === 2) {
        const n = r.len();
        readSample(r, r.pos + n, samples);
      } else if (field === 3 && wt === 2) {
        histograms++;
        const n = r.len();
        r.pos += n;
      } else if (field === 0) r.fail("illegal field number 0");
      else r.skip(wt);
    }
    r.end = buf.length;
    const where = `timeseries[${i}]`;
    if (refs % 2 !== 0) throw new WriteDecodeError(`${where}: labels_refs has an odd length (${refs}); it holds name and value pairs`);
    for (let k = 0; k < refs; k++) {
      if (refScratch[k]! >= nSym) throw new WriteDecodeError(`${where}: labels_refs[${k}] = ${refScratch[k]} is outside the symbols table (size ${nSym})`);
    }
    if (samples.n === first && histograms === 0) throw new WriteDecodeError(`${where}: a series must contain at least one sample or histogram`);
    histogramCount += histograms;

    const decode = (): Labels => {
      const pairs: [string, string][] = [];
      for (let k = 0; k < refs; k += 2) pairs.push([symbol(refScratch[k]!), symbol(refScratch[k + 1]!)]);
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return buildLabels(pairs, i);
    };
    let labels: Labels;
    let id = -1;
    if (cache) {
      // Key: 0x00, then per label the name's and the value's length and bytes.
      let at = 1;
      let need = 1;
      for (let k = 0; k < refs; k++) need += 5 + symEnd[refScratch[k]!]! - symStart[refScratch[k]!]!;
      keyScratch = ensure(keyScratch, need, (n) => new Uint8Array(n));
      keyScratch[0] = 0;
      for (let k = 0; k < refs; k++) {
        const ref = refScratch[k]!;
        const from = symStart[ref]!;
        const to = symEnd[ref]!;
        at = writeVarint(keyScratch, at, to - from);
        keyScratch.set(buf.subarray(from, to), at);
        at += to - from;
      }
      const key = keyScratch.subarray(0, at);
      const hash = Bun.hash.xxHash32(key) | 0;
      const e = cache.get(key, hash) ?? cache.set(key, hash, decode());
      labels = e.labels;
      id = e.id;
    } else labels = decode();
    if (samples.n > first) {
      series.push(labels);
      ids.push(id);
      offsets.push(samples.n);
    }
  }
  return {
    series,
    offsets: Int32Array.from(offsets),
    timestamps: samples.timestamps,
    values: samples.values,
    sampleCount: samples.n,
    ids: cache ? Int32Array.from(ids) : null,
    histogramCount,
    metadataCount: 0,
  };
}
