/**
 * The local TSDB: a head (with its WAL) plus immutable blocks on disk, behind the Appendable /
 * Queryable interfaces of model/storage.ts.
 */
import { mkdirSync } from "node:fs";
import {
  nopLogger,
  type Appendable,
  type Appender,
  type Logger,
  type Matcher,
  type Querier,
  type Queryable,
  type RejectReason,
} from "../model/index.ts";
import { Head } from "./head.ts";
import { HeadSource } from "./head-source.ts";
import { StorageQuerier } from "./querier.ts";
import type { QuerySource } from "./source.ts";
import { computeStatus, type TSDBStatus } from "./status.ts";

export interface TSDBOptions {
  dir: string;
  /** Blocks whose data is older than this (relative to the newest data) are deleted; 15d. */
  retentionMs?: number;
  /** Oldest blocks are deleted while the blocks and the WAL take more bytes; 0 = off. */
  retentionBytes?: number;
  /** Span of a block cut from the head; 2h. */
  blockDurationMs?: number;
  /** How often the WAL is fsync'd; 1000 ms. */
  walFsyncIntervalMs?: number;
  logger?: Logger;
}

export interface TSDBStats {
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
  compactions: number;
  compactionsFailed: number;
  headCuts: number;
  blocks: number;
  blockBytes: number;
  blocksCorrupted: number;
  retentionDeletions: number;
  sizeRetentionDeletions: number;
  tombstones: number;
}

export interface TSDB extends Appendable, Queryable {
  /** Flushes and fsyncs the WAL, stops background work. */
  close(): Promise<void>;
  stats(): TSDBStats;
  status(limit: number): TSDBStatus;
  deleteSeries(matchers: Matcher[], mint: number, maxt: number): Promise<void>;
  cleanTombstones(): Promise<void>;
}

export const DEFAULT_RETENTION_MS = 15 * 24 * 3600 * 1000;
export const DEFAULT_BLOCK_DURATION_MS = 2 * 3600 * 1000;
export const DEFAULT_WAL_FSYNC_INTERVAL_MS = 1000;

export class LocalTSDB implements TSDB {
  readonly head: Head;
  readonly logger: Logger;
  private readonly headSource: HeadSource;
  private closed = false;

  constructor(readonly opts: Required<Omit<TSDBOptions, "logger">> & { logger: Logger }) {
    this.logger = opts.logger;
    this.head = new Head({ chunkRange: opts.blockDurationMs });
    this.headSource = new HeadSource(this.head);
  }

  async open(): Promise<void> {
    mkdirSync(this.opts.dir, { recursive: true });
  }

  appender(): Appender {
    this.checkOpen();
    return this.head.appender();
  }

  querier(mint: number, maxt: number): Querier {
    this.checkOpen();
    const sources: QuerySource[] = [this.headSource];
    return new StorageQuerier(sources, mint, maxt);
  }

  async deleteSeries(matchers: Matcher[], mint: number, maxt: number): Promise<void> {
    this.checkOpen();
    this.head.deleteRange(this.head.matchingRefs(matchers), mint, maxt);
  }

  async cleanTombstones(): Promise<void> {
    this.checkOpen();
  }

  stats(): TSDBStats {
    const h = this.head.stats;
    return {
      headSeries: this.head.numSeries,
      headChunks: h.chunksCreated - h.chunksRemoved,
      headMinTime: this.head.numSeries > 0 ? this.head.minTime() : 0,
      headMaxTime: Number.isFinite(this.head.maxT) ? this.head.maxT : 0,
      samplesAppended: h.samplesAppended,
      seriesCreated: h.seriesCreated,
      seriesRemoved: h.seriesRemoved,
      rejected: { ...h.rejected },
      walBytes: 0,
      walSegments: 0,
      walFsyncs: 0,
      walFsyncSeconds: 0,
      walCorruptions: 0,
      walReplaySeconds: 0,
      compactions: 0,
      compactionsFailed: 0,
      headCuts: 0,
      blocks: 0,
      blockBytes: 0,
      blocksCorrupted: 0,
      retentionDeletions: 0,
      sizeRetentionDeletions: 0,
      tombstones: 0,
    };
  }

  status(limit: number): TSDBStatus {
    return computeStatus(this.head, limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("TSDB is closed");
  }
}

export async function openTSDB(opts: TSDBOptions): Promise<TSDB> {
  const db = new LocalTSDB({
    dir: opts.dir,
    retentionMs: opts.retentionMs ?? DEFAULT_RETENTION_MS,
    retentionBytes: opts.retentionBytes ?? 0,
    blockDurationMs: opts.blockDurationMs ?? DEFAULT_BLOCK_DURATION_MS,
    walFsyncIntervalMs: opts.walFsyncIntervalMs ?? DEFAULT_WAL_FSYNC_INTERVAL_MS,
    logger: (opts.logger ?? nopLogger).with({ component: "tsdb" }),
  });
  await db.open();
  return db;
}
