/**
 * The head: the in-memory, appendable part of the TSDB. Series are interned by a 32-bit hash of
 * their labels (collisions resolved by comparing labels) and by the identity of the caller's Labels object (the
 * fast path for a scraper that reuses its label sets). Each series owns sealed XOR chunks plus
 * one open chunk builder; chunks never straddle a `chunkRange` boundary so that cutting the
 * head into a block is a matter of taking whole chunks.
 */
import { AppendError, type Appender, type Labels, type Matcher, type RejectReason } from "../model/index.ts";
import { MemPostings, postingsForMatchers } from "./postings.ts";
import { SeriesTable } from "./series-table.ts";
import { XorChunkBuilder, SAMPLES_PER_CHUNK, decodeXorChunk } from "./xor.ts";
import { blockChunkCount, decodeBlockChunk, encodeBlockChunk } from "./blockchunk.ts";
import { ByteWriter } from "./bytes.ts";
import { SampleArena, viewRange } from "./sample-arena.ts";

/** Scratch space for re-encoding a chunk when it is sealed (one at a time, synchronously). */
const sealT = new Float64Array(SAMPLES_PER_CHUNK);
const sealV = new Float64Array(SAMPLES_PER_CHUNK);
const sealW = new Uint32Array(sealV.buffer);
const sealOut = new ByteWriter(4096);

export interface SealedChunk {
  readonly bytes: Uint8Array;
  readonly minT: number;
  readonly maxT: number;
}

/**
 * A head series. It is its own open chunk (it extends the chunk builder, saving an object per
 * series); `lastT`/`lastHi`/`lastLo` are the last committed sample and survive a chunk cut.
 */
export class MemSeries extends XorChunkBuilder {
  /**
   * Sealed chunks, oldest first, packed back to back in one buffer with (minT, maxT, end offset)
   * triples in `sealedMeta` — two typed arrays per series instead of two objects per chunk.
   * Null until the first cut.
   */
  sealedBytes: Uint8Array | null = null;
  sealedMeta: Float64Array | null = null;
  /** First timestamp that no longer fits the open chunk (aligned to the chunk range). */
  chunkEnd = -Infinity;
  /** Latest sample buffered by an uncommitted appender (id pendTx). */
  pendTx = 0;
  pendT = -Infinity;
  pendHi = 0;
  pendLo = 0;
  /** Appenders holding this series; it is not garbage-collected while > 0. */
  pendingAppenders = 0;
  walLogged = false;
  removed = false;
  /** Lookups that missed the identity cache (paces its insertions, see Head.getOrCreate). */
  slowLookups = 0;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    readonly hash: number,
  ) {
    super();
    this.lastT = -Infinity;
  }

  get sealedCount(): number {
    return this.sealedMeta === null ? 0 : this.sealedMeta.length / 3;
  }

  /** The sealed chunks as views into the packed buffer. */
  sealedChunks(): SealedChunk[] {
    const meta = this.sealedMeta;
    const bytes = this.sealedBytes;
    if (meta === null || bytes === null) return [];
    const out: SealedChunk[] = [];
    let start = 0;
    for (let k = 0; k < meta.length; k += 3) {
      const end = meta[k + 2]!;
      out.push({ minT: meta[k]!, maxT: meta[k + 1]!, bytes: bytes.subarray(start, end) });
      start = end;
    }
    return out;
  }

  get sampleCount(): number {
    let n = this.count;
    for (const c of this.sealedChunks()) n += blockChunkCount(c.bytes);
    return n;
  }

  get chunkCount(): number {
    return this.sealedCount + (this.count > 0 ? 1 : 0);
  }

  minTime(): number {
    if (this.sealedMeta !== null) return this.sealedMeta[0]!;
    if (this.count > 0) return this.minT;
    return Infinity;
  }

  /** Appends a sealed chunk (copied into the packed buffer). */
  pushSealed(bytes: Uint8Array, minT: number, maxT: number): void {
    const oldBytes = this.sealedBytes;
    const oldMeta = this.sealedMeta;
    const used = oldBytes === null ? 0 : oldBytes.length;
    const nb = new Uint8Array(used + bytes.length);
    if (oldBytes !== null) nb.set(oldBytes);
    nb.set(bytes, used);
    const nm = new Float64Array((oldMeta === null ? 0 : oldMeta.length) + 3);
    if (oldMeta !== null) nm.set(oldMeta);
    nm[nm.length - 3] = minT;
    nm[nm.length - 2] = maxT;
    nm[nm.length - 1] = used + bytes.length;
    this.sealedBytes = nb;
    this.sealedMeta = nm;
  }

  /** Drops sealed chunks that end before `boundary`; returns how many. */
  dropSealedBefore(boundary: number): number {
    const meta = this.sealedMeta;
    if (meta === null || this.sealedBytes === null) return 0;
    let drop = 0;
    while (drop * 3 < meta.length && meta[drop * 3 + 1]! < boundary) drop++;
    if (drop === 0) return 0;
    if (drop * 3 === meta.length) {
      this.sealedBytes = null;
      this.sealedMeta = null;
      return drop;
    }
    const cut = meta[drop * 3 - 1]!;
    this.sealedBytes = this.sealedBytes.slice(cut);
    const nm = meta.slice(drop * 3);
    for (let k = 2; k < nm.length; k += 3) nm[k] = nm[k]! - cut;
    this.sealedMeta = nm;
    return drop;
  }

  clearSealed(): void {
    this.sealedBytes = null;
    this.sealedMeta = null;
  }

  /**
   * Moves the open chunk to the sealed chunks, re-encoded in the columnar block-chunk format:
   * it needs about a quarter less memory than the XOR bits on real data (scrape jitter, noisy
   * gauges), and a sealed chunk is never appended to again.
   */
  seal(): void {
    const n = this.count;
    if (n === 0) return;
    decodeXorChunk(this.buf, sealT, sealW, 0, n);
    sealOut.pos = 0;
    encodeBlockChunk(sealOut, sealT, sealV, 0, n);
    this.pushSealed(sealOut.result(), this.minT, this.lastT);
    this.resetChunk(false);
  }
}

export interface HeadStats {
  samplesAppended: number;
  seriesCreated: number;
  seriesRemoved: number;
  chunksCreated: number;
  chunksRemoved: number;
  rejected: Record<RejectReason, number>;
}

/** Where a commit is made durable before it becomes visible (the WAL). */
export interface CommitLog {
  logCommit(newSeries: readonly MemSeries[], refs: Int32Array, ts: Float64Array, vals: Float64Array, n: number): void;
}

export interface HeadOptions {
  chunkRange: number;
  log?: CommitLog;
}

const scratchF = new Float64Array(1);
const scratchW = new Uint32Array(scratchF.buffer);

export class Head {
  readonly chunkRange: number;
  log: CommitLog | null;
  private readonly byHash = new SeriesTable();
  /** Series by ref (refs are dense); removed series leave a hole. */
  private readonly byRef: (MemSeries | undefined)[] = [];
  private liveSeries = 0;
  private readonly byIdentity = new WeakMap<Labels, MemSeries>();
  readonly postings = new MemPostings();
  private nextRef = 1;
  private nextTx = 1;
  /** Samples older than this belong to persisted blocks and are refused ("too_old"). */
  minValidTime = -Infinity;
  maxT = -Infinity;
  readonly stats: HeadStats = {
    samplesAppended: 0,
    seriesCreated: 0,
    seriesRemoved: 0,
    chunksCreated: 0,
    chunksRemoved: 0,
    rejected: { out_of_order: 0, duplicate: 0, too_old: 0, invalid: 0 },
  };

  constructor(opts: HeadOptions) {
    this.chunkRange = opts.chunkRange;
    this.log = opts.log ?? null;
  }

  get numSeries(): number {
    return this.liveSeries;
  }

  seriesByRef(ref: number): MemSeries | undefined {
    return this.byRef[ref];
  }

  *allSeries(): Generator<MemSeries> {
    for (const s of this.byRef) if (s !== undefined) yield s;
  }

  /** Finds or creates the series; validates the label set of a new one. */
  getOrCreate(labels: Labels): MemSeries {
    const cached = this.byIdentity.get(labels);
    if (cached !== undefined && !cached.removed) return cached;
    const hash = hashLabels(labels);
    const found = this.lookup(hash, labels);
    if (found !== undefined) {
      // Cache the object on the first sighting and then only every 16th slow lookup: a scraper's
      // reused label object soon gets the fast path (even after it replaced its objects), while
      // a remote-write request's throwaway objects rarely cost a WeakMap insertion.
      if ((found.slowLookups++ & 15) === 0) this.byIdentity.set(labels, found);
      return found;
    }
    validateLabels(labels);
    const s = this.createSeries(this.nextRef++, labels, hash);
    s.slowLookups = 1;
    this.byIdentity.set(labels, s);
    return s;
  }

  /** The live series with exactly these labels, if any (never creates one). */
  find(labels: Labels): MemSeries | undefined {
    const s = this.lookup(hashLabels(labels), labels);
    return s !== undefined && !s.removed ? s : undefined;
  }

  /** Creates a series with a known ref (WAL replay). */
  createWithRef(ref: number, labels: Labels): MemSeries {
    const hash = hashLabels(labels);
    const existing = this.lookup(hash, labels);
    if (existing !== undefined) return existing;
    if (ref >= this.nextRef) this.nextRef = ref + 1;
    const s = this.createSeries(ref, labels, hash);
    s.walLogged = true;
    return s;
  }

  private lookup(hash: number, labels: Labels): MemSeries | undefined {
    const ref = this.byHash.find(hash, (r) => sameLabels(this.byRef[r]!.labels, labels));
    return ref === 0 ? undefined : this.byRef[ref];
  }

  /** Bumped whenever a series is created or removed (lets readers cache series lists). */
  seriesVersion = 0;

  private createSeries(ref: number, labels: Labels, hash: number): MemSeries {
    this.seriesVersion++;
    const s = new MemSeries(ref, labels, hash);
    this.byHash.insert(hash, ref);
    this.byRef[ref] = s;
    this.liveSeries++;
    this.postings.add(ref, labels);
    this.stats.seriesCreated++;
    return s;
  }

  appender(): HeadAppender {
    return new HeadAppender(this, this.nextTx++);
  }

  private readonly bufferPool: AppendBuffers[] = [];

  takeBuffers(): AppendBuffers {
    return this.bufferPool.pop() ?? newBuffers(512);
  }

  releaseBuffers(b: AppendBuffers): void {
    if (b.refs.length <= POOLED_MAX_CAP && this.bufferPool.length < 16) this.bufferPool.push(b);
  }

  /** Appends a committed sample to a series; false when it is out of order (rechecked here). */
  appendCommitted(s: MemSeries, t: number, hi: number, lo: number): boolean {
    if (t <= s.lastT) {
      if (t === s.lastT && hi === s.lastHi && lo === s.lastLo) return true;
      this.stats.rejected[t === s.lastT ? "duplicate" : "out_of_order"]++;
      return false;
    }
    if (s.count === 0) {
      s.chunkEnd = (Math.floor(t / this.chunkRange) + 1) * this.chunkRange;
      this.stats.chunksCreated++;
    } else if (s.count >= SAMPLES_PER_CHUNK || t >= s.chunkEnd) {
      s.seal();
      this.stats.chunksCreated++;
      if (t >= s.chunkEnd) s.chunkEnd = (Math.floor(t / this.chunkRange) + 1) * this.chunkRange;
    }
    // Sets lastT / lastHi / lastLo as well.
    s.append(t, hi, lo);
    if (t < this.minTimeCache) this.minTimeCache = t;
    if (t > this.maxT) this.maxT = t;
    this.stats.samplesAppended++;
    return true;
  }

  /** Adds a sealed chunk read back from a WAL checkpoint (newer than anything the series has). */
  loadChunk(s: MemSeries, minT: number, maxT: number, bytes: Uint8Array): void {
    const n = blockChunkCount(bytes);
    if (minT <= s.lastT || n === 0) return;
    s.seal();
    s.resetChunk(true);
    s.pushSealed(bytes, minT, maxT);
    if (minT < this.minTimeCache) this.minTimeCache = minT;
    const ts = new Float64Array(n);
    const w = new Uint32Array(n * 2);
    decodeBlockChunk(bytes, ts, w, 0);
    s.lastT = ts[n - 1]!;
    s.lastLo = w[2 * n - 2]!;
    s.lastHi = w[2 * n - 1]!;
    if (maxT > this.maxT) this.maxT = maxT;
    this.stats.chunksCreated++;
  }

  /** Series ids matching all matchers (sorted). */
  matchingRefs(matchers: readonly Matcher[]): number[] {
    return postingsForMatchers(this.postings, matchers);
  }

  /** Cached lowest timestamp; NaN when it must be recomputed (after data was dropped). */
  private minTimeCache = Infinity;

  /** Lowest timestamp held in memory (Infinity when empty). Cheap: asked by every query. */
  minTime(): number {
    if (this.minTimeCache === this.minTimeCache) return this.minTimeCache;
    let m = Infinity;
    for (const s of this.byRef) {
      if (s === undefined) continue;
      const t = s.minTime();
      if (t < m) m = t;
    }
    return (this.minTimeCache = m);
  }

  /**
   * Decodes a series' samples in [mint, maxt] (bits preserved) into `arena` (a fresh buffer
   * without one); the answer views the decoded buffer and must not be written.
   */
  readSamples(s: MemSeries, mint: number, maxt: number, arena?: SampleArena): { timestamps: Float64Array; values: Float64Array } | null {
    let total = 0;
    const meta = s.sealedMeta;
    const packed = s.sealedBytes;
    // Sealed chunks overlapping the range, as [start, end) offsets into the packed buffer.
    let first = -1;
    let last = -1;
    if (meta !== null && packed !== null) {
      let start = 0;
      for (let k = 0; k < meta.length; k += 3) {
        const end = meta[k + 2]!;
        if (!(meta[k + 1]! < mint || meta[k]! > maxt)) {
          if (first < 0) first = k;
          last = k;
          total += blockChunkCount(packed.subarray(start, end));
        }
        start = end;
      }
    }
    const withOpen = s.count > 0 && s.lastT >= mint && s.minT <= maxt;
    if (withOpen) total += s.count;
    if (total === 0) return null;
    const { ts, vs, w, off: base } = (arena ?? new SampleArena(0)).reserve(total);
    let off = base;
    if (first >= 0) {
      let start = first === 0 ? 0 : meta![first - 1]!;
      for (let k = first; k <= last; k += 3) {
        const end = meta![k + 2]!;
        off += decodeBlockChunk(packed!.subarray(start, end), ts, w, off, vs);
        start = end;
      }
    }
    if (withOpen) decodeXorChunk(s.buf, ts, w, off, s.count);
    return viewRange(ts, vs, base, base + total, mint, maxt);
  }

  /**
   * Drops everything before `boundary` (now persisted in a block) and garbage-collects series
   * left empty. Samples older than the boundary are refused from now on.
   */
  truncateBefore(boundary: number): void {
    if (boundary > this.minValidTime) this.minValidTime = boundary;
    this.minTimeCache = NaN;
    const dead = new Set<number>();
    for (const s of this.byRef) {
      if (s === undefined) continue;
      this.stats.chunksRemoved += s.dropSealedBefore(boundary);
      if (s.count > 0 && s.lastT < boundary) {
        s.resetChunk(true);
        this.stats.chunksRemoved++;
      }
      if (s.sealedMeta === null && s.count === 0 && s.pendingAppenders === 0) dead.add(s.ref);
    }
    this.removeSeries(dead);
  }

  private removeSeries(dead: Set<number>): void {
    if (dead.size === 0) return;
    this.seriesVersion++;
    this.postings.removeMany(dead, (id) => this.byRef[id]!.labels);
    for (const ref of dead) {
      const s = this.byRef[ref]!;
      s.removed = true;
      this.byRef[ref] = undefined;
      this.liveSeries--;
      this.byHash.remove(s.hash, ref);
      this.stats.seriesRemoved++;
    }
  }

  /** Removes samples in [mint, maxt] from the matching series by re-encoding their chunks. */
  deleteRange(refs: readonly number[], mint: number, maxt: number): void {
    this.minTimeCache = NaN;
    for (const ref of refs) {
      const s = this.byRef[ref];
      if (s === undefined) continue;
      const all = this.readSamples(s, -Infinity, Infinity);
      if (all === null) continue;
      const { timestamps: ts, values: vs } = all;
      let hit = false;
      for (let i = 0; i < ts.length; i++) if (ts[i]! >= mint && ts[i]! <= maxt) hit = true;
      if (!hit) continue;
      this.stats.chunksRemoved += s.chunkCount;
      s.clearSealed();
      s.resetChunk(true);
      s.lastT = -Infinity;
      const w = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
      const appended = this.stats.samplesAppended;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        if (t >= mint && t <= maxt) continue;
        this.appendCommitted(s, t, w[2 * i + 1]!, w[2 * i]!);
      }
      this.stats.samplesAppended = appended;
    }
  }
}

/**
 * FNV-1a over the label names and values (with separators), straight from the strings: no key
 * string is built and nothing is encoded. Only used inside this process (the series table), so it
 * need not match labelsHash; collisions are resolved by comparing labels.
 */
export function hashLabels(labels: Labels): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const n = l.name;
    for (let k = 0; k < n.length; k++) h = Math.imul(h ^ n.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
    const v = l.value;
    for (let k = 0; k < v.length; k++) h = Math.imul(h ^ v.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0xfe, 0x01000193);
  }
  return h >>> 0;
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

function validateLabels(labels: Labels): void {
  if (labels.length === 0) throw new AppendError("invalid", "empty label set");
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l.name === "") throw new AppendError("invalid", "empty label name");
    if (l.value === "") throw new AppendError("invalid", `empty value for label ${l.name}`);
    if (i > 0 && labels[i - 1]!.name >= l.name) {
      throw new AppendError("invalid", `labels not sorted or duplicated at ${JSON.stringify(l.name)}`);
    }
  }
}

/**
 * Buffers samples in growable typed arrays; `commit` writes them to the commit log (WAL) and
 * then into the series. Order and duplicates are checked at append time against the committed
 * state and this appender's own pending samples.
 */
export class HeadAppender implements Appender {
  private b: AppendBuffers = EMPTY_BUFFERS;
  private n = 0;
  private newSeries: MemSeries[] = [];
  private held: MemSeries[] = [];
  private done = false;

  constructor(
    private readonly head: Head,
    private readonly tx: number,
  ) {}

  append(labels: Labels, t: number, v: number, stale?: boolean): void {
    if (this.done) throw new Error("appender already committed or rolled back");
    const head = this.head;
    if (!Number.isSafeInteger(t)) {
      head.stats.rejected.invalid++;
      throw new AppendError("invalid", `timestamp ${t} is not an integer number of milliseconds`);
    }
    let s: MemSeries;
    try {
      s = head.getOrCreate(labels);
    } catch (e) {
      if (e instanceof AppendError) head.stats.rejected[e.reason]++;
      throw e;
    }
    let hi: number;
    let lo: number;
    if (stale === true) {
      hi = 0x7ff00000;
      lo = 0x00000002;
    } else {
      scratchF[0] = v;
      lo = scratchW[0]!;
      hi = scratchW[1]!;
    }
    if (t < head.minValidTime) {
      head.stats.rejected.too_old++;
      throw new AppendError("too_old", `sample at ${t} is older than the head (min valid time ${head.minValidTime})`);
    }
    const own = s.pendTx === this.tx;
    const lastT = own ? s.pendT : s.lastT;
    if (t <= lastT) {
      const lastHi = own ? s.pendHi : s.lastHi;
      const lastLo = own ? s.pendLo : s.lastLo;
      if (t === lastT) {
        if (hi === lastHi && lo === lastLo) return;
        head.stats.rejected.duplicate++;
        throw new AppendError("duplicate", `duplicate sample for timestamp ${t} with a different value`);
      }
      head.stats.rejected.out_of_order++;
      throw new AppendError("out_of_order", `out of order sample at ${t} (last ${lastT})`);
    }
    if (!own) {
      s.pendTx = this.tx;
      s.pendingAppenders++;
      this.held.push(s);
      if (!s.walLogged && !this.newSeries.includes(s)) this.newSeries.push(s);
    }
    s.pendT = t;
    s.pendHi = hi;
    s.pendLo = lo;
    const i = this.n;
    let b = this.b;
    if (i === b.refs.length) b = this.grow();
    b.refs[i] = s.ref;
    b.ts[i] = t;
    b.words[2 * i] = lo;
    b.words[2 * i + 1] = hi;
    b.series[i] = s;
    this.n = i + 1;
  }

  async commit(): Promise<void> {
    this.commitSync();
  }

  /** Writes the batch to the log, then applies it; throws (and applies nothing) if the log fails. */
  commitSync(): void {
    if (this.done) return;
    this.done = true;
    const head = this.head;
    try {
      const b = this.b;
      if (this.n > 0 || this.newSeries.length > 0) {
        head.log?.logCommit(this.newSeries, b.refs, b.ts, b.vals, this.n);
      }
      for (const s of this.newSeries) s.walLogged = true;
      const w = b.words;
      const ser = b.series;
      for (let i = 0; i < this.n; i++) head.appendCommitted(ser[i]!, b.ts[i]!, w[2 * i + 1]!, w[2 * i]!);
    } finally {
      this.release();
    }
  }

  rollback(): void {
    if (this.done) return;
    this.done = true;
    this.release();
  }

  private release(): void {
    for (const s of this.held) {
      s.pendingAppenders--;
      if (s.pendTx === this.tx) s.pendTx = 0;
    }
    this.held = [];
    this.newSeries = [];
    if (this.b !== EMPTY_BUFFERS) {
      this.b.series.fill(undefined, 0, this.n);
      this.head.releaseBuffers(this.b);
      this.b = EMPTY_BUFFERS;
    }
    this.n = 0;
  }

  private grow(): AppendBuffers {
    const old = this.b;
    if (old === EMPTY_BUFFERS) return (this.b = this.head.takeBuffers());
    const b = newBuffers(old.refs.length * 2);
    b.refs.set(old.refs);
    b.ts.set(old.ts);
    b.vals.set(old.vals);
    for (let i = 0; i < this.n; i++) b.series[i] = old.series[i];
    old.series.fill(undefined);
    this.head.releaseBuffers(old);
    return (this.b = b);
  }
}

/** An appender's batch columns; pooled by the head so a commit per scrape allocates nothing. */
export interface AppendBuffers {
  refs: Int32Array;
  ts: Float64Array;
  vals: Float64Array;
  words: Uint32Array;
  series: (MemSeries | undefined)[];
}

function newBuffers(cap: number): AppendBuffers {
  const vals = new Float64Array(cap);
  return { refs: new Int32Array(cap), ts: new Float64Array(cap), vals, words: new Uint32Array(vals.buffer), series: new Array(cap).fill(undefined) };
}

const EMPTY_BUFFERS = newBuffers(0);
const POOLED_MAX_CAP = 1 << 16;
