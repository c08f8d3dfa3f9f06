/**
 * Backfill: storing samples of any age — older than the head, inside its range, overlapping data
 * already held — for hand-off between cluster nodes. The design follows Prometheus's
 * out-of-order support:
 *   1. each call is checked against what is held (head, backfill store, blocks): a sample whose
 *      timestamp is already held is dropped — identical or not, the data already held wins;
 *   2. what is new is written to the backfill log (wbl/, backfill-log.ts) as one record and
 *      merged into the in-memory backfill store (backfill-store.ts), a query source of its own;
 *      the call resolves once the record is fsync'd (concurrent calls share an fsync);
 *   3. when the store passes `flushSamples`, on a head cut and on close, it is frozen (still
 *      queried) and written out as one block per window it touches (see windowsOf), marked with
 *      Prometheus's "from-out-of-order" hint; the log segments it covered are then deleted and
 *      the compactor merges those blocks with overlapping ones (mergeSamples drops duplicates).
 * The head never sees backfilled samples, so live appends are never refused because of them.
 */
import { AppendError, labelsKey, type Labels, type Logger } from "../model/index.ts";
import { BackfillLog } from "./backfill-log.ts";
import { BackfillStore } from "./backfill-store.ts";
import { writeBlock, Block } from "./block.ts";
import type { Head } from "./head.ts";
import type { QuerySource } from "./source.ts";
import { newULID } from "./ulid.ts";
import { join } from "node:path";
import { rmSync } from "node:fs";

/** Prometheus's meta.json hint for blocks written from out-of-order data. */
export const BACKFILL_HINT = "from-out-of-order";
/** Samples held in memory before the backfill store is written out as blocks. */
export const DEFAULT_BACKFILL_FLUSH_SAMPLES = 4_000_000;

export interface SeriesData {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

export interface BackfillResult {
  /** Series in the call (after merging repeated label sets). */
  series: number;
  /** Samples newly stored. */
  samples: number;
  /** Samples already held with the same value bits (stored once). */
  duplicates: number;
  /** Samples whose timestamp was already held with other value bits (the held value was kept). */
  conflicts: number;
}

/** Backfill counters since the process started (stats() carries them). */
export interface BackfillStats {
  /** Samples newly stored by backfill(). */
  samplesBackfilled: number;
  /** Series that got new samples, counted once per call. */
  seriesBackfilled: number;
  /** Samples already held with the same bits (stored once). */
  backfillDuplicates: number;
  /** Samples whose timestamp was already held with other bits (the held value was kept). */
  backfillConflicts: number;
  /** Backfilled samples / series in memory, not yet written as blocks (incl. replayed ones). */
  backfillInMemorySamples: number;
  backfillInMemorySeries: number;
  /** Times the backfill store was written out, and the blocks that made. */
  backfillFlushes: number;
  backfillBlocksWritten: number;
  /** Bytes written to the backfill log, and its fsyncs (one may cover several calls). */
  backfillLogBytes: number;
  backfillLogFsyncs: number;
}

/** What the backfiller needs from the database. */
export interface BackfillHost {
  readonly head: Head;
  readonly blocks: readonly Block[];
  readonly opts: { dir: string; blockDurationMs: number };
  /** Compaction ranges, smallest (the block duration) first. */
  readonly ranges: readonly number[];
  readonly logger: Logger;
  /** Runs fn after every earlier exclusive task (compaction, retention, flushes). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Adds freshly written blocks to the served set. */
  addBlocks(blocks: readonly Block[]): void;
}

export function isBackfillBlock(b: Block): boolean {
  return b.meta.compaction.hints?.includes(BACKFILL_HINT) === true;
}

/** A series of a call, sorted and without repeated timestamps, value bits as (lo, hi) words. */
interface Prepared {
  labels: Labels;
  key: string;
  ts: Float64Array;
  words: Uint32Array;
  n: number;
  /** False while ts/words are the caller's arrays (copied before anything is removed). */
  owned: boolean;
}

export class Backfiller {
  active = new BackfillStore();
  /** Stores being written out as blocks: still queried until their blocks are served. */
  private flushing: BackfillStore[] = [];
  readonly log: BackfillLog;
  private pendingFlush: Promise<void> | null = null;
  private readonly counters = {
    samplesBackfilled: 0,
    seriesBackfilled: 0,
    backfillDuplicates: 0,
    backfillConflicts: 0,
    backfillFlushes: 0,
    backfillBlocksWritten: 0,
  };

  constructor(
    private readonly host: BackfillHost,
    readonly flushSamples = DEFAULT_BACKFILL_FLUSH_SAMPLES,
  ) {
    this.log = new BackfillLog(host.opts.dir, host.logger);
  }

  /** Replays the backfill log into the store (readOnly: without repairing it or opening it for writes). */
  open(readOnly: boolean): void {
    const store = this.active;
    this.log.open(
      {
        samples: (labels, ts, words) => {
          store.insert(labels, labelsKey(labels), ts, words, ts.length);
        },
        drop: (labels) => {
          store.remove([labelsKey(labels)]);
        },
      },
      readOnly,
    );
    if (store.samples > 0) this.host.logger.info("backfilled samples restored from the backfill log", { series: store.numSeries, samples: store.samples });
  }

  /** The query sources: stores being flushed, then the active one. */
  sources(): QuerySource[] {
    const out: QuerySource[] = [];
    for (const s of this.flushing) if (s.numSeries > 0) out.push(s);
    if (this.active.numSeries > 0) out.push(this.active);
    return out;
  }

  /** Every store currently holding backfilled samples (for export and drop). */
  stores(): readonly BackfillStore[] {
    return [...this.flushing, this.active];
  }

  stats(): BackfillStats {
    let mem = this.active.samples;
    let memSeries = this.active.numSeries;
    for (const s of this.flushing) {
      mem += s.samples;
      memSeries += s.numSeries;
    }
    return { ...this.counters, backfillInMemorySamples: mem, backfillInMemorySeries: memSeries, backfillLogBytes: this.log.bytesWritten, backfillLogFsyncs: this.log.fsyncs };
  }

  /**
   * Stores the series durably (see the file comment). The whole call is checked before anything
   * is stored: bad input throws AppendError("invalid") and stores nothing.
   */
  async backfill(series: readonly SeriesData[]): Promise<BackfillResult> {
    const prepared = prepare(series);
    const res: BackfillResult = { series: prepared.length, samples: 0, duplicates: 0, conflicts: 0 };
    const toLog: Prepared[] = [];
    for (const p of prepared) {
      this.dropHeld(p, res);
      if (p.n > 0) toLog.push(p);
    }
    if (toLog.length > 0) {
      // Logged (write(2)) and visible in one synchronous step; resolved once fsync'd.
      this.log.logSamples(toLog);
      for (const p of toLog) res.samples += this.active.insert(p.labels, p.key, p.ts, p.words, p.n);
      await this.log.sync();
    }
    this.counters.samplesBackfilled += res.samples;
    this.counters.seriesBackfilled += toLog.length;
    this.counters.backfillDuplicates += res.duplicates;
    this.counters.backfillConflicts += res.conflicts;
    if (this.active.samples >= this.flushSamples) await this.flush();
    return res;
  }

  /**
   * Removes from `p` the samples whose timestamp is already held anywhere (the held data wins),
   * counting identical ones as duplicates and others as conflicts.
   */
  private dropHeld(p: Prepared, res: BackfillResult): void {
    if (p.n === 0) return;
    const mint = p.ts[0]!;
    const maxt = p.ts[p.n - 1]!;
    const held: { ts: Float64Array; words: Uint32Array; n: number }[] = [];
    const hs = this.host.head.find(p.labels);
    if (hs !== undefined && hs.minTime() <= maxt && hs.lastT >= mint) {
      const r = this.host.head.readSamples(hs, mint, maxt);
      if (r !== null) held.push(asWords(r.timestamps, r.values));
    }
    for (const store of this.stores()) {
      const s = store.get(p.key);
      if (s === undefined || s.n === 0 || s.minT > maxt || s.maxT < mint) continue;
      const a = s.lowerBound(mint);
      const b = s.lowerBound(maxt + 1);
      if (b > a) held.push({ ts: s.ts.subarray(a, b), words: s.words.subarray(2 * a, 2 * b), n: b - a });
    }
    for (const blk of this.host.blocks) {
      if (blk.maxT < mint || blk.minT > maxt) continue;
      const id = blk.seriesIdOf(p.labels);
      if (id < 0) continue;
      const r = blk.readSamples(id, mint, maxt);
      if (r !== null) held.push(asWords(r.timestamps, r.values));
    }
    for (const h of held) {
      filterHeld(p, h, res);
      if (p.n === 0) return;
    }
  }

  /**
   * Writes the backfill store out as blocks (one per window it touches, see windowsOf) and deletes the log
   * segments it covered. Concurrent callers share one flush.
   */
  flush(): Promise<void> {
    if (this.pendingFlush !== null) return this.pendingFlush;
    const run = this.host.exclusive(() => this.flushNow()).finally(() => {
      this.pendingFlush = null;
    });
    this.pendingFlush = run;
    return run;
  }

  /** The flush itself; the caller holds the database's exclusive lock. */
  async flushNow(): Promise<void> {
    if (this.active.numSeries === 0) return;
    // Freeze synchronously with the log rotation: the closed segments hold exactly this store.
    const frozen = this.active;
    const upTo = this.log.rotate();
    this.active = new BackfillStore();
    this.flushing.push(frozen);
    const t0 = performance.now();
    const written: Block[] = [];
    try {
      const base = this.host.opts.blockDurationMs;
      // Wide blocks only below what the head holds or will soon hold (its data, else now).
      const headStart = Math.min(this.host.head.minTime(), Date.now());
      const boundary = Math.max(this.host.head.minValidTime, Math.floor(headStart / base) * base - base);
      for (const [a, b] of windowsOf(frozen, base, this.host.ranges, boundary)) {
        const ulid = newULID();
        const meta = await writeBlock(this.host.opts.dir, ulid, a, b, seriesInWindow(frozen, a, b), {
          level: 1,
          sources: [ulid],
          hints: [BACKFILL_HINT],
        });
        if (meta.stats.numSeries === 0) rmSync(join(this.host.opts.dir, ulid), { recursive: true, force: true });
        else written.push(new Block(join(this.host.opts.dir, ulid)));
      }
    } catch (e) {
      // Keep serving the samples from memory; the log still holds them. Merge back so the next
      // flush retries them.
      for (const b of written) rmSync(b.dir, { recursive: true, force: true });
      this.flushing = this.flushing.filter((s) => s !== frozen);
      for (const s of frozen.sortedSeries()) this.active.insert(s.labels, s.key, s.ts, s.words, s.n);
      throw e;
    }
    // Served as blocks and dropped from memory in the same synchronous step.
    this.host.addBlocks(written);
    this.flushing = this.flushing.filter((s) => s !== frozen);
    this.log.truncate(upTo);
    this.counters.backfillFlushes++;
    this.counters.backfillBlocksWritten += written.length;
    this.host.logger.info("backfilled samples written as blocks", {
      blocks: written.length,
      series: frozen.numSeries,
      samples: frozen.samples,
      seconds: ((performance.now() - t0) / 1000).toFixed(3),
    });
  }

  close(): void {
    this.log.close();
  }
}

function asWords(ts: Float64Array, vs: Float64Array): { ts: Float64Array; words: Uint32Array; n: number } {
  return { ts, words: new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2), n: ts.length };
}

/** Drops from p every sample whose timestamp is in h (both sorted). */
function filterHeld(p: Prepared, h: { ts: Float64Array; words: Uint32Array; n: number }, res: BackfillResult): void {
  if (!p.owned) {
    let hit = false;
    for (let i = 0, j = 0; i < p.n && !hit; i++) {
      while (j < h.n && h.ts[j]! < p.ts[i]!) j++;
      hit = j < h.n && h.ts[j] === p.ts[i];
    }
    if (!hit) return;
    p.ts = p.ts.slice(0, p.n);
    p.words = p.words.slice(0, 2 * p.n);
    p.owned = true;
  }
  const ts = p.ts;
  const w = p.words;
  let j = 0;
  let k = 0;
  for (let i = 0; i < p.n; i++) {
    const t = ts[i]!;
    while (j < h.n && h.ts[j]! < t) j++;
    if (j < h.n && h.ts[j] === t) {
      if (h.words[2 * j] === w[2 * i] && h.words[2 * j + 1] === w[2 * i + 1]) res.duplicates++;
      else res.conflicts++;
      continue;
    }
    if (k !== i) {
      ts[k] = t;
      w[2 * k] = w[2 * i]!;
      w[2 * k + 1] = w[2 * i + 1]!;
    }
    k++;
  }
  p.n = k;
}

function invalid(msg: string): never {
  throw new AppendError("invalid", msg);
}

function validateLabels(labels: Labels, where: string): void {
  if (!Array.isArray(labels) || labels.length === 0) invalid(`${where}: empty label set`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (typeof l?.name !== "string" || typeof l.value !== "string") invalid(`${where}: label ${i} is not a {name, value} pair of strings`);
    if (l.name === "") invalid(`${where}: empty label name`);
    if (l.value === "") invalid(`${where}: empty value for label ${l.name}`);
    if (i > 0 && labels[i - 1]!.name >= l.name) invalid(`${where}: labels not sorted or duplicated at ${JSON.stringify(l.name)}`);
  }
}

/**
 * Validates a call and turns each series into sorted columns without repeated timestamps (on a
 * repeat within the call the first sample wins). Repeated label sets are merged. Copies the
 * samples only when they must change: the caller's arrays are never modified.
 */
function prepare(series: readonly SeriesData[]): Prepared[] {
  const out: Prepared[] = [];
  const byKey = new Map<string, number>();
  series.forEach((s, idx) => {
    const where = `series ${idx}`;
    validateLabels(s.labels, where);
    const n = s.timestamps?.length;
    if (!(s.timestamps instanceof Float64Array) || !(s.values instanceof Float64Array)) invalid(`${where}: timestamps and values must be Float64Arrays`);
    if (s.values.length !== n) invalid(`${where}: ${n} timestamps but ${s.values.length} values`);
    for (let i = 0; i < n; i++) {
      if (!Number.isSafeInteger(s.timestamps[i]!)) invalid(`${where}: timestamp ${s.timestamps[i]} is not an integer number of milliseconds`);
    }
    const key = labelsKey(s.labels);
    const srcW = new Uint32Array(s.values.buffer, s.values.byteOffset, n * 2);
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, out.length);
      out.push(sortedCopy(s.labels, key, s.timestamps, srcW, n));
      return;
    }
    // Rare: the same series twice in one call. Concatenate (earlier first) and re-sort.
    const p = out[prev]!;
    const ts = new Float64Array(p.n + n);
    const w = new Uint32Array(2 * (p.n + n));
    ts.set(p.ts.subarray(0, p.n));
    ts.set(s.timestamps, p.n);
    w.set(p.words.subarray(0, 2 * p.n));
    w.set(srcW, 2 * p.n);
    out[prev] = sortedCopy(p.labels, key, ts, w, p.n + n);
  });
  return out;
}

function sortedCopy(labels: Labels, key: string, ts: Float64Array, w: Uint32Array, n: number): Prepared {
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (ts[i]! <= ts[i - 1]!) {
      sorted = false;
      break;
    }
  }
  // Sorted (the usual case): the caller's arrays are used as they are until something is removed.
  if (sorted) return { labels, key, ts, words: w, n, owned: false };
  // Stable sort of the indexes: among equal timestamps the earliest sample comes first and wins.
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const order = Array.from(idx).sort((a, b) => ts[a]! - ts[b]! || a - b);
  const ots = new Float64Array(n);
  const ow = new Uint32Array(2 * n);
  let k = 0;
  for (const i of order) {
    const t = ts[i]!;
    if (k > 0 && ots[k - 1] === t) continue;
    ots[k] = t;
    ow[2 * k] = w[2 * i]!;
    ow[2 * k + 1] = w[2 * i + 1]!;
    k++;
  }
  return { labels, key, ts: ots, words: ow, n: k, owned: true };
}

/**
 * The blocks a flush writes, [start, end) ascending: for each sample the largest aligned window
 * of a compaction range that ends by `boundary` — so a backfill of weeks makes tens of blocks, not
 * hundreds — and block-duration windows past it, in the head's range (they match the blocks the
 * head will cut there). The ranges nest (each a multiple of the previous, aligned to 0), so the
 * chosen windows never overlap.
 */
function windowsOf(store: BackfillStore, base: number, ranges: readonly number[], boundary: number): [number, number][] {
  const wide = [...ranges].sort((x, y) => y - x);
  const windowAt = (t: number): [number, number] => {
    for (const r of wide) {
      const w = Math.floor(t / r) * r;
      if (w + r <= boundary) return [w, w + r];
    }
    const a = Math.floor(t / base) * base;
    return [a, a + base];
  };
  const ends = new Map<number, number>();
  for (const s of store.sortedSeries()) {
    let i = 0;
    while (i < s.n) {
      const [a, b] = windowAt(s.ts[i]!);
      ends.set(a, b);
      i = s.lowerBound(b);
    }
  }
  return [...ends].sort((x, y) => x[0] - y[0]);
}

function* seriesInWindow(store: BackfillStore, a: number, b: number) {
  for (const s of store.sortedSeries()) {
    const i = s.lowerBound(a);
    const j = s.lowerBound(b);
    if (j <= i) continue;
    // Views into the store's columns: the store is frozen while it is written out.
    yield {
      labels: s.labels,
      timestamps: s.ts.subarray(i, j),
      values: new Float64Array(s.words.buffer, s.words.byteOffset + 8 * i, j - i),
    };
  }
}
