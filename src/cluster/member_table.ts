/**
 * The member table and its health state machine, without I/O: events go in (a heartbeat heard,
 * a health tick, this node publishing, a state announced, a node refused), the members' states
 * come out, and every transition is emitted. Liveness comes from heartbeats only (a hung process
 * keeps its sockets open): a member is suspect after `suspectTimeout` without one, dead after
 * `deadTimeout` (it then leaves the ring), replaced once its ranges are back on R live copies,
 * and forgotten after `forgetTimeout`. Time is read from the injected clock only.
 */
import type { Clock, Logger } from "../model/index.ts";
import { tokensFromWire, tokensToWire, type DeadMemberNotice, type HeartbeatMessage, type MemberState } from "./heartbeat.ts";
import type { Ring } from "./ring.ts";

export type { MemberState } from "./heartbeat.ts";
export type MemberHealth = "alive" | "suspect" | "dead";

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
  /** Clock.now() of the last heartbeat (of our own publication, for self). */
  lastHeartbeat: number;
  /**
   * When the member published its last heartbeat, on this node's wall clock (its own stamp
   * shifted by the clock offset). Unlike `lastHeartbeat` it does not move when heartbeats queued
   * while this node was paused are read at once: what they say is as old as they are.
   */
  lastPublishedWall?: number;
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
  /** Per remote-write queue, the `deliveredThroughMs` of its last heartbeat (see heartbeat.ts `remote`). */
  remoteDelivered?: Record<string, number>;
  /** Clock.now() when it was heard again after being held dead (0: never). */
  backFromDeadAt?: number;
  /** Its last heartbeat's `quietSince`, on this node's wall clock (absent: it did not say). */
  quietSince?: number;
}

/**
 * One member's condition in one word, as operators and the tests speak of it: its health when
 * not alive (dead members: replaced once re-replicated), else its announced state (a joining
 * member that holds its earlier data: returning).
 */
export type MemberCondition = "active" | "joining" | "returning" | "leaving" | "left" | "suspect" | "dead" | "replaced";

/** A change of one member as the table saw it happen. */
export interface MemberTransition {
  id: string;
  name: string;
  /** joined: first heard; alive: heard again after a silence; forgotten / departed: removed. */
  to: "joined" | "alive" | "suspect" | "dead" | "replaced" | "forgotten" | "departed" | "rejoining" | MemberState;
}

export interface HealthTimeouts {
  heartbeatIntervalMs: number;
  suspectTimeoutMs: number;
  deadTimeoutMs: number;
  forgetTimeoutMs: number;
}

export interface MemberTableOptions {
  selfId: string;
  nodeName: string;
  httpAddress: string;
  /** When this node's identity was created (see host.ts); 0 when unknown. */
  createdAt: number;
  timeouts: HealthTimeouts;
  clock: Clock;
  logger: Logger;
  /** The read ring (from the ring views): a member's death is recoverable when each of its ranges has a live co-owner. */
  readRing: () => Ring;
  /** Whether members are expected before any was heard (join targets, members remembered on disk). */
  expectsOthers: () => boolean;
}

export class MemberTable {
  readonly selfId: string;
  private readonly members = new Map<string, Member>();
  /** Members that left gracefully (handed their ranges over) and were removed. */
  readonly departed = new Set<string>();
  private readonly t: HealthTimeouts;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly changeListeners: (() => void)[] = [];
  private readonly transitionListeners: ((t: MemberTransition) => void)[] = [];
  private firstHeard: number | null = null;
  private readonly startedAt: number;
  /** The view was complete once: members that appear later join as any newcomer does. */
  private viewCompleted = false;
  /** Per sender, the members its last heartbeat named as alive or suspect. */
  private readonly namedBy = new Map<string, string[]>();
  /** Whether this process was ever `active` (a later `joining` is a return after a silence). */
  private wasActive = false;
  private lastPublishAt = 0;
  /** Wall time of the last change this node saw in the membership (or of its start). */
  private lastChurnWall: number;
  private lastHealthCheck = 0;
  private healthGraceUntil = 0;

  constructor(private readonly opts: MemberTableOptions) {
    this.selfId = opts.selfId;
    this.t = opts.timeouts;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.startedAt = opts.clock.now();
    this.lastChurnWall = opts.clock.wallNow();
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
      lastHeartbeat: this.startedAt,
      startedAt: opts.clock.wallNow(),
      createdAt: opts.createdAt,
      deadSince: 0,
    });
  }

  /** Calls fn whenever the ring or a member's health changes. */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  /** Calls fn for every transition of a member (after the table changed, before onChange listeners run). */
  onTransition(fn: (t: MemberTransition) => void): void {
    this.transitionListeners.push(fn);
  }

  self(): Member {
    return this.members.get(this.selfId)!;
  }

  all(): Member[] {
    return [...this.members.values()];
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  get size(): number {
    return this.members.size;
  }

  /** Members that answer (alive or suspect; suspect ones may be slow). */
  isLive(id: string): boolean {
    const m = this.members.get(id);
    return m !== undefined && m.health !== "dead";
  }

  condition(id: string): MemberCondition | undefined {
    const m = this.members.get(id);
    if (!m) return undefined;
    if (m.health === "dead") return m.replaced ? "replaced" : "dead";
    if (m.health === "suspect") return "suspect";
    if (m.state === "joining" && this.isReturning(m)) return "returning";
    return m.state;
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

  setSelfTokens(tokens: Uint32Array): void {
    this.self().tokens = tokens;
    this.changed();
  }

  /** This node announces a state; returns whether it changed. */
  setState(state: MemberState): boolean {
    const self = this.self();
    if (self.state === state) return false;
    self.state = state;
    if (state === "active") this.wasActive = true;
    this.logger.info("cluster member state", { state });
    this.emit(self, state);
    this.changed();
    return true;
  }

  /** Clock.now() of the first heartbeat heard from another member, or null. */
  firstPeerHeartbeat(): number | null {
    return this.firstHeard;
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
      const alone = this.clock.now() - this.startedAt > this.t.deadTimeoutMs;
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
    return this.members.size > 1 || this.opts.expectsOthers();
  }

  /** Members some live member still holds hinted batches for; `ownHints` are this node's. */
  catchingUp(ownHints: Record<string, number>): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) {
      if (m.health === "dead") continue;
      const hints = m.self ? ownHints : m.hints;
      for (const [peer, n] of Object.entries(hints)) if (n > 0) out.add(peer);
    }
    return out;
  }

  /**
   * Other members (not dead, not left) whose last heartbeat did not name `id` as alive or
   * suspect: a member that holds it dead, or has not heard it yet, writes its share of the
   * series elsewhere and keeps no hint for it.
   */
  notNaming(id: string): string[] {
    const out: string[] = [];
    for (const m of this.members.values()) {
      if (m.self || m.id === id || m.health === "dead" || m.state === "left") continue;
      if (!(this.namedBy.get(m.id) ?? []).includes(id)) out.push(m.id);
    }
    return out;
  }

  /**
   * Whether `id` was heard again after being held dead less than a dead timeout ago. Nobody wrote
   * to it meanwhile, without hints; unless its silence was only in this node's view, it hears
   * itself named dead and joins again to pull what it missed, within a few heartbeats.
   */
  recentlyBackFromDead(id: string): boolean {
    const at = this.members.get(id)?.backFromDeadAt ?? 0;
    return at > 0 && this.clock.now() - at < this.t.deadTimeoutMs;
  }

  /** Whether some member is joining or leaving (owner sets are changing). */
  pendingChange(): boolean {
    for (const m of this.members.values()) if (m.health !== "dead" && (m.state === "joining" || m.state === "leaving")) return true;
    return false;
  }

  /**
   * This node is about to publish a heartbeat. Silent for longer than the dead timeout (the
   * process was paused, the event loop blocked): the others declared this node dead and stopped
   * writing to it. It joins again (pulls what it missed) instead of serving reads with a hole.
   */
  publishing(): void {
    const self = this.self();
    const now = this.clock.now();
    if (this.lastPublishAt > 0 && now - this.lastPublishAt > this.t.deadTimeoutMs && self.state === "active" && this.members.size > 1) {
      this.logger.warn("this node was silent past the dead timeout; joining again to pull what it missed", { silent_ms: Math.round(now - this.lastPublishAt) });
      self.state = "joining";
      this.emit(self, "rejoining");
      this.changed();
    }
    this.lastPublishAt = now;
    self.lastHeartbeat = this.clock.now();
  }

  /** Dead members not yet forgotten, as gossiped in heartbeats. */
  deadNotices(): DeadMemberNotice[] {
    const now = this.clock.now();
    return [...this.members.values()]
      .filter((m) => m.health === "dead")
      .map((m) => ({ id: m.id, name: m.name, tokens: tokensToWire(m.tokens), createdAt: m.createdAt, deadMs: Math.round(now - m.deadSince), replaced: m.replaced === true }));
  }

  /** Ids of the other members held alive or suspect (not left), as gossiped in heartbeats. */
  livePeerIds(): string[] {
    return [...this.members.values()].filter((m) => !m.self && m.health !== "dead" && m.state !== "left").map((m) => m.id);
  }

  /**
   * A heartbeat of another member of this cluster (its identity already accepted). `member` is
   * the member it updated or added.
   */
  heartbeat(hb: HeartbeatMessage): Member {
    const tokens = tokensFromWire(hb.tokens);
    const now = this.clock.now();
    this.firstHeard ??= now;
    let m = this.members.get(hb.id);
    // Whether the sender has been alive all along in our view: only then does its view of us
    // count (a member that was itself paused holds everybody dead when it resumes).
    const senderWasAlive = m !== undefined && m.health === "alive";
    let ringChanged = false;
    let transition: MemberTransition["to"] | null = null;
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
      transition = "joined";
      this.logger.info("cluster member joined", { member: m.name, id: m.id, state: hb.state });
    } else {
      if (m.health !== "alive") {
        if (m.health === "dead") m.backFromDeadAt = now;
        this.logger.info("cluster member is alive again", { member: m.name, was: m.health });
        ringChanged = true;
        transition = "alive";
      }
      if (m.state !== hb.state || !sameTokens(m.tokens, tokens)) ringChanged = true;
      if (m.state !== hb.state && transition === null) transition = hb.state;
    }
    m.name = String(hb.name);
    m.addrs = Array.isArray(hb.addrs) ? hb.addrs.map(String) : [];
    m.http = String(hb.http ?? "");
    m.state = hb.state;
    m.tokens = tokens;
    m.load = hb.load ?? {};
    m.hints = hb.hints && typeof hb.hints === "object" ? hb.hints : {};
    if (typeof hb.now === "number") {
      m.clockOffsets.push(this.clock.wallNow() - hb.now);
      if (m.clockOffsets.length > 10) m.clockOffsets.shift();
      m.lastPublishedWall = hb.now + this.clockOffset(m.id)!;
    } else m.lastPublishedWall = this.clock.wallNow();
    m.quietSince = typeof hb.quietSince === "number" && typeof hb.now === "number" ? hb.quietSince + (m.lastPublishedWall - hb.now) : undefined;
    if (this.hintsForLive(m.hints)) this.noteChurn();
    m.health = "alive";
    m.lastHeartbeat = now;
    m.startedAt = hb.startedAt;
    m.createdAt = typeof hb.createdAt === "number" ? hb.createdAt : 0;
    if (typeof hb.returning === "boolean") m.returning = hb.returning;
    m.remoteDelivered = remoteWatermarks(hb.remote);
    m.deadSince = 0;
    m.replaced = false;
    m.recoverable = false;
    this.namedBy.set(hb.id, Array.isArray(hb.peers) ? hb.peers.filter((p): p is string => typeof p === "string") : []);
    this.noteLeftOut(hb.id);
    if (transition !== null) this.emit(m, transition);
    if (this.learnDead(hb.dead, now, m.name)) ringChanged = true;
    // A member that was alive all along holds this node dead (our heartbeats did not reach it):
    // it stopped writing to it meanwhile, without hints. Join again, pulling the ranges it owns.
    const self = this.self();
    if (senderWasAlive && self.state === "active" && Array.isArray(hb.dead) && hb.dead.some((d) => d?.id === this.selfId)) {
      this.logger.warn("a member holds this node dead; joining again to pull what it missed", { member: m.name });
      self.state = "joining";
      this.emit(self, "rejoining");
      ringChanged = true;
    }
    if (ringChanged) this.changed();
    return m;
  }

  /** A node of another cluster: never a member. */
  refused(id: string): void {
    if (this.members.delete(id)) this.changed();
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
          this.emit(known, "replaced");
        }
        continue;
      }
      if (!(d.tokens instanceof Uint8Array) || typeof d.deadMs !== "number" || d.deadMs >= this.t.forgetTimeoutMs) continue;
      const deadSince = now - d.deadMs;
      const m: Member = {
        id: d.id,
        self: false,
        name: String(d.name),
        addrs: [],
        http: "",
        state: "active",
        tokens: tokensFromWire(d.tokens),
        load: {},
        hints: {},
        clockOffsets: [],
        health: "dead",
        lastHeartbeat: deadSince - this.t.deadTimeoutMs,
        startedAt: 0,
        createdAt: typeof d.createdAt === "number" ? d.createdAt : 0,
        deadSince,
        replaced: d.replaced === true,
        recoverable: false,
      };
      this.members.set(d.id, m);
      this.emit(m, m.replaced ? "replaced" : "dead");
      added = true;
    }
    return added;
  }

  /** Judges every other member's health by the age of its last heartbeat (run a few times per heartbeat interval). */
  tick(): void {
    const now = this.clock.now();
    // This node itself was stalled (paused, event loop blocked): the heartbeats that arrived
    // meanwhile are still queued. Judge the others only once they had a chance to be read.
    if (this.lastHealthCheck > 0 && now - this.lastHealthCheck > this.t.suspectTimeoutMs) this.healthGraceUntil = now + 2 * this.t.heartbeatIntervalMs;
    this.lastHealthCheck = now;
    if (now < this.healthGraceUntil) return;
    let changed = false;
    for (const m of this.members.values()) {
      if (m.self) continue;
      const age = now - m.lastHeartbeat;
      if (m.state === "left") {
        // It handed its data over and exited: not a death, nothing to re-replicate.
        if (age > this.t.deadTimeoutMs) {
          this.members.delete(m.id);
          this.departed.add(m.id);
          this.logger.info("cluster member left", { member: m.name, id: m.id });
          this.emit(m, "departed");
          changed = true;
        }
        continue;
      }
      if (m.health === "dead") {
        if (now - m.deadSince > this.t.forgetTimeoutMs) {
          this.members.delete(m.id);
          this.logger.info("cluster member forgotten", { member: m.name, id: m.id });
          this.emit(m, "forgotten");
          changed = true;
        } else if (!m.replaced && m.recoverable && this.reReplicationDone(m, now)) {
          m.replaced = true;
          this.logger.info("dead member's ranges are re-replicated; it no longer counts for query coverage", { member: m.name, id: m.id });
          this.emit(m, "replaced");
          changed = true;
        }
        continue;
      }
      if (age > this.t.deadTimeoutMs) {
        m.recoverable = this.hasLiveCoOwners(m.id);
        m.health = "dead";
        m.deadSince = now;
        this.logger.warn("cluster member is dead", { member: m.name, id: m.id, last_heartbeat_ms: Math.round(age) });
        this.emit(m, "dead");
        changed = true;
      } else if (age > this.t.suspectTimeoutMs && m.health === "alive") {
        m.health = "suspect";
        this.logger.warn("cluster member is suspect", { member: m.name, id: m.id, last_heartbeat_ms: Math.round(age) });
        this.emit(m, "suspect");
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  /** Whether every range of the read ring that `id` owns has another owner that is not dead. */
  private hasLiveCoOwners(id: string): boolean {
    const ring = this.opts.readRing();
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
    if (now - dead.deadSince < 2 * this.t.deadTimeoutMs) return false;
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

  /**
   * A heartbeat from `sender` that leaves out an established member this node holds live: the
   * sender writes that member's share elsewhere, without hints, so the membership is not quiet.
   */
  private noteLeftOut(sender: string): void {
    const named = this.namedBy.get(sender) ?? [];
    for (const m of this.members.values()) {
      if (m.id === sender || m.health === "dead" || (m.state !== "active" && m.state !== "leaving")) continue;
      if (!named.includes(m.id)) {
        this.noteChurn();
        return;
      }
    }
  }

  /**
   * Whether `hints` (hinted batches per peer) hold any for a member not dead: a replica that lacks
   * writes until they are replayed. Batches for a dead member wait for it to return (a change of
   * its own) and its ranges are read elsewhere meanwhile.
   */
  hintsForLive(hints: Record<string, number> | undefined): boolean {
    if (!hints) return false;
    for (const [peer, n] of Object.entries(hints)) if (n > 0 && this.members.get(peer)?.health !== "dead") return true;
    return false;
  }

  /** Something changed that may leave a replica short for a while (see `quietSince`). */
  noteChurn(): void {
    this.lastChurnWall = this.clock.wallNow();
  }

  /** Since when this node has seen no change in the membership (wall time), for its heartbeat. */
  ownQuietSince(): number {
    return this.lastChurnWall;
  }

  /**
   * Since when the whole cluster has been quiet as far as this node knows: the latest of its own
   * last change and every member's; Infinity while some member is not alive (unless dead and
   * replaced: its data is on the others again), or did not say.
   */
  clusterQuietSince(): number {
    let since = this.lastChurnWall;
    for (const m of this.members.values()) {
      if (m.self || m.state === "left" || (m.health === "dead" && m.replaced)) continue;
      if (m.health !== "alive" || m.quietSince === undefined) return Infinity;
      if (m.quietSince > since) since = m.quietSince;
    }
    return since;
  }

  private emit(m: Member, to: MemberTransition["to"]): void {
    this.noteChurn();
    for (const fn of this.transitionListeners) fn({ id: m.id, name: m.name, to });
  }

  private changed(): void {
    for (const fn of this.changeListeners) {
      try {
        fn();
      } catch (err) {
        this.logger.error("membership listener failed", { err });
      }
    }
  }
}

/** A heartbeat's per-queue watermarks, keeping only well-formed entries (older members send none). */
function remoteWatermarks(raw: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!raw || typeof raw !== "object") return out;
  for (const [name, ms] of Object.entries(raw as Record<string, unknown>)) if (typeof ms === "number" && Number.isFinite(ms)) out[name] = ms;
  return out;
}

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
