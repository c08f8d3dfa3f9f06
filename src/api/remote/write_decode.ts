/**
 * Decoder for remote-write 1.0 `WriteRequest` protobuf messages, straight into typed arrays.
 *
 * Why not protobufjs' generated decoder here: it materialises an object per sample and reads
 * doubles into JS numbers, which erases the bits of Prometheus's staleness NaN (see
 * model/values.ts). This decoder walks the wire format once, copies each sample's 8 value bytes
 * verbatim into a Float64Array, and validates everything (wire types, lengths, UTF-8, label
 * names and order) before the caller appends anything, so a rejected payload stores nothing.
 * The schema is the one in proto.ts (prometheus/prompb/remote.proto and types.proto).
 */
import { METRIC_NAME, type Label, type Labels } from "../../model/index.ts";

export class WriteDecodeError extends Error {}

export interface DecodedWrite {
  /** Label sets, one per series that has samples. */
  series: Labels[];
  /** Samples of series i are at [offsets[i], offsets[i+1]). */
  offsets: Int32Array;
  timestamps: Float64Array;
  /** Exact value bits, staleness markers included (test with isStaleAt). */
  values: Float64Array;
  sampleCount: number;
  /**
   * With a cache: each series' id in it (see LabelsCache), or -1 for a label set the cache did
   * not take (label fields not contiguous). Lets a decoding worker send ids instead of labels.
   */
  ids: Int32Array | null;
  /** Native histogram samples present in the payload (not supported, not stored). */
  histogramCount: number;
  metadataCount: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    public end: number,
  ) {}

  fail(what: string): never {
    throw new WriteDecodeError(`${what} at byte ${this.pos}`);
  }

  /** A varint up to 32 bits (tags and lengths); larger values are an error. */
  uint32(): number {
    const b = this.buf;
    let result = 0;
    let shift = 0;
    while (shift < 35) {
      if (this.pos >= this.end) this.fail("unexpected end of data in varint");
      const c = b[this.pos++]!;
      result += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) {
        if (result > 0xffffffff) this.fail("varint overflows 32 bits");
        return result;
      }
      shift += 7;
    }
    return this.fail("varint overflows 32 bits");
  }

  /** An int64 varint as a JS number (exact within ±2^53). */
  int64(): number {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; ; i++) {
      if (i >= 10) this.fail("varint longer than 10 bytes");
      if (this.pos >= this.end) this.fail("unexpected end of data in varint");
      const c = b[this.pos++]!;
      if (i < 4) lo |= (c & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >>> 4;
      } else hi |= (c & 0x7f) << (7 * i - 32);
      if (c < 0x80) break;
    }
    lo >>>= 0;
    if (hi & 0x80000000) {
      // Two's complement negative.
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      return -(nhi * 4294967296 + nlo);
    }
    return (hi >>> 0) * 4294967296 + lo;
  }

  /** Length of a length-delimited field, checked against the enclosing message. */
  len(): number {
    const n = this.uint32();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end of the message`);
    return n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.int64();
        return;
      case 1:
        if (this.end - this.pos < 8) this.fail("unexpected end of data in fixed64");
        this.pos += 8;
        return;
      case 2: {
        const n = this.len();
        this.pos += n;
        return;
      }
      case 5:
        if (this.end - this.pos < 4) this.fail("unexpected end of data in fixed32");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  string(n: number): string {
    const b = this.buf;
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      if (n <= 24) {
        let s = "";
        for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
        return s;
      }
      return utf8.decode(b.subarray(start, end));
    }
    try {
      return utf8.decode(b.subarray(start, end));
    } catch {
      return this.fail("invalid UTF-8 in string");
    }
  }
}

/** Growable pair of sample arrays shared by all series of one request (both protocol versions). */
export class SampleBuffer {
  timestamps: Float64Array;
  values: Float64Array;
  bytes: Uint8Array;
  n = 0;
  constructor(cap: number) {
    this.timestamps = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.bytes = new Uint8Array(this.values.buffer);
  }
  grow(): void {
    const cap = this.timestamps.length * 2;
    const t = new Float64Array(cap);
    t.set(this.timestamps);
    const v = new Float64Array(cap);
    // Copy bits through a byte view: a NaN must never pass through a JS number.
    new Uint8Array(v.buffer).set(this.bytes);
    this.timestamps = t;
    this.values = v;
    this.bytes = new Uint8Array(v.buffer);
  }
}

function readLabel(r: Reader, msgEnd: number): [string, string] {
  const outerEnd = r.end;
  r.end = msgEnd;
  let name = "";
  let value = "";
  while (r.pos < msgEnd) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) name = r.string(r.len());
    else if (field === 2 && wt === 2) value = r.string(r.len());
    else if (field === 0) r.fail("illegal field number 0");
    else r.skip(wt);
  }
  r.end = outerEnd;
  return [name, value];
}

export function readSample(r: Reader, msgEnd: number, out: SampleBuffer): void {
  if (out.n === out.timestamps.length) out.grow();
  const i = out.n;
  const outerEnd = r.end;
  r.end = msgEnd;
  let t = 0;
  let haveValue = false;
  while (r.pos < msgEnd) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 1) {
      if (msgEnd - r.pos < 8) r.fail("unexpected end of data in sample value");
      const o = i * 8;
      const b = r.buf;
      const p = r.pos;
      if (LITTLE_ENDIAN) {
        const d = out.bytes;
        d[o] = b[p]!;
        d[o + 1] = b[p + 1]!;
        d[o + 2] = b[p + 2]!;
        d[o + 3] = b[p + 3]!;
        d[o + 4] = b[p + 4]!;
        d[o + 5] = b[p + 5]!;
        d[o + 6] = b[p + 6]!;
        d[o + 7] = b[p + 7]!;
      } else {
        for (let k = 0; k < 8; k++) out.bytes[o + k] = b[p + 7 - k]!;
      }
      r.pos += 8;
      haveValue = true;
    } else if (field === 2 && wt === 0) {
      t = r.int64();
    } else if (field === 0) r.fail("illegal field number 0");
    else r.skip(wt);
  }
  if (!haveValue) out.values[i] = 0;
  out.timestamps[i] = t;
  out.n = i + 1;
  r.end = outerEnd;
}

/** Checks and builds a label set: metric name present, names valid and unique, sorted. */
export function buildLabels(pairs: [string, string][], seriesIndex: number): Labels {
  const where = `timeseries[${seriesIndex}]`;
  const out: Label[] = [];
  let prev = "";
  let hasName = false;
  for (let k = 0; k < pairs.length; k++) {
    const [name, value] = pairs[k]!;
    if (name === "") throw new WriteDecodeError(`${where}: empty label name`);
    if (k > 0) {
      if (name === prev) throw new WriteDecodeError(`${where}: duplicate label name ${JSON.stringify(name)}`);
      if (name < prev) {
        throw new WriteDecodeError(`${where}: labels are not sorted by name (${JSON.stringify(name)} after ${JSON.stringify(prev)})`);
      }
    }
    prev = name;
    if (name === METRIC_NAME) {
      if (value === "") throw new WriteDecodeError(`${where}: empty metric name`);
      hasName = true;
    }
    // An empty value means the label is absent, as everywhere in Prometheus.
    if (value !== "") out.push({ name, value });
  }
  if (!hasName) throw new WriteDecodeError(`${where}: series without a metric name (__name__ label)`);
  return out;
}

interface CacheEntry {
  readonly bytes: Uint8Array;
  readonly labels: Labels;
  readonly id: number;
  /** Another label set whose bytes share the hash. */
  readonly next: CacheEntry | null;
}

/**
 * Label sets by the raw bytes of their label fields. A sender repeats the same series in every
 * request, byte for byte, so a hit skips string decoding and validation, and hands storage the
 * same `Labels` object each time (which the head and the distributor look up by identity).
 * Bounded: when full it starts over, which costs one decode per series.
 *
 * Each entry also gets a small integer id (0, 1, 2, … within an epoch; the epoch changes when
 * the cache starts over). With `trackFresh`, the entries added since the last `takeFresh()` are
 * kept, so that a decoding worker can tell the request thread each new label set (and its
 * bytes) once and then only its id.
 */
export class LabelsCache {
  // Native hashing and comparison of the raw bytes (a JavaScript loop over the bytes measured
  // twice as slow); small-integer keys keep the Map fast.
  private map = new Map<number, CacheEntry>();
  private nextId = 0;
  private fresh: CacheEntry[] = [];
  /** Incremented each time the cache starts over (ids restart at 0). */
  epoch = 0;
  hits = 0;
  misses = 0;
  constructor(
    readonly maxEntries = 1 << 20,
    private readonly trackFresh = false,
  ) {}

  get(bytes: Uint8Array, hash: number): CacheEntry | undefined {
    for (let e = this.map.get(hash) ?? null; e !== null; e = e.next) {
      if (e.bytes.length === bytes.length && Buffer.compare(e.bytes, bytes) === 0) {
        this.hits++;
        return e;
      }
    }
    return undefined;
  }

  set(bytes: Uint8Array, hash: number, labels: Labels): CacheEntry {
    this.misses++;
    if (this.nextId >= this.maxEntries) {
      this.map = new Map();
      this.nextId = 0;
      this.fresh = [];
      this.epoch++;
    }
    const e: CacheEntry = { bytes: bytes.slice(), labels, id: this.nextId++, next: this.map.get(hash) ?? null };
    this.map.set(hash, e);
    if (this.trackFresh) this.fresh.push(e);
    return e;
  }

  /** Entries added since the last call, in id order: the first has id `firstId`. */
  takeFresh(): { epoch: number; firstId: number; entries: readonly { bytes: Uint8Array; labels: Labels }[] } {
    const entries = this.fresh;
    this.fresh = [];
    return { epoch: this.epoch, firstId: this.nextId - entries.length, entries };
  }
}

/** Decodes the label fields (field 1) found in [start, end) of a TimeSeries message. */
function decodeLabels(r: Reader, start: number, end: number, seriesIndex: number): Labels {
  const savedPos = r.pos;
  const savedEnd = r.end;
  r.pos = start;
  r.end = end;
  const pairs: [string, string][] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 2)) {
      const n = r.len();
      pairs.push(readLabel(r, r.pos + n));
    } else r.skip(tag & 7);
  }
  r.pos = savedPos;
  r.end = savedEnd;
  return buildLabels(pairs, seriesIndex);
}

/** Decodes a WriteRequest; throws WriteDecodeError naming the first problem. */
export function decodeWriteRequest(buf: Uint8Array, cache?: LabelsCache): DecodedWrite {
  const r = new Reader(buf, buf.length);
  const series: Labels[] = [];
  const ids: number[] = [];
  const offsets: number[] = [0];
  // A series with its labels takes some 60+ bytes; a larger request grows the buffer.
  const samples = new SampleBuffer(Math.max(64, Math.min(1 << 16, buf.length >>> 6)));
  let histogramCount = 0;
  let metadataCount = 0;
  let seriesIndex = 0;
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const tsLen = r.len();
      const tsStart = r.pos;
      const tsEnd = tsStart + tsLen;
      const outerEnd = r.end;
      r.end = tsEnd;
      const first = samples.n;
      // The label fields' byte range, when they are contiguous (as every encoder writes them).
      let labelStart = -1;
      let labelEnd = -1;
      let scattered = false;
      while (r.pos < tsEnd) {
        const fieldStart = r.pos;
        const t2 = r.uint32();
        const f2 = t2 >>> 3;
        const w2 = t2 & 7;
        if (f2 === 1 && w2 === 2) {
          const n = r.len();
          if (labelStart < 0) labelStart = fieldStart;
          else if (labelEnd !== fieldStart) scattered = true;
          r.pos += n;
          labelEnd = r.pos;
        } else if (f2 === 2 && w2 === 2) {
          const n = r.len();
          readSample(r, r.pos + n, samples);
        } else if (f2 === 4 && w2 === 2) {
          histogramCount++;
          const n = r.len();
          r.pos += n;
        } else if (f2 === 0) r.fail("illegal field number 0");
        else r.skip(w2);
      }
      r.end = outerEnd;
      let labels: Labels;
      let id = -1;
      if (cache && !scattered && labelStart >= 0) {
        const bytes = buf.subarray(labelStart, labelEnd);
        const hash = Bun.hash.xxHash32(bytes) | 0;
        let e = cache.get(bytes, hash);
        e ??= cache.set(bytes, hash, decodeLabels(r, labelStart, labelEnd, seriesIndex));
        labels = e.labels;
        id = e.id;
      } else {
        labels = decodeLabels(r, tsStart, tsEnd, seriesIndex);
      }
      if (samples.n > first) {
        series.push(labels);
        ids.push(id);
        offsets.push(samples.n);
      }
      seriesIndex++;
    } else if (field === 3 && wt === 2) {
      metadataCount++;
      const n = r.len();
      r.pos += n;
    } else if (field === 0) r.fail("illegal field number 0");
    else r.skip(wt);
  }
  return {
    series,
    offsets: Int32Array.from(offsets),
    timestamps: samples.timestamps,
    values: samples.values,
    sampleCount: samples.n,
    ids: cache ? Int32Array.from(ids) : null,
    histogramCount,
    metadataCount,
  };
}
