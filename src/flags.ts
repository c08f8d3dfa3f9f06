/**
 * The node's command-line flags (`shoal [flags]`), with Prometheus's names, defaults and syntax.
 * This table is the single source of truth for parsing, `--help` and `/api/v1/status/flags`;
 * rooms contribute their own rows (the cluster's `--cluster.*`), and node.ts reads the assembled
 * table with model's one flag reader.
 */
import { commandSummaries, commandUsages } from "./commands/index.ts";
import { formatHelp, type FlagSpec } from "./model/index.ts";

export const FLAG_SPECS: readonly FlagSpec[] = [
  { name: "config.file", kind: "string", def: "", help: "Configuration file path. Without it, an embedded default config scrapes the node itself." },
  { name: "web.listen-address", kind: "string", def: "0.0.0.0:9090", help: "Address to listen on for UI, API, and telemetry." },
  { name: "web.enable-remote-write-receiver", kind: "bool", def: "true", help: "Accepted for compatibility with Prometheus. The remote write receiver at /api/v1/write is always on in Shoal." },
  { name: "web.remote-write-decode-workers", kind: "int", def: "1", help: "Worker threads that decode remote-write request bodies (snappy, protobuf) off the request thread. 0 decodes on the request thread." },
  { name: "web.config.file", kind: "string", def: "", help: "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication (Prometheus's web configuration file: tls_server_config, http_server_config, rate_limit, basic_auth_users). Re-read when it or its certificate files change." },
  { name: "web.client-config.file", kind: "string", def: "", help: "HTTP client configuration file (the format of promtool's --http.config.file: basic_auth, authorization, tls_config) used when this node calls its peers' HTTP API and when the built-in config scrapes the node itself. Needed when --web.config.file turns on basic auth or client certificates." },
  { name: "web.enable-admin-api", kind: "bool", def: "false", help: "Enable API endpoints for admin control actions (delete_series, clean_tombstones)." },
  { name: "web.enable-lifecycle", kind: "bool", def: "false", help: "Enable shutdown and reload via HTTP request: POST|PUT /-/quit, POST|PUT /-/reload and POST /api/v1/cluster/leave (cross-site browser requests are refused). SIGTERM and SIGHUP work without it." },
  { name: "web.external-url", kind: "string", def: "", help: "The URL under which Shoal is externally reachable (for example, behind a reverse proxy). If it has a path, that path prefixes every HTTP endpoint unless --web.route-prefix is given. Default: http://<hostname>:<port>/ from --web.listen-address." },
  { name: "web.route-prefix", kind: "string", def: "", help: "Prefix for the internal routes of web endpoints (UI, API, /metrics, /-/healthy, ...); / redirects to it. Defaults to the path of --web.external-url." },
  { name: "web.page-title", kind: "string", def: "Shoal", help: "Document title of the web UI's pages." },
  { name: "web.cors.origin", kind: "string", def: ".*", help: "Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\\.com'" },
  { name: "web.read-timeout", kind: "duration", def: "5m", help: "Maximum duration a connection may stay idle (no request being read or answered) before it is closed. Bun caps it at 255s." },
  { name: "web.max-connections", kind: "int", def: "512", help: "Accepted for compatibility with Prometheus; Shoal's HTTP server (Bun) has no connection limit, so a value is logged as having no effect." },
  { name: "web.console.templates", kind: "string", def: "consoles", help: "Accepted for compatibility with Prometheus; Shoal has no console templates (a value is logged as having no effect)." },
  { name: "web.console.libraries", kind: "string", def: "console_libraries", help: "Accepted for compatibility with Prometheus; Shoal has no console templates (a value is logged as having no effect)." },
  { name: "enable-feature", kind: "list", def: "", help: "Comma separated Prometheus feature names to enable (repeatable): promql-extended-range-selectors and promql-binop-fill-modifiers turn on experimental PromQL syntax. Names whose behaviour Shoal has always on, or does not have, are logged as having no effect; unknown names are warned about." },
  { name: "storage.tsdb.path", kind: "string", def: "./data", help: "Base path for metrics storage." },
  { name: "storage.tsdb.retention.time", kind: "duration", def: "15d", help: "How long to retain samples in storage." },
  { name: "storage.tsdb.retention.size", kind: "size", def: "0B", help: "Maximum number of bytes that can be stored for blocks (units: B, KB, MB, GB, TB, PB, EB; base 1024). 0 disables it." },
  { name: "storage.tsdb.min-block-duration", kind: "duration", def: "2h", help: "Minimum duration of a data block before being persisted: the range of the blocks cut from the head." },
  { name: "storage.tsdb.max-block-duration", kind: "duration", def: "", help: "Maximum duration compacted blocks may span. Default: 10% of the retention time, at most 31d." },
  { name: "storage.tsdb.wal-compression", kind: "bool", def: "false", help: "Accepted for compatibility with Prometheus; Shoal's WAL records are not compressed, so turning it on is logged as having no effect." },
  { name: "storage.tsdb.no-lockfile", kind: "bool", def: "false", help: "Accepted for compatibility with Prometheus; Shoal always locks its data directory (two writers would corrupt it), so turning it on is logged as having no effect." },
  { name: "storage.remote.flush-deadline", kind: "duration", def: "1m", help: "How long to wait flushing sample on shutdown or config reload. What is not sent by then stays in the on-disk queue and is sent after the restart." },
  {
    name: "storage.remote.queue.max-size",
    kind: "size",
    def: "2GB",
    help: "Maximum bytes of each remote_write queue's on-disk backlog (<storage.tsdb.path>/remote/<queue>/). Past it, the oldest unsent samples are dropped and counted in prometheus_remote_storage_samples_dropped_total.",
  },
  { name: "query.lookback-delta", kind: "duration", def: "5m", help: "The maximum lookback duration for retrieving metrics during expression evaluations and federation." },
  { name: "query.timeout", kind: "duration", def: "2m", help: "Maximum time a query may take before being aborted." },
  { name: "query.max-samples", kind: "int", def: "50000000", help: "Maximum number of samples a single query can load into memory." },
  { name: "query.max-concurrency", kind: "int", def: "20", help: "Maximum number of queries executed concurrently." },
  { name: "rules.alert.for-outage-tolerance", kind: "duration", def: "1h", help: 'Max time to tolerate prometheus outage for restoring "for" state of alert.' },
  {
    name: "rules.alert.for-grace-period",
    kind: "duration",
    def: "10m",
    help: 'Minimum duration between alert and restored "for" state. This is maintained only for alerts with configured "for" time greater than grace period.',
  },
  { name: "rules.alert.resend-delay", kind: "duration", def: "1m", help: "Minimum amount of time to wait before resending an alert to Alertmanager." },
  { name: "alertmanager.notification-queue-capacity", kind: "int", def: "10000", help: "The capacity of the queue for pending Alertmanager notifications." },
  { name: "dns.server", kind: "string", def: "", help: "IP:PORT of the DNS server that dns_sd_configs and --cluster.join=dns+NAME:PORT|dnssrv+NAME ask (default: the system's resolvers from /etc/resolv.conf)." },
  { name: "log.level", kind: "string", def: "info", choices: ["debug", "info", "warn", "error"], help: "Only log messages with the given severity or above. One of: [debug, info, warn, error]" },
  { name: "log.format", kind: "string", def: "logfmt", choices: ["logfmt", "json"], help: "Output format of log messages. One of: [logfmt, json]" },
];

/** `shoal --help`: how to start a node, the sub-commands, then every node flag. */
export function formatNodeHelp(specs: readonly FlagSpec[]): string {
  return formatHelp({
    usage: ["shoal [<flags>]", ...commandUsages()],
    description: "A Prometheus-compatible monitoring server that clusters itself.",
    sections: [{ title: "Commands", lines: commandSummaries() }],
    flags: specs,
    version: true,
  });
}
