/**
 * The read protocols (select, pushdown) over the members' HTTP API as well as over libp2p.
 * libp2p's JavaScript stack (noise encryption in JavaScript, yamux, length-prefixed streams)
 * costs about 0.7 ms per round trip on an idle machine where Bun's HTTP client and server cost
 * 0.05 ms, and a query asks every member at least once for the newest samples. A read over HTTP
 * gets no more than the query API already answers the same caller, through the same web config
 * (basic auth, TLS; the node calls with --web.client-config.file); writes, hand-off, hints and
 * membership stay on libp2p, where peers are authenticated and the cluster secret applies.
 *
 * One request is one POST of the request frame; the answer streams the frames the libp2p
 * exchange would carry (parts, then the final envelope), each behind a 4-byte length. The
 * caller names the member it means to reach, and a node that is another one answers 409. With a
 * cluster secret, a request must carry a token derived from it (403 otherwise): the members'
 * raw reads stay closed to whoever can reach the HTTP API but not join the cluster. A
 * member is asked over HTTP once a probe (short timeout) found its API reachable, so a firewall
 * between HTTP ports costs no query its timeout; one whose HTTP API cannot be reached, refuses
 * the node's credentials, is another node or does not know the route (an older version) is
 * asked over libp2p, and probed again a while later.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../model/index.ts";
import { bytesFramePayload, decodeFrame, encodeBytesFrame, encodeFrame } from "./codec.ts";
import { RpcError, RpcRemoteError, RpcTimeoutError, type RpcContext, type RpcHandler, type SideTransport } from "./rpc.ts";

export const HTTP_RPC_PATH = "/api/v1/cluster/rpc";
const PROTOCOL_HEADER = "x-shoal-protocol";
/** The member the caller means to reach. */
const NODE_HEADER = "x-shoal-node";
/** The caller's member id, as it says (for the handler's context only: reads do not depend on it). */
const FROM_HEADER = "x-shoal-from";
/** The token derived from the cluster secret (httpRpcToken), when the cluster has one. */
const TOKEN_HEADER = "x-shoal-token";
const MAX_FRAME_BYTES = 256 * 1024 * 1024;
/** How long a member that could not be asked over HTTP is asked over libp2p only. */
const RETRY_HTTP_AFTER_MS = 30_000;
/** How long a probe waits for the member's answer. */
const PROBE_TIMEOUT_MS = 2000;
/** The protocol name of a probe: answered (204) by any member that serves reads over HTTP. */
const PROBE = "probe";

type Envelope = { m: unknown } | { r: unknown } | { e: string };

/** The token members show each other on HTTP reads: a hash of the cluster secret's key. */
export function httpRpcToken(key: Uint8Array): string {
  return createHash("sha256").update("shoal-http-rpc\0").update(key).digest("hex");
}

export interface HttpRpcOptions {
  selfId: string;
  /** Protocols asked over HTTP (reads). */
  protocols: readonly string[];
  /** The member's HTTP base URL, or null when it cannot be told. */
  urlOf(peer: string): string | null;
  /** Credentials and TLS settings (--web.client-config.file), read per call. */
  request?: () => { headers: Record<string, string>; tls: NonNullable<BunFetchRequestInit["tls"]> };
  /** httpRpcToken of the cluster secret; null without one. */
  token: string | null;
  logger: Logger;
  now?: () => number;
}

/** The caller's side: `call` resolves null when the member could not be asked this way. */
export class HttpRpc implements SideTransport {
  private readonly protocols: ReadonlySet<string>;
  /** Per member: probing, reachable (`up`), or asked over libp2p only until when, and why. */
  private readonly state = new Map<string, { up: boolean; probing: boolean; until: number; why: string }>();

  constructor(private readonly o: HttpRpcOptions) {
    this.protocols = new Set(o.protocols);
  }

  serves(protocol: string): boolean {
    return this.protocols.has(protocol);
  }

  async call(
    peer: string,
    protocol: string,
    req: unknown,
    timeoutMs: number,
    onPart?: (part: unknown, frameBytes: number) => void,
  ): Promise<{ value: unknown } | null> {
    if (!this.reachable(peer)) return null;
    const base = this.o.urlOf(peer);
    if (base === null) return null;
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await this.post(base, peer, protocol, encodeFrame(req), signal);
    } catch (err) {
      if (signal.aborted) throw new RpcTimeoutError(`${protocol} to ${peer} over HTTP timed out after ${timeoutMs}ms`);
      return this.unavailable(peer, `cannot reach ${base}: ${(err as Error).message}`);
    }
    if (res.status !== 200) return this.unavailable(peer, await refusal(base, res));
    let delivered = false;
    try {
      // A small answer comes as one body (serveHttpRpc): read at once, not chunk by chunk.
      const body = res.headers.has("content-length") ? splitFrames(new Uint8Array(await res.arrayBuffer())) : frames(res.body!);
      for await (const frame of body) {
        const bytes = bytesFramePayload(frame);
        if (bytes !== null) {
          delivered = true;
          onPart?.(bytes, frame.byteLength);
          continue;
        }
        const env = decodeFrame<Envelope>(frame);
        if ("m" in env) {
          delivered = true;
          onPart?.(env.m, frame.byteLength);
          continue;
        }
        if ("e" in env) throw new RpcRemoteError(`${peer}: ${env.e}`);
        return { value: env.r };
      }
      throw new RpcError(`${protocol} to ${peer} over HTTP: the answer ended before its final frame`);
    } catch (err) {
      if (err instanceof RpcRemoteError) throw err;
      if (signal.aborted) throw new RpcTimeoutError(`${protocol} to ${peer} over HTTP timed out after ${timeoutMs}ms`);
      // Parts already handed over cannot be asked for again over the other transport.
      if (delivered) throw err instanceof RpcError ? err : new RpcError(`${protocol} to ${peer} over HTTP: ${(err as Error).message}`);
      return this.unavailable(peer, (err as Error).message);
    }
  }

  /**
   * Whether the member is known reachable over HTTP; starts a probe when it is not known yet
   * or was not reachable a while ago (the call goes over libp2p meanwhile).
   */
  private reachable(peer: string): boolean {
    const st = this.state.get(peer);
    if (st?.up) return true;
    if (st?.probing || (st !== undefined && st.until > (this.o.now ?? Date.now)())) return false;
    void this.probe(peer);
    return false;
  }

  /** Asks the member whether it serves reads over HTTP; resolves when it has its answer. */
  async probe(peer: string): Promise<void> {
    const was = this.state.get(peer);
    this.state.set(peer, { up: false, probing: true, until: 0, why: was?.why ?? "" });
    const base = this.o.urlOf(peer);
    if (base === null) {
      this.unavailable(peer, "its HTTP address is not known");
      return;
    }
    try {
      const res = await this.post(base, peer, PROBE, new Uint8Array(0), AbortSignal.timeout(PROBE_TIMEOUT_MS));
      if (res.status === 204) {
        if (was !== undefined && !was.up && was.why !== "") this.o.logger.info("asking a member over HTTP again", { member: peer });
        this.state.set(peer, { up: true, probing: false, until: 0, why: "" });
        return;
      }
      this.unavailable(peer, await refusal(base, res));
    } catch (err) {
      this.unavailable(peer, `cannot reach ${base}: ${(err as Error).message}`);
    }
  }

  private post(base: string, peer: string, protocol: string, body: Uint8Array, signal: AbortSignal): Promise<Response> {
    const r = this.o.request?.();
    return fetch(base + HTTP_RPC_PATH, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers: {
        ...r?.headers,
        "content-type": "application/octet-stream",
        "accept-encoding": "identity",
        [PROTOCOL_HEADER]: protocol,
        [NODE_HEADER]: peer,
        [FROM_HEADER]: this.o.selfId,
        ...(this.o.token === null ? {} : { [TOKEN_HEADER]: this.o.token }),
      },
      signal,
      ...(r ? { tls: r.tls } : {}),
    });
  }

  private unavailable(peer: string, why: string): null {
    const was = this.state.get(peer);
    if (was?.why !== why) this.o.logger.info("asking a member over libp2p: its HTTP API cannot serve cluster reads", { member: peer, reason: why });
    this.state.set(peer, { up: false, probing: false, until: (this.o.now ?? Date.now)() + RETRY_HTTP_AFTER_MS, why });
    return null;
  }
}

/** Why a member's HTTP answer is not one to read: its status and the start of its body. */
async function refusal(base: string, res: Response): Promise<string> {
  const text = (await res.text().catch(() => "")).trim().slice(0, 200);
  const hint = res.status === 401 ? " (give this node credentials with --web.client-config.file)" : "";
  return `${base}${HTTP_RPC_PATH} answered HTTP ${res.status}${text ? `: ${text}` : ""}${hint}`;
}

/** The length-prefixed frames of a response body, as they arrive. */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  let at = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) break;
    buf = at < buf.length ? concat(buf.subarray(at), chunk) : chunk;
    at = 0;
    for (;;) {
      if (buf.length - at < 4) break;
      const n = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0);
      if (n > MAX_FRAME_BYTES) throw new RpcError(`a frame of ${n} bytes is over the limit`);
      if (buf.length - at - 4 < n) break;
      yield buf.subarray(at + 4, at + 4 + n);
      at += 4 + n;
    }
  }
  if (at < buf.length) throw new RpcError("the answer ended inside a frame");
}

/** The length-prefixed frames of a whole body. */
function* splitFrames(buf: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at + 4 <= buf.length) {
    const n = view.getUint32(at);
    if (at + 4 + n > buf.length) break;
    yield buf.subarray(at + 4, at + 4 + n);
    at += 4 + n;
  }
  if (at < buf.length) throw new RpcError("the answer ended inside a frame");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function prefixed(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 4);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(frame, 4);
  return out;
}

function sameToken(got: string, want: string): boolean {
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

function plain(status: number, text: string): Response {
  return new Response(text + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** An answer up to this size is sent as one body; a larger one is streamed as it is made. */
const BUFFERED_ANSWER_BYTES = 1 << 20;

/**
 * The member's side: runs the handler of the named protocol (only those `protocols` lists) and
 * sends its parts and final envelope: as one body when they are small (most reads), else
 * streamed, waiting while the caller reads slower than the handler sends.
 */
export async function serveHttpRpc(
  request: Request,
  o: { selfId: string; protocols: readonly string[]; handler(protocol: string): RpcHandler | undefined; token: string | null },
): Promise<Response> {
  if (o.token !== null && !sameToken(request.headers.get(TOKEN_HEADER) ?? "", o.token)) {
    return plain(403, "cluster reads over HTTP need the cluster secret's token (this member runs with --cluster.secret-file)");
  }
  const protocol = request.headers.get(PROTOCOL_HEADER) ?? "";
  const handler = o.protocols.includes(protocol) ? o.handler(protocol) : undefined;
  if (handler === undefined && protocol !== PROBE) return plain(404, `protocol ${JSON.stringify(protocol)} is not served over HTTP`);
  const node = request.headers.get(NODE_HEADER) ?? "";
  if (node !== o.selfId) return plain(409, `this is member ${o.selfId}, not ${JSON.stringify(node)}`);
  if (handler === undefined) return new Response(null, { status: 204 });
  let req: unknown;
  try {
    req = decodeFrame(new Uint8Array(await request.arrayBuffer()));
  } catch (err) {
    return plain(400, `malformed request frame: ${(err as Error).message}`);
  }
  const headers = { "content-type": "application/octet-stream" };
  return new Promise<Response>((respond) => {
    const buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
    let wake: (() => void) | null = null;
    let cancelled = false;
    const stream = (): void => {
      const body = new ReadableStream<Uint8Array>(
        {
          start: (c) => {
            controller = c;
            for (const b of buffered.splice(0)) c.enqueue(b);
          },
          pull: () => {
            wake?.();
            wake = null;
          },
          cancel: () => {
            cancelled = true;
            wake?.();
            wake = null;
          },
        },
        { highWaterMark: 8 },
      );
      respond(new Response(body, { headers }));
    };
    const push = async (frame: Uint8Array): Promise<void> => {
      if (cancelled) throw new Error("the caller went away");
      const bytes = prefixed(frame);
      if (controller === null) {
        buffered.push(bytes);
        bufferedBytes += bytes.length;
        if (bufferedBytes > BUFFERED_ANSWER_BYTES) stream();
        return;
      }
      controller.enqueue(bytes);
      if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (wake = resolve));
    };
    const ctx: RpcContext = {
      from: request.headers.get(FROM_HEADER) ?? "",
      send: (part) => push(encodeFrame({ m: part })),
      sendBytes: (part) => push(encodeBytesFrame(part)),
    };
    void (async () => {
      let reply: Envelope;
      try {
        reply = { r: await handler(req, ctx) };
      } catch (err) {
        reply = { e: err instanceof Error ? err.message : String(err) };
      }
      if (cancelled) return;
      const last = prefixed(encodeFrame(reply));
      const c = controller as ReadableStreamDefaultController<Uint8Array> | null;
      if (c === null) {
        buffered.push(last);
        respond(new Response(Buffer.concat(buffered), { headers }));
        return;
      }
      c.enqueue(last);
      c.close();
    })();
  });
}
