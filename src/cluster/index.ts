/**
 * The cluster room's door. node.ts: add `CLUSTER_FLAGS` to its flag table and build the config
 * with `clusterConfigFromFlagValues`, start with
 * `Cluster.start({config, dataDir, local, httpAddress, logger})` (`local` is the TSDB: hand-off
 * backfills, exports, summarizes and drops series in it), then use `cluster.appendable` for
 * scrapes and remote write, `cluster.queryable` for the engine and the API,
 * `cluster.ownsTarget(labels)` for scrape sharding, `cluster.forwardsSeries(labels)` as the
 * remote-write commit tap's predicate (with the RemoteWrite passed as `remote` to `start`, which
 * gets the takeovers and backfilled samples: remote_forward.ts), `registerClusterRoutes` for
 * `/api/v1/status/cluster`, `POST /api/v1/cluster/leave` and `/api/v1/cluster/local/series`,
 * `registerClusterMetrics(registry, () => cluster.metricFigures())` (telemetry) for `/metrics`, and `await cluster.leave()` first when stopping (the
 * graceful leave: ranges handed over, then `left`).
 *
 * Hand-off: ring.ts (read / future / union write rings, compareRings, HashRanges),
 * handoff/ (join pull, leave push, re-replication after a death, drop after grace, one unit each),
 * puller.ts (the asking side of the pull protocol, for hand-off and anti-entropy),
 * transfer.ts (throttled, resumable zstd+CBOR batch streams), antientropy.ts (digests per token
 * range × time window, two-way repairs), late.ts (replicas backfill overtaken samples).
 */
export { CLUSTER_FLAGS, clusterConfigFromFlagValues, defaultClusterConfig, type ClusterConfig } from "./config.ts";
export { CLUSTER_ALERT_RULES_FILE, CLUSTER_ALERT_RULES_YAML, clusterAlertRuleFiles } from "./alert_rules.ts";
export type { ReplicationHealth } from "./replication_health.ts";
export { Cluster, type ClusterOptions, type ClusterStatus, type MemberStatus } from "./cluster.ts";
export { PARTIAL_RESULT_WARNING_PREFIX, mergeReplicas } from "./fanout.ts";
export type { MemberHealth, MemberState } from "./membership.ts";
export { Ring, nodeTokens } from "./ring.ts";
export { registerClusterRoutes, type ClusterRouteDeps } from "./http.ts";
export type { HandoffStatus } from "./handoff/index.ts";
export type { AntiEntropyStatus } from "./antientropy.ts";
export type { HandoffReason, HandoffStorage, TransferProgress } from "./transfer.ts";
