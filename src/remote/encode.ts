/**
 * Remote write 1.0 request bodies (prometheus.WriteRequest, prompb/types.proto) written straight
 * from columnar batches into one reused byte buffer: no message objects. A series' labels are
 * encoded once, when the queue first sees the series (`encodeLabels`), and copied into every
 * request that carries it. Values are copied as their two 32-bit halves, never as JS numbers,
 * so a staleness marker's NaN bits reach the receiver unchanged.
 */
import type { Labels } from "../model/index.ts";

const utf8 = new TextEncoder();

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** int64 varint length of a (possibly negative) millisecond timestamp. */
function int64Length(n: number): number {
  return n < 0 ? 10 : varintLength(n);
}

/** A growable output buffer; `bytes()` is a view valid until the next `reset`. */
export class ProtoWriter {
  buf = new Uint8Array(64 * 1024);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(n: number): void {
    const b = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    b[p++] = n;
    this.pos = p;
  }

  int64(n: number): void {
    if (n >= 0) return this.varint(n);
    // Two's complement over 64 bits, ten bytes: rare (timestamps before 1970).
    let v = BigInt.asUintN(64, BigInt(n));
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80n) {
      b[p++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    b[p++] = Number(v);
    this.pos = p;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Scratch space for encodeLabels: a series' labels are encoded here, then copied out at their size. */
const labelScratch = new ProtoWriter();

/** The `labels` fields (1) of a TimeSeries for one label set, ready to be copied into requests. */
export function encodeLabels(labels: Labels): Uint8Array {
  const w = labelScratch;
  w.reset();
  for (const l of labels) {
    const name = utf8.encode(l.name);
    const value = utf8.encode(l.value);
    const inner = 1 + varintLength(name.length) + name.length + 1 + varintLength(value.length) + value.length;
    w.ensure(1 + 5 + inner);
    w.buf[w.pos++] = 0x0a;
    w.varint(inner);
    w.buf[w.pos++] = 0x0a;
    w.varint(name.length);
    w.buf.set(name, w.pos);
    w.pos += name.length;
    w.buf[w.pos++] = 0x12;
    w.varint(value.length);
    w.buf.set(value, w.pos);
    w.pos += value.length;
  }
  return w.bytes().slice();
}

/** Samples of one shard's batch: series `refs[i]` (resolved by `labelsOf`), timestamp, value halves. */
export interface BatchColumns {
  readonly refs: Uint32Array;
  readonly timestamps: Float64Array;
  /** Value bits: little-endian low and high 32-bit halves at 2i and 2i+1. */
  readonly values: Uint32Array;
}

/**
 * Writes a WriteRequest holding samples [0, n) of `cols` into `w` (reset first). Consecutive
 * samples of one series share a TimeSeries. Returns the highest timestamp written.
 */
export function encodeSamples(w: ProtoWriter, cols: BatchColumns, n: number, labelsOf: (ref: number) => Uint8Array): number {
  w.reset();
  const { refs, timestamps, values } = cols;
  let highest = -Infinity;
  let i = 0;
  while (i < n) {
    const ref = refs[i]!;
    let j = i + 1;
    while (j < n && refs[j] === ref) j++;
    const labels = labelsOf(ref);
    let samplesLen = 0;
    for (let k = i; k < j; k++) {
      const sampleLen = 9 + 1 + int64Length(timestamps[k]!);
      samplesLen += 1 + varintLength(sampleLen) + sampleLen;
    }
    const seriesLen = labels.length + samplesLen;
    w.ensure(1 + 5 + seriesLen);
    const b = w.buf;
    b[w.pos++] = 0x0a;
    w.varint(seriesLen);
    b.set(labels, w.pos);
    w.pos += labels.length;
    for (let k = i; k < j; k++) {
      const t = timestamps[k]!;
      if (t > highest) highest = t;
      const sampleLen = 9 + 1 + int64Length(t);
      b[w.pos++] = 0x12;
      w.varint(sampleLen);
      b[w.pos++] = 0x09;
      const lo = values[2 * k]!;
      const hi = values[2 * k + 1]!;
      let p = w.pos;
      b[p++] = lo & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = hi & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = hi >>> 24;
      b[p++] = 0x10;
      w.pos = p;
      w.int64(t);
    }
    i = j;
  }
  return highest;
}

/** prompb.MetricMetadata.MetricType numbers by exposition type name. */
const METRIC_TYPES: Record<string, number> = { counter: 1, gauge: 2, histogram: 3, gaugehistogram: 4, summary: 5, info: 6, stateset: 7 };

export interface MetadataEntry {
  readonly metric: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** A WriteRequest carrying only metadata (field 3), as Prometheus's metadata watcher sends it. */
export function encodeMetadata(w: ProtoWriter, entries: readonly MetadataEntry[]): void {
  w.reset();
  for (const m of entries) {
    const name = utf8.encode(m.metric);
    const help = utf8.encode(m.help);
    const unit = utf8.encode(m.unit);
    const type = METRIC_TYPES[m.type] ?? 0;
    const field = (len: number) => (len === 0 ? 0 : 1 + varintLength(len) + len);
    const inner = (type === 0 ? 0 : 2) + field(name.length) + field(help.length) + field(unit.length);
    w.ensure(1 + 5 + inner);
    w.buf[w.pos++] = 0x1a;
    w.varint(inner);
    if (type !== 0) {
      w.buf[w.pos++] = 0x08;
      w.buf[w.pos++] = type;
    }
    for (const [tag, bytes] of [
      [0x12, name],
      [0x22, help],
      [0x2a, unit],
    ] as const) {
      if (bytes.length === 0) continue;
      w.buf[w.pos++] = tag;
      w.varint(bytes.length);
      w.buf.set(bytes, w.pos);
      w.pos += bytes.length;
    }
  }
}
