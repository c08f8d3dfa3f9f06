/**
 * The local TSDB: a head (with its WAL) plus immutable blocks on disk, behind the Appendable /
 * Queryable interfaces of model/storage.ts. Background maintenance (every minute) cuts the head
 * into blocks, compacts blocks and applies retention, one task at a time.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  nopLogger,
  type Appendable,
  type Appender,
  type Labels,
  type Logger,
  type Matcher,
  type Querier,
  type Queryable,
  type RejectReason,
} from "../model/index.ts";
import { Block, BlockCorruptError, writeBlock, type BlockMeta } from "./block.ts";
import { CorruptError } from "./bytes.ts";
import { blockRanges, headSeriesForBlock, mergedBlockSeries, planCompaction } from "./compact.ts";
import { Head, type MemSeries } from "./head.ts";
import { blockChunkCount, decodeBlockChunk } from "./blockchunk.ts";
import { HeadSource } from "./head-source.ts";
import { StorageQuerier } from "./querier.ts";
import type { QuerySource } from "./source.ts";
import { computeStatus, type TSDBStatus } from "./status.ts";
import { isULID, newULID } from "./ulid.ts";
import { encodeHeadSnapshot } from "./head-snapshot.ts";
import { WAL } from "./wal.ts";
import { DirLock } from "./dir-lock.ts";
import { withDefaultObservers, type TSDBObservers } from "./observers.ts";
import { BACKFILL_HINT, Backfiller, DEFAULT_BACKFILL_FLUSH_SAMPLES, isBackfillBlock, type BackfillResult, type BackfillStats, type SeriesData } from "./backfill.ts";
import { exportSeries, summarizeSeries, type ExportOptions, type SeriesSummary, type SummaryOptions, type WalkSources } from "./export.ts";
import { dropMatchingSeries } from "./drop.ts";

export interface TSDBOptions {
  dir: string;
  /** Blocks whose data is older than this (relative to the newest data) are deleted; 15d. */
  retentionMs?: number;
  /** Oldest blocks are deleted while the blocks and the WAL take more bytes; 0 = off. */
  retentionBytes?: number;
  /** Span of a block cut from the head; 2h. */
  blockDurationMs?: number;
  /** Longest span compaction builds; 0 (default): 10% of the retention time, at most 31 days. */
  maxBlockDurationMs?: number;
  /** How often the WAL is fsync'd; 1000 ms. 0: fsync before every commit resolves (slow, safest). */
  walFsyncIntervalMs?: number;
  /** Backfilled samples held in memory before they are written out as blocks; 4M. */
  backfillFlushSamples?: number;
  logger?: Logger;
  /** Where durations and sizes are reported as they are measured (the node's own metrics). */
  observers?: Partial<TSDBObservers>;
}

export interface TSDBStats extends BackfillStats {
  headSeries: number;
  headChunks: number;
  headMinTime: number;
  headMaxTime: number;
  samplesAppended: number;
  seriesCreated: number;
  seriesRemoved: number;
  rejected: Record<RejectReason, number>;
  walBytes: number;
  walSegments: number;
  walFsyncs: number;
  walFsyncSeconds: number;
  walCorruptions: number;
  walReplaySeconds: number;
  /** Blocks written (head ranges persisted, merges, rewrites), failed attempts included. */
  compactions: number;
  /** Maintenance runs that failed. */
  compactionsFailed: number;
  /** Maintenance runs started (head cut, compaction, retention). */
  compactionsTriggered: number;
  headCuts: number;
  walWrites: number;
  walWritesFailed: number;
  walTruncations: number;
  walTruncationsFailed: number;
  walCheckpointCreations: number;
  walCheckpointCreationsFailed: number;
  walCheckpointDeletions: number;
  walCheckpointDeletionsFailed: number;
  walSegmentCurrent: number;
  blocks: number;
  blockBytes: number;
  blocksCorrupted: number;
  retentionDeletions: number;
  sizeRetentionDeletions: number;
  tombstones: number;
  /** Series removed by dropSeries. */
  seriesDropped: number;
}

export interface TSDB extends Appendable, Queryable {
  /** Stops background work, checkpoints the head into the WAL (fast next start) and fsyncs it. */
  close(): Promise<void>;
  stats(): TSDBStats;
  status(limit: number): TSDBStatus;
  deleteSeries(matchers: Matcher[], mint: number, maxt: number): Promise<void>;
  cleanTombstones(): Promise<void>;
  /**
   * Stores samples of any age (older than the head, inside its range, overlapping data already
   * held). Resolves once durable (written and fsync'd) and visible to queries. A sample whose
   * timestamp the series already holds is not stored again: identical bits count as
   * `duplicates`, other bits as `conflicts` — the data already held wins. Throws
   * AppendError("invalid") for bad input, storing nothing. `samples`: samples newly stored.
   */
  backfill(series: readonly SeriesData[]): Promise<BackfillResult>;
  /**
   * Every series held (head, blocks, backfilled) passing `filter`, with its samples in
   * [mint, maxt] merged, sorted by labels, in batches of about `batchSamples` samples (100k).
   * `after`: resume strictly after that series. `hash` is labelsHash32(labels).
   */
  exportSeries(opts: ExportOptions): AsyncIterable<SeriesData[]>;
  /** Per-series sample count and checksum over [mint, maxt] (series with samples there only). */
  summarizeSeries(opts: SummaryOptions): AsyncIterable<SeriesSummary[]>;
  /** Removes whole series passing `filter` from head, backfill and blocks, durably; returns how many. */
  dropSeries(filter: (labels: Labels, hash: number) => boolean): Promise<number>;
}

const DEFAULT_RETENTION_MS = 15 * 24 * 3600 * 1000;
export const DEFAULT_BLOCK_DURATION_MS = 2 * 3600 * 1000;
const DEFAULT_WAL_FSYNC_INTERVAL_MS = 1000;

const COMPACTION_INTERVAL_MS = 60_000;

const unreleased = new FinalizationRegistry<() => void>((release) => release());

/**
 * normal: the node's mode. readOnly: replay the WAL without repairing it, no background work,
 * no appends, corrupt blocks skipped but left in place (dump, analyze). blocksOnly: blocks
 * only, no WAL at all (import's compaction of backfilled blocks).
 */
export type OpenMode = "normal" | "readOnly" | "blocksOnly";

type Opts = Required<Omit<TSDBOptions, "logger" | "observers">> & { logger: Logger; mode?: OpenMode; observers?: Partial<TSDBObservers> };

export class LocalTSDB implements TSDB {
  readonly head: Head;
  readonly logger: Logger;
  readonly wal: WAL;
  blocks: Block[] = [];
  private readonly headSource: HeadSource;
  /** Compaction block ranges (2h, 6h, 18h, … up to 10% of the retention). */
  readonly ranges: number[];
  private closed = false;
  /** The data directory's lock (normal and blocksOnly modes). */
  private dirLock: DirLock | null = null;
  /** A head cut happened whose WAL checkpoint has not been written yet. */
  private checkpointPending = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Serialises compaction, retention and tombstone cleaning. */
  private lock: Promise<void> = Promise.resolve();
  private readonly counters = {
    compactions: 0,
    compactionsFailed: 0,
    compactionsTriggered: 0,
    headCuts: 0,
    blocksCorrupted: 0,
    retentionDeletions: 0,
    sizeRetentionDeletions: 0,
    seriesDropped: 0,
  };
  readonly backfiller: Backfiller;
  private readonly observers: TSDBObservers;

  constructor(readonly opts: Opts) {
    this.logger = opts.logger;
    this.observers = withDefaultObservers(opts.observers);
    this.head = new Head({ chunkRange: opts.blockDurationMs });
    this.headSource = new HeadSource(this.head);
    this.wal = new WAL(opts.dir, { fsyncIntervalMs: opts.walFsyncIntervalMs, logger: opts.logger, fsyncSeconds: this.observers.walFsyncSeconds });
    // Like Prometheus: compact up to the max block duration (by default 10% of the retention, at
    // most 31 days), never below the base range.
    const maxRange = opts.maxBlockDurationMs > 0 ? opts.maxBlockDurationMs : Math.min(opts.retentionMs / 10, 31 * 24 * 3600 * 1000);
    this.ranges = blockRanges(opts.blockDurationMs, Math.max(maxRange, opts.blockDurationMs));
    this.backfiller = new Backfiller(this, opts.backfillFlushSamples);
  }

  get mode(): OpenMode {
    return this.opts.mode ?? "normal";
  }

  async open(): Promise<void> {
    if (this.mode !== "readOnly") mkdirSync(this.opts.dir, { recursive: true });
    else if (!existsSync(this.opts.dir)) throw new Error(`no TSDB directory at ${this.opts.dir}`);
    if (this.mode !== "readOnly") this.takeLock();
    this.loadBlocks();
    // Blocks of backfilled data may lie inside the head's range: they do not move its start.
    const lastBlockEnd = this.blocks.reduce((m, b) => (isBackfillBlock(b) ? m : Math.max(m, b.meta.maxTime)), -Infinity);
    this.head.minValidTime = lastBlockEnd;
    if (this.mode === "blocksOnly") return;
    this.replayWAL();
    this.backfiller.open(this.mode === "readOnly");
    if (this.mode === "readOnly") return;
    this.head.truncateBefore(this.head.minValidTime);
    this.head.log = this.wal;
    this.logger.info("TSDB opened", {
      dir: this.opts.dir,
      blocks: this.blocks.length,
      headSeries: this.head.numSeries,
      walReplaySeconds: this.wal.stats.replaySeconds.toFixed(3),
    });
    this.timer = setInterval(() => void this.maintain(), Math.min(COMPACTION_INTERVAL_MS, this.opts.blockDurationMs));
    this.timer.unref?.();
    // Opening read only the indexes, so a large data directory starts at once; the chunk
    // files are checked right after, in the background.
    this.chunksVerified = this.verifyBlockChunks([...this.blocks]).catch((e: unknown) => {
      this.logger.error("checking block chunks failed", { err: e instanceof Error ? e.message : String(e) });
    });
  }

  /** Settles when the background check of the chunks of the blocks found at open is done. */
  chunksVerified: Promise<void> = Promise.resolve();

  /**
   * Checks every chunk checksum of `blocks`; a corrupt block is quarantined. One block at a time
   * between other exclusive tasks, so a large data directory does not hold back head cuts and
   * backfill flushes (a compaction that reads a block not checked yet checks its chunks itself).
   */
  private async verifyBlockChunks(blocks: readonly Block[]): Promise<void> {
    const t0 = performance.now();
    let corrupt = 0;
    let bytes = 0;
    for (const b of blocks) {
      await this.exclusive(async () => {
        if (this.closed || !this.blocks.includes(b)) return;
        try {
          await b.verifyChunks(() => this.closed);
          bytes += b.sizeBytes;
        } catch (e) {
          if (!(e instanceof CorruptError)) {
            this.logger.warn("could not verify the chunks of a block; it stays served", { block: b.ulid, err: (e as Error).message });
            return;
          }
          corrupt++;
          this.quarantineBlock(b, e);
        }
      });
      if (this.closed) return;
    }
    if (blocks.length > 0) {
      this.logger.info("block chunks verified", { blocks: blocks.length, corrupt, bytes, seconds: ((performance.now() - t0) / 1000).toFixed(3) });
    }
  }

  /**
   * Stops serving a block found corrupt after it was opened (chunk checksums), counts it as a
   * corrupt block and moves it aside as `<ULID>.corrupted` once no query reads it any more.
   */
  private quarantineBlock(b: Block, e: Error): void {
    if (!this.blocks.includes(b)) return;
    this.counters.blocksCorrupted++;
    this.blocks = this.blocks.filter((x) => x !== b);
    b.quarantined = true;
    this.logger.error("corrupt block moved aside; its data is not served", { block: b.ulid, movedTo: `${b.dir}.corrupted`, err: e.message });
    this.deleteBlock(b);
  }

  /** Renames a corrupt block directory to `<dir>.corrupted` (replacing an older one), kept for inspection. */
  private moveAside(path: string): void {
    const aside = `${path}.corrupted`;
    rmSync(aside, { recursive: true, force: true });
    renameSync(path, aside);
  }

  /** One writer per directory: an OS lock that dies with its process (dir-lock.ts). */
  private takeLock(): void {
    this.dirLock = DirLock.acquire(this.opts.dir, this.logger);
  }

  /** Lets the directory go (close, or an open that failed after locking). */
  releaseLock(): void {
    this.dirLock?.release();
    this.dirLock = null;
  }

  private loadBlocks(): void {
    const dir = this.opts.dir;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (this.mode !== "readOnly" && (name.endsWith(".tmp") || name.endsWith(".tmp-for-deletion"))) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (!isULID(name)) continue;
      try {
        this.blocks.push(new Block(path));
      } catch (e) {
        this.counters.blocksCorrupted++;
        if (this.mode === "readOnly") {
          this.logger.error("corrupt block skipped", { block: name, err: e instanceof Error ? e.message : String(e) });
          continue;
        }
        this.moveAside(path);
        this.logger.error("corrupt block moved aside; its data is not served", {
          block: name,
          movedTo: `${path}.corrupted`,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    }
    this.sortBlocks();
  }

  private sortBlocks(): void {
    this.blocks.sort((a, b) => a.meta.minTime - b.meta.minTime || (a.ulid < b.ulid ? -1 : 1));
  }

  private replayWAL(): void {
    const head = this.head;
    const byWalRef = new Map<number, MemSeries>();
    let unknownRefs = 0;
    const minValid = head.minValidTime;
    this.wal.open({
      series: (ref: number, labels: Labels) => {
        byWalRef.set(ref, head.createWithRef(ref, labels));
      },
      samples: (refs, ts, vals) => {
        const w = new Uint32Array(vals.buffer, vals.byteOffset, vals.length * 2);
        for (let i = 0; i < refs.length; i++) {
          const s = byWalRef.get(refs[i]!);
          if (s === undefined) {
            unknownRefs++;
            continue;
          }
          const t = ts[i]!;
          if (t < minValid) continue;
          head.appendCommitted(s, t, w[2 * i + 1]!, w[2 * i]!);
        }
      },
      tombstone: (ref, mint, maxt) => {
        const s = byWalRef.get(ref);
        if (s !== undefined) head.deleteRange([s.ref], mint, maxt);
      },
      chunk: (ref, minT, maxT, bytes) => {
        const s = byWalRef.get(ref);
        if (s === undefined || maxT < minValid) return;
        if (minT >= minValid) {
          head.loadChunk(s, minT, maxT, bytes);
          return;
        }
        // Straddles the last block's end (the block duration was changed): keep the newer part.
        const n = blockChunkCount(bytes);
        const timestamps = new Float64Array(n);
        const w = new Uint32Array(2 * n);
        decodeBlockChunk(bytes, timestamps, w, 0);
        for (let i = 0; i < timestamps.length; i++) {
          if (timestamps[i]! >= minValid) head.appendCommitted(s, timestamps[i]!, w[2 * i + 1]!, w[2 * i]!);
        }
      },
    }, this.mode === "readOnly");
    if (unknownRefs > 0) this.logger.warn("WAL samples for unknown series skipped", { samples: unknownRefs });
    // Counters describe this process's ingestion, not the replay.
    const st = head.stats;
    st.samplesAppended = 0;
    st.rejected = { out_of_order: 0, duplicate: 0, too_old: 0, invalid: 0 };
  }

  appender(): Appender {
    this.checkOpen();
    if (this.mode !== "normal") throw new Error(`TSDB opened ${this.mode}: appending is not allowed`);
    return this.head.appender();
  }

  querier(mint: number, maxt: number): Querier {
    this.checkOpen();
    const used = this.blocks.filter((b) => !(b.maxT < mint || b.minT > maxt));
    for (const b of used) b.refs++;
    const sources: QuerySource[] = [...used, ...this.backfiller.sources(), this.headSource];
    const release = () => {
      for (const b of used) {
        b.refs--;
        if (b.pendingDelete && b.refs === 0) this.removeBlockDir(b);
      }
    };
    const token = {};
    const q = new StorageQuerier(sources, mint, maxt, () => {
      unreleased.unregister(token);
      release();
    });
    // A querier someone forgot to close still lets its blocks go once it is garbage.
    unreleased.register(q, release, token);
    return q;
  }

  /** Runs `fn` after every earlier exclusive task (compaction, retention, cleaning). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Background work: cut the head, compact blocks, apply retention. */
  maintain(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.counters.compactionsTriggered++;
      try {
        const cuts = this.counters.headCuts;
        await this.cutHead();
        // Backfilled samples follow the head into blocks when it is cut.
        if (this.counters.headCuts !== cuts) await this.backfiller.flushNow();
        await this.compactBlocks();
        this.applyRetention();
      } catch (e) {
        this.counters.compactionsFailed++;
        this.logger.error("storage maintenance failed", { err: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  /** Persists whole block ranges of the head once it spans more than 1.5 ranges, like Prometheus. */
  /**
   * Persists whole block ranges of the head once it spans more than 1.5 ranges, like
   * Prometheus, then checkpoints the WAL once. The head's span is measured up to the wall clock
   * at most, so one sample stamped far in the future cannot flush the present out of the head.
   */
  private async cutHead(): Promise<void> {
    const range = this.opts.blockDurationMs;
    let cut = false;
    for (;;) {
      const hmin = this.head.minTime();
      const hmax = Math.min(this.head.maxT, Math.max(Date.now(), hmin));
      if (!Number.isFinite(hmin) || hmax - hmin <= range * 1.5) break;
      const a = Math.floor(hmin / range) * range;
      await this.persistHeadRange(a, a + range);
      cut = true;
    }
    // A checkpoint that failed (a full disk) is retried at the next run: until then the WAL
    // keeps every segment, so nothing is lost, but it does not shrink.
    if (cut) this.checkpointPending = true;
    if (this.checkpointPending) {
      await this.checkpointWAL();
      this.checkpointPending = false;
    }
  }

  /** Writes [a, b) of the head as a block and drops it from the head (the WAL still has it). */
  async persistHeadRange(a: number, b: number): Promise<void> {
    const ulid = newULID();
    const t0 = performance.now();
    // From here on the range is the block's: late samples for it are refused (too_old), so the
    // head's chunks in [a, b) cannot change while the block is written.
    if (b > this.head.minValidTime) this.head.minValidTime = b;
    const o = this.observers;
    const meta = await this.timedBlockWrite(() =>
      writeBlock(this.opts.dir, ulid, a, b, headSeriesForBlock(this.head, a, b), { level: 1, sources: [ulid] }, (bytes, samples, rangeMs) => {
        o.firstCompactionChunkBytes.observe(bytes);
        o.firstCompactionChunkSamples.observe(samples);
        o.firstCompactionChunkRangeMs.observe(rangeMs);
      }),
    );
    if (meta.stats.numSeries === 0) {
      rmSync(join(this.opts.dir, ulid), { recursive: true, force: true });
    } else {
      this.blocks.push(new Block(join(this.opts.dir, ulid)));
      this.sortBlocks();
      this.logger.info("head range persisted as a block", {
        ulid,
        mint: a,
        maxt: b,
        series: meta.stats.numSeries,
        samples: meta.stats.numSamples,
        seconds: ((performance.now() - t0) / 1000).toFixed(3),
      });
    }
    const gc0 = performance.now();
    this.head.truncateBefore(b);
    this.observers.headGCSeconds.observe((performance.now() - gc0) / 1000);
    this.counters.headCuts++;
  }

  /** A block write as Prometheus's compactor counts it: every attempt, timed, failed or not. */
  private async timedBlockWrite(write: () => Promise<BlockMeta>): Promise<BlockMeta> {
    const t0 = performance.now();
    try {
      return await write();
    } finally {
      this.counters.compactions++;
      this.observers.compactionSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  /** Replaces the WAL segments written so far by a snapshot of the (truncated) head. */
  private async checkpointWAL(): Promise<void> {
    // Snapshot synchronously right after the rotate: it holds exactly the segments before it.
    const t0 = performance.now();
    const upTo = this.wal.rotate();
    const snapshot = encodeHeadSnapshot(this.head);
    await this.wal.writeCheckpoint(upTo, snapshot);
    this.observers.walTruncateSeconds.observe((performance.now() - t0) / 1000);
  }

  /** Compacts blocks now (the planner's normal rules); used by import after backfilling. */
  compactBlocksNow(): Promise<void> {
    return this.exclusive(() => this.compactBlocks());
  }

  private async compactBlocks(): Promise<void> {
    // Backfilled blocks may lie ahead of the persisted head: they do not complete a window.
    const newest = Math.max(this.head.minValidTime, ...this.blocks.filter((b) => !isBackfillBlock(b)).map((b) => b.meta.maxTime));
    for (;;) {
      const group = planCompaction(this.blocks, this.ranges, newest);
      if (group === null) return;
      await this.rewriteBlocks(group, "compaction");
    }
  }

  /** Replaces `group` by one merged block (tombstones applied). Returns the new block or null. */
  private async rewriteBlocks(group: Block[], why: string): Promise<Block | null> {
    const t0 = performance.now();
    const ulid = newULID();
    const mint = Math.min(...group.map((b) => b.meta.minTime));
    const maxt = Math.max(...group.map((b) => b.meta.maxTime));
    const sources = [...new Set(group.flatMap((b) => b.meta.compaction.sources))];
    const level = Math.max(...group.map((b) => b.meta.compaction.level)) + (why === "compaction" ? 1 : 0);
    let created: Block | null = null;
    let meta: BlockMeta | null = null;
    try {
      // A merge keeps the backfill hint when a backfilled block sets its end: that end must not
      // become the head's start at the next open.
      const endOf = (bf: boolean) => Math.max(...group.filter((b) => isBackfillBlock(b) === bf).map((b) => b.meta.maxTime));
      const hinted = group.some(isBackfillBlock) && endOf(true) > endOf(false);
      meta = await this.timedBlockWrite(() =>
        writeBlock(this.opts.dir, ulid, mint, maxt, mergedBlockSeries(group), {
          level,
          sources,
          parents: group.map((b) => b.ulid),
          ...(hinted ? { hints: [BACKFILL_HINT] } : {}),
        }),
      );
      if (meta.stats.numSeries > 0) created = new Block(join(this.opts.dir, ulid));
      else rmSync(join(this.opts.dir, ulid), { recursive: true, force: true });
    } catch (e) {
      rmSync(join(this.opts.dir, ulid + ".tmp"), { recursive: true, force: true });
      // A chunk that fails its checksum while being merged: that block goes, and the next run
      // plans without it (as Prometheus stops compacting a block that failed).
      if (e instanceof BlockCorruptError) {
        const bad = group.find((b) => b.dir === e.block);
        if (bad !== undefined) this.quarantineBlock(bad, e);
      }
      throw e;
    }
    this.blocks = this.blocks.filter((b) => !group.includes(b));
    if (created !== null) this.blocks.push(created);
    this.sortBlocks();
    for (const b of group) this.deleteBlock(b);
    this.logger.info(`blocks ${why} done`, {
      from: group.map((b) => b.ulid).join(","),
      to: created?.ulid ?? "(empty)",
      mint,
      maxt,
      samples: meta.stats.numSamples,
      seconds: ((performance.now() - t0) / 1000).toFixed(3),
    });
    return created;
  }

  private applyRetention(): void {
    if (this.blocks.length === 0) return;
    const newest = Math.max(...this.blocks.map((b) => b.meta.maxTime));
    for (const b of [...this.blocks]) {
      if (newest - b.meta.maxTime >= this.opts.retentionMs) {
        this.logger.info("block deleted by time retention", { block: b.ulid, maxTime: b.meta.maxTime });
        this.blocks = this.blocks.filter((x) => x !== b);
        this.deleteBlock(b);
        this.counters.retentionDeletions++;
      }
    }
    if (this.opts.retentionBytes > 0) {
      let total = this.wal.diskBytes() + this.blocks.reduce((n, b) => n + b.sizeBytes, 0);
      while (total > this.opts.retentionBytes && this.blocks.length > 0) {
        const oldest = this.blocks[0]!;
        this.logger.info("block deleted by size retention", { block: oldest.ulid, bytes: oldest.sizeBytes, total });
        this.blocks = this.blocks.slice(1);
        this.deleteBlock(oldest);
        total -= oldest.sizeBytes;
        this.counters.sizeRetentionDeletions++;
      }
    }
  }

  private deleteBlock(b: Block): void {
    b.pendingDelete = true;
    if (b.refs === 0) this.removeBlockDir(b);
  }

  private removeBlockDir(b: Block): void {
    b.dropFromCache();
    if (b.quarantined) {
      try {
        this.moveAside(b.dir);
      } catch (e) {
        this.logger.error("could not move a corrupt block aside", { dir: b.dir, err: (e as Error).message });
      }
      return;
    }
    const gone = b.dir + ".tmp-for-deletion";
    try {
      if (existsSync(b.dir)) renameSync(b.dir, gone);
      rmSync(gone, { recursive: true, force: true });
    } catch (e) {
      this.logger.error("could not delete block directory", { dir: b.dir, err: (e as Error).message });
    }
  }

  async deleteSeries(matchers: Matcher[], mint: number, maxt: number): Promise<void> {
    this.checkOpen();
    if (this.mode !== "normal") throw new Error(`TSDB opened ${this.mode}: deleting is not allowed`);
    await this.exclusive(async () => {
      // Backfilled samples still in memory go to blocks first, where tombstones reach them.
      if (this.backfiller.active.matching(matchers).length > 0) await this.backfiller.flushNow();
      const refs = this.head.matchingRefs(matchers);
      if (refs.length > 0) {
        this.wal.logTombstones(refs, mint, maxt);
        this.head.deleteRange(refs, mint, maxt);
      }
      for (const b of this.blocks) {
        if (b.maxT < mint || b.minT > maxt) continue;
        const ids = b.matching(matchers);
        if (ids.length > 0) b.addTombstones(ids, mint, maxt);
      }
    });
  }

  async cleanTombstones(): Promise<void> {
    this.checkOpen();
    if (this.mode === "readOnly") throw new Error("TSDB opened readOnly: cleaning tombstones is not allowed");
    await this.exclusive(async () => {
      for (const b of [...this.blocks]) if (b.tombstones.size > 0) await this.rewriteBlocks([b], "tombstone cleaning");
    });
  }

  /** Adds blocks written outside compaction (backfill flushes). */
  addBlocks(blocks: readonly Block[]): void {
    if (blocks.length === 0) return;
    this.blocks.push(...blocks);
    this.sortBlocks();
  }

  async backfill(series: readonly SeriesData[]): Promise<BackfillResult> {
    this.checkOpen();
    if (this.mode !== "normal") throw new Error(`TSDB opened ${this.mode}: backfilling is not allowed`);
    return this.backfiller.backfill(series);
  }

  private walkSources = (): WalkSources => {
    this.checkOpen();
    return { head: this.head, blocks: this.blocks, stores: this.backfiller.stores() };
  };

  exportSeries(opts: ExportOptions): AsyncIterable<SeriesData[]> {
    this.checkOpen();
    return exportSeries(this.walkSources, opts);
  }

  summarizeSeries(opts: SummaryOptions): AsyncIterable<SeriesSummary[]> {
    this.checkOpen();
    return summarizeSeries(this.walkSources, opts);
  }

  async dropSeries(filter: (labels: Labels, hash: number) => boolean): Promise<number> {
    this.checkOpen();
    if (this.mode !== "normal") throw new Error(`TSDB opened ${this.mode}: dropping is not allowed`);
    return this.exclusive(async () => {
      const { count, blocks } = await dropMatchingSeries(this, filter);
      this.counters.seriesDropped += count;
      // Rewrite the blocks now so that the series are gone from disk and from label lookups too.
      for (const b of blocks) if (this.blocks.includes(b)) await this.rewriteBlocks([b], "series drop");
      return count;
    });
  }

  stats(): TSDBStats {
    const h = this.head.stats;
    const w = this.wal.stats;
    return {
      headSeries: this.head.numSeries,
      headChunks: h.chunksCreated - h.chunksRemoved,
      headMinTime: this.head.numSeries > 0 && Number.isFinite(this.head.minTime()) ? this.head.minTime() : 0,
      headMaxTime: Number.isFinite(this.head.maxT) ? this.head.maxT : 0,
      samplesAppended: h.samplesAppended,
      seriesCreated: h.seriesCreated,
      seriesRemoved: h.seriesRemoved,
      rejected: { ...h.rejected },
      walBytes: this.wal.diskBytes(),
      walSegments: this.wal.segmentCount(),
      walFsyncs: w.fsyncs,
      walFsyncSeconds: w.fsyncSeconds,
      walCorruptions: w.corruptions,
      walReplaySeconds: w.replaySeconds,
      compactions: this.counters.compactions,
      compactionsFailed: this.counters.compactionsFailed,
      compactionsTriggered: this.counters.compactionsTriggered,
      headCuts: this.counters.headCuts,
      walWrites: w.writes,
      walWritesFailed: w.writesFailed,
      walTruncations: w.truncations,
      walTruncationsFailed: w.truncationsFailed,
      walCheckpointCreations: w.checkpointCreations,
      walCheckpointCreationsFailed: w.checkpointCreationsFailed,
      walCheckpointDeletions: w.checkpointDeletions,
      walCheckpointDeletionsFailed: w.checkpointDeletionsFailed,
      walSegmentCurrent: this.wal.currentSegment(),
      blocks: this.blocks.length,
      blockBytes: this.blocks.reduce((n, b) => n + b.sizeBytes, 0),
      blocksCorrupted: this.counters.blocksCorrupted,
      retentionDeletions: this.counters.retentionDeletions,
      sizeRetentionDeletions: this.counters.sizeRetentionDeletions,
      tombstones: this.blocks.reduce((n, b) => n + b.tombstones.size, 0),
      seriesDropped: this.counters.seriesDropped,
      ...this.backfiller.stats(),
    };
  }

  status(limit: number): TSDBStatus {
    return computeStatus(this.head, limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.lock;
    if (this.mode === "normal") {
      try {
        await this.backfiller.flushNow();
      } catch (e) {
        this.logger.warn("could not write backfilled samples as blocks at shutdown; the backfill log keeps them", { err: (e as Error).message });
      }
      // A clean shutdown leaves a checkpoint of the head (its chunks as they are), so the next
      // start loads chunks instead of re-encoding every sample of the WAL.
      try {
        if (this.head.numSeries > 0) await this.checkpointWAL();
      } catch (e) {
        this.logger.warn("could not checkpoint the WAL at shutdown; the next start replays it", { err: (e as Error).message });
      }
      this.wal.close();
      this.backfiller.close();
    }
    this.releaseLock();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("TSDB is closed");
  }
}

export async function openTSDB(opts: TSDBOptions): Promise<TSDB> {
  return openLocalTSDB(opts);
}

export async function openLocalTSDB(opts: TSDBOptions, mode: OpenMode = "normal"): Promise<LocalTSDB> {
  const db = new LocalTSDB({
    mode,
    dir: opts.dir,
    retentionMs: opts.retentionMs ?? DEFAULT_RETENTION_MS,
    retentionBytes: opts.retentionBytes ?? 0,
    blockDurationMs: opts.blockDurationMs ?? DEFAULT_BLOCK_DURATION_MS,
    maxBlockDurationMs: opts.maxBlockDurationMs ?? 0,
    walFsyncIntervalMs: opts.walFsyncIntervalMs ?? DEFAULT_WAL_FSYNC_INTERVAL_MS,
    backfillFlushSamples: opts.backfillFlushSamples ?? DEFAULT_BACKFILL_FLUSH_SAMPLES,
    logger: (opts.logger ?? nopLogger).with({ component: "tsdb" }),
    ...(opts.observers ? { observers: opts.observers } : {}),
  });
  try {
    await db.open();
  } catch (e) {
    db.releaseLock();
    throw e;
  }
  return db;
}
