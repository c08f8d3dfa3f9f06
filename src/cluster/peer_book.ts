/**
 * Whom this node dials and remembers: members heard of (dialled at their advertised addresses),
 * `--cluster.join` targets (retried while not connected to the peer behind them; DNS names among
 * them resolved again every `joinRefreshMs`, see join_targets.ts), members
 * remembered in `peers.json` across restarts, and nodes of other clusters that are not dialled
 * again for a while. Every dial is backed off per peer.
 */
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { lookup } from "node:dns/promises";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger, Clock } from "../model/index.ts";
import { splitHostPort } from "./config.ts";
import type { ClusterHost } from "./host.ts";
import { JoinTargets } from "./join_targets.ts";
import { peerIdOf } from "./rpc.ts";

interface RememberedPeer {
  id: string;
  name: string;
  addrs: string[];
  http: string;
  lastSeen: number;
}

/** A node of another cluster that this node refused, for the status. */
export interface RefusedPeer {
  id: string;
  name: string;
  clusterId: string;
  addrs: string[];
  /** Clock.now() of its last refused heartbeat. */
  lastSeen: number;
}

const DIAL_BACKOFF_MS = 2000;
/** A node of another cluster is not dialled again for this long (then checked anew). */
const FOREIGN_REDIAL_MS = 60_000;
/** How long a refused node stays in the status after its last attempt. */
const REFUSED_SHOWN_MS = 15 * 60_000;
const PERSIST_EVERY_MS = 10_000;
/** Remembered peers not seen for this long are dropped from peers.json. */
const REMEMBER_FOR_MS = 7 * 24 * 3600_000;

function stripPeerId(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, "");
}

export interface PeerBookOptions {
  host: ClusterHost;
  selfId: string;
  stateDir: string;
  /** --cluster.join values: HOST:PORT, dns+NAME:PORT or dnssrv+NAME. */
  join: readonly string[];
  /** IP:PORT of the DNS server for dns+ and dnssrv+ names (--dns.server); "" for the system's resolvers. */
  dnsServer?: string;
  /** How often dns+ and dnssrv+ names are resolved again, ms (default 30s). */
  joinRefreshMs?: number;
  clock: Clock;
  logger: Logger;
}

export class PeerBook {
  private readonly host: ClusterHost;
  private readonly selfId: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly peersFile: string;
  private readonly lastDial = new Map<string, number>();
  private readonly dialing = new Set<string>();
  private readonly remembered = new Map<string, RememberedPeer>();
  private rememberedDirty = false;
  private lastPersist = -Infinity;
  /** What --cluster.join names, DNS names resolved to HOST:PORT endpoints. */
  private readonly join: JoinTargets;
  /** HOST:PORT join endpoints, retried while we are not connected to the peer behind them. */
  private readonly joinTargets = new Map<string, { addr: string; peer?: string }>();
  private joinRefreshTimer: ReturnType<typeof setInterval> | null = null;
  /** Nodes of other clusters, by peer id: not members, not dialled until `until`. */
  private readonly refused = new Map<string, RefusedPeer & { until: number }>();
  private stopped = false;

  constructor(private readonly opts: PeerBookOptions) {
    this.host = opts.host;
    this.selfId = opts.selfId;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.peersFile = join(opts.stateDir, "peers.json");
    this.join = new JoinTargets(opts.join, opts.dnsServer ?? "", opts.logger);
    this.syncJoinTargets();
  }

  /** Whether other members are expected: join targets, or members remembered on disk. */
  expectsOthers(): boolean {
    if (this.join.any()) return true;
    for (const id of this.remembered.keys()) if (id !== this.selfId) return true;
    return false;
  }

  /** Reads peers.json and dials the members it remembers, then the join targets. */
  start(): void {
    this.loadRemembered();
    for (const p of this.remembered.values()) {
      if (p.id !== this.selfId) this.dialAddrs(p.id, p.addrs.map(stripPeerId));
    }
    this.dialJoinTargets();
    if (this.join.hasDnsNames()) {
      const refresh = () =>
        void this.join.refresh().then(() => {
          if (this.stopped) return;
          this.syncJoinTargets();
          this.dialJoinTargets();
        });
      refresh();
      this.joinRefreshTimer = setInterval(refresh, this.opts.joinRefreshMs ?? 30_000);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.joinRefreshTimer !== null) clearInterval(this.joinRefreshTimer);
    this.join.stop();
    this.persistRemembered(true);
  }

  /** Whether a node is connected to this one. */
  connected(id: string): boolean {
    return this.host.getConnections(peerIdOf(id)).length > 0;
  }

  isRefused(id: string): boolean {
    const r = this.refused.get(id);
    return r !== undefined && this.clock.now() < r.until;
  }

  /** A node of another cluster: not dialled for a while, not remembered. */
  refuse(peer: Omit<RefusedPeer, "lastSeen">): void {
    const now = this.clock.now();
    this.refused.set(peer.id, { ...peer, lastSeen: now, until: now + FOREIGN_REDIAL_MS });
    if (this.refused.size > 1000) this.refused.delete(this.refused.keys().next().value!);
    if (this.remembered.delete(peer.id)) this.rememberedDirty = true;
  }

  /** A node of this cluster after all (its cluster was judged again). */
  accept(id: string): void {
    this.refused.delete(id);
  }

  /** Nodes of other clusters that reached this node in the last `REFUSED_SHOWN_MS` (refused, not members). */
  refusedPeers(): RefusedPeer[] {
    const since = this.clock.now() - REFUSED_SHOWN_MS;
    return [...this.refused.values()].filter((p) => p.lastSeen >= since).map(({ until: _until, ...p }) => p);
  }

  /** Remembers a member heard (written to peers.json at the next persist). */
  remember(m: { id: string; name: string; addrs: string[]; http: string }): void {
    const prev = this.remembered.get(m.id);
    const entry: RememberedPeer = { id: m.id, name: m.name, addrs: m.addrs, http: m.http, lastSeen: this.clock.wallNow() };
    if (!prev || prev.addrs.join() !== entry.addrs.join() || prev.name !== entry.name) this.rememberedDirty = true;
    this.remembered.set(m.id, entry);
  }

  /** Dials a known peer id at its advertised addresses (no-op while connected or backing off). */
  dialPeer(id: string, addrs: string[]): void {
    if (this.stopped || id === this.selfId || this.dialing.has(id) || this.isRefused(id)) return;
    const peer = peerIdOf(id);
    if (this.host.getConnections(peer).length > 0) return;
    const now = this.clock.now();
    if (now - (this.lastDial.get(id) ?? -Infinity) < DIAL_BACKOFF_MS) return;
    this.lastDial.set(id, now);
    this.dialing.add(id);
    const targets: Multiaddr[] = [];
    for (const a of addrs) {
      try {
        targets.push(multiaddr(a.includes("/p2p/") ? a : `${a}/p2p/${id}`));
      } catch {
        // an address we cannot parse is skipped
      }
    }
    const attempt = targets.length > 0 ? this.host.dial(targets) : this.host.dial(peer);
    attempt
      .then(() => this.logger.debug("dialled member", { id }))
      .catch((err: unknown) => this.logger.debug("dial failed", { id, err }))
      .finally(() => this.dialing.delete(id));
  }

  /** Dials addresses whose peer id is unknown or may have changed (join targets, peers.json). */
  private dialAddrs(key: string, addrs: string[], onPeer?: (id: string) => void): void {
    if (this.stopped || this.dialing.has(key)) return;
    const now = this.clock.now();
    if (now - (this.lastDial.get(key) ?? -Infinity) < DIAL_BACKOFF_MS) return;
    this.lastDial.set(key, now);
    this.dialing.add(key);
    (async () => {
      for (const a of addrs) {
        try {
          const conn = await this.host.dial(multiaddr(a), { signal: AbortSignal.timeout(5000) });
          onPeer?.(conn.remotePeer.toString());
          return;
        } catch (err) {
          this.logger.debug("dial failed", { addr: a, err });
        }
      }
    })().finally(() => this.dialing.delete(key));
  }

  /** Takes the join endpoints known now, keeping what was learnt about those that stay. */
  private syncJoinTargets(): void {
    const now = new Set(this.join.endpoints());
    for (const addr of this.joinTargets.keys()) if (!now.has(addr)) this.joinTargets.delete(addr);
    for (const addr of now) if (!this.joinTargets.has(addr)) this.joinTargets.set(addr, { addr });
  }

  /** Dials the join targets this node is not connected to (run at every heartbeat). */
  dialJoinTargets(): void {
    const own = new Set(this.host.getMultiaddrs().map((a) => stripPeerId(a.toString())));
    for (const target of this.joinTargets.values()) {
      if (target.peer && this.host.getConnections(peerIdOf(target.peer)).length > 0) continue;
      if (target.peer && this.isRefused(target.peer)) continue;
      void this.resolveJoin(target.addr).then(
        (addrs) => {
          // A DNS name of the whole cluster lists this node too: no need to dial it.
          if (addrs.length > 0 && addrs.every((a) => own.has(a))) return;
          this.dialAddrs(`join ${target.addr}`, addrs, (id) => {
            if (id === this.selfId) return;
            if (target.peer !== id) this.logger.info("joined cluster through", { addr: target.addr, id });
            target.peer = id;
          });
        },
        (err: unknown) => this.logger.warn("cannot resolve --cluster.join address", { addr: target.addr, err }),
      );
    }
  }

  private async resolveJoin(hostPort: string): Promise<string[]> {
    const { host, port } = splitHostPort(hostPort, "--cluster.join");
    const ips = /^[\d.]+$/.test(host) || host.includes(":") ? [host] : (await lookup(host, { all: true })).map((r) => r.address);
    return ips.map((ip) => (ip.includes(":") ? `/ip6/${ip}/tcp/${port}` : `/ip4/${ip}/tcp/${port}`));
  }

  private loadRemembered(): void {
    if (!existsSync(this.peersFile)) return;
    try {
      const data = JSON.parse(readFileSync(this.peersFile, "utf8")) as { peers?: RememberedPeer[] };
      const wallNow = this.clock.wallNow();
      for (const p of data.peers ?? []) {
        if (typeof p.id === "string" && Array.isArray(p.addrs) && wallNow - p.lastSeen < REMEMBER_FOR_MS) {
          this.remembered.set(p.id, p);
        }
      }
      this.logger.info("redialling remembered cluster members", { count: this.remembered.size });
    } catch (err) {
      this.logger.warn("ignoring unreadable peers file", { file: this.peersFile, err });
    }
  }

  /** Writes peers.json when it changed, at most every `PERSIST_EVERY_MS` unless forced. */
  persistRemembered(force: boolean): void {
    const now = this.clock.now();
    if (!force && (!this.rememberedDirty || now - this.lastPersist < PERSIST_EVERY_MS)) return;
    this.lastPersist = now;
    this.rememberedDirty = false;
    try {
      mkdirSync(this.opts.stateDir, { recursive: true });
      const tmp = this.peersFile + ".tmp";
      writeFileSync(tmp, JSON.stringify({ peers: [...this.remembered.values()] }, null, 1));
      renameSync(tmp, this.peersFile);
    } catch (err) {
      this.logger.warn("cannot write peers file", { file: this.peersFile, err });
    }
  }
}
