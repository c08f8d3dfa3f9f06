/** The telemetry room's door: the node's own metrics registry and every room's metric definitions. */
export { Registry, formatSampleValue, type Counter } from "./registry.ts";
export { registerProcessMetrics } from "./process.ts";
export { registerBuildInfo } from "./build_info.ts";
export { registerTsdbMetrics, tsdbObservers } from "./tsdb_metrics.ts";
export { registerScrapeMetrics, scrapeObservers } from "./scrape_metrics.ts";
export { registerClusterMetrics } from "./cluster_metrics.ts";
export { registerStorageFsMetrics } from "./storage_fs_metrics.ts";
export { registerRuleMetrics, ruleObservers } from "./rule_metrics.ts";
export { registerNotifierMetrics, notifierObservers } from "./notifier_metrics.ts";
export { discoveryObservers } from "./sd_metrics.ts";
export { registerRemoteMetrics, remoteSendObserver } from "./remote_metrics.ts";
