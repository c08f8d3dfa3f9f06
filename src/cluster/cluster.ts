/**
 * One node's part of the cluster: the libp2p host, membership, the ring, the distributor (writes),
 * the fan-out querier (reads), hinted handoff and the status/metrics views. node.ts starts it with
 * the local storage and uses `appendable` and `queryable` in place of the storage's own.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { labelsFromRecord, labelsHash32, type Appendable, type ClusterFigures, type Labels, type Logger, memberUrl, type Queryable, type ShardEvaluator, realClock, type Clock, type ClockTimer } from "../model/index.ts";
import { AntiEntropy, DIGEST_PROTOCOL, digestHandler, type AntiEntropyStatus } from "./antientropy.ts";
import type { ClusterConfig } from "./config.ts";
import { decodeWriteRequest, Distributor, HINT_PROTOCOL, WRITE_PROTOCOL, writeHandler } from "./distributor.ts";
import { FanoutQueryable, selectHandler } from "./fanout.ts";
import { Pushdown, PUSHDOWN_PROTOCOL, pushdownHandler } from "./pushdown.ts";
import { SELECT_PROTOCOL_V1, SELECT_PROTOCOL_V2, SELECT_PROTOCOL_V3 } from "./select_wire.ts";
import { HintedHandoff } from "./hints.ts";
import { AppliedLog, noteApplied } from "./applied_log.ts";
import { HA_PROTOCOL, HaElection } from "./ha_election.ts";
import { HaTracker, type HaAnswer } from "./ha_tracker.ts";
import { HandshakeWatch } from "./handshake.ts";
import { createClusterHost, nodeCreatedAt, readSwarmKey, type ClusterHost } from "./host.ts";
import { ClusterIdentity } from "./identity.ts";
import { Membership, type Member, type MemberHealth, type MemberState } from "./membership.ts";
import { LateTolerantAppendable } from "./late.ts";
import { HANDOFF_PULL_PROTOCOL, Puller } from "./puller.ts";
import { Handoff, type HandoffStatus } from "./handoff/index.ts";
import { assessReplication, type ReplicationHealth } from "./replication_health.ts";
import { RemoteForwarding, type RemoteForwardingStatus, type RemoteForwardTarget } from "./remote_forward.ts";
import { nodeTokens } from "./ring.ts";
import { JoinSettle } from "./settle.ts";
import { HttpRpc, httpRpcToken, serveHttpRpc } from "./http_rpc.ts";
import { peerIdOf, Rpc, RpcRemoteError } from "./rpc.ts";
import { HANDOFF_BATCH_PROTOCOL, Throttle, Transfers, type HandoffStorage } from "./transfer.ts";

export interface ClusterOptions {
  config: ClusterConfig;
  /** The node's data directory; the cluster keeps its state under `<dataDir>/cluster`. */
  dataDir: string;
  /** This node's own storage (hand-off reads, backfills and drops series in it). */
  local: HandoffStorage;
  /** HOST:PORT of this node's HTTP API, announced to the other members. */
  httpAddress: string;
  logger: Logger;
  /** Time for every state machine of the cluster (the process's clock unless a test drives it). */
  clock?: Clock;
  /**
   * Remote write out (the remote room's RemoteWrite): the cluster publishes its watermarks,
   * forwards takeovers and backfilled samples into it. Absent: no remote_write forwarding.
   */
  remote?: RemoteForwardTarget;
  /**
   * Evaluates pushed-down aggregations over this member's share of the data (the PromQL engine's
   * evalShard). Absent: this member neither pushes aggregations down nor evaluates them for others.
   */
  shardEvaluator?: ShardEvaluator;
  /** Credentials and TLS settings for calls to members' HTTP API (--web.client-config.file), read per call. */
  memberRequest?: () => { headers: Record<string, string>; tls: NonNullable<BunFetchRequestInit["tls"]> };
}

/** The protocols members are asked over HTTP first (reads: http_rpc.ts says why). */
const HTTP_READ_PROTOCOLS = [SELECT_PROTOCOL_V3, SELECT_PROTOCOL_V2, PUSHDOWN_PROTOCOL];

export interface MemberStatus {
  id: string;
  name: string;
  self: boolean;
  state: MemberState;
  health: MemberHealth;
  addresses: string[];
  httpAddress: string;
  lastHeartbeatAgeSeconds: number;
  tokens: number;
  /** Fraction of the hash space this member holds as primary owner / as one of the R replicas. */
  ringShare: number;
  replicaShare: number;
  /** Hinted-handoff batches this node holds for the member. */
  hintedHandoff: { pendingBatches: number; pendingBytes: number };
  /** Some live member still holds hinted batches for it: writes it has not received yet. */
  catchingUp: boolean;
  load: Record<string, number>;
}

export interface ClusterStatus {
  clusterName: string;
  /** The cluster's identity (see identity.ts); `clusterIdSettled` false while a fresh node may still adopt another. */
  clusterId: string;
  clusterIdSettled: boolean;
  /** Things an operator should fix, in words (e.g. running without a cluster secret). */
  warnings: string[];
  /** Nodes of other clusters that reached this node and were refused. */
  refusedPeers: { id: string; name: string; clusterId: string; addresses: string[]; lastSeenSecondsAgo: number }[];
  /** Copies held against the configured replication factor (see replication_health.ts). */
  replication: ReplicationHealth;
  self: string;
  replicationFactor: number;
  configuredReplicationFactor: number;
  writeQuorum: number;
  mdns: boolean;
  privateNetwork: boolean;
  members: MemberStatus[];
  /** Remote write out: the share of the ring this node forwards, its takeovers (remote_forward.ts). */
  remoteWrite: RemoteForwardingStatus;
  /** Hand-off progress: transfers, counters, drops, the graceful leave, anti-entropy. */
  handoff: HandoffStatus & {
    antiEntropy: AntiEntropyStatus;
    /** Ranges with fewer live copies than the configured factor (the same count as `replication.underReplicatedRanges`). */
    underReplicatedRanges: number;
  };
}

const HINT_REPLAY_EVERY_MS = 1000;

/** No remote_write forwarding (a cluster started without the remote room, as in unit tests). */
const NO_REMOTE_WRITE: RemoteForwardTarget = {
  active: false,
  queues: () => [],
  write: () => Promise.reject(new Error("remote write is not wired into this cluster")),
};

export const NO_SECRET_WARNING =
  "the cluster runs without a secret: any new node that reaches the cluster port can join it and read or write its data; set --cluster.secret-file on every member";

export class Cluster {
  readonly membership: Membership;
  readonly distributor: Distributor;
  readonly fanout: FanoutQueryable;
  readonly pushdown: Pushdown;
  readonly hints: HintedHandoff;
  /** When this member stored samples of which age (reads of the newest samples widen by it). */
  readonly applied: AppliedLog;
  readonly transfers: Transfers;
  readonly handoff: Handoff;
  readonly antiEntropy: AntiEntropy;
  /** What forwarded writes go into: late (overtaken) samples are backfilled, not refused. */
  readonly lateTolerant: LateTolerantAppendable;
  /** Who forwards which series to the remote_write queues, and the takeovers when that changes. */
  readonly remoteForwarding: RemoteForwarding;
  /** The HA-pair election remote write asks (--distributor.ha-tracker.enable), or null when off. */
  readonly haReplicas: HaElection | null;
  private readonly rpc: Rpc;
  /** What members show each other on reads over HTTP (http_rpc.ts); null without a cluster secret. */
  private readonly httpRpcToken: string | null;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private timers: ClockTimer[] = [];
  private readonly ringListeners: (() => void)[] = [];

  private constructor(
    readonly config: ClusterConfig,
    readonly host: ClusterHost,
    private readonly mdnsOn: boolean,
    stateDir: string,
    opts: ClusterOptions,
    identity: ClusterIdentity,
    private readonly handshakes: HandshakeWatch,
  ) {
    const logger = opts.logger;
    this.logger = logger;
    const clock = opts.clock ?? realClock;
    this.clock = clock;
    this.rpc = new Rpc(host, logger);
    this.hints = new HintedHandoff(join(stateDir, "hints"), config.hintedHandoffMaxBytes, logger);
    this.membership = new Membership({
      config,
      host,
      stateDir,
      nodeName: config.nodeName || hostname(),
      httpAddress: opts.httpAddress,
      logger,
      load: () => this.loadFigures(),
      remoteDelivered: () => this.remoteForwarding.publishedWatermarks(),
      createdAt: nodeCreatedAt(stateDir),
      identity,
      clock,
      hints: () => {
        const out: Record<string, number> = {};
        for (const p of this.hints.peers()) {
          const n = this.hints.stats(p).records;
          if (n > 0) out[p] = n;
        }
        return out;
      },
    });
    this.membership.setSelfTokens(nodeTokens(this.membership.selfId, config.tokensPerNode));
    this.httpRpcToken = config.secretFile === "" ? null : httpRpcToken(readSwarmKey(config.secretFile));
    this.rpc.useSideTransport(
      new HttpRpc({ selfId: this.membership.selfId, protocols: HTTP_READ_PROTOCOLS, urlOf: (peer) => this.memberHttpUrl(peer), request: opts.memberRequest, token: this.httpRpcToken, logger }),
    );
    // Kept while a dead member may be remembered: its unpublished hints concern writes since its death.
    this.applied = new AppliedLog(clock, config.forgetTimeoutMs + 4 * config.writeTimeoutMs);
    this.distributor = new Distributor(this.membership, this.rpc, noteApplied(opts.local, this.applied), this.hints, config.writeTimeoutMs);
    this.fanout = new FanoutQueryable(
      this.membership,
      this.rpc,
      opts.local,
      config.queryTimeoutMs,
      logger,
      config.readOneReplica
        ? { clock, writeTimeoutMs: config.writeTimeoutMs, heartbeatIntervalMs: config.heartbeatIntervalMs, quietMs: config.readOneReplicaQuietMs, applied: this.applied }
        : null,
    );
    this.pushdown = new Pushdown({
      membership: this.membership,
      rpc: this.rpc,
      local: opts.local,
      evaluate: config.readOneReplica ? (opts.shardEvaluator ?? null) : null,
      quietMs: config.readOneReplicaQuietMs,
      timeoutMs: config.queryTimeoutMs,
      settleMs: () => config.writeTimeoutMs + 2 * config.heartbeatIntervalMs,
      unsettledSpan: () => this.fanout.unsettledSpan(),
      wallNow: () => clock.wallNow(),
      logger,
    });
    this.fanout.pushdown = this.pushdown;
    const hlog = logger.with({ component: "handoff" });
    this.remoteForwarding = new RemoteForwarding({
      selfId: this.membership.selfId,
      readRing: () => this.membership.readRing(),
      member: (id) => this.membership.get(id),
      target: opts.remote ?? NO_REMOTE_WRITE,
      local: opts.local,
      marginMs: config.remoteWriteTakeoverMarginMs,
      settleMs: config.writeTimeoutMs,
      clock,
      logger: logger.with({ component: "remote-forwarding" }),
    });
    this.lateTolerant = new LateTolerantAppendable(opts.local, (series) => this.remoteForwarding.forwardBackfilled(series));
    this.transfers = new Transfers(this.rpc, opts.local, new Throttle(config.handoffMaxBytesPerSecond), hlog);
    const puller = new Puller(this.membership, this.rpc, this.transfers, clock);
    this.antiEntropy = new AntiEntropy(config, this.membership, this.rpc, opts.local, this.transfers, puller, hlog, clock);
    this.handoff = new Handoff({
      cfg: config,
      membership: this.membership,
      local: opts.local,
      transfers: this.transfers,
      puller,
      repairer: this.antiEntropy,
      hintsPending: () => {
        let n = 0;
        for (const p of this.hints.peers()) {
          const m = this.membership.get(p);
          if (m && m.health !== "dead" && m.state !== "left") n += this.hints.stats(p).records;
        }
        return n;
      },
      logger: hlog,
      clock,
    });
    this.haReplicas = config.haTrackerEnabled
      ? new HaElection({
          tracker: new HaTracker({ updateTimeoutMs: config.haUpdateTimeoutMs, failoverTimeoutMs: config.haFailoverTimeoutMs }, clock),
          clusterLabel: config.haClusterLabel,
          replicaLabel: config.haReplicaLabel,
          ownerOf: (name) => this.haOwnerOf(name),
          ask: async (owner, req) => (await this.rpc.call(owner, HA_PROTOCOL, req, config.writeTimeoutMs)) as HaAnswer,
        })
      : null;
    this.membership.onChange(() => {
      this.handoff.onRingChange();
      this.remoteForwarding.onRingChange();
      for (const fn of this.ringListeners) fn();
    });
  }

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const stateDir = join(opts.dataDir, "cluster");
    const logger = opts.logger.with({ component: "cluster" });
    const clock = opts.clock ?? realClock;
    // A fresh node's provisional identity settles once it went unchanged for two dead timeouts:
    // long enough for the members it was started with to meet through --cluster.join or mDNS.
    const identityOpts = { settleMs: 2 * opts.config.deadTimeoutMs, waitForPeer: opts.config.join.length > 0 };
    const identity = ClusterIdentity.load(stateDir, identityOpts, clock.now(), (change) => {
      if (change.error) logger.error("cannot write the cluster identity; it holds until this process exits", { err: change.error });
      if (change.from !== change.to) logger.info("adopted the cluster identity of the members met", { cluster_id: change.to, was: change.from, settled: change.settled });
      else if (change.settled) logger.info("cluster identity settled", { cluster_id: change.to });
    });
    const { host, mdnsOn, handshakes } = await createClusterHost(opts.config, stateDir, logger);
    const c = new Cluster(opts.config, host, mdnsOn, stateDir, { ...opts, logger }, identity, handshakes);
    await c.rpc.handle(
      WRITE_PROTOCOL,
      writeHandler(
        noteApplied(c.lateTolerant, c.applied),
        (from, sentAt) => {
          const offset = c.membership.clockOffset(from);
          return offset === null ? null : clock.wallNow() - sentAt - offset;
        },
        opts.config.writeTimeoutMs,
      ),
    );
    await c.rpc.handle(SELECT_PROTOCOL_V3, selectHandler(opts.local, 3, c.applied));
    await c.rpc.handle(SELECT_PROTOCOL_V2, selectHandler(opts.local, 2, c.applied));
    // Still answered for members that have not been upgraded yet (a rolling upgrade).
    await c.rpc.handle(SELECT_PROTOCOL_V1, selectHandler(opts.local, 1, c.applied));
    await c.rpc.handle(PUSHDOWN_PROTOCOL, pushdownHandler(opts.local, opts.shardEvaluator ?? null));
    // Hinted batches are older than what the replica may have received since: backfilled (any
    // order, identical samples kept once), so the replica takes writes while they arrive.
    // Their samples never pass the commit tap: those of series this node forwards go to the
    // remote-write queues here (a failure fails the replay, which the sender tries again).
    await c.rpc.handle(HINT_PROTOCOL, async (req) => {
      const series = decodeWriteRequest(req);
      const r = await opts.local.backfill(series);
      await c.remoteForwarding.forwardBackfilled(series);
      return { ok: r.samples, rej: 0 };
    });
    await c.rpc.handle(HANDOFF_BATCH_PROTOCOL, c.transfers.handler((id) => c.membership.get(id)?.name ?? id));
    await c.rpc.handle(HANDOFF_PULL_PROTOCOL, c.handoff.pullHandler());
    await c.rpc.handle(DIGEST_PROTOCOL, digestHandler(opts.local));
    const ha = c.haReplicas;
    if (ha) {
      await c.rpc.handle(HA_PROTOCOL, async (req) => ha.answer(req));
      c.timers.push(clock.setInterval(() => ha.sweep(), 60_000));
    }
    c.membership.start();
    c.handoff.onRingChange();
    c.remoteForwarding.onRingChange();
    c.timers.push(clock.setInterval(() => c.replayHints(), HINT_REPLAY_EVERY_MS));
    const settle = new JoinSettle(
      {
        selfState: () => c.membership.self().state,
        expectsPeers: () => c.membership.expectsPeers(),
        firstPeerHeartbeat: () => c.membership.firstPeerHeartbeat(),
        leaving: () => c.handoff.leaving(),
        join: () => c.handoff.join(),
        activate: () => c.membership.setState("active"),
      },
      { heartbeatIntervalMs: opts.config.heartbeatIntervalMs, deadTimeoutMs: opts.config.deadTimeoutMs, clock, logger },
    );
    settle.tick(); // a node alone turns active before its first request
    c.timers.push(clock.setInterval(() => settle.tick(), Math.max(20, opts.config.heartbeatIntervalMs / 4)));
    const dropEvery = Math.max(250, Math.min(10_000, opts.config.handoffDropGraceMs / 4));
    c.timers.push(clock.setInterval(() => void c.handoff.dropTick(), dropEvery));
    c.timers.push(clock.setInterval(() => void c.antiEntropy.run(), opts.config.antiEntropyIntervalMs));
    logger.info("cluster started", {
      id: c.membership.selfId,
      name: c.membership.self().name,
      cluster: opts.config.name,
      listen: host.getMultiaddrs().map(String).join(","),
      mdns: mdnsOn,
      private_network: opts.config.secretFile !== "",
      cluster_id: identity.id,
      cluster_id_settled: identity.settled,
    });
    if (opts.config.secretFile === "") logger.warn(NO_SECRET_WARNING);
    return c;
  }

  /** What scrapes and remote write append to. */
  get appendable(): Appendable {
    return this.distributor;
  }

  /** What the PromQL engine and the API read from. */
  get queryable(): Queryable {
    return this.fanout;
  }

  /** This member's --cluster.node-name (the host name when the flag is empty). */
  get nodeName(): string {
    return this.membership.self().name;
  }

  get selfId(): string {
    return this.membership.selfId;
  }

  /** Whether this node is the one live owner of a scrape target (or rule group) on the ring. */
  ownsTarget(labels: Labels): boolean {
    return this.ownsHash(labelsHash32(labels));
  }

  ownsHash(hash: number): boolean {
    // While joining, the existing members' heartbeats have not all arrived: owning by a ring of
    // one would scrape targets that another node is scraping already.
    if (this.membership.self().state === "joining") return false;
    const ring = this.membership.scrapeRing();
    // A node alone or outside the ring (leaving) keeps what it has only if nobody else can take it.
    if (ring.size === 0) return true;
    return ring.primaryOf(hash) === this.selfId;
  }

  /**
   * Whether this node evaluates the rule group with this key (`file;name`): the first alive,
   * active member on the ring from the key's hash; the next ones are its standbys.
   */
  ownsRuleGroup(key: string): boolean {
    if (this.membership.self().state === "joining") return false;
    const ring = this.membership.ruleRing();
    if (ring.size === 0) return true;
    return ring.primaryOf(labelsHash32(labelsFromRecord({ rule_group: key }))) === this.selfId;
  }

  /**
   * The member deciding the HA election of `haCluster` (null: this one): the first live, active
   * member on the ring from the hash of its name, as for a scrape target. A suspect owner stays
   * the owner until it is declared dead, so that an election does not move on a short hiccup.
   */
  haOwnerOf(haCluster: string): string | null {
    const ring = this.membership.scrapeRing();
    if (ring.size === 0) return null;
    const owner = ring.primaryOf(labelsHash32(labelsFromRecord({ ha_cluster: haCluster })));
    return owner === undefined || owner === this.selfId ? null : owner;
  }

  /**
   * Whether this node forwards the series to the remote_write queues: it is the series' first
   * owner on the read ring (see remote_forward.ts for why that ring). node.ts hands this to the
   * commit tap, so that each sample is forwarded once, not once per replica.
   */
  forwardsSeries(labels: Labels): boolean {
    return this.remoteForwarding.forwardsSeries(labels);
  }

  /** Called whenever ownership may have changed (members came, went, died). */
  onRingChange(fn: () => void): void {
    this.ringListeners.push(fn);
  }

  /**
   * Where a member's HTTP API is reached: the address it announces; a wildcard host (where it
   * listens, `0.0.0.0:9090`) replaced by the address this node's libp2p connection reaches it
   * at, as a base URL, null while there is no connection. This node's own is loopback.
   */
  private reachableHttpAddress(m: Member): string | null {
    if (!m.http) return null;
    if (m.self || memberUrl(m.http, "") === memberUrl(m.http)) return m.http; // not a wildcard host
    const conn = this.host.getConnections(peerIdOf(m.id))[0];
    const ip = conn?.remoteAddr.getComponents().find((c) => c.name === "ip4" || c.name === "ip6")?.value;
    return ip === undefined ? null : memberUrl(m.http, ip);
  }

  /** A member's HTTP base URL, or null when it cannot be told. */
  private memberHttpUrl(peer: string): string | null {
    const m = this.membership.get(peer);
    const address = m ? this.reachableHttpAddress(m) : null;
    return address === null ? null : memberUrl(address);
  }

  /** A read of another member over HTTP (HTTP_RPC_PATH), answered by its libp2p protocol's handler. */
  serveHttpRpc(request: Request): Promise<Response> {
    return serveHttpRpc(request, { selfId: this.membership.selfId, protocols: HTTP_READ_PROTOCOLS, handler: (p) => this.rpc.handler(p), token: this.httpRpcToken });
  }

  setHttpAddress(addr: string): void {
    this.membership.setHttpAddress(addr);
  }

  private replayHints(): void {
    for (const peer of this.hints.peers()) {
      const stats = this.hints.stats(peer);
      const m = this.membership.get(peer);
      if (stats.records === 0) continue;
      if (m?.state === "left" || (!m && this.membership.departed.has(peer))) {
        // It handed its ranges over and left: the takers received these writes themselves.
        this.hints.drop(peer);
        continue;
      }
      if (!m) {
        // The member was forgotten (dead past the forget timeout): it will not come back.
        if (this.membership.all().length > 0 && this.clock.now() > this.config.forgetTimeoutMs) this.hints.drop(peer);
        continue;
      }
      // The replica backfills replays, so they may go while it takes new writes.
      if (m.health !== "alive") continue;
      void this.hints.replay(peer, async (payload) => {
        try {
          await this.distributor.send(peer, payload, HINT_PROTOCOL);
        } catch (err) {
          // The peer received the batch and refused it (it cannot parse or store it): retrying
          // would block its queue forever. Connection errors and timeouts stop the replay.
          if (!(err instanceof RpcRemoteError)) throw err;
          this.logger.warn("hinted batch refused by its replica; dropped", { peer: m.name, err });
          this.hints.totals.droppedRecords++;
        }
      });
    }
  }

  private loadFigures(): Record<string, number> {
    let hinted = 0;
    for (const p of this.hints.peers()) hinted += this.hints.stats(p).bytes;
    return {
      samplesAppended: this.distributor.metrics.samplesAppended,
      hintedHandoffBytes: hinted,
      rssBytes: process.memoryUsage.rss(),
      handoffActive: this.handoff.activeTransfers(),
      handoffPendingRanges: this.handoff.pendingRanges(),
      handoffPendingFraction: this.handoff.pendingFraction(),
    };
  }

  status(): ClusterStatus {
    const ring = this.membership.readRing();
    const shares = ring.shares();
    const behind = this.membership.catchingUp();
    const now = this.clock.now();
    const members: MemberStatus[] = this.membership
      .all()
      .map((m) => {
        const share = shares.get(m.id);
        const h = this.hints.stats(m.id);
        return {
          id: m.id,
          name: m.name,
          self: m.self,
          state: m.state,
          health: m.health,
          addresses: m.addrs,
          // Pages and APIs that gather every member's answer call this address.
          httpAddress: this.reachableHttpAddress(m) ?? m.http,
          lastHeartbeatAgeSeconds: m.self ? 0 : Math.max(0, Math.round(now - m.lastHeartbeat) / 1000),
          tokens: m.tokens.length,
          ringShare: share?.primary ?? 0,
          replicaShare: share?.replica ?? 0,
          hintedHandoff: { pendingBatches: h.records, pendingBytes: h.bytes },
          catchingUp: behind.has(m.id),
          load: m.load,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    const R = ring.replicationFactor;
    const identity = this.membership.clusterIdentity();
    const replication = this.replicationHealth();
    return {
      replication,
      clusterName: this.config.name,
      clusterId: identity.id,
      clusterIdSettled: identity.settled,
      warnings: this.config.secretFile === "" ? [NO_SECRET_WARNING] : [],
      refusedPeers: this.membership.refusedPeers().map((p) => ({
        id: p.id,
        name: p.name,
        clusterId: p.clusterId,
        addresses: p.addrs,
        lastSeenSecondsAgo: Math.max(0, Math.round(now - p.lastSeen) / 1000),
      })),
      self: this.selfId,
      replicationFactor: R,
      configuredReplicationFactor: this.config.replicationFactor,
      writeQuorum: Math.floor(R / 2) + 1,
      mdns: this.mdnsOn,
      privateNetwork: this.config.secretFile !== "",
      members,
      remoteWrite: this.remoteForwarding.status(),
      handoff: { ...this.handoff.status(), antiEntropy: { ...this.antiEntropy.stats }, underReplicatedRanges: replication.underReplicatedRanges },
    };
  }

  /**
   * How many copies the cluster holds against the configured replication factor: the part of the
   * ring with no live copy at all (queries there return partial results), and the part with fewer
   * live copies than configured — an owner suspect or dead, a range still being re-replicated
   * after a death, or fewer members than the factor. A dead member's ranges count as fully
   * replicated again once they are back on as many live members as configured.
   */
  replicationHealth(): ReplicationHealth {
    return assessReplication({
      readRing: this.membership.readRing(),
      coverageRing: this.membership.coverageRing(),
      answering: (id) => this.membership.isLive(id) && this.membership.get(id)?.health === "alive",
      configuredFactor: this.config.replicationFactor,
      standalone: !this.membership.expectsPeers(),
      reReplicating: { fraction: this.handoff.underReplicatedFraction(), ranges: this.handoff.underReplicatedRanges() },
    });
  }

  /** The figures behind the `shoal_cluster_*` metrics (telemetry's cluster_metrics.ts shapes them). */
  metricFigures(): ClusterFigures {
    const now = this.clock.now();
    const d = this.distributor.metrics;
    const f = this.fanout.metrics;
    const h = this.hints.totals;
    const c = this.transfers.book.counters;
    const rep = this.replicationHealth();
    return {
      members: this.membership.all().map((m) => ({ id: m.id, name: m.name, self: m.self, state: m.state, health: m.health, heartbeatAgeSeconds: (now - m.lastHeartbeat) / 1000 })),
      replicationFactor: this.config.replicationFactor,
      effectiveReplicationFactor: this.membership.readRing().replicationFactor,
      replication: {
        underReplicatedRanges: rep.underReplicatedRanges,
        underReplicatedFraction: rep.underReplicatedFraction,
        unavailableFraction: rep.unavailableFraction,
        minLiveReplicas: rep.minLiveReplicas,
      },
      forwardedSamples: d.forwardedSamples.samples(),
      forwardedBatches: d.forwardedBatches.samples(),
      writeQuorumFailures: d.quorumFailures,
      hintQueues: this.hints.peers().map((p) => ({ peer: this.membership.get(p)?.name ?? p, bytes: this.hints.stats(p).bytes })),
      hints: { queuedBatches: h.queuedRecords, replayedBatches: h.replayedRecords, replayedBytes: h.replayedBytes, droppedBatches: h.droppedRecords },
      handoff: {
        bytes: c.bytes.samples(),
        series: c.series.samples(),
        samples: c.samples.samples(),
        failedTransfers: c.failures.samples(),
        activeTransfers: this.handoff.activeTransfers(),
        droppedSeries: this.handoff.status().drop.droppedSeries,
        reReplicatingRanges: this.handoff.underReplicatedRanges(),
      },
      antiEntropy: { repairs: this.antiEntropy.stats.repairs, runs: this.antiEntropy.stats.runs },
      lateSamplesBackfilled: this.lateTolerant.lateSamples,
      fanout: { latency: f.latency.samples(), partialResults: f.partialResults, memberErrors: f.memberErrors.samples() },
      rpcRequests: this.rpc.requests.samples(),
    };
  }

  /**
   * Graceful leave: hands every range this node owns to the members taking it over and announces
   * `left` once they acknowledged it. Idempotent; SIGTERM, `shoal cluster leave` and
   * POST /api/v1/cluster/leave all end here (node.ts then stops the node).
   */
  leave(): Promise<void> {
    return this.handoff.leave();
  }

  /** Runs one anti-entropy round now. */
  runAntiEntropy(): Promise<void> {
    return this.antiEntropy.run();
  }

  /** Leaves the cluster: announces `leaving`, stops heartbeats and the host. */
  async stop(): Promise<void> {
    for (const t of this.timers) this.clock.clearInterval(t);
    this.timers = [];
    this.handoff.stop();
    this.remoteForwarding.stop();
    try {
      if (this.membership.self().state !== "left") {
        this.membership.setState("leaving");
        // Give the `leaving` heartbeat a moment to go out so peers stop routing to us at once.
        await this.clock.sleep(100);
      }
    } catch {
      // best effort
    }
    this.membership.stop();
    this.hints.close();
    this.handshakes.stop();
    await this.host.stop();
  }
}
