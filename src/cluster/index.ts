/**
 * The cluster room's door. node.ts: parse flags with `extractClusterFlags`, start with
 * `Cluster.start({config, dataDir, local, httpAddress, logger})`, then use `cluster.appendable`
 * for scrapes and remote write, `cluster.queryable` for the engine and the API,
 * `cluster.ownsTarget(labels)` for scrape sharding, `cluster.status()` for
 * `/api/v1/status/cluster` and `cluster.metrics()` for `/metrics`.
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
