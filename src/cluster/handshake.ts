/**
 * Warns, naming the peer, when a connection with another node fails before libp2p finished
 * setting it up (private-network key exchange, encryption, multiplexer negotiation). Between
 * Shoal nodes the usual cause is a cluster secret that differs, or that one side lacks: with a
 * pre-shared key the bytes the other side reads are noise. Without a watch such a node only
 * shows up in debug logs and quietly runs alone.
 *
 * It sits in libp2p's connection-protector slot: wrapping the pre-shared-key protector when the
 * node has a secret, passing connections through unchanged when it has none. A connection is
 * pending from there until libp2p reports it open; closing while pending is a failed handshake,
 * judged by how it failed (see `failureKind`) so that peers dying or pausing are not blamed.
 */
import type { ConnectionProtector, MessageStream } from "@libp2p/interface";
import type { Logger } from "../model/index.ts";
import { WarnLimiter } from "./identity.ts";

/** One warning per peer address per this long; the next one says how many were held back. */
const WARN_EVERY_MS = 60_000;
/** A handshake cut or timed out counts when it happens again within this long. */
const UNCLEAR_AGAIN_WITHIN_MS = 30_000;

/**
 * Why a handshake failed. A secret that differs makes one side read noise: it mostly fails at
 * once with a protocol error and drops the connection, so the other side sees the connection
 * cut; noise that looks like a short message makes both wait until they time out. A peer killed
 * mid-handshake also cuts it, and one paused times out, but once: its port then refuses the
 * next dial, or it is not dialled again until it speaks. So a cut or a timeout counts only when
 * it happens again with the same peer.
 */
function failureKind(err: Error | undefined): "unclear" | "protocol" {
  const text = `${err?.name ?? ""} ${(err as { code?: string } | undefined)?.code ?? ""} ${err?.message ?? ""}`;
  if (err === undefined || /AbortError|TimeoutError|aborted|timed? ?out|ECONNRESET|EPIPE|ECONNABORTED|EOF|ended|closed|reset/i.test(text)) return "unclear";
  return "protocol";
}

function withoutPeerId(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, "");
}

/** `/ip4/10.0.0.5/tcp/7946/p2p/12D…` → { host: "10.0.0.5", hostPort: "10.0.0.5:7946", peerId }. */
function describe(addr: string): { host: string; hostPort: string; peerId?: string } {
  const m = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(addr);
  const peerId = /\/p2p\/([^/]+)$/.exec(addr)?.[1];
  if (!m) return { host: addr, hostPort: addr, peerId };
  const host = m[1]!;
  return { host, hostPort: host.includes(":") ? `[${host}]:${m[2]}` : `${host}:${m[2]}`, peerId };
}

export class HandshakeWatch {
  private readonly pending = new Map<string, object>();
  private readonly limiter = new WarnLimiter(WARN_EVERY_MS);
  /** performance.now() of the last handshake cut or timed out, per peer key. */
  private readonly lastUnclear = new Map<string, number>();
  private stopped = false;
  /** Failed handshakes seen (for the status and tests), by direction. */
  readonly failures = { inbound: 0, outbound: 0 };

  constructor(
    private readonly logger: Logger,
    private readonly hasSecret: boolean,
  ) {}

  /** libp2p's `connectionProtector` option: `inner` is the pre-shared-key protector, if any. */
  protector(inner: ((components: unknown) => ConnectionProtector) | null): (components: unknown) => ConnectionProtector {
    return (components) => {
      const wrapped = inner?.(components) ?? null;
      return {
        protect: async (conn: MessageStream, options) => {
          const addr = String((conn as MessageStream & { remoteAddr?: unknown }).remoteAddr ?? "");
          const direction = conn.direction;
          const key = withoutPeerId(addr);
          const token = {};
          this.pending.set(key, token);
          conn.addEventListener(
            "close",
            (evt) => {
              if (this.pending.get(key) !== token) return;
              this.pending.delete(key);
              this.failed(addr, direction, (evt as Event & { error?: Error }).error);
            },
            { once: true },
          );
          if (!wrapped) return conn;
          try {
            return await wrapped.protect(conn, options);
          } catch (err) {
            if (this.pending.get(key) === token) this.pending.delete(key);
            this.failed(addr, direction, err as Error);
            throw err;
          }
        },
      };
    };
  }

  /** A connection to `remoteAddr` finished its setup (libp2p's `connection:open`). */
  opened(remoteAddr: string): void {
    this.pending.delete(withoutPeerId(remoteAddr));
  }

  /** The node is shutting down: connections it drops are not the peers' fault. */
  stop(): void {
    this.stopped = true;
  }

  private failed(addr: string, direction: string, err: Error | undefined): void {
    if (this.stopped) return;
    const inbound = direction === "inbound";
    const peer = describe(addr);
    // Inbound connections come from a fresh port each time: one key per remote host.
    const key = inbound ? `in ${peer.host}` : `out ${peer.hostPort}`;
    const now = performance.now();
    if (failureKind(err) === "unclear") {
      const before = this.lastUnclear.get(key);
      this.lastUnclear.set(key, now);
      if (this.lastUnclear.size > 10_000) this.lastUnclear.delete(this.lastUnclear.keys().next().value!);
      if (before === undefined || now - before > UNCLEAR_AGAIN_WITHIN_MS) {
        this.logger.debug("cluster handshake cut or timed out", { address: addr, direction, err });
        return;
      }
    }
    if (inbound) this.failures.inbound++;
    else this.failures.outbound++;
    const held = this.limiter.allow(key, now);
    if (held === null) return;
    const why = this.hasSecret
      ? "the peer has another cluster secret, or none (check --cluster.secret-file on both nodes)"
      : "the peer may require a cluster secret, and this node has none (--cluster.secret-file)";
    this.logger.warn(`cluster handshake with ${inbound ? peer.host : peer.hostPort} failed: ${why}`, {
      peer: inbound ? peer.host : peer.hostPort,
      ...(peer.peerId ? { peer_id: peer.peerId } : {}),
      address: addr,
      direction,
      ...(held > 0 ? { repeated: held } : {}),
      ...(err ? { err: err.message } : {}),
    });
  }
}
