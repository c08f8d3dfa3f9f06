/**
 * Remote write out: one durable queue per `remote_write` entry, fed with every sample this node
 * commits and forwards. A queue's backlog lives in `<dir>/<queue>/`: the entry's `name` when it
 * has one, else its URL's hash (numbered when several unnamed entries share a URL), so that a
 * reload that edits an entry — or a restart — continues the same backlog. Metrics and the status
 * page name a queue as Prometheus does: `name`, else the first 6 hex digits of the entry's hash.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RemoteWriteConfig } from "../config/index.ts";
import { labelsKey, realClock, type Clock, type Labels, type Logger, type Observer, type RemoteQueueStatus, type SampleRuns, type SampleSink, type TargetMetadata } from "../model/index.ts";
import { RemoteQueue } from "./queue.ts";

export interface RemoteWriteOptions {
  /** Parent of the queues' directories (`<storage.tsdb.path>/remote`). */
  dir: string;
  logger: Logger;
  /** Sent as User-Agent. */
  userAgent: string;
  /** --storage.remote.flush-deadline: how long a stopping queue keeps sending what it holds. */
  flushDeadlineMs: number;
  /** Bound of each queue's on-disk backlog, bytes. */
  maxQueueBytes: number;
  /** Size at which a queue starts a new segment file (default 64 MiB, or an eighth of the bound). */
  segmentBytes?: number;
  clock?: Clock;
  /** This node's targets' metric metadata, sent to endpoints whose metadata_config.send is on. */
  metadata?: () => readonly TargetMetadata[];
  /** Send durations, labelled remote_name and url. */
  sentBatchDuration?: Observer;
}

/** A queue's figures for the metrics: its status plus what only the metrics show. */
export interface RemoteQueueFigures extends RemoteQueueStatus {
  bytesSent: number;
  metadataSent: number;
  metadataFailed: number;
  metadataRetried: number;
  metadataBytes: number;
  capacity: number;
  maxSamplesPerSend: number;
}

export interface RemoteWriteFigures {
  samplesIn: number;
  /** Highest timestamp (ms) committed into remote storage, before relabeling; 0 before any. */
  highestTimestampInMs: number;
  queues: RemoteQueueFigures[];
}

const DIR_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}

export class RemoteWrite implements SampleSink {
  /** By directory name. */
  private byDir = new Map<string, RemoteQueue>();
  private readonly clock: Clock;
  private samplesIn = 0;
  private highestIn = 0;
  private stopped = false;
  private warnedOrphans = false;

  constructor(private readonly opts: RemoteWriteOptions) {
    this.clock = opts.clock ?? realClock;
  }

  get active(): boolean {
    return this.byDir.size > 0;
  }

  /** Where each entry's backlog lives, in config order. */
  private dirNames(entries: readonly RemoteWriteConfig[]): string[] {
    const perUrl = new Map<string, number>();
    return entries.map((e) => {
      if (e.name !== "") return DIR_NAME_RE.test(e.name) ? e.name : `name-${md5(e.name).slice(0, 12)}`;
      const base = `url-${md5(e.url).slice(0, 12)}`;
      const n = perUrl.get(base) ?? 0;
      perUrl.set(base, n + 1);
      return n === 0 ? base : `${base}-${n}`;
    });
  }

  /**
   * Makes the queues match the entries: an entry whose backlog directory has a running queue
   * keeps it (reconfigured when the entry or the external labels changed), new ones start, and
   * queues no entry names any more stop (their backlog stays on disk).
   */
  async applyConfig(entries: readonly RemoteWriteConfig[], externalLabels: Labels): Promise<void> {
    if (this.stopped) return;
    const names = this.dirNames(entries);
    const next = new Map<string, RemoteQueue>();
    const started: RemoteQueue[] = [];
    entries.forEach((cfg, i) => {
      const dirName = names[i]!;
      const name = cfg.name !== "" ? cfg.name : cfg.hash.slice(0, 6);
      const old = this.byDir.get(dirName);
      if (old) {
        if (old.config.hash !== cfg.hash || labelsKey(old.externalLabels) !== labelsKey(externalLabels) || old.name !== name) old.reconfigure(name, cfg, externalLabels);
        next.set(dirName, old);
        return;
      }
      const q = new RemoteQueue({
        name,
        config: cfg,
        externalLabels,
        dir: join(this.opts.dir, dirName),
        maxBytes: this.opts.maxQueueBytes,
        segmentBytes: this.opts.segmentBytes ?? Math.max(1 << 20, Math.min(64 << 20, Math.floor(this.opts.maxQueueBytes / 8))),
        flushDeadlineMs: this.opts.flushDeadlineMs,
        userAgent: this.opts.userAgent,
        logger: this.opts.logger,
        clock: this.clock,
        metadata: this.opts.metadata,
        observeSendSeconds: this.opts.sentBatchDuration ? (s) => this.opts.sentBatchDuration!.observe(s, q.name, q.url) : undefined,
      });
      next.set(dirName, q);
      started.push(q);
    });
    const gone = [...this.byDir].filter(([dirName]) => !next.has(dirName)).map(([, q]) => q);
    // Writes go to the new set from here on; what left it stops without taking new samples.
    this.byDir = next;
    for (const q of started) q.start();
    this.warnOrphans(new Set(names));
    await Promise.all(
      gone.map(async (q) => {
        const pending = q.status().pendingSamples;
        await q.stop();
        if (pending > 0) this.opts.logger.warn("A remote_write entry was removed; its unsent backlog stays on disk", { remote_name: q.name, url: q.url, samples: pending });
      }),
    );
  }

  /** Backlogs on disk that no entry uses: said once, never deleted (the entry may come back). */
  private warnOrphans(inUse: Set<string>): void {
    if (this.warnedOrphans || !existsSync(this.opts.dir)) return;
    this.warnedOrphans = true;
    for (const d of readdirSync(this.opts.dir)) {
      if (inUse.has(d)) continue;
      let bytes = 0;
      try {
        for (const f of readdirSync(join(this.opts.dir, d))) bytes += statSync(join(this.opts.dir, d, f)).size;
      } catch {
        continue;
      }
      if (bytes > 0) this.opts.logger.warn("A remote write backlog on disk belongs to no remote_write entry; delete it to free the space", { dir: join(this.opts.dir, d), bytes });
    }
  }

  /** Hands committed samples to every queue (or the named ones); they are on disk when this resolves. */
  write(batch: SampleRuns, queues?: readonly string[]): Promise<void> {
    try {
      const total = batch.runs > 0 ? batch.ends[batch.runs - 1]! : 0;
      if (total === 0 || this.byDir.size === 0) return Promise.resolve();
      this.samplesIn += total;
      const ts = batch.timestamps;
      let max = this.highestIn;
      for (let i = 0; i < total; i++) if (ts[i]! > max) max = ts[i]!;
      this.highestIn = max;
      for (const q of this.byDir.values()) if (queues === undefined || queues.includes(q.name)) q.enqueue(batch);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  queues(): RemoteQueueStatus[] {
    return [...this.byDir.values()].map((q) => q.status());
  }

  figures(): RemoteWriteFigures {
    return {
      samplesIn: this.samplesIn,
      highestTimestampInMs: this.highestIn,
      queues: [...this.byDir.values()].map((q) => ({
        ...q.status(),
        bytesSent: q.bytesSent,
        metadataSent: q.metadataSent,
        metadataFailed: q.metadataFailed,
        metadataRetried: q.metadataRetried,
        metadataBytes: q.metadataBytes,
        capacity: q.config.queueConfig.capacity,
        maxSamplesPerSend: q.config.queueConfig.maxSamplesPerSend,
      })),
    };
  }

  /** Stops every queue: each sends what it holds for up to the flush deadline; the rest stays on disk. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.byDir.values()];
    this.byDir = new Map();
    await Promise.all(all.map((q) => q.stop()));
  }
}
