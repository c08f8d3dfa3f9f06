/**
 * One remote_write entry's queue, Prometheus's QueueManager over a durable backlog:
 *
 *   enqueue (commit path) ──▶ DiskQueue segments ──reader──▶ shards (by series) ──▶ batches ──▶ endpoint
 *                                     ▲                                                   │
 *                                     └────────────── acknowledged cursor ◀───────────────┘
 *
 * Series are labelled once per queue (external labels, then write_relabel_configs, as
 * Prometheus orders them) and their protobuf labels stored beside the samples, so sending needs
 * no per-sample objects: shards hold typed arrays, batches are encoded from them directly.
 * A series always goes to the same shard and a shard sends one batch at a time, so each series
 * arrives in order. A batch that failed with a recoverable error is retried with backoff until it
 * is sent or the queue stops (then it stays on disk and is sent after the restart).
 */
import * as snappy from "snappyjs";
import type { RemoteWriteConfig } from "../config/index.ts";
import { labelsKey, relabel, type Clock, type ClockTimer, type Labels, type Logger, type RemoteQueueStatus, type SampleRuns } from "../model/index.ts";
import { redactedUrl, WriteClient, type StoreOutcome } from "./client.ts";
import { desiredShards, EWMA_WEIGHT, SHARD_UPDATE_INTERVAL_MS } from "./desired_shards.ts";
import { DiskQueue, RECORD_SAMPLES, RECORD_SERIES, type DiskPosition } from "./disk_queue.ts";
import { encodeLabels, encodeMetadata, encodeSamples, ProtoWriter, type MetadataEntry } from "./encode.ts";
import { EwmaRate } from "./ewma.ts";
import { withExternalLabels } from "./external_labels.ts";

export interface QueueOptions {
  /** The entry's `name`, or the first 6 hex digits of its hash. */
  name: string;
  config: RemoteWriteConfig;
  externalLabels: Labels;
  dir: string;
  /** Bound of the on-disk backlog, bytes. */
  maxBytes: number;
  segmentBytes: number;
  /** On stop, buffered samples are sent for at most this long (--storage.remote.flush-deadline). */
  flushDeadlineMs: number;
  userAgent: string;
  logger: Logger;
  clock: Clock;
  /** The metric metadata of this node's targets, sent every metadata_config.send_interval. */
  metadata?: () => readonly MetadataEntry[];
  /** Seconds each send took (prometheus_remote_storage_sent_batch_duration_seconds). */
  observeSendSeconds?: (seconds: number) => void;
}

/** A series as the writer side knows it: its ref, its encoded labels (null: dropped by relabeling). */
interface SeriesEntry {
  ref: number;
  block: Uint8Array | null;
  /** The segment whose SERIES record last described it (-1: none yet). */
  seg: number;
  /** The last segment a sample of it was written to (for forgetting idle series). */
  usedSeg: number;
}

/** A SAMPLES record read and handed to the shards, not yet wholly acknowledged. */
interface InFlightRecord {
  id: number;
  end: DiskPosition;
  remaining: number;
  count: number;
  minT: number;
}

/**
 * Written SAMPLES records of one segment that the reader has not reached yet, with their lowest
 * timestamp (for the watermark). Consecutive records of a segment share one entry, so an endpoint
 * down for hours costs one entry per segment, not one per commit.
 */
interface UnreadRecords {
  segment: number;
  minT: number;
  count: number;
}

class Shard {
  refs = new Uint32Array(1024);
  ts = new Float64Array(1024);
  vals = new Uint32Array(2048);
  ids = new Float64Array(1024);
  len = 0;
  /** When the oldest buffered sample arrived (clock.now()). */
  firstAt = 0;
  sending: Promise<void> | null = null;
  timer: ClockTimer | undefined;
  // The batch being sent (own arrays: the buffer keeps filling meanwhile).
  bRefs = new Uint32Array(0);
  bTs = new Float64Array(0);
  bVals = new Uint32Array(0);
  bIds = new Float64Array(0);
  readonly writer = new ProtoWriter();

  push(ref: number, t: number, lo: number, hi: number, id: number): void {
    if (this.len === this.refs.length) this.grow();
    const i = this.len++;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[2 * i] = lo;
    this.vals[2 * i + 1] = hi;
    this.ids[i] = id;
  }

  private grow(): void {
    const n = this.refs.length * 2;
    const refs = new Uint32Array(n);
    refs.set(this.refs);
    const ts = new Float64Array(n);
    ts.set(this.ts);
    const vals = new Uint32Array(2 * n);
    vals.set(this.vals);
    const ids = new Float64Array(n);
    ids.set(this.ids);
    this.refs = refs;
    this.ts = ts;
    this.vals = vals;
    this.ids = ids;
  }

  /** Moves the first `n` buffered samples into the batch arrays. */
  takeBatch(n: number): void {
    if (this.bRefs.length < n) {
      this.bRefs = new Uint32Array(n);
      this.bTs = new Float64Array(n);
      this.bVals = new Uint32Array(2 * n);
      this.bIds = new Float64Array(n);
    }
    this.bRefs.set(this.refs.subarray(0, n));
    this.bTs.set(this.ts.subarray(0, n));
    this.bVals.set(this.vals.subarray(0, 2 * n));
    this.bIds.set(this.ids.subarray(0, n));
    this.refs.copyWithin(0, n, this.len);
    this.ts.copyWithin(0, n, this.len);
    this.vals.copyWithin(0, 2 * n, 2 * this.len);
    this.ids.copyWithin(0, n, this.len);
    this.len -= n;
  }
}

export class RemoteQueue {
  name: string;
  url: string;
  config: RemoteWriteConfig;
  externalLabels: Labels;
  private readonly disk: DiskQueue;
  private client: WriteClient;
  private log: Logger;
  private readonly clock: Clock;

  // Writer side.
  private byObject = new WeakMap<Labels, SeriesEntry>();
  private byKey = new Map<string, SeriesEntry>();
  private sRefs = new Uint32Array(1024);
  private sTs = new Float64Array(1024);
  private sVals = new Uint32Array(2048);
  private readonly used: SeriesEntry[] = [];
  private readonly newRefs: number[] = [];
  private readonly newBlocks: Uint8Array[] = [];
  private unread: UnreadRecords[] = [];
  private unreadHead = 0;

  // Reader side.
  private readonly seriesTable = new Map<number, { block: Uint8Array; seg: number }>();
  private inflight: InFlightRecord[] = [];
  private inflightHead = 0;
  /** The id of inflight[0]: ids are consecutive. */
  private inflightBase = 0;
  private nextRecordId = 0;
  private shards: Shard[] = [];
  private reshardTo = 0;
  private stopping = false;
  private flushing = false;
  private readonly abort = new AbortController();
  private readonly timers: ClockTimer[] = [];
  private metadataTimer: ClockTimer | undefined;
  private idleWaiters: (() => void)[] = [];

  // Figures (Prometheus's metric names in remote_metrics.ts).
  samplesIn = 0;
  samplesSent = 0;
  samplesFailed = 0;
  samplesRetried = 0;
  samplesDropped = 0;
  bytesSent = 0;
  metadataSent = 0;
  metadataFailed = 0;
  metadataRetried = 0;
  metadataBytes = 0;
  highestEnqueuedMs = 0;
  highestSentMs = 0;
  desired = 1;
  private lastError = "";
  private lastErrorAtMs = 0;
  private lastSendAt = 0;
  private readonly dataIn = new EwmaRate(EWMA_WEIGHT, SHARD_UPDATE_INTERVAL_MS / 1000);
  private readonly dataOut = new EwmaRate(EWMA_WEIGHT, SHARD_UPDATE_INTERVAL_MS / 1000);
  private readonly dataDropped = new EwmaRate(EWMA_WEIGHT, SHARD_UPDATE_INTERVAL_MS / 1000);
  private readonly dataOutDuration = new EwmaRate(EWMA_WEIGHT, SHARD_UPDATE_INTERVAL_MS / 1000);

  constructor(private readonly opts: QueueOptions) {
    this.name = opts.name;
    this.config = opts.config;
    this.url = redactedUrl(opts.config.url);
    this.externalLabels = opts.externalLabels;
    this.log = opts.logger.with({ component: "remote", remote_name: opts.name, url: this.url });
    this.clock = opts.clock;
    this.client = new WriteClient(opts.config, opts.userAgent);
    this.disk = DiskQueue.open({
      dir: opts.dir,
      segmentBytes: opts.segmentBytes,
      maxBytes: opts.maxBytes,
      logger: this.log,
      onEvicted: (n) => (this.samplesDropped += n),
    });
    this.highestSentMs = this.disk.highestSentMs;
    this.setShards(opts.config.queueConfig.minShards);
    this.desired = opts.config.queueConfig.minShards;
  }

  /** Starts reading the backlog and sending; resharding, cursor saving and metadata run on timers. */
  start(): void {
    const q = this.config.queueConfig;
    this.timers.push(this.clock.setInterval(() => this.updateShards(), SHARD_UPDATE_INTERVAL_MS));
    this.timers.push(this.clock.setInterval(() => this.saveCursor(), 1000));
    for (const t of this.timers) t.unref?.();
    this.armMetadata();
    if (this.disk.pendingSamples() > 0) this.log.info("Resuming the remote write backlog from disk", { samples: this.disk.pendingSamples(), maxShards: q.maxShards });
    this.pump();
  }

  private armMetadata(): void {
    this.clock.clearInterval(this.metadataTimer);
    this.metadataTimer = undefined;
    const md = this.config.metadataConfig;
    if (!md.send || !this.opts.metadata) return;
    this.metadataTimer = this.clock.setInterval(() => void this.sendMetadata(), md.sendInterval);
    this.metadataTimer.unref?.();
  }

  /**
   * Takes an edited entry (or new external labels) in place: the backlog on disk is sent as it
   * was labelled; series committed from now on are labelled and relabeled by the new entry.
   */
  reconfigure(name: string, config: RemoteWriteConfig, externalLabels: Labels): void {
    this.name = name;
    this.config = config;
    this.externalLabels = externalLabels;
    this.url = redactedUrl(config.url);
    this.log = this.opts.logger.with({ component: "remote", remote_name: name, url: this.url });
    this.client = new WriteClient(config, this.opts.userAgent);
    this.byObject = new WeakMap();
    this.byKey = new Map();
    this.armMetadata();
    const q = config.queueConfig;
    const n = Math.min(q.maxShards, Math.max(q.minShards, this.shards.length));
    if (n !== this.shards.length && this.reshardTo === 0) {
      this.reshardTo = n;
      for (const s of this.shards) this.maybeSend(s);
      this.afterSend(this.shards[0]!);
    }
  }

  // ---------------------------------------------------------------- writer side

  private resolve(labels: Labels): SeriesEntry {
    let e = this.byObject.get(labels);
    if (e) return e;
    const key = labelsKey(labels);
    e = this.byKey.get(key);
    if (!e) {
      const out = relabel(withExternalLabels(labels, this.externalLabels), this.config.writeRelabelConfigs);
      e = out !== null && out.length > 0 ? { ref: this.disk.allocateRef(), block: encodeLabels(out), seg: -1, usedSeg: -1 } : { ref: -1, block: null, seg: -1, usedSeg: -1 };
      this.byKey.set(key, e);
    }
    this.byObject.set(labels, e);
    return e;
  }

  private ensureScratch(n: number): void {
    if (this.sRefs.length >= n) return;
    let size = this.sRefs.length;
    while (size < n) size *= 2;
    this.sRefs = new Uint32Array(size);
    this.sTs = new Float64Array(size);
    this.sVals = new Uint32Array(2 * size);
  }

  /** Writes committed samples to the backlog (durable when this returns). */
  enqueue(batch: SampleRuns): void {
    if (this.stopping) throw new Error(`remote write queue ${this.name} is stopped`);
    const total = batch.runs > 0 ? batch.ends[batch.runs - 1]! : 0;
    if (total === 0) return;
    this.ensureScratch(total);
    const values32 = new Uint32Array(batch.values.buffer, batch.values.byteOffset, batch.values.length * 2);
    const used = this.used;
    used.length = 0;
    const curSeg = this.disk.writeSegment;
    let k = 0;
    let dropped = 0;
    let minT = Infinity;
    let maxT = -Infinity;
    for (let r = 0; r < batch.runs; r++) {
      const start = r === 0 ? 0 : batch.ends[r - 1]!;
      const end = batch.ends[r]!;
      if (end <= start) continue;
      const e = this.resolve(batch.labels[r]!);
      e.usedSeg = curSeg;
      if (e.block === null) {
        dropped += end - start;
        continue;
      }
      used.push(e);
      // Element by element (values as 32-bit halves, so NaN bits are kept): most runs are one
      // sample (a scrape), where a subarray view per run would cost more than the copy.
      const sRefs = this.sRefs;
      const sTs = this.sTs;
      const sVals = this.sVals;
      const ts = batch.timestamps;
      for (let i = start; i < end; i++, k++) {
        const t = ts[i]!;
        if (t < minT) minT = t;
        if (t > maxT) maxT = t;
        sRefs[k] = e.ref;
        sTs[k] = t;
        sVals[2 * k] = values32[2 * i]!;
        sVals[2 * k + 1] = values32[2 * i + 1]!;
      }
    }
    this.samplesIn += total;
    this.dataIn.incr(total);
    if (dropped > 0) {
      this.samplesDropped += dropped;
      this.dataDropped.incr(dropped);
    }
    if (k === 0) return;
    let seg = this.disk.prepare(0);
    let bytes = this.collectNewSeries(seg) + 48 + 20 * k;
    const next = this.disk.prepare(bytes);
    if (next !== seg) {
      seg = next;
      bytes = this.collectNewSeries(seg);
      this.forgetIdleSeries(seg);
    }
    this.disk.append(this.newRefs, this.newBlocks, this.sRefs, this.sTs, this.sVals, k, minT);
    if (maxT > this.highestEnqueuedMs) this.highestEnqueuedMs = maxT;
    const lastUnread = this.unreadHead < this.unread.length ? this.unread[this.unread.length - 1]! : null;
    if (lastUnread !== null && lastUnread.segment === seg) {
      lastUnread.count++;
      if (minT < lastUnread.minT) lastUnread.minT = minT;
    } else this.unread.push({ segment: seg, minT, count: 1 });
    this.pump();
  }

  /** Fills newRefs/newBlocks with the used series not yet described in `seg`; returns their bytes. */
  private collectNewSeries(seg: number): number {
    this.newRefs.length = 0;
    this.newBlocks.length = 0;
    let bytes = 0;
    for (const e of this.used) {
      if (e.seg === seg) continue;
      e.seg = seg;
      this.newRefs.push(e.ref);
      this.newBlocks.push(e.block!);
      bytes += 8 + e.block!.length;
    }
    return bytes;
  }

  /** On a new segment: series not written to in the last two segments are forgotten (churn must not grow memory). */
  private forgetIdleSeries(seg: number): void {
    const kept = new Map<string, SeriesEntry>();
    for (const [k, e] of this.byKey) if (e.usedSeg >= seg - 1) kept.set(k, e);
    this.byKey = kept;
  }

  // ---------------------------------------------------------------- reader side

  private get capacity(): number {
    return this.config.queueConfig.capacity;
  }

  /** Reads records into the shards while every shard has room. */
  private pump(): void {
    if (this.stopping || this.reshardTo > 0) return;
    const cursor = this.disk.cursorPosition;
    reading: for (;;) {
      for (const s of this.shards) if (s.len >= this.capacity) break reading;
      const rec = this.disk.next();
      if (rec === null) break;
      if (rec.type === RECORD_SAMPLES) this.passUnread(rec.end.segment);
      if (rec.type === RECORD_SERIES) {
        const dv = rec.view;
        let p = rec.payload;
        for (let i = 0; i < rec.count; i++) {
          const ref = dv.getUint32(p, true);
          const len = dv.getUint32(p + 4, true);
          const block = new Uint8Array(dv.buffer.slice(p + 8, p + 8 + len));
          this.seriesTable.set(ref, { block, seg: rec.end.segment });
          p += 8 + len;
        }
        continue;
      }
      if (rec.type !== RECORD_SAMPLES) continue;
      // Acknowledged before the restart: the reader re-reads the cursor's segment only for its series.
      if (rec.end.segment === cursor.segment && rec.end.offset <= cursor.offset) continue;
      this.distribute(rec.view, rec.payload, rec.count, rec.minT, rec.end);
    }
    if (this.unreadHead > 1024 && this.unreadHead * 2 > this.unread.length) {
      this.unread = this.unread.slice(this.unreadHead);
      this.unreadHead = 0;
    }
    for (const s of this.shards) this.maybeSend(s);
  }

  /**
   * The reader reached a SAMPLES record of `segment`: records are read in the order written, so
   * it is the oldest unread one of that segment (those of segments dropped for space are passed too).
   */
  private passUnread(segment: number): void {
    const u = this.unread;
    while (this.unreadHead < u.length && u[this.unreadHead]!.segment < segment) this.unreadHead++;
    const head = u[this.unreadHead];
    if (head !== undefined && head.segment === segment && --head.count === 0) this.unreadHead++;
  }

  private distribute(dv: DataView, payload: number, count: number, minT: number, end: DiskPosition): void {
    const id = this.nextRecordId++;
    const rec: InFlightRecord = { id, end, remaining: count, count, minT };
    this.inflight.push(rec);
    const buf = dv.buffer;
    const refs = new Uint32Array(buf, payload, count);
    const tsOff = payload + ((4 * count + 7) & ~7);
    const ts = new Float64Array(buf, tsOff, count);
    const vals = new Uint32Array(buf, tsOff + 8 * count, 2 * count);
    const n = this.shards.length;
    const now = this.clock.now();
    let unknown = 0;
    for (let i = 0; i < count; i++) {
      const ref = refs[i]!;
      if (!this.seriesTable.has(ref)) {
        unknown++;
        continue;
      }
      const s = this.shards[ref % n]!;
      if (s.len === 0) s.firstAt = now;
      s.push(ref, ts[i]!, vals[2 * i]!, vals[2 * i + 1]!, id);
    }
    if (unknown > 0) {
      // A series record lost to a corrupt stretch of the segment: as Prometheus counts samples of an unknown series.
      this.samplesDropped += unknown;
      this.ack(id, unknown);
    }
  }

  /** Counts `n` samples of record `id` as done; moves the cursor over every finished record at the head. */
  private ack(id: number, n: number): void {
    const rec = this.inflight[id - this.inflightBase];
    if (!rec) return;
    rec.remaining -= n;
    this.disk.acked(rec.end.segment, n);
    let moved: DiskPosition | null = null;
    while (this.inflightHead < this.inflight.length && this.inflight[this.inflightHead]!.remaining <= 0) {
      moved = this.inflight[this.inflightHead]!.end;
      this.inflightHead++;
    }
    if (this.inflightHead > 1024 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightBase += this.inflightHead;
      this.inflightHead = 0;
    }
    if (moved) {
      this.disk.advance(moved);
      this.forgetAckedSeries();
    }
  }

  /** Series described only in segments wholly behind the reader's oldest unfinished record are forgotten. */
  private forgetAckedSeries(): void {
    // Not the cursor alone: a segment dropped for space moves the cursor past records whose
    // samples the shards still hold.
    const head = this.inflight[this.inflightHead];
    const seg = Math.min(this.disk.cursorPosition.segment, head ? head.end.segment : Infinity);
    if (seg === this.forgottenBefore) return;
    this.forgottenBefore = seg;
    for (const [ref, e] of this.seriesTable) if (e.seg < seg) this.seriesTable.delete(ref);
  }
  private forgottenBefore = -1;

  // ---------------------------------------------------------------- shards

  private setShards(n: number): void {
    this.shards = Array.from({ length: n }, () => new Shard());
  }

  private maybeSend(s: Shard): void {
    if (s.sending || s.len === 0) return;
    const q = this.config.queueConfig;
    const waited = this.clock.now() - s.firstAt;
    if (s.len >= q.maxSamplesPerSend || waited >= q.batchSendDeadline || this.flushing || this.reshardTo > 0) {
      this.clock.clearTimeout(s.timer);
      s.timer = undefined;
      s.sending = this.sendBatch(s).finally(() => {
        s.sending = null;
        this.afterSend(s);
      });
      return;
    }
    if (s.timer === undefined) {
      s.timer = this.clock.setTimeout(() => {
        s.timer = undefined;
        this.maybeSend(s);
      }, q.batchSendDeadline - waited);
      s.timer.unref?.();
    }
  }

  private afterSend(s: Shard): void {
    if (s.len > 0) s.firstAt = Math.min(s.firstAt, this.clock.now());
    if (this.reshardTo > 0 && this.shards.every((x) => x.len === 0 && x.sending === null)) {
      this.log.info("Remote storage resharding", { from: this.shards.length, to: this.reshardTo });
      this.setShards(this.reshardTo);
      this.reshardTo = 0;
    }
    if (this.stopping) {
      if (this.shards.every((x) => x.sending === null && (x.len === 0 || this.abort.signal.aborted))) for (const w of this.idleWaiters.splice(0)) w();
      if (this.flushing) this.maybeSend(s);
      return;
    }
    this.pump();
    this.maybeSend(s);
  }

  private async sendBatch(s: Shard): Promise<void> {
    const q = this.config.queueConfig;
    let n = Math.min(s.len, q.maxSamplesPerSend);
    s.takeBatch(n);
    const labelsOf = (ref: number) => this.seriesTable.get(ref)!.block;
    let backoff = q.minBackoff;
    let body: Uint8Array | null = null;
    let highest = 0;
    for (;;) {
      if (q.sampleAgeLimit > 0) {
        const kept = this.dropOld(s, n);
        if (kept !== n) body = null;
        n = kept;
        if (n === 0) return;
      }
      if (body === null) {
        highest = encodeSamples(s.writer, { refs: s.bRefs, timestamps: s.bTs, values: s.bVals }, n, labelsOf);
        body = snappy.compress(s.writer.bytes());
      }
      this.samplesSent += n;
      const began = this.clock.now();
      const out: StoreOutcome = await this.client.store(body, this.abort.signal);
      const seconds = (this.clock.now() - began) / 1000;
      this.opts.observeSendSeconds?.(seconds);
      if (this.abort.signal.aborted) return; // stays on disk: sent after the restart
      if (out.ok) {
        this.bytesSent += body.length;
        if (highest > this.highestSentMs) this.highestSentMs = highest;
        this.dataOut.incr(n);
        this.dataOutDuration.incr(seconds);
        this.lastSendAt = this.clock.now();
        break;
      }
      this.lastError = out.error;
      this.lastErrorAtMs = this.clock.wallNow();
      if (!out.recoverable) {
        this.samplesFailed += n;
        this.log.error("non-recoverable error", { count: n, err: out.error });
        break;
      }
      const sleep = out.retryAfterMs > 0 ? out.retryAfterMs : backoff;
      if (out.retryAfterMs > 0) this.log.info("Retrying after duration specified by Retry-After header", { duration: `${sleep}ms` });
      await this.abortableSleep(sleep);
      if (this.abort.signal.aborted) return;
      this.samplesRetried += n;
      this.log.warn("Failed to send batch, retrying", { err: out.error });
      backoff = Math.min(sleep * 2, q.maxBackoff);
    }
    this.ackBatch(s, n);
  }

  /** Drops samples older than sample_age_limit from the batch (kept ones move to the front); returns how many remain. */
  private dropOld(s: Shard, n: number): number {
    const oldest = this.clock.wallNow() - this.config.queueConfig.sampleAgeLimit;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (s.bTs[i]! < oldest) {
        this.samplesDropped++;
        this.ack(s.bIds[i]!, 1);
        continue;
      }
      if (kept !== i) {
        s.bRefs[kept] = s.bRefs[i]!;
        s.bTs[kept] = s.bTs[i]!;
        s.bVals[2 * kept] = s.bVals[2 * i]!;
        s.bVals[2 * kept + 1] = s.bVals[2 * i + 1]!;
        s.bIds[kept] = s.bIds[i]!;
      }
      kept++;
    }
    return kept;
  }

  private ackBatch(s: Shard, n: number): void {
    let i = 0;
    while (i < n) {
      const id = s.bIds[i]!;
      let j = i + 1;
      while (j < n && s.bIds[j] === id) j++;
      this.ack(id, j - i);
      i = j;
    }
  }

  private abortableSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const t = this.clock.setTimeout(() => {
        this.abort.signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.clock.clearTimeout(t);
        resolve();
      };
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private updateShards(): void {
    this.dataIn.tick();
    this.dataOut.tick();
    this.dataDropped.tick();
    this.dataOutDuration.tick();
    if (this.stopping || this.reshardTo > 0) return;
    const q = this.config.queueConfig;
    const r = desiredShards({
      current: this.shards.length,
      min: q.minShards,
      max: q.maxShards,
      dataInRate: this.dataIn.rate(),
      dataOutRate: this.dataOut.rate(),
      dataDroppedRate: this.dataDropped.rate(),
      dataOutDurationRate: this.dataOutDuration.rate(),
      highestRecvSeconds: this.highestEnqueuedMs / 1000,
      highestSentSeconds: this.highestSentMs / 1000,
    });
    this.desired = r.desired;
    if (r.shards === this.shards.length) return;
    // Not while the endpoint is failing: more shards would only retry more.
    if (this.clock.now() - this.lastSendAt > 2 * q.batchSendDeadline) {
      this.log.warn("Skipping resharding, last successful send was beyond threshold");
      return;
    }
    // The old shards send what they hold first, so that no series is ever sent out of order.
    this.reshardTo = r.shards;
    for (const s of this.shards) this.maybeSend(s);
    this.afterSend(this.shards[0]!);
  }

  // ---------------------------------------------------------------- metadata

  private async sendMetadata(): Promise<void> {
    const all = this.opts.metadata?.() ?? [];
    const seen = new Set<string>();
    const unique: MetadataEntry[] = [];
    for (const m of all) {
      const key = `${m.metric}\xff${m.type}\xff${m.help}\xff${m.unit}`;
      if (seen.has(key)) continue;
      seen.add(key);
      unique.push(m);
    }
    const max = this.config.metadataConfig.maxSamplesPerSend;
    const w = new ProtoWriter();
    for (let i = 0; i < unique.length && !this.stopping; i += max) {
      const chunk = unique.slice(i, i + max);
      encodeMetadata(w, chunk);
      const body = snappy.compress(w.bytes());
      let backoff = this.config.queueConfig.minBackoff;
      for (;;) {
        this.metadataSent += chunk.length;
        const out = await this.client.store(body, this.abort.signal);
        if (this.abort.signal.aborted) return;
        if (out.ok) {
          this.metadataBytes += body.length;
          break;
        }
        if (!out.recoverable) {
          this.metadataFailed += chunk.length;
          this.log.error("non-recoverable error while sending metadata", { count: chunk.length, err: out.error });
          break;
        }
        await this.abortableSleep(out.retryAfterMs > 0 ? out.retryAfterMs : backoff);
        if (this.abort.signal.aborted) return;
        this.metadataRetried += chunk.length;
        backoff = Math.min(backoff * 2, this.config.queueConfig.maxBackoff);
      }
    }
  }

  // ---------------------------------------------------------------- status and stop

  /** See RemoteQueueStatus.deliveredThroughMs. */
  deliveredThroughMs(): number {
    let m = Infinity;
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const r = this.inflight[i]!;
      if (r.remaining > 0 && r.minT < m) m = r.minT;
    }
    for (let i = this.unreadHead; i < this.unread.length; i++) if (this.unread[i]!.minT < m) m = this.unread[i]!.minT;
    // Backlog from before this start: the lowest timestamp of each old segment not wholly sent.
    m = Math.min(m, this.disk.oldMinTFrom(this.disk.readerSegment));
    if (m === Infinity) return Math.max(this.highestEnqueuedMs, this.disk.deliveredThroughMs);
    return m - 1;
  }

  private saveCursor(): void {
    this.disk.deliveredThroughMs = this.deliveredThroughMs();
    this.disk.highestSentMs = this.highestSentMs;
    try {
      this.disk.saveCursor();
    } catch (e) {
      this.log.error("Cannot save the remote write queue cursor", { err: e as Error });
    }
  }

  status(): RemoteQueueStatus {
    const q = this.config.queueConfig;
    return {
      name: this.name,
      url: this.url,
      shards: this.shards.length,
      desiredShards: this.desired,
      minShards: q.minShards,
      maxShards: q.maxShards,
      pendingSamples: this.disk.pendingSamples(),
      diskBytes: this.disk.diskBytes(),
      samplesSent: this.samplesSent,
      samplesFailed: this.samplesFailed,
      samplesRetried: this.samplesRetried,
      samplesDropped: this.samplesDropped,
      highestEnqueuedMs: this.highestEnqueuedMs,
      highestSentMs: this.highestSentMs,
      deliveredThroughMs: this.deliveredThroughMs(),
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAtMs,
    };
  }

  /**
   * Sends what the shards hold for up to the flush deadline, then abandons the sends in flight
   * (their samples stay on disk, ahead of the cursor) and closes the backlog.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.flushing = true;
    for (const t of this.timers) this.clock.clearInterval(t);
    this.clock.clearInterval(this.metadataTimer);
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    for (const s of this.shards) {
      this.clock.clearTimeout(s.timer);
      this.maybeSend(s);
    }
    if (this.shards.every((s) => s.sending === null)) for (const w of this.idleWaiters.splice(0)) w();
    let deadline: ClockTimer | undefined;
    await Promise.race([idle, new Promise<void>((resolve) => (deadline = this.clock.setTimeout(resolve, this.opts.flushDeadlineMs)))]);
    this.clock.clearTimeout(deadline);
    this.abort.abort();
    await Promise.all(this.shards.map((s) => s.sending));
    this.saveCursor();
    this.disk.close();
  }
}
