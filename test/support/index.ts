/**
 * Test support shared by every test room and the benchmarks: free ports, temporary
 * directories, waiting on conditions, child processes, and Shoal / Prometheus servers.
 */
export { BUN, REPO_ROOT, SHOAL_CLI } from "./paths.ts";
export { freePort } from "./ports.ts";
export { removeTempDir, removeTempDirs, tempDir, tempDirWith } from "./temp.ts";
export { waitFor, waitHttpOk, type WaitHttpOkOptions, type WaitOptions, type WatchedProcess } from "./wait.ts";
export { run, runSync, spawnProcess, stopAllProcesses, type RunOptions, type RunResult, type RunningProcess, type SpawnOptions, type SyncRunResult } from "./process.ts";
export { startShoal, type ShoalNode, type StartShoalOptions } from "./shoal.ts";
export { startPrometheus, type PrometheusServer } from "./prometheus.ts";
export { exportSeries, startVictoriaMetrics, VICTORIA_METRICS_BIN, type ExportedSeries, type VictoriaMetrics } from "./victoria.ts";
export { startNodeExporter, type NodeExporter } from "./exporters.ts";
export { DNSMASQ_BIN, startDnsmasq, type DnsRecords, type Dnsmasq } from "./dnsmasq.ts";
export {
  ALERTMANAGER_BIN,
  startAlertmanager,
  startWebhookReceiver,
  webhookAlertmanagerConfig,
  type AlertmanagerOptions,
  type AlertmanagerServer,
  type WebhookAlert,
  type WebhookNotification,
  type WebhookReceiver,
} from "./alertmanager.ts";
