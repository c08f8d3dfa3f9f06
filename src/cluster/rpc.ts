/**
 * Request/response over libp2p streams: length-prefixed frames (see codec.ts), one request frame,
 * then zero or more `more` frames and one final frame. Streams are kept open and reused per
 * peer and protocol, so a write does not pay for a new stream negotiation each time.
 */
import type { Libp2p, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import * as lp from "it-length-prefixed";
import type { Logger } from "../model/index.ts";
import { bytesFramePayload, decodeFrame, encodeBytesFrame, encodeFrame } from "./codec.ts";
import { LabelledCounter } from "./metrics.ts";

const MAX_FRAME_BYTES = 256 * 1024 * 1024;
const MAX_IDLE_STREAMS = 8;

/** A response envelope: `m` = a partial (streamed) part, `r` = the final result, `e` = an error. */
type Envelope = { m: unknown } | { r: unknown } | { e: string };

export class RpcError extends Error {}
export class RpcTimeoutError extends RpcError {}
/** The peer answered with an error; the stream itself is fine. */
export class RpcRemoteError extends RpcError {}

export interface RpcContext {
  /** Peer id of the caller. */
  from: string;
  /** Sends one partial part of a streamed answer. */
  send(part: unknown): Promise<void>;
  /** Sends one part as opaque bytes (a binary format of the protocol's own), skipping CBOR. */
  sendBytes(part: Uint8Array): Promise<void>;
}

export type RpcHandler = (req: unknown, ctx: RpcContext) => Promise<unknown>;

/**
 * Another way to ask members for some protocols (http_rpc.ts); `call` resolves null when the
 * member could not be asked that way, and the exchange then goes over libp2p.
 */
export interface SideTransport {
  serves(protocol: string): boolean;
  call(peer: string, protocol: string, req: unknown, timeoutMs: number, onPart?: (part: unknown, frameBytes: number) => void): Promise<{ value: unknown } | null>;
}

interface PooledStream {
  stream: Stream;
  frames: AsyncIterator<{ subarray(): Uint8Array }>;
}

/** A request already encoded with `encodeFrame` (hinted-handoff replays send stored bytes). */
export class EncodedFrame {
  constructor(readonly bytes: Uint8Array) {}
}

async function writeFrame(stream: Stream, value: unknown): Promise<void> {
  const bytes = value instanceof EncodedFrame ? value.bytes : encodeFrame(value);
  await writeEncoded(stream, bytes);
}

async function writeEncoded(stream: Stream, bytes: Uint8Array): Promise<void> {
  const ok = stream.send(lp.encode.single(bytes, { maxDataLength: MAX_FRAME_BYTES }));
  if (!ok) await stream.onDrain();
}

export class Rpc {
  private readonly idle = new Map<string, PooledStream[]>();
  private readonly handlers = new Map<string, RpcHandler>();
  private side: SideTransport | null = null;
  /** Requests sent, by protocol and the transport that carried them (`http` or `libp2p`). */
  readonly requests = new LabelledCounter(["protocol", "transport"]);

  constructor(
    private readonly node: Libp2p,
    private readonly logger: Logger,
  ) {}

  /** Asks members over `side` first for the protocols it serves. */
  useSideTransport(side: SideTransport): void {
    this.side = side;
  }

  /** The handler registered for a protocol (for requests that come another way than libp2p). */
  handler(protocol: string): RpcHandler | undefined {
    return this.handlers.get(protocol);
  }

  /** Registers the server side of a protocol. Requests on one stream are served in order. */
  async handle(protocol: string, handler: RpcHandler): Promise<void> {
    this.handlers.set(protocol, handler);
    await this.node.handle(
      protocol,
      async (stream, connection) => {
        const from = connection.remotePeer.toString();
        const ctx: RpcContext = {
          from,
          send: (part) => writeFrame(stream, { m: part }),
          sendBytes: (part) => writeEncoded(stream, encodeBytesFrame(part)),
        };
        try {
          for await (const frame of lp.decode(stream, { maxDataLength: MAX_FRAME_BYTES })) {
            let reply: Envelope;
            try {
              reply = { r: await handler(decodeFrame(frame.subarray()), ctx) };
            } catch (err) {
              reply = { e: err instanceof Error ? err.message : String(err) };
            }
            await writeFrame(stream, reply);
          }
          await stream.close().catch(() => {});
        } catch (err) {
          this.logger.debug("rpc stream ended with an error", { protocol, from, err });
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        }
      },
      { maxInboundStreams: 256, maxOutboundStreams: 256 },
    );
  }

  /**
   * Sends one request and returns the final result; `onPart` receives streamed parts (a part
   * sent with `sendBytes` as a Uint8Array) and the size of the frame that carried it. Throws
   * RpcTimeoutError when the whole exchange takes longer than `timeoutMs`, RpcError for a
   * remote error.
   */
  async call(
    peer: string,
    protocol: string,
    req: unknown,
    timeoutMs: number,
    onPart?: (part: unknown, frameBytes: number) => void,
  ): Promise<unknown> {
    if (this.side?.serves(protocol)) {
      const answer = await this.side.call(peer, protocol, req, timeoutMs, onPart);
      if (answer !== null) {
        this.requests.inc([protocol, "http"]);
        return answer.value;
      }
    }
    this.requests.inc([protocol, "libp2p"]);
    const key = `${peer} ${protocol}`;
    let ps: PooledStream | undefined = this.idle.get(key)?.pop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new RpcTimeoutError(`${protocol} to ${peer} timed out after ${timeoutMs}ms`));
      }, timeoutMs);
    });
    try {
      const exchange = async (): Promise<unknown> => {
        if (!ps || ps.stream.status !== "open") {
          const stream = await this.node.dialProtocol(peerIdOf(peer), protocol, {
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (timedOut) {
            // The caller gave up while we dialled: nobody will read or release this stream.
            stream.abort(new RpcTimeoutError("timed out"));
            throw new RpcTimeoutError(`${protocol} to ${peer} timed out`);
          }
          ps = { stream, frames: lp.decode(stream, { maxDataLength: MAX_FRAME_BYTES })[Symbol.asyncIterator]() };
        }
        await writeFrame(ps.stream, req);
        for (;;) {
          const next = await ps.frames.next();
          if (next.done) throw new RpcError(`${protocol} to ${peer}: stream closed before the answer`);
          const frame = next.value.subarray();
          const bytes = bytesFramePayload(frame);
          if (bytes !== null) {
            if (!timedOut) onPart?.(bytes, frame.byteLength);
            continue;
          }
          const env = decodeFrame<Envelope>(frame);
          if ("m" in env) {
            if (!timedOut) onPart?.(env.m, frame.byteLength);
            continue;
          }
          if ("e" in env) throw new RpcRemoteError(`${peer}: ${env.e}`);
          return env.r;
        }
      };
      const result = await Promise.race([exchange(), deadline]);
      this.release(key, ps!);
      return result;
    } catch (err) {
      // A remote error leaves the stream in a clean state; anything else may not have.
      if (err instanceof RpcRemoteError && ps && ps.stream.status === "open") {
        this.release(key, ps);
      } else if (ps) {
        ps.stream.abort(err instanceof Error ? err : new Error(String(err)));
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private release(key: string, ps: PooledStream): void {
    if (ps.stream.status !== "open") return;
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    if (list.length < MAX_IDLE_STREAMS) list.push(ps);
    else void ps.stream.close().catch(() => {});
  }

  /** Drops pooled streams of a peer (after it disconnected or was declared dead). */
  forget(peer: string): void {
    for (const [key, list] of this.idle) {
      if (!key.startsWith(peer + " ")) continue;
      for (const ps of list) ps.stream.abort(new Error("peer forgotten"));
      this.idle.delete(key);
    }
  }
}

const peerIds = new Map<string, PeerId>();
export function peerIdOf(id: string): PeerId {
  let p = peerIds.get(id);
  if (!p) peerIds.set(id, (p = peerIdFromString(id)));
  return p;
}
