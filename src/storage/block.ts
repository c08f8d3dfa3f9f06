/**
 * Immutable blocks: <dir>/<ULID>/ holding
 *   meta.json   Prometheus's meta shape (ulid, minTime, maxTime exclusive, stats, compaction)
 *               plus every other file's size (checked at open) and checksum (the index's
 *               xxHash64, checked at open; for chunk files a hash of their frames' checksums);
 *   index       zstd-compressed: symbols, series (labels + chunk refs, sorted by labels so a
 *               series' id is its rank) and postings (label pair → series ids), then xxHash32;
 *   chunks/NNNNNN  block chunks (blockchunk.ts) packed into zstd frames
 *               [compLen][rawLen][xxHash32][zstd bytes], each frame checked on every read;
 *   tombstones  optional deleted intervals per series id (checksummed).
 * A block is written into <ULID>.tmp and renamed into place once complete and fsync'd.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { join } from "node:path";
import { labelsHash32, type HashFilter, type Labels, type Matcher } from "../model/index.ts";
import { ByteReader, checksum, CorruptError } from "./bytes.ts";
import type { SourceSeries } from "./merge.ts";
import { postingsForMatchers, type PostingsReader } from "./postings.ts";
import { namesOf, valuesOf, type QuerySource } from "./source.ts";
import { syncDir } from "./wal.ts";
import { blockChunkCount, decodeBlockChunk } from "./blockchunk.ts";
import { SampleArena, viewRange } from "./sample-arena.ts";
import { decodedArena, decodedKey, dropDecoded, getDecoded, newBlockSerial, putDecoded } from "./decoded-cache.ts";
import {
  FRAME_RAW_BYTES,
  INDEX_MAGIC,
  decodeTombstones,
  encodeTombstones,
  hashFile,
  writeFileSynced,
  type BlockMeta,
  type ChunkData,
  type Tombstones,
} from "./block-format.ts";

export type { BlockMeta, ChunkData, Tombstones, WriteSeries } from "./block-format.ts";
export { writeBlock } from "./block-writer.ts";

const NO_SAMPLES = new Float64Array(0);

/** Damage found in the chunks of block `block` (its directory). */
export class BlockCorruptError extends CorruptError {
  constructor(
    readonly block: string,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes of chunk frames checked between two yields to the event loop. */
const VERIFY_YIELD_BYTES = 4 * 1024 * 1024;

/** Decompressed frames shared by all blocks, bounded by bytes. */
const frameCache = new Map<string, Uint8Array>();
let frameCacheBytes = 0;
const FRAME_CACHE_LIMIT = 64 * 1024 * 1024;

/**
 * A block's postings in flat typed arrays: per label name, its values sorted (strings shared
 * with the symbol table) and one Int32Array of ids with offsets — no object per value.
 */
interface NamePostings {
  values: string[];
  offsets: Int32Array;
  ids: Int32Array;
}

/** The index of the first of the sorted `values` that is ≥ `v` (values.length if none). */
function firstAtOrAfter(values: readonly string[], v: string): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class BlockPostings implements PostingsReader {
  constructor(
    private readonly byName: Map<string, NamePostings>,
    private readonly numSeries: number,
  ) {}
  all(): readonly number[] {
    return Array.from({ length: this.numSeries }, (_, i) => i);
  }
  values(name: string): Iterable<string> {
    return this.byName.get(name)?.values ?? [];
  }
  get(name: string, value: string): ArrayLike<number> {
    const p = this.byName.get(name);
    if (p === undefined) return [];
    const lo = firstAtOrAfter(p.values, value);
    if (p.values[lo] !== value) return [];
    return p.ids.subarray(p.offsets[lo]!, p.offsets[lo + 1]!);
  }
  names(): Iterable<string> {
    return this.byName.keys();
  }
  /** Values are sorted: binary search to the first with the prefix, then read while they have it. */
  *valuesWithPrefix(name: string, prefix: string): Iterable<string> {
    const p = this.byName.get(name);
    if (p === undefined) return;
    for (let i = firstAtOrAfter(p.values, prefix); i < p.values.length && p.values[i]!.startsWith(prefix); i++) yield p.values[i]!;
  }
  /** [name, value, seriesCount] for every pair. */
  *pairs(): Iterable<[string, string, number]> {
    for (const [name, p] of this.byName) {
      for (let i = 0; i < p.values.length; i++) yield [name, p.values[i]!, p.offsets[i + 1]! - p.offsets[i]!];
    }
  }
}

/** An open, verified block. */
export class Block implements QuerySource {
  readonly dir: string;
  readonly meta: BlockMeta;
  /** Series labels as symbol ids (name, value pairs) from labelStart[id]; see labelsOf. */
  private readonly syms: string[];
  private readonly labelStart: Uint32Array;
  private readonly labelSyms: Uint32Array;
  private readonly chunkStart: Uint32Array;
  private readonly cMinT: Float64Array;
  private readonly cMaxT: Float64Array;
  private readonly cFile: Uint32Array;
  private readonly cFrame: Float64Array;
  private readonly cOff: Uint32Array;
  private readonly cLen: Uint32Array;
  readonly postings: BlockPostings;
  tombstones: Tombstones = new Map();
  /** Ring hashes of the series, filled in as a hash-filtered select first needs them. */
  private ringHashes: Uint32Array | null = null;
  private ringHashKnown: Uint8Array | null = null;
  readonly sizeBytes: number;
  /** This block's keys in the decoded-chunk cache. */
  private readonly serial = newBlockSerial();
  /** Queriers using this block; deletion waits for them. */
  refs = 0;
  pendingDelete = false;
  /** Found corrupt after opening: moved aside instead of deleted once unused. */
  quarantined = false;

  /** Opens and verifies a block directory; throws CorruptError (or an fs error) on any damage. */
  constructor(dir: string) {
    this.dir = dir;
    let meta: BlockMeta;
    try {
      meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as BlockMeta;
    } catch (e) {
      throw new CorruptError(`unreadable meta.json: ${(e as Error).message}`);
    }
    if (typeof meta.ulid !== "string" || typeof meta.minTime !== "number" || typeof meta.maxTime !== "number" || typeof meta.files !== "object") {
      throw new CorruptError("meta.json lacks ulid/minTime/maxTime/files");
    }
    this.meta = meta;
    // Sizes of every file now; the index's checksum now (it is read whole anyway); chunk frames'
    // checksums on every read, so opening a large block does not read all of its data.
    let size = 0;
    for (const [name, f] of Object.entries(meta.files)) {
      let actual: number;
      try {
        actual = statSync(join(dir, name)).size;
      } catch {
        throw new CorruptError(`${name} is missing`);
      }
      if (actual !== f.size) throw new CorruptError(`${name}: size ${actual}, expected ${f.size}`);
      size += actual;
    }
    if (meta.files["index"] === undefined) throw new CorruptError("meta.json lists no index file");
    const index = readFileSync(join(dir, "index"));
    if (hashFile(index) !== meta.files["index"].xxhash64) throw new CorruptError("index: checksum mismatch");
    const dv = new DataView(index.buffer, index.byteOffset, index.byteLength);
    if (dv.getUint32(0, true) !== INDEX_MAGIC) throw new CorruptError("index: bad magic");
    if (checksum(index.subarray(0, index.length - 4)) !== dv.getUint32(index.length - 4, true)) {
      throw new CorruptError("index: checksum mismatch");
    }
    const r = new ByteReader(Bun.zstdDecompressSync(index.subarray(5, index.length - 4)));
    const nsym = r.uvarint();
    const syms: string[] = new Array(nsym);
    for (let i = 0; i < nsym; i++) syms[i] = r.str();
    const sym = (i: number) => {
      const s = syms[i];
      if (s === undefined) throw new CorruptError(`index: bad symbol ${i}`);
      return s;
    };
    this.syms = syms;
    const nseries = r.uvarint();
    this.chunkStart = new Uint32Array(nseries + 1);
    this.labelStart = new Uint32Array(nseries + 1);
    const labelSyms: number[] = [];
    const minTs: number[] = [];
    const maxTs: number[] = [];
    const files: number[] = [];
    const frames: number[] = [];
    const offs: number[] = [];
    const lens: number[] = [];
    for (let id = 0; id < nseries; id++) {
      const nl = r.uvarint();
      this.labelStart[id] = labelSyms.length;
      for (let j = 0; j < 2 * nl; j++) {
        const k = r.uvarint();
        sym(k);
        labelSyms.push(k);
      }
      this.chunkStart[id] = minTs.length;
      const nc = r.uvarint();
      let last = meta.minTime;
      for (let j = 0; j < nc; j++) {
        const mn = last + r.varint();
        const mx = mn + r.uvarint();
        minTs.push(mn);
        maxTs.push(mx);
        files.push(r.uvarint());
        frames.push(r.uvarint());
        offs.push(r.uvarint());
        lens.push(r.uvarint());
        last = mx;
      }
    }
    this.chunkStart[nseries] = minTs.length;
    this.labelStart[nseries] = labelSyms.length;
    this.labelSyms = Uint32Array.from(labelSyms);
    this.cMinT = Float64Array.from(minTs);
    this.cMaxT = Float64Array.from(maxTs);
    this.cFile = Uint32Array.from(files);
    this.cFrame = Float64Array.from(frames);
    this.cOff = Uint32Array.from(offs);
    this.cLen = Uint32Array.from(lens);
    const byName = new Map<string, NamePostings>();
    const nnames = r.uvarint();
    for (let i = 0; i < nnames; i++) {
      const name = sym(r.uvarint());
      const nv = r.uvarint();
      const entries: { value: string; ids: Int32Array }[] = [];
      let total = 0;
      for (let j = 0; j < nv; j++) {
        const value = sym(r.uvarint());
        const n = r.uvarint();
        const ids = new Int32Array(n);
        let p = 0;
        for (let k = 0; k < n; k++) {
          ids[k] = p += r.uvarint();
          if (p >= nseries) throw new CorruptError(`index: posting ${p} beyond ${nseries} series`);
        }
        entries.push({ value, ids });
        total += n;
      }
      entries.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      const offsets = new Int32Array(entries.length + 1);
      const ids = new Int32Array(total);
      let o = 0;
      entries.forEach((e, k) => {
        offsets[k] = o;
        ids.set(e.ids, o);
        o += e.ids.length;
      });
      offsets[entries.length] = o;
      byName.set(name, { values: entries.map((e) => e.value), offsets, ids });
    }
    if (r.remaining !== 0) throw new CorruptError("index: trailing bytes");
    this.postings = new BlockPostings(byName, nseries);
    const tombPath = join(dir, "tombstones");
    if (existsSync(tombPath)) {
      const tb = readFileSync(tombPath);
      this.tombstones = decodeTombstones(tb);
      size += tb.length;
    }
    this.sizeBytes = size + statSync(join(dir, "meta.json")).size;
  }

  get ulid(): string {
    return this.meta.ulid;
  }
  get minT(): number {
    return this.meta.minTime;
  }
  /** Inclusive upper bound of the samples (meta maxTime is exclusive). */
  get maxT(): number {
    return this.meta.maxTime - 1;
  }
  get numSeries(): number {
    return this.labelStart.length - 1;
  }

  /**
   * Compares series `id`'s labels with `labels` (compareLabels order) without building them.
   * Used by backfill and export to find a series by binary search over the ids (label order).
   */
  compareSeries(id: number, labels: Labels): number {
    const a = this.labelStart[id]!;
    const na = (this.labelStart[id + 1]! - a) / 2;
    const n = Math.min(na, labels.length);
    for (let i = 0; i < n; i++) {
      const name = this.syms[this.labelSyms[a + 2 * i]!]!;
      const l = labels[i]!;
      if (name !== l.name) return name < l.name ? -1 : 1;
      const value = this.syms[this.labelSyms[a + 2 * i + 1]!]!;
      if (value !== l.value) return value < l.value ? -1 : 1;
    }
    return na - labels.length;
  }

  /** The first series id whose labels are ≥ `labels` (numSeries if none). */
  lowerBoundSeries(labels: Labels): number {
    let lo = 0;
    let hi = this.numSeries;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareSeries(mid, labels) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The id of the series with exactly these labels, or -1. */
  seriesIdOf(labels: Labels): number {
    const id = this.lowerBoundSeries(labels);
    return id < this.numSeries && this.compareSeries(id, labels) === 0 ? id : -1;
  }

  /** The labels of series `id` (built on demand: blocks keep them as symbol ids). */
  labelsOf(id: number): Labels {
    const out: { name: string; value: string }[] = [];
    for (let k = this.labelStart[id]!; k < this.labelStart[id + 1]!; k += 2) {
      out.push({ name: this.syms[this.labelSyms[k]!]!, value: this.syms[this.labelSyms[k + 1]!]! });
    }
    return out;
  }

  /** The frame read last: a series' chunks (and the next series') mostly share a frame. */
  private lastFrameFile = -1;
  private lastFrameOff = -1;
  private lastFrame: Uint8Array | null = null;

  private frame(file: number, off: number): Uint8Array {
    if (off === this.lastFrameOff && file === this.lastFrameFile && this.lastFrame !== null) return this.lastFrame;
    const f = this.cachedFrame(file, off);
    this.lastFrameFile = file;
    this.lastFrameOff = off;
    this.lastFrame = f;
    return f;
  }

  private cachedFrame(file: number, off: number): Uint8Array {
    const key = `${this.dir}\0${file}\0${off}`;
    const hit = frameCache.get(key);
    if (hit !== undefined) {
      frameCache.delete(key);
      frameCache.set(key, hit);
      return hit;
    }
    const fd = openSync(join(this.dir, "chunks", String(file).padStart(6, "0")), "r");
    try {
      const hdr = new Uint8Array(12);
      const corrupt = (what: string) => new BlockCorruptError(this.dir, `block ${this.meta.ulid}: chunk frame at ${off} of chunks/${file}: ${what}`);
      if (readSync(fd, hdr, 0, 12, off) !== 12) throw corrupt("header truncated");
      const dv = new DataView(hdr.buffer);
      const clen = dv.getUint32(0, true);
      const comp = new Uint8Array(clen);
      if (readSync(fd, comp, 0, clen, off + 12) !== clen) throw corrupt("truncated");
      if (checksum(comp) !== dv.getUint32(8, true)) throw corrupt("checksum mismatch");
      const raw = new Uint8Array(Bun.zstdDecompressSync(comp));
      frameCache.set(key, raw);
      frameCacheBytes += raw.length;
      while (frameCacheBytes > FRAME_CACHE_LIMIT && frameCache.size > 1) {
        const [k, v] = frameCache.entries().next().value as [string, Uint8Array];
        frameCache.delete(k);
        frameCacheBytes -= v.length;
      }
      return raw;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads every chunk file whole and checks it: frames that tile the file, each frame's
   * checksum, and the file's checksum in meta.json (a hash of its frames' checksums). Reads are
   * asynchronous and it yields every few MB, so queries go on meanwhile; `stop` ends it early
   * (shutdown). Throws BlockCorruptError naming the file and offset.
   */
  async verifyChunks(stop: () => boolean = () => false): Promise<void> {
    for (const [name, f] of Object.entries(this.meta.files)) {
      if (!name.startsWith("chunks/")) continue;
      const corrupt = (what: string) => new BlockCorruptError(this.dir, `block ${this.meta.ulid}: ${name}: ${what}`);
      const fh = await openFile(join(this.dir, name), "r");
      try {
        const hdr = new Uint8Array(12);
        const dv = new DataView(hdr.buffer);
        let comp = new Uint8Array(FRAME_RAW_BYTES);
        const sums: number[] = [];
        let off = 0;
        let sinceYield = 0;
        while (off < f.size) {
          if (stop()) return;
          if (f.size - off < 12 || (await fh.read(hdr, 0, 12, off)).bytesRead !== 12) throw corrupt(`frame header at ${off} truncated`);
          const clen = dv.getUint32(0, true);
          if (clen > f.size - off - 12) throw corrupt(`frame at ${off} runs past the end of the file`);
          if (comp.length < clen) comp = new Uint8Array(clen);
          if ((await fh.read(comp, 0, clen, off + 12)).bytesRead !== clen) throw corrupt(`frame at ${off} truncated`);
          const sum = dv.getUint32(8, true);
          if (checksum(comp.subarray(0, clen)) !== sum) throw corrupt(`frame at ${off}: checksum mismatch`);
          sums.push(sum);
          off += 12 + clen;
          sinceYield += 12 + clen;
          if (sinceYield >= VERIFY_YIELD_BYTES) {
            sinceYield = 0;
            await new Promise<void>((r) => setImmediate(r));
          }
        }
        if (hashFile(new Uint8Array(Uint32Array.from(sums).buffer)) !== f.xxhash64) throw corrupt("checksum of its frames does not match meta.json");
      } finally {
        await fh.close();
      }
    }
  }

  /** Chunks of a series overlapping [mint, maxt] (no tombstones applied). */
  chunksOf(id: number, mint = -Infinity, maxt = Infinity): ChunkData[] {
    const out: ChunkData[] = [];
    for (let c = this.chunkStart[id]!; c < this.chunkStart[id + 1]!; c++) {
      if (this.cMaxT[c]! < mint || this.cMinT[c]! > maxt) continue;
      out.push({ minT: this.cMinT[c]!, maxT: this.cMaxT[c]!, bytes: this.chunkBytes(c) });
    }
    return out;
  }

  /**
   * Samples of a series in [mint, maxt] with tombstones applied. Only the chunks overlapping the
   * range are decoded, into one buffer; the answer may be a view of it (callers do not mutate).
   */
  readSamples(
    id: number,
    mint: number,
    maxt: number,
    arena?: SampleArena,
    cached = false,
  ): { timestamps: Float64Array; values: Float64Array } | null {
    const c0 = this.chunkStart[id]!;
    const c1 = this.chunkStart[id + 1]!;
    let first = -1;
    let last = -1;
    for (let c = c0; c < c1; c++) {
      if (this.cMaxT[c]! < mint || this.cMinT[c]! > maxt) continue;
      if (first < 0) first = c;
      last = c;
    }
    if (first < 0) return null;
    const ranged = cached ? this.readCached(first, last, mint, maxt) : this.readDecoding(first, last, mint, maxt, arena ?? new SampleArena(0), false);
    const tomb = this.tombstones.get(id);
    if (ranged === null || tomb === undefined) return ranged;
    return dropIntervals(ranged.timestamps, ranged.values, tomb);
  }

  /**
   * Chunks first..last decoded side by side into one arena region, trimmed to [mint, maxt]; with
   * `cache`, each decoded chunk is also put in the decoded-chunk cache (a view of that region).
   */
  private readDecoding(first: number, last: number, mint: number, maxt: number, arena: SampleArena, cache: boolean) {
    let total = 0;
    for (let c = first; c <= last; c++) total += blockChunkCount(this.chunkBytes(c));
    const { ts, vs, w, off: base } = arena.reserve(total);
    let off = base;
    for (let c = first; c <= last; c++) {
      const n = decodeBlockChunk(this.chunkBytes(c), ts, w, off, vs);
      if (cache) putDecoded(decodedKey(this.serial, c), { ts: ts.subarray(off, off + n), vs: vs.subarray(off, off + n) });
      off += n;
    }
    return viewRange(ts, vs, base, base + total, mint, maxt);
  }

  /**
   * The same through the decoded-chunk cache. A series' chunks are decoded side by side, so a
   * range over several of them is still one view, without a copy; chunks cached apart (by
   * queries over other ranges) are decoded again side by side.
   */
  private readCached(first: number, last: number, mint: number, maxt: number) {
    const d0 = getDecoded(decodedKey(this.serial, first));
    if (d0 !== undefined) {
      let n = d0.ts.length;
      let ok = true;
      for (let c = first + 1; c <= last && ok; c++) {
        const d = getDecoded(decodedKey(this.serial, c));
        ok = d !== undefined && adjacent(d0.ts, n, d.ts) && adjacent(d0.vs, n, d.vs);
        if (ok) n += d!.ts.length;
      }
      if (ok) {
        if (first === last) return viewRange(d0.ts, d0.vs, 0, n, mint, maxt);
        const ts = new Float64Array(d0.ts.buffer, d0.ts.byteOffset, n);
        const vs = new Float64Array(d0.vs.buffer, d0.vs.byteOffset, n);
        return viewRange(ts, vs, 0, n, mint, maxt);
      }
    }
    return this.readDecoding(first, last, mint, maxt, decodedArena, true);
  }

  /** The encoded bytes of chunk `c` (a view of its cached frame). */
  private chunkBytes(c: number): Uint8Array {
    const f = this.frame(this.cFile[c]!, this.cFrame[c]!);
    return f.subarray(this.cOff[c]!, this.cOff[c]! + this.cLen[c]!);
  }

  matching(matchers: readonly Matcher[]): number[] {
    return postingsForMatchers(this.postings, matchers);
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false, hashes?: HashFilter): SourceSeries[] {
    return [...this.selectIter(matchers, mint, maxt, labelsOnly, hashes)];
  }

  /**
   * The ring hash (labelsHash32) of series `id`, computed once per series of the block: a block
   * builds label objects afresh for every read, so the per-object cache would never hit.
   */
  ringHash(id: number): number {
    let hashes = this.ringHashes;
    if (hashes === null) {
      hashes = this.ringHashes = new Uint32Array(this.numSeries);
      this.ringHashKnown = new Uint8Array(this.numSeries);
    }
    if (this.ringHashKnown![id] === 0) {
      hashes[id] = labelsHash32(this.labelsOf(id));
      this.ringHashKnown![id] = 1;
    }
    return hashes[id]!;
  }

  /** Series ids are in label order, so matching ids read in order are sorted by labels. */
  *selectIter(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false, hashes?: HashFilter): Generator<SourceSeries> {
    const ids = this.matching(matchers);
    if (labelsOnly) {
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        if (hashes !== undefined && !hashes.has(this.ringHash(id))) continue;
        for (let c = this.chunkStart[id]!; c < this.chunkStart[id + 1]!; c++) {
          if (this.cMaxT[c]! >= mint && this.cMinT[c]! <= maxt) {
            yield { labels: this.labelsOf(id), timestamps: NO_SAMPLES, values: NO_SAMPLES };
            break;
          }
        }
      }
      return;
    }
    const arena = new SampleArena();
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (hashes !== undefined && !hashes.has(this.ringHash(id))) continue;
      const r = this.readSamples(id, mint, maxt, arena, true);
      if (r !== null) yield { labels: this.labelsOf(id), timestamps: r.timestamps, values: r.values };
    }
  }

  labelNames(matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.postings.names();
    return namesOf(this.matching(matchers).map((id) => this.labelsOf(id)));
  }

  labelValues(name: string, matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.postings.values(name);
    return valuesOf(this.matching(matchers).map((id) => this.labelsOf(id)), name);
  }

  /** Adds deleted intervals and persists the tombstones file atomically. */
  addTombstones(ids: readonly number[], mint: number, maxt: number): void {
    for (const id of ids) {
      const list = this.tombstones.get(id) ?? [];
      list.push([mint, maxt]);
      this.tombstones.set(id, list);
    }
    const tmp = join(this.dir, "tombstones.tmp");
    writeFileSynced(tmp, encodeTombstones(this.tombstones));
    renameSync(tmp, join(this.dir, "tombstones"));
    syncDir(this.dir);
  }

  dropFromCache(): void {
    this.lastFrame = null;
    dropDecoded(this.serial, this.cMinT.length);
    for (const [k, v] of frameCache) {
      if (k.startsWith(this.dir + "\0")) {
        frameCache.delete(k);
        frameCacheBytes -= v.length;
      }
    }
  }
}

/** Whether `b` starts right after the first `n` elements of `a` in the same buffer. */
function adjacent(a: Float64Array, n: number, b: Float64Array): boolean {
  return b.buffer === a.buffer && b.byteOffset === a.byteOffset + n * 8;
}

function dropIntervals(
  ts: Float64Array,
  vs: Float64Array,
  ivs: readonly [number, number][],
): { timestamps: Float64Array; values: Float64Array } | null {
  const keep: number[] = [];
  outer: for (let i = 0; i < ts.length; i++) {
    for (const [a, b] of ivs) if (ts[i]! >= a && ts[i]! <= b) continue outer;
    keep.push(i);
  }
  if (keep.length === ts.length) return { timestamps: ts, values: vs };
  if (keep.length === 0) return null;
  const t2 = new Float64Array(keep.length);
  const v2 = new Float64Array(keep.length);
  const w = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const w2 = new Uint32Array(v2.buffer);
  keep.forEach((i, k) => {
    t2[k] = ts[i]!;
    w2[2 * k] = w[2 * i]!;
    w2[2 * k + 1] = w[2 * i + 1]!;
  });
  return { timestamps: t2, values: v2 };
}
