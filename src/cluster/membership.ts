/**
 * Gossip membership. Every member publishes a heartbeat on the cluster's gossipsub topic; every
 * member dials every member it hears of, so the cluster is a full mesh and losing any one node
 * never splits it. Liveness comes from heartbeats only (a hung process keeps its sockets open):
 * a member is suspect after `suspectTimeout` without one, dead after `deadTimeout` (it then
 * leaves the ring), and forgotten after `forgetTimeout`.
 */
import { TopicValidatorResult } from "@libp2p/gossipsub";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { lookup } from "node:dns/promises";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../model/index.ts";
import { decodeFrame, encodeFrame } from "./codec.ts";
import { splitHostPort, type ClusterConfig } from "./config.ts";
import type { ClusterHost } from "./host.ts";
import { WarnLimiter, type ClusterIdentity } from "./identity.ts";
import { Ring, type RingMember } from "./ring.ts";
import { peerIdOf } from "./rpc.ts";

/**
 * joining: the member's tokens are pending (it takes writes, it is pulling its data, readers do
 * not count on it yet); active; leaving: it still serves its ranges while it pushes them to the
 * members taking over; left: the hand-off is done, it is about to exit (not a death: nothing
 * is re-replicated for it).
 */
export type MemberState = "joining" | "active" | "leaving" | "left";
export type MemberHealth = "alive" | "suspect" | "dead";

interface HeartbeatMessage {
  v: 1;
  cluster: string;
  /** The sender's cluster identity (see identity.ts) and whether it is final. */
  clusterId: string;
  clusterSettled: boolean;
  id: string;
  name: string;
  addrs: string[];
  http: string;
  state: MemberState;
  tokens: Uint8Array;
  seq: number;
  startedAt: number;
  /** When the member's identity (data directory) was created. */
  createdAt?: number;
  load: Record<string, number>;
  /** Hinted-handoff batches this member holds per peer id (non-zero entries only). */
  hints?: Record<string, number>;
  /** The sender's wall clock when it published (Date.now()). */
  now?: number;
  /** Members the sender holds dead (not yet forgotten), so that newcomers know their ranges. */
  dead?: { id: string; name: string; tokens: Uint8Array; createdAt: number; deadMs: number; replaced?: boolean }[];
  /** Members the sender holds alive or suspect (ids), so that a receiver knows whom it has not heard yet. */
  peers?: string[];
  /** The sender is joining but holds its earlier data (restarted on its data directory, or back after a silence). */
  returning?: boolean;
}

export interface Member {
  readonly id: string;
  readonly self: boolean;
  name: string;
  addrs: string[];
  http: string;
  state: MemberState;
  tokens: Uint32Array;
  load: Record<string, number>;
  /** Hinted-handoff batches this member holds, per peer id. */
  hints: Record<string, number>;
  /** Our clock minus its clock plus delivery delay, for the last heartbeats (the minimum is used). */
  clockOffsets: number[];
  health: MemberHealth;
  /** performance.now() of the last heartbeat (of our own publication, for self). */
  lastHeartbeat: number;
  startedAt: number;
  /** When the member's identity (data directory) was created; 0 when unknown. */
  createdAt: number;
  deadSince: number;
  /**
   * Dead, and its data is on the survivors again: every range it owned had a live co-owner when
   * it died and the re-replication that followed is over. It no longer counts for query coverage
   * (members created after its death hold its data through the copies from the survivors).
   */
  replaced?: boolean;
  /** Dead with a live co-owner for every range it owned (judged when this node saw it die). */
  recoverable?: boolean;
  /** Joining, but holding its earlier data (restarted on its data directory, or back after a silence). */
  returning?: boolean;
}

interface RememberedPeer {
  id: string;
  name: string;
  addrs: string[];
  http: string;
  lastSeen: number;
}

const DIAL_BACKOFF_MS = 2000;
/** A node of another cluster is not dialled again for this long (then checked anew). */
const FOREIGN_REDIAL_MS = 60_000;
/** One warning per refused node per this long. */
const FOREIGN_WARN_EVERY_MS = 60_000;
/** How long a refused node stays in the status after its last attempt. */
const REFUSED_SHOWN_MS = 15 * 60_000;
const PERSIST_EVERY_MS = 10_000;
/** Remembered peers not seen for this long are dropped from peers.json. */
const REMEMBER_FOR_MS = 7 * 24 * 3600_000;

function stripPeerId(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, "");
}

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
  /** The cluster's identity: heartbeats of another settled cluster are refused. */
  identity: ClusterIdentity;
}

/** A node of another cluster that this node refused, for the status. */
export interface RefusedPeer {
  id: string;
  name: string;
  clusterId: string;
  addrs: string[];
  /** performance.now() of its last refused heartbeat. */
  lastSeen: number;
}

export class Membership {
  readonly selfId: string;
  readonly topic: string;
  private readonly members = new Map<string, Member>();
  private readonly cfg: ClusterConfig;
  private readonly host: ClusterHost;
  private readonly logger: Logger;
  private readonly peersFile: string;
  private readonly listeners: (() => void)[] = [];
  private readonly lastDial = new Map<string, number>();
  private readonly dialing = new Set<string>();
  private remembered = new Map<string, RememberedPeer>();
  private rememberedDirty = false;
  private seq = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private ringCache: Ring | null = null;
  private readRingCache: Ring | null = null;
  private futureRingCache: Ring | null = null;
  private scrapeRingCache: Ring | null = null;
  private coverageCache: Ring | null = null;
  private coverageKey = "";
  private lastPersist = -Infinity;
  private lastPublishAt = 0;
  private lastHealthCheck = 0;
  private healthGraceUntil = 0;
  /** Members that left gracefully (handed their ranges over) and were removed. */
  readonly departed = new Set<string>();
  private stopped = false;
  private readonly loadFn: () => Record<string, number>;
  private readonly hintsFn: () => Record<string, number>;
  private firstHeard: number | null = null;
  private readonly startedPerf = performance.now();
  /** The view was complete once: members that appear later join as any newcomer does. */
  private viewCompleted = false;
  /** Per sender, the members its last heartbeat named as alive or suspect. */
  private readonly namedBy = new Map<string, string[]>();
  /** Whether this process was ever `active` (a later `joining` is a return after a silence). */
  private wasActive = false;
  /** HOST:PORT join targets, retried while we are not connected to the peer behind them. */
  private readonly joinTargets: { addr: string; peer?: string }[];
  private readonly identity: ClusterIdentity;
  /** Nodes of other clusters, by peer id: not members, not dialled until `until`. */
  private readonly refused = new Map<string, RefusedPeer & { until: number }>();
  private readonly refusedWarnings = new WarnLimiter(FOREIGN_WARN_EVERY_MS);

  constructor(private readonly opts: MembershipOptions) {
    this.cfg = opts.config;
    this.host = opts.host;
    this.logger = opts.logger;
    this.selfId = opts.host.peerId.toString();
    this.topic = `shoal/${this.cfg.name}/heartbeat/1`;
    this.peersFile = join(opts.stateDir, "peers.json");
    this.loadFn = opts.load ?? (() => ({}));
    this.hintsFn = opts.hints ?? (() => ({}));
    this.joinTargets = this.cfg.join.map((addr) => ({ addr }));
    this.identity = opts.identity;
    const now = performance.now();
    this.members.set(this.selfId, {
      id: this.selfId,
      self: true,
      name: opts.nodeName,
      addrs: [],
      http: opts.httpAddress,
      state: "joining",
      tokens: new Uint32Array(0),
      load: {},
      hints: {},
      clockOffsets: [],
      health: "alive",
      lastHeartbeat: now,
      startedAt: Date.now(),
      createdAt: opts.createdAt ?? 0,
      deadSince: 0,
    });
  }

  /** Our own ring tokens (set before start). */
  setSelfTokens(tokens: Uint32Array): void {
    this.self().tokens = tokens;
    this.changed();
  }

  self(): Member {
    return this.members.get(this.selfId)!;
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
      this.dialPeer(id, evt.detail.multiaddrs.map(String));
    });
    this.host.addEventListener("peer:disconnect", (evt) => {
      const m = this.members.get(evt.detail.toString());
      if (m && m.health === "alive") this.logger.debug("lost connection to member", { member: m.name });
    });
    this.loadRemembered();
    for (const p of this.remembered.values()) {
      if (p.id !== this.selfId) this.dialAddrs(p.id, p.addrs.map(stripPeerId));
    }
    this.dialJoinTargets();
    this.publish();
    this.timers.push(setInterval(() => this.publish(), this.cfg.heartbeatIntervalMs));
    const checkEvery = Math.max(50, Math.min(250, this.cfg.heartbeatIntervalMs / 4));
    this.timers.push(setInterval(() => this.checkHealth(), checkEvery));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.persistRemembered(true);
  }

  /**
   * Whether a member still holds its earlier data: for this node, it was active before in this
   * process or it was restarted on an older data directory; for others, what they publish (or,
   * from older versions, an identity older than the process).
   */
  isReturning(m: Member): boolean {
    const restarted = m.createdAt > 0 && m.createdAt + 2000 < m.startedAt;
    return m.self ? this.wasActive || restarted : (m.returning ?? restarted);
  }

  setState(state: MemberState): void {
    const self = this.self();
    if (self.state === state) return;
    self.state = state;
    if (state === "active") this.wasActive = true;
    this.logger.info("cluster member state", { state });
    this.changed();
    this.publish();
  }

  setHttpAddress(http: string): void {
    this.self().http = http;
  }

  /**
   * Our clock minus a member's clock (plus the smallest recent heartbeat delay), or null when
   * unknown: lets us tell how long a request it stamped has been on its way.
   */
  clockOffset(id: string): number | null {
    const m = this.members.get(id);
    if (!m || m.clockOffsets.length === 0) return null;
    return Math.min(...m.clockOffsets);
  }

  /** performance.now() of the first heartbeat heard from another member, or null. */
  firstPeerHeartbeat(): number | null {
    return this.firstHeard;
  }

  /**
   * Members that some live member's last heartbeat named but that this node has not heard from
   * yet (nor learnt dead or departed): while there are any, or while no member has been heard at
   * all though some are expected, this node's view of the ring is partial and its coverage
   * judgement cannot be trusted (a just-started node would take the few members it knows for the
   * whole cluster). Ids; empty when the view is complete. Once complete it stays so: a member
   * that starts later is heard within a heartbeat and holds no data before it is active.
   */
  unheardMembers(): string[] {
    if (this.viewCompleted) return [];
    if (this.firstHeard === null) {
      // Members are expected (join targets, peers.json) but none was heard yet. After a dead
      // timeout without a heartbeat they would be held dead anyway: the node is alone.
      const alone = performance.now() - this.startedPerf > this.cfg.deadTimeoutMs;
      return this.expectsPeers() && !alone ? ["(any member)"] : [];
    }
    const out = new Set<string>();
    for (const [sender, named] of this.namedBy) {
      const s = this.members.get(sender);
      if (!s || s.health === "dead" || s.state === "left") continue;
      for (const id of named) {
        if (id !== this.selfId && !this.members.has(id) && !this.departed.has(id)) out.add(id);
      }
    }
    if (out.size === 0) this.viewCompleted = true;
    return [...out];
  }

  /** Whether other members exist or are expected (join targets, members remembered on disk). */
  expectsPeers(): boolean {
    if (this.members.size > 1 || this.joinTargets.length > 0) return true;
    for (const id of this.remembered.keys()) if (id !== this.selfId) return true;
    return false;
  }

  /** Calls fn whenever the ring or a member's health changes. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  all(): Member[] {
    return [...this.members.values()];
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  /** Members that answer (alive or suspect; suspect ones may be slow). */
  isLive(id: string): boolean {
    const m = this.members.get(id);
    return m !== undefined && m.health !== "dead";
  }

  /** Members some live member still holds hinted batches for (shown in the status). */
  catchingUp(): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) {
      if (m.health === "dead") continue;
      const hints = m.self ? this.hintsFn() : m.hints;
      for (const [peer, n] of Object.entries(hints)) if (n > 0) out.add(peer);
    }
    return out;
  }

  /** Live members (alive or suspect) with tokens in one of `states`. */
  private liveIn(states: readonly MemberState[]): RingMember[] {
    const out: RingMember[] = [];
    for (const m of this.members.values()) {
      if (m.health === "dead" || !states.includes(m.state) || m.tokens.length === 0) continue;
      out.push(m);
    }
    return out;
  }

  /**
   * The read ring: the owners whose data is complete — active members and leaving ones (they
   * serve their ranges until the members taking over acknowledged them). Joining members are
   * not in it until they pulled their data.
   */
  readRing(): Ring {
    if (!this.readRingCache) {
      const ms = this.liveIn(["active", "leaving"]);
      // Nobody active yet (a node starting alone): this node holds everything meanwhile.
      if (ms.length === 0 && (this.self().state === "joining" || this.self().state === "active")) ms.push(this.self());
      this.readRingCache = new Ring(ms, this.cfg.replicationFactor);
    }
    return this.readRingCache;
  }

  /** The ring once pending changes are done: active and joining members, not leaving ones. */
  futureRing(): Ring {
    if (!this.futureRingCache) {
      const ms = this.liveIn(["joining", "active"]);
      this.futureRingCache = ms.length === 0 ? this.readRing() : new Ring(ms, this.cfg.replicationFactor);
    }
    return this.futureRingCache;
  }

  /**
   * The write ring: at every position the union of the read ring's and the future ring's owners,
   * so that data written during a join or a leave reaches both the owners that readers use now
   * and those that take over. The same as the read ring when nothing is pending.
   */
  ring(): Ring {
    if (!this.ringCache) {
      const read = this.readRing();
      const future = this.futureRing();
      this.ringCache = read === future || sameMembers(read, future) ? read : new Ring([], 0, [read, future]);
    }
    return this.ringCache;
  }

  /** Whether some member is joining or leaving (owner sets are changing). */
  pendingChange(): boolean {
    for (const m of this.members.values()) if (m.health !== "dead" && (m.state === "joining" || m.state === "leaving")) return true;
    return false;
  }

  /**
   * The ring of scrape-target and rule-group owners: active members only (a joining member does
   * not know the others' targets yet; a leaving one hands them over at once).
   */
  scrapeRing(): Ring {
    if (!this.scrapeRingCache) {
      const ms = this.liveIn(["active"]);
      if (ms.length === 0 && this.self().state !== "leaving" && this.self().state !== "left") ms.push(this.self());
      this.scrapeRingCache = new Ring(ms, this.cfg.replicationFactor);
    }
    return this.scrapeRingCache;
  }

  /**
   * The ring as data was written: every member not yet forgotten, dead ones included, except
   * members created after the first of the dead ones died. Those cannot hold its data (it was
   * gone before they existed), so they must not count as covering the ranges they took over
   * from it. A query that reached no owner of some range of this ring may be missing data.
   */
  coverageRing(): Ring {
    // A new member that is joining holds no data yet; one that joins again after a restart or a
    // silence holds what it had (what it missed meanwhile is on the read ring's owners, which the
    // fan-out checks too); members that left handed their data over.
    const holdsData = (m: Member) => m.state !== "left" && (m.state !== "joining" || this.isReturning(m));
    const all = [...this.members.values()].filter((m) => m.tokens.length > 0 && holdsData(m) && !(m.health === "dead" && m.replaced));
    let firstDeath = Infinity;
    const perfNow = performance.now();
    const wallNow = Date.now();
    for (const m of all) {
      if (m.health === "dead") firstDeath = Math.min(firstDeath, wallNow - (perfNow - m.lastHeartbeat));
    }
    const chosen = all.filter((m) => m.health === "dead" || m.createdAt <= firstDeath);
    const key = chosen.map((m) => `${m.id}:${m.state}:${m.health === "dead"}`).sort().join();
    if (!this.coverageCache || this.coverageKey !== key) {
      this.coverageCache = new Ring(chosen, this.cfg.replicationFactor);
      this.coverageKey = key;
    }
    return this.coverageCache;
  }

  private changed(): void {
    this.ringCache = null;
    this.readRingCache = null;
    this.futureRingCache = null;
    this.scrapeRingCache = null;
    this.coverageCache = null;
    for (const fn of this.listeners) {
      try {
        fn();
      } catch (err) {
        this.logger.error("membership listener failed", { err });
      }
    }
  }

  private async publish(): Promise<void> {
    if (this.stopped) return;
    const self = this.self();
    const now = performance.now();
    // Silent for longer than the dead timeout (the process was paused, the event loop blocked):
    // the others declared this node dead and stopped writing to it. It joins again (pulls what
    // it missed) instead of serving reads with a hole.
    if (this.lastPublishAt > 0 && now - this.lastPublishAt > this.cfg.deadTimeoutMs && self.state === "active" && this.members.size > 1) {
      this.logger.warn("this node was silent past the dead timeout; joining again to pull what it missed", { silent_ms: Math.round(now - this.lastPublishAt) });
      self.state = "joining";
      this.changed();
    }
    this.lastPublishAt = now;
    self.addrs = this.host.getMultiaddrs().map(String);
    self.lastHeartbeat = performance.now();
    try {
      self.load = this.loadFn();
    } catch {
      // load figures are informative only
    }
    this.identity.tick(now);
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
      tokens: new Uint8Array(self.tokens.buffer, self.tokens.byteOffset, self.tokens.byteLength),
      seq: ++this.seq,
      startedAt: self.startedAt,
      createdAt: self.createdAt,
      load: self.load,
      hints: this.hintsFn(),
      now: Date.now(),
      dead: [...this.members.values()]
        .filter((m) => m.health === "dead")
        .map((m) => ({
          id: m.id,
          name: m.name,
          tokens: new Uint8Array(m.tokens.buffer, m.tokens.byteOffset, m.tokens.byteLength),
          createdAt: m.createdAt,
          deadMs: Math.round(performance.now() - m.deadSince),
          replaced: m.replaced === true,
        })),
      peers: [...this.members.values()].filter((m) => !m.self && m.health !== "dead" && m.state !== "left").map((m) => m.id),
      returning: this.isReturning(self),
    };
    try {
      await this.host.services.pubsub.publish(this.topic, encodeFrame(hb));
    } catch (err) {
      this.logger.debug("heartbeat publish failed", { err });
    }
    this.dialJoinTargets();
    this.persistRemembered(false);
  }

  private onHeartbeat(hb: HeartbeatMessage): void {
    if (hb.v !== 1 || hb.cluster !== this.cfg.name || typeof hb.id !== "string" || hb.id === this.selfId) return;
    if (typeof hb.clusterId !== "string") return;
    const verdict = this.identity.consider(hb.clusterId, hb.clusterSettled === true, performance.now());
    if (verdict === "foreign") {
      this.refuse(hb);
      return;
    }
    // A fresh node with another id takes ours once it hears us; until then it is not a member.
    if (verdict === "pending" && !this.members.has(hb.id)) return;
    this.refused.delete(hb.id);
    const tokenBytes = hb.tokens instanceof Uint8Array ? hb.tokens : new Uint8Array(0);
    const tokens = new Uint32Array(tokenBytes.byteLength >>> 2);
    new Uint8Array(tokens.buffer).set(tokenBytes.subarray(0, tokens.byteLength));
    const now = performance.now();
    this.firstHeard ??= now;
    let m = this.members.get(hb.id);
    // Whether the sender has been alive all along in our view: only then does its view of us
    // count (a member that was itself paused holds everybody dead when it resumes).
    const senderWasAlive = m !== undefined && m.health === "alive";
    let ringChanged = false;
    if (!m) {
      m = {
        id: hb.id,
        self: false,
        name: String(hb.name),
        addrs: [],
        http: "",
        state: hb.state,
        tokens,
        load: {},
        hints: {},
        clockOffsets: [],
        health: "alive",
        lastHeartbeat: now,
        startedAt: hb.startedAt,
        createdAt: 0,
        deadSince: 0,
      };
      this.members.set(hb.id, m);
      ringChanged = true;
      this.logger.info("cluster member joined", { member: m.name, id: m.id, state: hb.state });
    } else {
      if (m.health !== "alive") {
        this.logger.info("cluster member is alive again", { member: m.name, was: m.health });
        ringChanged = true;
      }
      if (m.state !== hb.state || !sameTokens(m.tokens, tokens)) ringChanged = true;
    }
    m.name = String(hb.name);
    m.addrs = Array.isArray(hb.addrs) ? hb.addrs.map(String) : [];
    m.http = String(hb.http ?? "");
    m.state = hb.state;
    m.tokens = tokens;
    m.load = hb.load ?? {};
    m.hints = hb.hints && typeof hb.hints === "object" ? hb.hints : {};
    if (typeof hb.now === "number") {
      m.clockOffsets.push(Date.now() - hb.now);
      if (m.clockOffsets.length > 10) m.clockOffsets.shift();
    }
    m.health = "alive";
    m.lastHeartbeat = now;
    m.startedAt = hb.startedAt;
    m.createdAt = typeof hb.createdAt === "number" ? hb.createdAt : 0;
    if (typeof hb.returning === "boolean") m.returning = hb.returning;
    m.deadSince = 0;
    m.replaced = false;
    m.recoverable = false;
    this.namedBy.set(hb.id, Array.isArray(hb.peers) ? hb.peers.filter((p): p is string => typeof p === "string") : []);
    this.remember(m);
    if (this.host.getConnections(peerIdOf(m.id)).length === 0) this.dialPeer(m.id, m.addrs);
    if (this.learnDead(hb.dead, now, m.name)) ringChanged = true;
    // A member that was alive all along holds this node dead (our heartbeats did not reach it):
    // it stopped writing to it meanwhile, without hints. Join again, pulling the ranges it owns.
    const self = this.self();
    if (senderWasAlive && self.state === "active" && Array.isArray(hb.dead) && hb.dead.some((d) => d?.id === this.selfId)) {
      this.logger.warn("a member holds this node dead; joining again to pull what it missed", { member: m.name });
      self.state = "joining";
      ringChanged = true;
    }
    if (ringChanged) this.changed();
  }

  /** Adds dead members we never knew (they died before we joined): queries must know their ranges. */
  private learnDead(list: HeartbeatMessage["dead"], now: number, from: string): boolean {
    if (!Array.isArray(list)) return false;
    let added = false;
    for (const d of list) {
      if (typeof d?.id !== "string" || d.id === this.selfId || this.departed.has(d.id)) continue;
      const known = this.members.get(d.id);
      if (known) {
        // The sender saw its ranges re-replicated (perhaps before we knew it was dead).
        if (known.health === "dead" && d.replaced === true && !known.replaced) {
          known.replaced = true;
          added = true;
          this.logger.info("dead member's ranges are re-replicated; it no longer counts for query coverage", { member: known.name, id: known.id, reported_by: from });
        }
        continue;
      }
      if (!(d.tokens instanceof Uint8Array) || typeof d.deadMs !== "number" || d.deadMs >= this.cfg.forgetTimeoutMs) continue;
      const tokens = new Uint32Array(d.tokens.byteLength >>> 2);
      new Uint8Array(tokens.buffer).set(d.tokens.subarray(0, tokens.byteLength));
      const deadSince = now - d.deadMs;
      this.members.set(d.id, {
        id: d.id,
        self: false,
        name: String(d.name),
        addrs: [],
        http: "",
        state: "active",
        tokens,
        load: {},
        hints: {},
        clockOffsets: [],
        health: "dead",
        lastHeartbeat: deadSince - this.cfg.deadTimeoutMs,
        startedAt: 0,
        createdAt: typeof d.createdAt === "number" ? d.createdAt : 0,
        deadSince,
        replaced: d.replaced === true,
        recoverable: false,
      });
      added = true;
    }
    return added;
  }

  private checkHealth(): void {
    const now = performance.now();
    // This node itself was stalled (paused, event loop blocked): the heartbeats that arrived
    // meanwhile are still queued. Judge the others only once they had a chance to be read.
    if (this.lastHealthCheck > 0 && now - this.lastHealthCheck > this.cfg.suspectTimeoutMs) this.healthGraceUntil = now + 2 * this.cfg.heartbeatIntervalMs;
    this.lastHealthCheck = now;
    if (now < this.healthGraceUntil) return;
    let changed = false;
    for (const m of this.members.values()) {
      if (m.self) continue;
      const age = now - m.lastHeartbeat;
      if (m.state === "left") {
        // It handed its data over and exited: not a death, nothing to re-replicate.
        if (age > this.cfg.deadTimeoutMs) {
          this.members.delete(m.id);
          this.departed.add(m.id);
          this.logger.info("cluster member left", { member: m.name, id: m.id });
          changed = true;
        }
        continue;
      }
      if (m.health === "dead") {
        if (now - m.deadSince > this.cfg.forgetTimeoutMs) {
          this.members.delete(m.id);
          this.logger.info("cluster member forgotten", { member: m.name, id: m.id });
          changed = true;
        } else if (!m.replaced && m.recoverable && this.reReplicationDone(m, now)) {
          m.replaced = true;
          this.logger.info("dead member's ranges are re-replicated; it no longer counts for query coverage", { member: m.name, id: m.id });
          changed = true;
        }
        continue;
      }
      if (age > this.cfg.deadTimeoutMs) {
        m.recoverable = this.hasLiveCoOwners(m.id);
        m.health = "dead";
        m.deadSince = now;
        this.logger.warn("cluster member is dead", { member: m.name, id: m.id, last_heartbeat_ms: Math.round(age) });
        changed = true;
      } else if (age > this.cfg.suspectTimeoutMs && m.health === "alive") {
        m.health = "suspect";
        this.logger.warn("cluster member is suspect", { member: m.name, id: m.id, last_heartbeat_ms: Math.round(age) });
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  /** Whether every range of the read ring that `id` owns has another owner that is not dead. */
  private hasLiveCoOwners(id: string): boolean {
    const ring = this.readRing();
    const idx = ring.ids.indexOf(id);
    if (idx < 0) return true;
    let ok = true;
    ring.forEachRange((_w, set) => {
      if (ok && set.includes(idx) && !set.some((i) => i !== idx && this.isLive(ring.ids[i]!))) ok = false;
    });
    return ok;
  }

  /**
   * Whether the re-replication that followed a death is over: every member had time to see the
   * death and publish its pending re-replication (two dead timeouts), none reports ranges still
   * pending or is suspect (its report may be stale), and no member is joining (it pulls from the
   * survivors).
   */
  private reReplicationDone(dead: Member, now: number): boolean {
    if (now - dead.deadSince < 2 * this.cfg.deadTimeoutMs) return false;
    for (const m of this.members.values()) {
      if (m.health === "dead" || m.state === "left") continue;
      if (m.state === "joining") return false;
      // A suspect member's published figures are stale: it may not have started its pulls.
      if (m.health !== "alive") return false;
      // Our own figures are refreshed at every heartbeat we publish, like the others'.
      if ((m.load.handoffPendingRanges ?? 0) > 0) return false;
    }
    return true;
  }

  /** This node's cluster identity: the id, and whether it is final (kept in the data directory). */
  clusterIdentity(): { id: string; settled: boolean } {
    return { id: this.identity.id, settled: this.identity.settled };
  }

  /** Nodes of other clusters that reached this node in the last `REFUSED_SHOWN_MS` (refused, not members). */
  refusedPeers(): RefusedPeer[] {
    const since = performance.now() - REFUSED_SHOWN_MS;
    return [...this.refused.values()].filter((p) => p.lastSeen >= since).map(({ until: _until, ...p }) => p);
  }

  /** A heartbeat of a node whose cluster id is final and differs from ours, which is final too. */
  private isForeign(hb: HeartbeatMessage): boolean {
    if (hb.v !== 1 || hb.cluster !== this.cfg.name || typeof hb.id !== "string" || hb.id === this.selfId) return false;
    return typeof hb.clusterId === "string" && hb.clusterSettled === true && this.identity.settled && hb.clusterId !== this.identity.id;
  }

  private isRefused(id: string): boolean {
    const r = this.refused.get(id);
    return r !== undefined && performance.now() < r.until;
  }

  /**
   * A node of another cluster: never a member (it would merge the rings and replicate the two
   * clusters' data into each other), not dialled again for a while, disconnected.
   */
  private refuse(hb: HeartbeatMessage): void {
    const now = performance.now();
    const name = String(hb.name);
    const addrs = Array.isArray(hb.addrs) ? hb.addrs.map(String) : [];
    this.refused.set(hb.id, { id: hb.id, name, clusterId: hb.clusterId, addrs, lastSeen: now, until: now + FOREIGN_REDIAL_MS });
    if (this.refused.size > 1000) this.refused.delete(this.refused.keys().next().value!);
    const held = this.refusedWarnings.allow(hb.id, now);
    if (held !== null) {
      this.logger.warn(
        `refusing node ${name} of another cluster (its cluster id ${hb.clusterId}, ours ${this.identity.id}): a node that holds data of one cluster never joins another`,
        { peer: name, peer_id: hb.id, addrs: addrs.join(","), cluster_id: this.identity.id, peer_cluster_id: hb.clusterId, ...(held > 0 ? { repeated: held } : {}) },
      );
    }
    if (this.members.delete(hb.id)) this.changed();
    if (this.remembered.delete(hb.id)) this.rememberedDirty = true;
    // Disconnect after a couple of our heartbeats went out: the other side then hears ours and
    // refuses (and warns about) this node as well, instead of seeing the connection just drop.
    const peer = peerIdOf(hb.id);
    const hangUp = setTimeout(() => {
      if (!this.stopped && this.host.getConnections(peer).length > 0) void this.host.hangUp(peer).catch(() => {});
    }, 2 * this.cfg.heartbeatIntervalMs);
    hangUp.unref?.();
  }

  /** Dials a known peer id at its advertised addresses (no-op while connected or backing off). */
  private dialPeer(id: string, addrs: string[]): void {
    if (this.stopped || id === this.selfId || this.dialing.has(id) || this.isRefused(id)) return;
    const peer = peerIdOf(id);
    if (this.host.getConnections(peer).length > 0) return;
    const now = performance.now();
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
    const now = performance.now();
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

  private dialJoinTargets(): void {
    for (const target of this.joinTargets) {
      if (target.peer && this.host.getConnections(peerIdOf(target.peer)).length > 0) continue;
      if (target.peer && this.isRefused(target.peer)) continue;
      void this.resolveJoin(target.addr).then(
        (addrs) =>
          this.dialAddrs(`join ${target.addr}`, addrs, (id) => {
            if (id === this.selfId) return;
            if (target.peer !== id) this.logger.info("joined cluster through", { addr: target.addr, id });
            target.peer = id;
          }),
        (err: unknown) => this.logger.warn("cannot resolve --cluster.join address", { addr: target.addr, err }),
      );
    }
  }

  private async resolveJoin(hostPort: string): Promise<string[]> {
    const { host, port } = splitHostPort(hostPort, "--cluster.join");
    const ips = /^[\d.]+$/.test(host) || host.includes(":") ? [host] : (await lookup(host, { all: true })).map((r) => r.address);
    return ips.map((ip) => (ip.includes(":") ? `/ip6/${ip}/tcp/${port}` : `/ip4/${ip}/tcp/${port}`));
  }

  private remember(m: Member): void {
    const prev = this.remembered.get(m.id);
    const entry: RememberedPeer = { id: m.id, name: m.name, addrs: m.addrs, http: m.http, lastSeen: Date.now() };
    if (!prev || prev.addrs.join() !== entry.addrs.join() || prev.name !== entry.name) this.rememberedDirty = true;
    this.remembered.set(m.id, entry);
  }

  private loadRemembered(): void {
    if (!existsSync(this.peersFile)) return;
    try {
      const data = JSON.parse(readFileSync(this.peersFile, "utf8")) as { peers?: RememberedPeer[] };
      for (const p of data.peers ?? []) {
        if (typeof p.id === "string" && Array.isArray(p.addrs) && Date.now() - p.lastSeen < REMEMBER_FOR_MS) {
          this.remembered.set(p.id, p);
        }
      }
      this.logger.info("redialling remembered cluster members", { count: this.remembered.size });
    } catch (err) {
      this.logger.warn("ignoring unreadable peers file", { file: this.peersFile, err });
    }
  }

  private persistRemembered(force: boolean): void {
    const now = performance.now();
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

function sameMembers(a: Ring, b: Ring): boolean {
  return a.replicationFactor === b.replicationFactor && a.ids.length === b.ids.length && a.ids.every((id, i) => b.ids[i] === id);
}

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
