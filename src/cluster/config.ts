/**
 * The cluster's flags (`--cluster.*`): their rows in the node's flag table, their defaults, and
 * the config built from their values. The cluster room owns these names; node.ts adds the rows to
 * its table and reads them with the one flag reader, then hands the values here.
 */
import { FlagError, parseByteSize, parseDuration, type FlagSpec } from "../model/index.ts";

export interface ClusterConfig {
  /** libp2p TCP listen address, HOST:PORT. */
  listenAddress: string;
  /** Members to join through (repeatable): HOST:PORT, dns+NAME:PORT or dnssrv+NAME. */
  join: string[];
  /** How often dns+ and dnssrv+ join names are resolved again. */
  joinRefreshIntervalMs: number;
  /** IP:PORT of the DNS server for those names (--dns.server, set by node.ts); "" = the system's resolvers. */
  dnsServer: string;
  /** Human name of this node; defaults to the host name. */
  nodeName: string;
  replicationFactor: number;
  mdns: boolean;
  /** Clusters with different names ignore each other even on one network. */
  name: string;
  /** Path of the pre-shared key that turns on a libp2p private network; "" = off. */
  secretFile: string;
  heartbeatIntervalMs: number;
  suspectTimeoutMs: number;
  deadTimeoutMs: number;
  /** How long a dead member still counts for query coverage and status before it is forgotten. */
  forgetTimeoutMs: number;
  tokensPerNode: number;
  writeTimeoutMs: number;
  queryTimeoutMs: number;
  /** Upper bound of the on-disk hinted-handoff queue for one peer. */
  hintedHandoffMaxBytes: number;
  /** Hand-off transfers (join pulls, leave pushes, re-replication, repairs) share this budget. */
  handoffMaxBytesPerSecond: number;
  /** How long a node keeps series it no longer owns after the ring settled, before dropping them. */
  handoffDropGraceMs: number;
  /** Longest a graceful leave waits for the hand-off before the node exits anyway. */
  handoffLeaveTimeoutMs: number;
  /** How often replicas compare digests of what they hold (anti-entropy). */
  antiEntropyIntervalMs: number;
  /** How far back anti-entropy compares. */
  antiEntropyLookbackMs: number;
  /** Evaluate the built-in alert rules about the cluster (alert_rules.ts). */
  alertRules: boolean;
  /** Read older samples from one replica known complete per range (read_plan.ts). */
  readOneReplica: boolean;
  /** How long the whole cluster must have been quiet before reads use one replica per range. */
  readOneReplicaQuietMs: number;
  /** How far before the old forwarder's delivered watermark a remote-write takeover starts (remote_forward.ts). */
  remoteWriteTakeoverMarginMs: number;
  /** Deduplicate HA pairs of remote-write senders (ha_tracker.ts). */
  haTrackerEnabled: boolean;
  haClusterLabel: string;
  haReplicaLabel: string;
  haUpdateTimeoutMs: number;
  haFailoverTimeoutMs: number;
}

export function defaultClusterConfig(): ClusterConfig {
  return {
    listenAddress: "0.0.0.0:7946",
    join: [],
    joinRefreshIntervalMs: 30_000,
    dnsServer: "",
    nodeName: "",
    replicationFactor: 3,
    mdns: true,
    name: "shoal",
    secretFile: "",
    heartbeatIntervalMs: 1000,
    suspectTimeoutMs: 3000,
    deadTimeoutMs: 6000,
    forgetTimeoutMs: 3600_000,
    tokensPerNode: 128,
    writeTimeoutMs: 5000,
    queryTimeoutMs: 60_000,
    hintedHandoffMaxBytes: 512 * 1024 * 1024,
    handoffMaxBytesPerSecond: 64 * 1024 * 1024,
    handoffDropGraceMs: 5 * 60_000,
    handoffLeaveTimeoutMs: 10 * 60_000,
    antiEntropyIntervalMs: 10 * 60_000,
    antiEntropyLookbackMs: 24 * 3600_000,
    alertRules: true,
    readOneReplica: true,
    readOneReplicaQuietMs: 15 * 60_000,
    remoteWriteTakeoverMarginMs: 60_000,
    haTrackerEnabled: false,
    haClusterLabel: "cluster",
    haReplicaLabel: "__replica__",
    haUpdateTimeoutMs: 15_000,
    haFailoverTimeoutMs: 30_000,
  };
}

const KEYS: Record<string, keyof ClusterConfig> = {
  "cluster.listen-address": "listenAddress",
  "cluster.join": "join",
  "cluster.join.refresh-interval": "joinRefreshIntervalMs",
  "cluster.node-name": "nodeName",
  "cluster.replication-factor": "replicationFactor",
  "cluster.mdns": "mdns",
  "cluster.name": "name",
  "cluster.secret-file": "secretFile",
  "cluster.heartbeat-interval": "heartbeatIntervalMs",
  "cluster.suspect-timeout": "suspectTimeoutMs",
  "cluster.dead-timeout": "deadTimeoutMs",
  "cluster.forget-timeout": "forgetTimeoutMs",
  "cluster.tokens": "tokensPerNode",
  "cluster.write-timeout": "writeTimeoutMs",
  "cluster.query-timeout": "queryTimeoutMs",
  "cluster.hinted-handoff.max-bytes": "hintedHandoffMaxBytes",
  "cluster.handoff.max-bytes-per-second": "handoffMaxBytesPerSecond",
  "cluster.handoff.drop-grace": "handoffDropGraceMs",
  "cluster.handoff.leave-timeout": "handoffLeaveTimeoutMs",
  "cluster.handoff.anti-entropy-interval": "antiEntropyIntervalMs",
  "cluster.handoff.anti-entropy-lookback": "antiEntropyLookbackMs",
  "cluster.alert-rules": "alertRules",
  "cluster.read-one-replica": "readOneReplica",
  "cluster.read-one-replica.quiet-period": "readOneReplicaQuietMs",
  "cluster.remote-write.takeover-margin": "remoteWriteTakeoverMarginMs",
  "distributor.ha-tracker.enable": "haTrackerEnabled",
  "distributor.ha-tracker.cluster": "haClusterLabel",
  "distributor.ha-tracker.replica": "haReplicaLabel",
  "distributor.ha-tracker.update-timeout": "haUpdateTimeoutMs",
  "distributor.ha-tracker.failover-timeout": "haFailoverTimeoutMs",
};

export const CLUSTER_FLAGS: readonly FlagSpec[] = [
  { name: "cluster.listen-address", kind: "string", def: "0.0.0.0:7946", help: "Address (HOST:PORT) the cluster transport (libp2p over TCP) listens on." },
  {
    name: "cluster.join",
    kind: "list",
    def: "",
    help: "A cluster member to join through (repeatable): HOST:PORT, dns+NAME:PORT (every A/AAAA address of NAME) or dnssrv+NAME (every SRV record of NAME, e.g. a Kubernetes headless service's _cluster._tcp name). DNS names are asked of --dns.server and resolved again every --cluster.join.refresh-interval.",
  },
  { name: "cluster.join.refresh-interval", kind: "duration", def: "30s", help: "How often the dns+ and dnssrv+ names of --cluster.join are resolved again." },
  { name: "cluster.node-name", kind: "string", def: "", help: "Name of this node in the cluster (default: the host name)." },
  { name: "cluster.replication-factor", kind: "int", def: "3", help: "Copies kept of every series. The ring places as many as there are live members; fewer than this is reported as under-replication." },
  { name: "cluster.mdns", kind: "bool", def: "true", help: "Discover members on the local network with mDNS." },
  { name: "cluster.name", kind: "string", def: "shoal", help: "Cluster name; nodes only form a cluster with nodes of the same name." },
  { name: "cluster.secret-file", kind: "string", def: "", help: "File holding the cluster's pre-shared key (any secret text, or a libp2p swarm key); turns on a private network that nodes without it cannot connect to." },
  { name: "cluster.heartbeat-interval", kind: "duration", def: "1s", help: "How often a member announces itself." },
  { name: "cluster.suspect-timeout", kind: "duration", def: "3s", help: "A member without heartbeats for this long is suspect (writes to it go to hinted handoff)." },
  { name: "cluster.dead-timeout", kind: "duration", def: "6s", help: "A member without heartbeats for this long is dead and leaves the ring." },
  { name: "cluster.forget-timeout", kind: "duration", def: "1h", help: "How long a dead member is still remembered for status and query-coverage warnings." },
  { name: "cluster.tokens", kind: "int", def: "128", help: "Virtual tokens per node on the hash ring." },
  { name: "cluster.write-timeout", kind: "duration", def: "5s", help: "Timeout of a write forwarded to a replica." },
  { name: "cluster.query-timeout", kind: "duration", def: "1m", help: "Timeout of a query sent to a member." },
  { name: "cluster.hinted-handoff.max-bytes", kind: "size", def: "512MB", help: "Maximum size of the on-disk hinted-handoff queue per peer." },
  { name: "cluster.handoff.max-bytes-per-second", kind: "size", def: "64MB", help: "Bandwidth all hand-off transfers of this node (join pulls it serves, leave pushes, re-replication, repairs) may use together, in compressed bytes per second." },
  { name: "cluster.handoff.drop-grace", kind: "duration", def: "5m", help: "After the ring settled and the new owners acknowledged their data, how long a node keeps series it no longer owns before dropping them." },
  { name: "cluster.handoff.leave-timeout", kind: "duration", def: "10m", help: "Longest a graceful leave (SIGTERM, shoal cluster leave, POST /api/v1/cluster/leave) waits for its hand-off before the node exits anyway. A second SIGTERM exits at once." },
  { name: "cluster.handoff.anti-entropy-interval", kind: "duration", def: "10m", help: "How often replicas compare digests of the series they hold per token range and time window, and repair what differs." },
  { name: "cluster.handoff.anti-entropy-lookback", kind: "duration", def: "1d", help: "How far back anti-entropy compares replicas." },
  {
    name: "cluster.alert-rules",
    kind: "bool",
    def: "true",
    help: "Evaluate the built-in alert rules about the cluster (a member down, ranges under-replicated or without a live copy, hinted-handoff backlog growing, hand-off stalled, write-quorum failures, disk nearly full, scrape targets no member scrapes), sent to the configured Alertmanagers like any other rule. --no-cluster.alert-rules turns them off.",
  },
  {
    name: "cluster.read-one-replica",
    kind: "bool",
    def: "true",
    help: "Once the cluster has been quiet for --cluster.read-one-replica.quiet-period, read samples older than --cluster.write-timeout plus two heartbeats from one replica known complete per range (this node first), and push shardable aggregations down to the members; newer samples, and what each member stored lately, are still read from every member. --no-cluster.read-one-replica reads every replica always.",
  },
  {
    name: "cluster.read-one-replica.quiet-period",
    kind: "duration",
    def: "15m",
    help: "How long no member may have been suspect, dead, back, joining or leaving, and no hinted batches held, by every member's account, before reads use one replica per range. A replica may lack writes after such a change until a join's pull, the hinted handoff or anti-entropy repairs it: keep it longer than --cluster.handoff.anti-entropy-interval.",
  },

  {
    name: "cluster.remote-write.takeover-margin",
    kind: "duration",
    def: "1m",
    help: "Each remote_write sample is forwarded by the first owner of its series. When that member dies, leaves or a join moves its ranges, the new first owner forwards from its own copy the samples newer than the old one's last delivered timestamp minus this margin. It must cover how far samples arrive out of timestamp order (scrape timeouts, remote-write senders' batching, --cluster.write-timeout) plus a few heartbeats: a longer margin sends more duplicates after a takeover, a shorter one may leave a gap.",
  },
  // HA pairs writing in, with Mimir's flag names and defaults (its -distributor.ha-tracker.*).
  {
    name: "distributor.ha-tracker.enable",
    kind: "bool",
    def: "false",
    help: "Deduplicate HA pairs of remote-write senders: of the samples carrying the HA cluster label and the replica label, only those of one elected replica per cluster are stored (without the replica label); the others are answered 202 and dropped. The election is held by the member owning the cluster name on the ring.",
  },
  { name: "distributor.ha-tracker.cluster", kind: "string", def: "cluster", help: "Label naming the HA cluster of a remote-write sender (its Prometheus external label)." },
  { name: "distributor.ha-tracker.replica", kind: "string", def: "__replica__", help: "Label naming the replica within an HA cluster; dropped from the stored series." },
  {
    name: "distributor.ha-tracker.update-timeout",
    kind: "duration",
    def: "15s",
    help: "How long a member accepts the elected replica on the deciding member's last confirmation before it asks again.",
  },
  {
    name: "distributor.ha-tracker.failover-timeout",
    kind: "duration",
    def: "30s",
    help: "When the elected replica sent nothing for this long, the next replica to send is elected. Must exceed the update timeout by at least 1s.",
  },
];

/** The parser's value, or null where it refuses the text (the caller words the error). */
function parseOrNull(parse: (text: string) => number, raw: string): number | null {
  try {
    return parse(raw);
  } catch {
    return null;
  }
}

function applyValue(cfg: ClusterConfig, spec: FlagSpec, raw: string): void {
  const bad = (what: string) => new FlagError(`--${spec.name}: ${what}, got ${JSON.stringify(raw)}`);
  const target = cfg as unknown as Record<string, unknown>;
  const key = KEYS[spec.name]!;
  switch (spec.kind) {
    case "string":
      target[key] = raw;
      return;
    case "list":
      (target[key] as string[]).push(raw);
      return;
    case "bool":
      if (raw !== "true" && raw !== "false") throw bad("expected true or false");
      target[key] = raw === "true";
      return;
    case "int": {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw bad("expected a positive integer");
      target[key] = n;
      return;
    }
    case "duration": {
      const ms = parseOrNull(parseDuration, raw);
      if (ms === null || ms <= 0) throw bad("expected a duration such as 500ms, 5s or 1m");
      target[key] = ms;
      return;
    }
    case "size": {
      const b = parseOrNull(parseByteSize, raw);
      if (b === null || b <= 0) throw bad("expected a size such as 512MB");
      target[key] = b;
      return;
    }
  }
}

/**
 * Builds the config from textual flag values as src/flags.ts holds them (lists joined by ",");
 * flags absent from `values` keep their defaults.
 */
export function clusterConfigFromFlagValues(values: ReadonlyMap<string, string>): ClusterConfig {
  const cfg = defaultClusterConfig();
  for (const spec of CLUSTER_FLAGS) {
    const raw = values.get(spec.name);
    if (raw === undefined || (raw === spec.def && spec.kind !== "list")) continue;
    if (spec.kind === "list") {
      for (const item of raw.split(",")) if (item.trim() !== "") applyValue(cfg, spec, item.trim());
    } else applyValue(cfg, spec, raw);
  }
  validateClusterConfig(cfg);
  return cfg;
}

function validateClusterConfig(cfg: ClusterConfig): void {
  splitHostPort(cfg.listenAddress, "--cluster.listen-address");
  for (const j of cfg.join) parseJoinSpec(j);
  if (cfg.suspectTimeoutMs <= cfg.heartbeatIntervalMs) {
    throw new FlagError("--cluster.suspect-timeout must be longer than --cluster.heartbeat-interval");
  }
  if (cfg.deadTimeoutMs <= cfg.suspectTimeoutMs) {
    throw new FlagError("--cluster.dead-timeout must be longer than --cluster.suspect-timeout");
  }
  for (const [flag, label] of [
    ["distributor.ha-tracker.cluster", cfg.haClusterLabel],
    ["distributor.ha-tracker.replica", cfg.haReplicaLabel],
  ] as const) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)) throw new FlagError(`--${flag}: expected a label name, got ${JSON.stringify(label)}`);
  }
  if (cfg.haClusterLabel === cfg.haReplicaLabel) {
    throw new FlagError("--distributor.ha-tracker.cluster and --distributor.ha-tracker.replica must name different labels");
  }
  // As Mimir requires: a member re-confirms the elected replica with the deciding member every
  // update timeout, so the deciding member must not fail over in between.
  if (cfg.haFailoverTimeoutMs < cfg.haUpdateTimeoutMs + 1000) {
    throw new FlagError("--distributor.ha-tracker.failover-timeout must be at least 1s longer than --distributor.ha-tracker.update-timeout");
  }
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(cfg.name)) {
    throw new FlagError(`--cluster.name: use 1-63 letters, digits, '.', '_' or '-', got ${JSON.stringify(cfg.name)}`);
  }
}

/** Splits HOST:PORT (IPv6 hosts in brackets). */
export function splitHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new FlagError(`${what}: expected HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: m[1] ?? m[2] ?? "", port };
}

/** One `--cluster.join` value: HOST:PORT, or a DNS name to resolve (join_targets.ts). */
export type JoinSpec =
  | { kind: "static"; text: string }
  | { kind: "dns"; text: string; name: string; port: number }
  | { kind: "dnssrv"; text: string; name: string };

const NAME_RE = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

/** Parses one `--cluster.join` value; throws FlagError naming what is wrong. */
export function parseJoinSpec(text: string): JoinSpec {
  if (text.startsWith("dnssrv+")) {
    const name = text.slice("dnssrv+".length);
    if (!NAME_RE.test(name)) throw new FlagError(`--cluster.join: expected dnssrv+NAME (an SRV record name such as _shoal._tcp.shoal.default.svc), got ${JSON.stringify(text)}`);
    return { kind: "dnssrv", text, name };
  }
  if (text.startsWith("dns+")) {
    const rest = text.slice("dns+".length);
    const m = /^(.*):(\d{1,5})$/.exec(rest);
    if (!m || !NAME_RE.test(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new FlagError(`--cluster.join: expected dns+NAME:PORT (a name with A/AAAA records and the cluster port), got ${JSON.stringify(text)}`);
    }
    return { kind: "dns", text, name: m[1]!, port: Number(m[2]) };
  }
  if (/^[a-z]+\+/.test(text)) throw new FlagError(`--cluster.join: unknown lookup ${JSON.stringify(text.split("+")[0])} in ${JSON.stringify(text)} (use dns+NAME:PORT or dnssrv+NAME)`);
  splitHostPort(text, "--cluster.join");
  return { kind: "static", text };
}
