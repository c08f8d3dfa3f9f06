/**
 * The cluster room's door. node.ts: parse flags with `extractClusterFlags`, start with
 * `Cluster.start({config, dataDir, local, httpAddress, logger})` (`local` is the TSDB: hand-off
 * backfills, exports, summarizes and drops series in it), then use `cluster.appendable` for
 * scrapes and remote write, `cluster.queryable` for the engine and the API,
 * `cluster.ownsTarget(labels)` for scrape sharding, `registerClusterRoutes` for
 * `/api/v1/status/cluster`, `POST /api/v1/cluster/leave` and `/api/v1/cluster/local/series`,
 * `cluster.metrics()` for `/metrics`, and `await cluster.leave()` first when stopping (the
 * graceful leave: ranges handed over, then `left`).
 *
 * Hand-off (issue 6): ring.ts (read / future / union write rings, compareRings, HashRanges),
 * handoff.ts (join pull, leave push, re-replication after a death, drop after grace),
 * transfer.ts (throttled, resumable zstd+CBOR batch streams), antientropy.ts (digests per token
 * range × time window, two-way repairs), late.ts (replicas backfill overtaken samples).
 */
export {
  CLUSTER_FLAGS,
  ClusterFlagError,
  clusterConfigFromFlagValues,
  clusterFlagHelp,
  defaultClusterConfig,
  extractClusterFlags,
  validateClusterConfig,
  type ClusterConfig,
  type ClusterFlagSpec,
} from "./config.ts";
export { Cluster, type ClusterOptions, type ClusterStatus, type MemberStatus } from "./cluster.ts";
export { ClusterWriteError } from "./distributor.ts";
export { PARTIAL_RESULT_WARNING_PREFIX, isPartialResultWarning, mergeReplicas } from "./fanout.ts";
export type { MemberHealth, MemberState } from "./membership.ts";
export { renderMetricsText, type MetricFamily, type MetricSample, type MetricType } from "./metrics.ts";
export { Ring, nodeTokens } from "./ring.ts";
export { runClusterCommand } from "./status-cli.ts";
export { registerClusterRoutes, type ClusterRouteDeps } from "./http.ts";
export type { HandoffStatus } from "./handoff.ts";
export type { AntiEntropyStatus } from "./antientropy.ts";
export type { HandoffReason, HandoffStorage, TransferProgress } from "./transfer.ts";
