/**
 * Remote-write decoding on worker threads. The request thread reads the body and appends;
 * snappy and protobuf decoding (a quarter of its time under load) run on workers, so that with
 * several senders decoding one request overlaps with appending another. (Deciding per request
 * whether to hand over does not work: Bun hands a handler a body it has already buffered, so a
 * request is handled in one go and the handler never sees others waiting.)
 *
 * Label sets cross threads once: a worker numbers the label sets it has seen (its LabelsCache)
 * and sends each new one with its number the first time; the pool keeps one table per worker
 * from numbers to Labels objects, so storage gets the same object for a series on every request
 * (the head and the distributor look series up by object identity).
 */
import type { Labels, Logger } from "../../model/index.ts";
import { decodeBody, type WriteOutcome, type WriteProtocol } from "./write_body.ts";
import type { DecodedWrite, LabelsCache } from "./write_decode.ts";

export interface DecodeRequest {
  id: number;
  body: ArrayBuffer;
  maxDecodedBytes: number;
  protocol: WriteProtocol;
}

export type DecodeReply =
  | {
      id: number;
      ok: true;
      /** The worker's cache epoch; a new one means its numbering started over. */
      epoch: number;
      /** Label sets new since the last reply: fresh[k] has number firstId + k. */
      firstId: number;
      fresh: Labels[];
      /** Their label fields' raw bytes, one after the other; fresh[k]'s end at freshEnds[k]. */
      freshBytes: Uint8Array;
      freshEnds: Int32Array;
      /** Per series, its number, or -1 when its labels are in `inline` (in order). */
      ids: Int32Array;
      inline: Labels[];
      offsets: Int32Array;
      timestamps: Float64Array;
      values: Float64Array;
      sampleCount: number;
      histogramCount: number;
      metadataCount: number;
    }
  | { id: number; ok: false; status: number; message: string };

interface Waiter {
  resolve: (out: DecodedWrite | WriteOutcome) => void;
}

class PoolWorker {
  private worker: Worker;
  private table: Labels[] = [];
  private epoch = 0;
  private readonly waiting = new Map<number, Waiter>();
  private seq = 0;
  /** Started and able to take requests. */
  ready = false;
  /** Failed to start, or kept failing: requests are decoded on the request thread instead. */
  dead = false;
  private crashes = 0;

  constructor(
    private readonly logger: Logger,
    private readonly shared: LabelsCache,
  ) {
    this.worker = this.spawn();
  }

  get busy(): number {
    return this.waiting.size;
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./write_worker.ts", import.meta.url).href);
    (w as unknown as { unref(): void }).unref(); // never keeps the process alive (Bun-specific)
    w.addEventListener("open", () => {
      this.ready = true;
    });
    w.onmessage = (ev: MessageEvent<DecodeReply>) => this.onReply(ev.data);
    w.onerror = (ev: ErrorEvent) => this.onCrash(ev.message);
    return w;
  }

  /**
   * A worker that died fails the requests it held (500: the sender retries them) and is
   * replaced; one that never started, or died three times, is given up on.
   */
  private onCrash(message: string): void {
    for (const w of this.waiting.values()) w.resolve({ status: 500, message: `remote write decoder failed: ${message}` });
    this.waiting.clear();
    this.worker.terminate();
    this.table = [];
    this.epoch = 0;
    const started = this.ready;
    this.ready = false;
    if (!started || ++this.crashes >= 3) {
      this.dead = true;
      this.logger.error("Remote-write decoding worker failed; decoding on the request thread from now on", { err: message });
      return;
    }
    this.logger.error("Remote-write decoding worker failed; starting a new one", { err: message });
    this.worker = this.spawn();
  }

  decode(body: ArrayBuffer, maxDecodedBytes: number, protocol: WriteProtocol): Promise<DecodedWrite | WriteOutcome> {
    const id = this.seq++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve });
      this.worker.postMessage({ id, body, maxDecodedBytes, protocol } satisfies DecodeRequest, [body]);
    });
  }

  private onReply(r: DecodeReply): void {
    const w = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    if (r.ok) {
      if (r.epoch !== this.epoch) {
        this.table = [];
        this.epoch = r.epoch;
      }
      // Replies come in the order the worker made them, so numbers arrive before their use. A
      // label set the request thread already decoded keeps its object there.
      let from = 0;
      for (let k = 0; k < r.fresh.length; k++) {
        const bytes = r.freshBytes.subarray(from, r.freshEnds[k]!);
        from = r.freshEnds[k]!;
        const hash = Bun.hash.xxHash32(bytes) | 0;
        const known = this.shared.get(bytes, hash);
        this.table[r.firstId + k] = known !== undefined ? known.labels : this.shared.set(bytes, hash, r.fresh[k]!).labels;
      }
    }
    if (!w) return;
    if (!r.ok) {
      w.resolve({ status: r.status, message: r.message });
      return;
    }
    const series: Labels[] = new Array(r.ids.length);
    let j = 0;
    for (let i = 0; i < r.ids.length; i++) {
      const id = r.ids[i]!;
      series[i] = id >= 0 ? this.table[id]! : r.inline[j++]!;
    }
    w.resolve({
      series,
      offsets: r.offsets,
      timestamps: r.timestamps,
      values: r.values,
      sampleCount: r.sampleCount,
      ids: null,
      histogramCount: r.histogramCount,
      metadataCount: r.metadataCount,
    });
  }

  close(): void {
    this.worker.terminate();
  }
}

/**
 * `size` workers and the request thread's own LabelsCache, which both paths share: a label set
 * has one Labels object whichever thread decoded it. `decode` runs on the request thread when
 * `inline` is asked for or no worker is ready (starting, or given up on), else on the least busy
 * worker. One worker is the default: it takes all the decoding off the request thread.
 */
export class DecodePool {
  private readonly workers: PoolWorker[];

  constructor(
    size: number,
    logger: Logger,
    private readonly cache: LabelsCache,
  ) {
    this.workers = Array.from({ length: size }, () => new PoolWorker(logger, cache));
  }

  /** A promise when a worker decodes; the outcome itself when the request thread did. */
  decode(body: ArrayBuffer, maxDecodedBytes: number, inline = false, protocol: WriteProtocol = 1): Promise<DecodedWrite | WriteOutcome> | DecodedWrite | WriteOutcome {
    let best: PoolWorker | null = null;
    if (!inline) for (const w of this.workers) if (w.ready && !w.dead && (best === null || w.busy < best.busy)) best = w;
    if (best === null) return decodeBody(new Uint8Array(body), maxDecodedBytes, this.cache, protocol);
    return best.decode(body, maxDecodedBytes, protocol);
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}

/** Decoding workers by default: one, or none on a single core. */
export function defaultDecodeWorkers(): number {
  return (navigator.hardwareConcurrency || 1) > 1 ? 1 : 0;
}
