/**
 * The versions of the select protocol and how a member is asked over them. /2 streams series as
 * binary select frames (select_frame.ts); /1 as CBOR batches (batch.ts); /3 is /2 plus several
 * requests in one exchange. All are answered, so a cluster in a rolling upgrade keeps reading: a
 * member that does not speak the newer one is asked over the older, and over the newer again a
 * while later (it may have been upgraded and restarted since).
 *
 * Requests for one member made in the same turn of the event loop (the selects of one query)
 * go out as one batch over /3: one round trip instead of one per selector.
 */
import type { Series } from "../model/index.ts";
import { decodeBatch, type WireBatch } from "./batch.ts";
import { RpcRemoteError, type Rpc } from "./rpc.ts";
import { decodeSelectFrame } from "./select_frame.ts";

export const SELECT_PROTOCOL_V1 = "/shoal/select/1";
export const SELECT_PROTOCOL_V2 = "/shoal/select/2";
export const SELECT_PROTOCOL_V3 = "/shoal/select/3";

/** How long a member that refused a version is asked over the older one before it is tried again. */
const OLD_PROTOCOL_RECHECK_MS = 60_000;

export interface MemberAnswer {
  /** The final answer of the exchange (the CBOR value after the streamed parts). */
  final: unknown;
  /** Series streamed before it, decoded; empty for label requests. */
  series: Series[];
  samples: number;
  /** Bytes of every frame received. */
  bytes: number;
  protocol: string;
}

interface Queued {
  req: unknown;
  timeoutMs: number;
  resolve(a: MemberAnswer): void;
  reject(err: unknown): void;
}

/** What is being received for one request: its series and the bytes that carried them. */
class Receiving {
  series: Series[] = [];
  samples = 0;
  bytes = 0;

  add(part: unknown, frameBytes: number): void {
    this.bytes += frameBytes;
    if (part instanceof Uint8Array) {
      const f = decodeSelectFrame(part);
      for (const s of f.series) this.series.push(s);
      this.samples += f.samples;
      return;
    }
    for (const s of decodeBatch((part as { b: WireBatch }).b)) {
      this.series.push(s);
      this.samples += s.timestamps.length;
    }
  }
}

export class SelectWire {
  /** Members that refused a version, until when they are asked over the older ones. */
  private readonly noV3Until = new Map<string, number>();
  private readonly noV2Until = new Map<string, number>();
  private readonly queued = new Map<string, Queued[]>();

  constructor(private readonly rpc: Rpc) {}

  /** Sends one select-protocol request to a member (batched with others to it made meanwhile). */
  call(peer: string, req: unknown, timeoutMs: number): Promise<MemberAnswer> {
    return new Promise((resolve, reject) => {
      let q = this.queued.get(peer);
      if (!q) {
        this.queued.set(peer, (q = []));
        queueMicrotask(() => this.flush(peer));
      }
      q.push({ req, timeoutMs, resolve, reject });
    });
  }

  private flush(peer: string): void {
    const q = this.queued.get(peer) ?? [];
    this.queued.delete(peer);
    if (q.length === 1 || (this.noV3Until.get(peer) ?? 0) >= Date.now()) {
      for (const r of q) this.single(peer, r.req, r.timeoutMs).then(r.resolve, r.reject);
      return;
    }
    this.batch(peer, q).catch((err: unknown) => {
      if (!isUnsupportedProtocol(err)) {
        for (const r of q) r.reject(err);
        return;
      }
      this.noV3Until.set(peer, Date.now() + OLD_PROTOCOL_RECHECK_MS);
      for (const r of q) this.single(peer, r.req, r.timeoutMs).then(r.resolve, r.reject);
    });
  }

  /** Several requests in one exchange over /3; each settles with its own answer or error. */
  private async batch(peer: string, q: readonly Queued[]): Promise<void> {
    const parts = q.map(() => new Receiving());
    let current: Receiving | null = null;
    const final = await this.rpc.call(peer, SELECT_PROTOCOL_V3, { op: "batch", reqs: q.map((r) => r.req) }, Math.max(...q.map((r) => r.timeoutMs)), (part, frameBytes) => {
      const i = !(part instanceof Uint8Array) && typeof (part as { i?: unknown }).i === "number" ? (part as { i: number }).i : -1;
      if (i >= 0) {
        current = parts[i] ?? null;
        return;
      }
      if (current === null) throw new Error("malformed batch answer: a part before any request was named");
      current.add(part, frameBytes);
    });
    const finals = (final as { batch?: unknown }).batch;
    if (!Array.isArray(finals) || finals.length !== q.length) throw new Error(`malformed batch answer from ${peer}`);
    q.forEach((r, i) => {
      const f = finals[i] as { e?: unknown };
      if (typeof f?.e === "string") r.reject(new RpcRemoteError(`${peer}: ${f.e}`));
      else r.resolve({ final: f, series: parts[i]!.series, samples: parts[i]!.samples, bytes: parts[i]!.bytes, protocol: SELECT_PROTOCOL_V3 });
    });
  }

  private async single(peer: string, req: unknown, timeoutMs: number): Promise<MemberAnswer> {
    const until = this.noV2Until.get(peer);
    if (until === undefined || until < Date.now()) {
      try {
        return await this.exchange(peer, SELECT_PROTOCOL_V2, req, timeoutMs);
      } catch (err) {
        if (!isUnsupportedProtocol(err)) throw err;
        this.noV2Until.set(peer, Date.now() + OLD_PROTOCOL_RECHECK_MS);
      }
    }
    return this.exchange(peer, SELECT_PROTOCOL_V1, req, timeoutMs);
  }

  private async exchange(peer: string, protocol: string, req: unknown, timeoutMs: number): Promise<MemberAnswer> {
    const got = new Receiving();
    // Parts are decoded as they arrive, so decoding overlaps with the member still sending.
    const final = await this.rpc.call(peer, protocol, req, timeoutMs, (part, frameBytes) => got.add(part, frameBytes));
    return { final, series: got.series, samples: got.samples, bytes: got.bytes, protocol };
  }
}

/** libp2p's answer when the peer has no handler for any protocol offered. */
function isUnsupportedProtocol(err: unknown): boolean {
  return err instanceof Error && err.name === "UnsupportedProtocolError";
}
