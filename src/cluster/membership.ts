/**
 * Gossip membership: wires the member table (health state machine), the ring views and the peer
 * book to the libp2p host. Every member publishes a heartbeat on the cluster's gossipsub topic;
 * every member dials every member it hears of, so the cluster is a full mesh and losing any one
 * node never splits it. Heartbeats of another settled cluster are refused before gossipsub
 * forwards them.
 */
import { TopicValidatorResult } from "@libp2p/gossipsub";
import { type Clock, type ClockTimer, type Logger, realClock } from "../model/index.ts";
import { decodeFrame, encodeFrame } from "./codec.ts";
import type { ClusterConfig } from "./config.ts";
import { tokensToWire, type HeartbeatMessage, type MemberState } from "./heartbeat.ts";
import type { ClusterHost } from "./host.ts";
import { WarnLimiter, type ClusterIdentity } from "./identity.ts";
import { MemberTable, type Member } from "./member_table.ts";
import { PeerBook, type RefusedPeer } from "./peer_book.ts";
import { ReadPlanner, type ReadPlan } from "./read_plan.ts";
import type { Ring } from "./ring.ts";
import { RingViews } from "./ring_views.ts";
import { peerIdOf } from "./rpc.ts";

export type { Member, MemberHealth, MemberState } from "./member_table.ts";
export type { RefusedPeer } from "./peer_book.ts";

/** One warning per refused node per this long. */
const FOREIGN_WARN_EVERY_MS = 60_000;

export interface MembershipOptions {
  config: ClusterConfig;
  host: ClusterHost;
  stateDir: string;
  nodeName: string;
  httpAddress: string;
  logger: Logger;
  /** Load figures published in heartbeats. */
  load?: () => Record<string, number>;
  /** When this node's identity was created (see host.ts). */
  createdAt?: number;
  /** Hinted-handoff batches this node holds per peer (published so the peer is kept out of the ring meanwhile). */
  hints?: () => Record<string, number>;
  /** Per remote-write queue, this node's delivered-through watermark (published so that a member taking over its forwarding knows where to start). */
  remoteDelivered?: () => Record<string, number>;
  /** The cluster's identity: heartbeats of another settled cluster are refused. */
  identity: ClusterIdentity;
  clock?: Clock;
}

export class Membership {
  readonly selfId: string;
  readonly topic: string;
  readonly table: MemberTable;
  readonly views: RingViews;
  readonly peers: PeerBook;
  private readonly cfg: ClusterConfig;
  private readonly host: ClusterHost;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly listeners: (() => void)[] = [];
  private seq = 0;
  private timers: ClockTimer[] = [];
  private stopped = false;
  private readonly loadFn: () => Record<string, number>;
  private readonly hintsFn: () => Record<string, number>;
  private readonly remoteFn: () => Record<string, number>;
  private readonly identity: ClusterIdentity;
  private readonly refusedWarnings = new WarnLimiter(FOREIGN_WARN_EVERY_MS);
  private readonly readPlanner = new ReadPlanner();
  private readonly spreadPlanner = new ReadPlanner(true);

  constructor(opts: MembershipOptions) {
    this.cfg = opts.config;
    this.host = opts.host;
    this.logger = opts.logger;
    this.clock = opts.clock ?? realClock;
    this.selfId = opts.host.peerId.toString();
    this.topic = `shoal/${this.cfg.name}/heartbeat/1`;
    this.loadFn = opts.load ?? (() => ({}));
    this.hintsFn = opts.hints ?? (() => ({}));
    this.remoteFn = opts.remoteDelivered ?? (() => ({}));
    this.identity = opts.identity;
    this.peers = new PeerBook({ host: opts.host, selfId: this.selfId, stateDir: opts.stateDir, join: this.cfg.join, dnsServer: this.cfg.dnsServer, joinRefreshMs: this.cfg.joinRefreshIntervalMs, clock: this.clock, logger: this.logger });
    this.table = new MemberTable({
      selfId: this.selfId,
      nodeName: opts.nodeName,
      httpAddress: opts.httpAddress,
      createdAt: opts.createdAt ?? 0,
      timeouts: this.cfg,
      clock: this.clock,
      logger: this.logger,
      readRing: () => this.views.readRing(),
      expectsOthers: () => this.peers.expectsOthers(),
    });
    this.views = new RingViews(this.table, this.cfg.replicationFactor, this.clock);
    this.table.onChange(() => {
      this.views.invalidate();
      for (const fn of this.listeners) {
        try {
          fn();
        } catch (err) {
          this.logger.error("membership listener failed", { err });
        }
      }
    });
  }

  /** Members that left gracefully (handed their ranges over) and were removed. */
  get departed(): ReadonlySet<string> {
    return this.table.departed;
  }

  /** Our own ring tokens (set before start). */
  setSelfTokens(tokens: Uint32Array): void {
    this.table.setSelfTokens(tokens);
  }

  self(): Member {
    return this.table.self();
  }

  start(): void {
    const pubsub = this.host.services.pubsub;
    // Heartbeats of another cluster are refused before gossipsub forwards them: a fresh member
    // must not take a foreign cluster's id from a heartbeat relayed to it by chance.
    pubsub.topicValidators.set(this.topic, (_from, msg) => {
      try {
        const hb = decodeFrame<HeartbeatMessage>(msg.data);
        if (!this.isForeign(hb)) return TopicValidatorResult.Accept;
        this.refuse(hb);
      } catch (err) {
        this.logger.debug("ignoring malformed heartbeat", { err });
      }
      return TopicValidatorResult.Ignore;
    });
    pubsub.subscribe(this.topic);
    pubsub.addEventListener("message", (evt) => {
      if (evt.detail.topic !== this.topic) return;
      try {
        this.onHeartbeat(decodeFrame<HeartbeatMessage>(evt.detail.data));
      } catch (err) {
        this.logger.debug("ignoring malformed heartbeat", { err });
      }
    });
    this.host.addEventListener("peer:discovery", (evt) => {
      const id = evt.detail.id.toString();
      if (id === this.selfId) return;
      this.peers.dialPeer(id, evt.detail.multiaddrs.map(String));
    });
    this.host.addEventListener("peer:disconnect", (evt) => {
      const m = this.table.get(evt.detail.toString());
      if (m && m.health === "alive") this.logger.debug("lost connection to member", { member: m.name });
    });
    this.peers.start();
    void this.publish();
    this.timers.push(this.clock.setInterval(() => void this.publish(), this.cfg.heartbeatIntervalMs));
    const checkEvery = Math.max(50, Math.min(250, this.cfg.heartbeatIntervalMs / 4));
    this.timers.push(this.clock.setInterval(() => this.table.tick(), checkEvery));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.clock.clearInterval(t);
    this.timers = [];
    this.peers.stop();
  }

  isReturning(m: Member): boolean {
    return this.table.isReturning(m);
  }

  setState(state: MemberState): void {
    if (this.table.setState(state)) void this.publish();
  }

  setHttpAddress(http: string): void {
    this.table.self().http = http;
  }

  clockOffset(id: string): number | null {
    return this.table.clockOffset(id);
  }

  /** Clock.now() of the first heartbeat heard from another member, or null. */
  firstPeerHeartbeat(): number | null {
    return this.table.firstPeerHeartbeat();
  }

  unheardMembers(): string[] {
    return this.table.unheardMembers();
  }

  expectsPeers(): boolean {
    return this.table.expectsPeers();
  }

  /** Calls fn whenever the ring or a member's health changes. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  all(): Member[] {
    return this.table.all();
  }

  get(id: string): Member | undefined {
    return this.table.get(id);
  }

  isLive(id: string): boolean {
    return this.table.isLive(id);
  }

  /** Members some live member still holds hinted batches for (shown in the status). */
  catchingUp(): Set<string> {
    return this.table.catchingUp(this.hintsFn());
  }

  /** This node's hinted batches per peer; holding any is a change in the membership's health. */
  private noteOwnHints(): Record<string, number> {
    const hints = this.hintsFn();
    if (this.table.hintsForLive(hints)) this.table.noteChurn();
    return hints;
  }

  /**
   * Whether the cluster has been quiet (no member suspect, dead, back, joining or leaving, no
   * hinted batches) for `periodMs`, by this node's view and every member's own.
   */
  quietFor(periodMs: number): boolean {
    return this.clock.wallNow() - this.table.clusterQuietSince() >= periodMs;
  }

  /**
   * Which member reads which ranges of the ring, one replica known complete per range (see
   * read_plan.ts); `spread` shares them evenly instead of giving this node all it can serve.
   */
  readPlan(spread = false): ReadPlan {
    return (spread ? this.spreadPlanner : this.readPlanner).plan({ table: this.table, views: this.views, ownHints: this.hintsFn() });
  }

  readRing(): Ring {
    return this.views.readRing();
  }

  futureRing(): Ring {
    return this.views.futureRing();
  }

  ring(): Ring {
    return this.views.ring();
  }

  pendingChange(): boolean {
    return this.table.pendingChange();
  }

  scrapeRing(): Ring {
    return this.views.scrapeRing();
  }

  ruleRing(): Ring {
    return this.views.ruleRing();
  }

  coverageRing(): Ring {
    return this.views.coverageRing();
  }

  /** This node's cluster identity: the id, and whether it is final (kept in the data directory). */
  clusterIdentity(): { id: string; settled: boolean } {
    return { id: this.identity.id, settled: this.identity.settled };
  }

  refusedPeers(): RefusedPeer[] {
    return this.peers.refusedPeers();
  }

  private async publish(): Promise<void> {
    if (this.stopped) return;
    this.table.publishing();
    const self = this.table.self();
    self.addrs = this.host.getMultiaddrs().map(String);
    try {
      self.load = this.loadFn();
    } catch {
      // load figures are informative only
    }
    this.identity.tick(this.clock.now());
    let remote: Record<string, number> = {};
    try {
      remote = this.remoteFn();
    } catch (err) {
      this.logger.warn("cannot read the remote-write watermarks for the heartbeat", { err });
    }
    const hb: HeartbeatMessage = {
      v: 1,
      cluster: this.cfg.name,
      clusterId: this.identity.id,
      clusterSettled: this.identity.settled,
      id: this.selfId,
      name: self.name,
      addrs: self.addrs,
      http: self.http,
      state: self.state,
      tokens: tokensToWire(self.tokens),
      seq: ++this.seq,
      startedAt: self.startedAt,
      createdAt: self.createdAt,
      load: self.load,
      hints: this.noteOwnHints(),
      now: this.clock.wallNow(),
      dead: this.table.deadNotices(),
      peers: this.table.livePeerIds(),
      returning: this.table.isReturning(self),
      quietSince: this.table.ownQuietSince(),
      ...(Object.keys(remote).length > 0 ? { remote } : {}),
    };
    self.remoteDelivered = remote;
    try {
      await this.host.services.pubsub.publish(this.topic, encodeFrame(hb));
    } catch (err) {
      this.logger.debug("heartbeat publish failed", { err });
    }
    this.peers.dialJoinTargets();
    this.peers.persistRemembered(false);
  }

  private onHeartbeat(hb: HeartbeatMessage): void {
    if (hb.v !== 1 || hb.cluster !== this.cfg.name || typeof hb.id !== "string" || hb.id === this.selfId) return;
    if (typeof hb.clusterId !== "string") return;
    const verdict = this.identity.consider(hb.clusterId, hb.clusterSettled === true, this.clock.now());
    if (verdict === "foreign") {
      this.refuse(hb);
      return;
    }
    // A fresh node with another id takes ours once it hears us; until then it is not a member.
    if (verdict === "pending" && !this.table.get(hb.id)) return;
    this.peers.accept(hb.id);
    const m = this.table.heartbeat(hb);
    this.peers.remember(m);
    if (!this.peers.connected(m.id)) this.peers.dialPeer(m.id, m.addrs);
  }

  /** A heartbeat of a node whose cluster id is final and differs from ours, which is final too. */
  private isForeign(hb: HeartbeatMessage): boolean {
    if (hb.v !== 1 || hb.cluster !== this.cfg.name || typeof hb.id !== "string" || hb.id === this.selfId) return false;
    return typeof hb.clusterId === "string" && hb.clusterSettled === true && this.identity.settled && hb.clusterId !== this.identity.id;
  }

  /**
   * A node of another cluster: never a member (it would merge the rings and replicate the two
   * clusters' data into each other), not dialled again for a while, disconnected.
   */
  private refuse(hb: HeartbeatMessage): void {
    const name = String(hb.name);
    const addrs = Array.isArray(hb.addrs) ? hb.addrs.map(String) : [];
    this.peers.refuse({ id: hb.id, name, clusterId: hb.clusterId, addrs });
    const held = this.refusedWarnings.allow(hb.id, this.clock.now());
    if (held !== null) {
      this.logger.warn(
        `refusing node ${name} of another cluster (its cluster id ${hb.clusterId}, ours ${this.identity.id}): a node that holds data of one cluster never joins another`,
        { peer: name, peer_id: hb.id, addrs: addrs.join(","), cluster_id: this.identity.id, peer_cluster_id: hb.clusterId, ...(held > 0 ? { repeated: held } : {}) },
      );
    }
    this.table.refused(hb.id);
    // Disconnect after a couple of our heartbeats went out: the other side then hears ours and
    // refuses (and warns about) this node as well, instead of seeing the connection just drop.
    const peer = peerIdOf(hb.id);
    const hangUp = this.clock.setTimeout(() => {
      if (!this.stopped && this.host.getConnections(peer).length > 0) void this.host.hangUp(peer).catch(() => {});
    }, 2 * this.cfg.heartbeatIntervalMs);
    hangUp.unref?.();
  }
}
