/**
 * Streaming series between members for hand-off (joins, leaves, re-replication after a death,
 * anti-entropy repairs). The sender reads its storage with `exportSeries` in bounded batches,
 * encodes each as a columnar batch (Gorilla chunks) in CBOR compressed with zstd, waits for the
 * bandwidth budget, and sends it over the batch protocol; the receiver stores it with `backfill`
 * (durable before it answers) and acknowledges. The last acknowledged series is the resume cursor:
 * a transfer that broke off resumes after it. A final `done` message tells the receiver the
 * transfer is complete.
 */
import { type Appendable, type Labels, type Logger, type Queryable } from "../model/index.ts";
import { decodeBatch, encodeBatch, type WireBatch } from "./batch.ts";
import { decodeCbor, encodeCbor, encodeFrame, flattenLabels, unflattenLabels } from "./codec.ts";
import type { SeriesData, SeriesFilter, TSDB } from "../storage/index.ts";
import { LabelledCounter } from "./metrics.ts";
import { EncodedFrame, type Rpc } from "./rpc.ts";

export const HANDOFF_BATCH_PROTOCOL = "/shoal/handoff/batch/1";

/** What hand-off needs of a member's storage: its TSDB's backfill, export, summaries and drop. */
export type HandoffStorage = Appendable & Queryable & Pick<TSDB, "backfill" | "exportSeries" | "summarizeSeries" | "dropSeries">;

export type HandoffReason = "join" | "leave" | "death" | "repair";
export type TransferDirection = "in" | "out";
export type TransferState = "running" | "waiting" | "done" | "failed";

/** One transfer as `/api/v1/status/cluster` shows it under `handoff.transfers`. */
export interface TransferProgress {
  id: string;
  /** Member id and name of the other side. */
  peer: string;
  peerName: string;
  direction: TransferDirection;
  reason: HandoffReason;
  state: TransferState;
  /** Fraction of the hash ring the transfer covers (0 for a repair of listed series). */
  ringFraction: number;
  done: { series: number; samples: number; bytes: number };
  /** Totals counted before sending; bytes is an estimate from the bytes per sample so far. */
  total: { series: number; samples: number; bytes: number };
  startedAt: string;
  updatedAt: string;
  error?: string;
}

interface BatchRequest {
  /** Transfer id. */
  id: string;
  reason: HandoffReason;
  seq: number;
  /** zstd(CBOR(WireBatch)). */
  z?: Uint8Array;
  /** Totals of the transfer: series, samples. */
  tot?: [number, number];
  /** Set on the last message: the transfer is complete. */
  done?: boolean;
  /** Fraction of the hash ring the transfer covers (for the receiver's progress). */
  rf?: number;
}

interface BatchReply {
  series: number;
  samples: number;
}

/** Bytes-per-second budget shared by all transfers of a node. */
export class Throttle {
  private next = 0;

  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number): Promise<void> {
    if (!(this.bytesPerSecond > 0)) return;
    const now = performance.now();
    // At most a second's worth of unused budget carries over (a burst of one second).
    this.next = Math.max(this.next, now - 1000) + (bytes / this.bytesPerSecond) * 1000;
    const wait = this.next - now;
    if (wait > 0) await Bun.sleep(wait);
  }
}

export class HandoffCounters {
  readonly bytes = new LabelledCounter(["direction", "reason"]);
  readonly series = new LabelledCounter(["direction", "reason"]);
  readonly samples = new LabelledCounter(["direction", "reason"]);
  readonly failures = new LabelledCounter(["direction", "reason"]);
}

/** Transfers in progress and the last finished ones. */
export class TransferBook {
  readonly active = new Map<string, TransferProgress>();
  readonly recent: TransferProgress[] = [];
  readonly counters = new HandoffCounters();
  private readonly doneWaiters = new Map<string, (() => void)[]>();
  /** Resume cursor of incoming transfers: last series fully stored. */
  readonly cursors = new Map<string, Labels>();

  start(p: Omit<TransferProgress, "startedAt" | "updatedAt" | "state" | "done" | "total">): TransferProgress {
    const now = new Date().toISOString();
    const t: TransferProgress = { ...p, state: "running", done: { series: 0, samples: 0, bytes: 0 }, total: { series: 0, samples: 0, bytes: 0 }, startedAt: now, updatedAt: now };
    this.active.set(p.id, t);
    return t;
  }

  finish(t: TransferProgress, state: "done" | "failed", error?: string): void {
    t.state = state;
    t.updatedAt = new Date().toISOString();
    if (error !== undefined) t.error = error;
    if (state === "failed") this.counters.failures.inc([t.direction, t.reason]);
    this.active.delete(t.id);
    this.recent.unshift(t);
    if (this.recent.length > 20) this.recent.pop();
    if (state === "done") {
      for (const fn of this.doneWaiters.get(t.id) ?? []) fn();
      this.doneWaiters.delete(t.id);
    }
  }

  /** Resolves when the incoming transfer `id` received its `done` message. */
  waitDone(id: string): Promise<void> {
    if (this.recent.some((t) => t.id === id && t.state === "done")) return Promise.resolve();
    return new Promise((resolve) => {
      let list = this.doneWaiters.get(id);
      if (!list) this.doneWaiters.set(id, (list = []));
      list.push(resolve);
    });
  }

  forgetWaiter(id: string): void {
    this.doneWaiters.delete(id);
  }

  count(t: TransferProgress, series: number, samples: number, bytes: number): void {
    t.done.series += series;
    t.done.samples += samples;
    t.done.bytes += bytes;
    if (t.done.samples > 0 && t.total.samples > 0) t.total.bytes = Math.round((t.done.bytes / t.done.samples) * t.total.samples);
    t.updatedAt = new Date().toISOString();
    this.counters.series.inc([t.direction, t.reason], series);
    this.counters.samples.inc([t.direction, t.reason], samples);
    this.counters.bytes.inc([t.direction, t.reason], bytes);
  }
}

const SUMMARY_RANGE = { mint: -8.64e15, maxt: 8.64e15 };
const BATCH_TIMEOUT_MS = 60_000;

export interface PushOptions {
  id: string;
  peer: string;
  peerName: string;
  reason: HandoffReason;
  filter: SeriesFilter;
  ringFraction: number;
  mint?: number;
  maxt?: number;
  /** Resume strictly after this series. */
  after?: Labels;
  batchSamples?: number;
  /** Checked between batches: stop early (the node is exiting, the plan changed). */
  cancelled?: () => boolean;
}

export class TransferError extends Error {}

/** Sends series to peers and receives theirs. */
export class Transfers {
  readonly book = new TransferBook();

  constructor(
    private readonly rpc: Rpc,
    private readonly local: HandoffStorage,
    private readonly throttle: Throttle,
    private readonly logger: Logger,
  ) {}

  /**
   * Pushes every series passing the filter to `peer`; resolves once the peer acknowledged all
   * of them and the final message. Returns the resume cursor reached on failure via the error.
   */
  async push(o: PushOptions): Promise<void> {
    const t = this.book.start({ id: o.id, peer: o.peer, peerName: o.peerName, direction: "out", reason: o.reason, ringFraction: o.ringFraction });
    let cursor = o.after;
    let seq = 0;
    try {
      // Totals first (counts only), so progress can say how far along it is.
      const summaryOpts: Parameters<HandoffStorage["summarizeSeries"]>[0] = { filter: o.filter, mint: o.mint ?? SUMMARY_RANGE.mint, maxt: o.maxt ?? SUMMARY_RANGE.maxt, countOnly: true };
      if (o.after) summaryOpts.after = o.after;
      for await (const part of this.local.summarizeSeries(summaryOpts)) {
        for (const s of part) {
          t.total.series++;
          t.total.samples += s.count;
        }
      }
      const tot: [number, number] = [t.total.series, t.total.samples];
      const exportOpts: Parameters<HandoffStorage["exportSeries"]>[0] = { filter: o.filter, batchSamples: o.batchSamples ?? 50_000 };
      if (o.mint !== undefined) exportOpts.mint = o.mint;
      if (o.maxt !== undefined) exportOpts.maxt = o.maxt;
      if (o.after) exportOpts.after = o.after;
      // One batch in flight while the next is read and encoded (the receiver's backfill and the
      // sender's export overlap). Acknowledgements are taken in order, so the cursor only moves
      // past series whose batch and every earlier one were acknowledged.
      let acked: Promise<void> = Promise.resolve();
      for await (const batch of this.local.exportSeries(exportOpts)) {
        if (o.cancelled?.()) throw new TransferError("cancelled");
        if (batch.length === 0) continue;
        const z = Bun.zstdCompressSync(encodeCbor(encodeBatch(batch, { xor: true })), { level: 1 });
        const req: BatchRequest = { id: o.id, reason: o.reason, seq: seq++, z, tot, rf: o.ringFraction };
        const sent = this.rpc.call(o.peer, HANDOFF_BATCH_PROTOCOL, new EncodedFrame(encodeFrame(req, false)), BATCH_TIMEOUT_MS);
        let samples = 0;
        for (const s of batch) samples += s.timestamps.length;
        const last = batch[batch.length - 1]!.labels;
        const series = batch.length;
        const next = Promise.all([acked, sent]).then(() => {
          this.book.count(t, series, samples, z.length);
          // exportSeries never splits a series over batches: the last one is complete.
          cursor = last;
        });
        next.catch(() => {}); // awaited below; a failure of the previous one is reported first
        await acked;
        acked = next;
        // The budget is paid after sending: the first batch goes at once (progress shows), the
        // next ones wait until the bytes sent so far fit the rate.
        await this.throttle.take(z.length);
      }
      await acked;
      await this.rpc.call(o.peer, HANDOFF_BATCH_PROTOCOL, { id: o.id, reason: o.reason, seq, done: true, tot, rf: o.ringFraction } satisfies BatchRequest, BATCH_TIMEOUT_MS);
      this.book.finish(t, "done");
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.book.finish(t, "failed", msg);
      const e = new TransferError(`hand-off (${o.reason}) to ${o.peerName} failed: ${msg}`);
      (e as TransferError & { cursor?: Labels }).cursor = cursor;
      throw e;
    }
  }

  /** Server side of the batch protocol. A corrupt frame is refused with a clear error. */
  handler(peerName: (id: string) => string): (req: unknown, ctx: { from: string }) => Promise<BatchReply> {
    return async (raw, ctx) => {
      const req = raw as BatchRequest;
      if (!req || typeof req !== "object" || typeof req.id !== "string" || typeof req.seq !== "number") {
        throw new Error("malformed hand-off batch: missing id or seq");
      }
      const reason: HandoffReason = ["join", "leave", "death", "repair"].includes(req.reason) ? req.reason : "repair";
      let t = this.book.active.get(req.id);
      if (!t) {
        t = this.book.start({ id: req.id, peer: ctx.from, peerName: peerName(ctx.from), direction: "in", reason, ringFraction: 0 });
      }
      if (typeof req.rf === "number" && req.rf >= 0 && req.rf <= 1) t.ringFraction = req.rf;
      if (Array.isArray(req.tot)) {
        t.total.series = Number(req.tot[0]) || 0;
        t.total.samples = Number(req.tot[1]) || 0;
      }
      if (req.done) {
        this.book.finish(t, "done");
        this.book.cursors.delete(req.id);
        return { series: 0, samples: 0 };
      }
      if (!(req.z instanceof Uint8Array)) throw new Error(`malformed hand-off batch ${req.seq} of ${req.id}: no payload`);
      let series: SeriesData[];
      try {
        series = decodeBatch(decodeCbor<WireBatch>(Bun.zstdDecompressSync(req.z)));
      } catch (err) {
        const msg = `corrupt hand-off batch ${req.seq} of transfer ${req.id} from ${t.peerName}: ${err instanceof Error ? err.message : String(err)}`;
        this.logger.error(msg);
        throw new Error(msg);
      }
      await this.local.backfill(series);
      let samples = 0;
      for (const s of series) samples += s.timestamps.length;
      this.book.count(t, series.length, samples, req.z.length);
      // exportSeries never splits a series over batches: the last one is complete.
      if (series.length > 0) this.book.cursors.set(req.id, series[series.length - 1]!.labels);
      return { series: series.length, samples };
    };
  }
}

/** Labels for the wire (pull requests carry a resume cursor). */
export function labelsToWire(l: Labels | undefined): string[] | undefined {
  return l ? flattenLabels(l) : undefined;
}

export function labelsFromWire(w: unknown): Labels | undefined {
  return w === undefined || w === null ? undefined : (unflattenLabels(w as string[]) as Labels);
}
