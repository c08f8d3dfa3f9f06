/**
 * Every field Prometheus's config file knows (3.x, a superset of what 2.x files hold), section by
 * section, with the Go type name its strict YAML decoder reports. A field the schema lacks is
 * either one Prometheus knows — then Shoal refuses it as not supported — or a typo, reported in
 * Prometheus's own words (`field X not found in type config.Y`) so that promtool and
 * `shoal check config` print the same line. Implementing a field means adding it to schema.ts;
 * this table then stops being consulted for it.
 */

const HTTP_CLIENT_FIELDS = [
  "basic_auth",
  "authorization",
  "oauth2",
  "bearer_token",
  "bearer_token_file",
  "tls_config",
  "follow_redirects",
  "enable_http2",
  "proxy_url",
  "no_proxy",
  "proxy_from_environment",
  "proxy_connect_header",
  "http_headers",
];

/** Service discovery kinds by their config field, with what they discover. */
export const SD_KINDS: Readonly<Record<string, string>> = {
  static_configs: "static targets",
  file_sd_configs: "file-based service discovery",
  aws_sd_configs: "AWS service discovery",
  azure_sd_configs: "Azure service discovery",
  consul_sd_configs: "Consul service discovery",
  digitalocean_sd_configs: "DigitalOcean service discovery",
  docker_sd_configs: "Docker service discovery",
  dockerswarm_sd_configs: "Docker Swarm service discovery",
  dns_sd_configs: "DNS service discovery",
  ec2_sd_configs: "EC2 service discovery",
  ecs_sd_configs: "ECS service discovery",
  elasticache_sd_configs: "ElastiCache service discovery",
  eureka_sd_configs: "Eureka service discovery",
  gce_sd_configs: "GCE service discovery",
  hetzner_sd_configs: "Hetzner service discovery",
  http_sd_configs: "HTTP service discovery",
  ionos_sd_configs: "IONOS service discovery",
  kubernetes_sd_configs: "Kubernetes service discovery",
  kuma_sd_configs: "Kuma service discovery",
  lightsail_sd_configs: "Lightsail service discovery",
  linode_sd_configs: "Linode service discovery",
  marathon_sd_configs: "Marathon service discovery",
  msk_sd_configs: "MSK service discovery",
  nerve_sd_configs: "Nerve service discovery",
  nomad_sd_configs: "Nomad service discovery",
  oci_sd_configs: "OCI service discovery",
  openstack_sd_configs: "OpenStack service discovery",
  outscale_sd_configs: "Outscale service discovery",
  ovhcloud_sd_configs: "OVHcloud service discovery",
  puppetdb_sd_configs: "PuppetDB service discovery",
  rds_sd_configs: "RDS service discovery",
  scaleway_sd_configs: "Scaleway service discovery",
  serverset_sd_configs: "Serverset service discovery",
  stackit_sd_configs: "STACKIT service discovery",
  triton_sd_configs: "Triton service discovery",
  uyuni_sd_configs: "Uyuni service discovery",
  vultr_sd_configs: "Vultr service discovery",
};
const SD_FIELDS = Object.keys(SD_KINDS);

/** The Go package of a discovery kind where it is not the kind's own name. */
const SD_PACKAGES: Readonly<Record<string, string>> = {
  ec2: "aws",
  ecs: "aws",
  elasticache: "aws",
  lightsail: "aws",
  msk: "aws",
  rds: "aws",
  docker: "moby",
  dockerswarm: "moby",
  kuma: "xds",
  serverset: "zookeeper",
  nerve: "zookeeper",
};

const RELABEL = { goType: "relabel.plain", fields: ["source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"] };

interface Section {
  /** What Go's decoder names the struct in `field X not found in type T`. */
  goType: string;
  fields: readonly string[];
}

/** Sections found under a fixed path (list indices left out). */
const SECTIONS_BY_PATH: Readonly<Record<string, Section>> = {
  "": {
    goType: "config.plain",
    fields: ["global", "runtime", "alerting", "rule_files", "scrape_config_files", "scrape_configs", "storage", "tracing", "remote_write", "remote_read", "otlp"],
  },
  global: {
    goType: "config.plain",
    fields: [
      "scrape_interval",
      "scrape_timeout",
      "scrape_protocols",
      "evaluation_interval",
      "rule_query_offset",
      "query_log_file",
      "scrape_failure_log_file",
      "external_labels",
      "body_size_limit",
      "sample_limit",
      "target_limit",
      "label_limit",
      "label_name_length_limit",
      "label_value_length_limit",
      "keep_dropped_targets",
      "metric_name_validation_scheme",
      "metric_name_escaping_scheme",
      "scrape_native_histograms",
      "convert_classic_histograms_to_nhcb",
      "always_scrape_classic_histograms",
      "extra_scrape_metrics",
    ],
  },
  runtime: { goType: "config.RuntimeConfig", fields: ["gogc"] },
  scrape_configs: {
    goType: "config.ScrapeConfig",
    fields: [
      "job_name",
      "honor_labels",
      "honor_timestamps",
      "track_timestamps_staleness",
      "params",
      "scrape_interval",
      "scrape_timeout",
      "scrape_protocols",
      "fallback_scrape_protocol",
      "scrape_native_histograms",
      "always_scrape_classic_histograms",
      "convert_classic_histograms_to_nhcb",
      "scrape_failure_log_file",
      "metrics_path",
      "scheme",
      "enable_compression",
      "body_size_limit",
      "sample_limit",
      "target_limit",
      "label_limit",
      "label_name_length_limit",
      "label_value_length_limit",
      "native_histogram_bucket_limit",
      "native_histogram_min_bucket_factor",
      "keep_dropped_targets",
      "metric_name_validation_scheme",
      "metric_name_escaping_scheme",
      "extra_scrape_metrics",
      "relabel_configs",
      "metric_relabel_configs",
      ...HTTP_CLIENT_FIELDS,
      ...SD_FIELDS,
    ],
  },
  alerting: { goType: "config.plain", fields: ["alert_relabel_configs", "alertmanagers"] },
  "alerting.alertmanagers": {
    goType: "config.AlertmanagerConfig",
    fields: ["sigv4", "scheme", "path_prefix", "timeout", "api_version", "relabel_configs", "alert_relabel_configs", ...HTTP_CLIENT_FIELDS, ...SD_FIELDS],
  },
  remote_write: {
    goType: "config.plain",
    fields: [
      "url",
      "remote_timeout",
      "headers",
      "write_relabel_configs",
      "name",
      "send_exemplars",
      "send_native_histograms",
      "round_robin_dns",
      "protobuf_message",
      "failed_request_logging",
      "queue_config",
      "metadata_config",
      "sigv4",
      "azuread",
      "google_iam",
      ...HTTP_CLIENT_FIELDS,
    ],
  },
  "remote_write.queue_config": {
    goType: "config.QueueConfig",
    fields: ["capacity", "max_shards", "min_shards", "max_samples_per_send", "batch_send_deadline", "min_backoff", "max_backoff", "retry_on_http_429", "sample_age_limit"],
  },
  "remote_write.metadata_config": { goType: "config.MetadataConfig", fields: ["send", "send_interval", "max_samples_per_send"] },
  remote_read: {
    goType: "config.plain",
    fields: ["url", "remote_timeout", "chunked_read_limit", "headers", "read_recent", "name", "required_matchers", "filter_external_labels", ...HTTP_CLIENT_FIELDS],
  },
  storage: { goType: "config.StorageConfig", fields: ["tsdb", "exemplars"] },
  "storage.tsdb": { goType: "config.plain", fields: ["out_of_order_time_window", "stale_series_compaction_threshold", "chunk_encoding", "retention"] },
  "storage.tsdb.retention": { goType: "config.plain", fields: ["time", "size", "percentage"] },
  "storage.tsdb.chunk_encoding": { goType: "config.ChunkEncodingConfig", fields: ["floats"] },
  "storage.exemplars": { goType: "config.ExemplarsConfig", fields: ["max_exemplars"] },
  tracing: { goType: "config.plain", fields: ["client_type", "endpoint", "sampling_fraction", "insecure", "tls_config", "headers", "compression", "timeout"] },
  otlp: {
    goType: "config.plain",
    fields: [
      "promote_all_resource_attributes",
      "promote_resource_attributes",
      "ignore_resource_attributes",
      "translation_strategy",
      "keep_identifying_resource_attributes",
      "convert_histograms_to_nhcb",
      "promote_scope_metadata",
      "label_name_underscore_sanitization",
      "label_name_preserve_multiple_underscores",
    ],
  },
};

/** Sections that appear under many parents, known by the name of the field holding them. */
const SECTIONS_BY_FIELD: Readonly<Record<string, Section>> = {
  static_configs: { goType: 'struct { Targets []string "yaml:\\"targets\\""; Labels model.LabelSet "yaml:\\"labels\\"" }', fields: ["targets", "labels"] },
  file_sd_configs: { goType: "file.plain", fields: ["files", "refresh_interval"] },
  relabel_configs: RELABEL,
  metric_relabel_configs: RELABEL,
  alert_relabel_configs: RELABEL,
  write_relabel_configs: RELABEL,
  basic_auth: { goType: "config.plain", fields: ["username", "username_file", "username_ref", "password", "password_file", "password_ref"] },
  authorization: { goType: "config.Authorization", fields: ["type", "credentials", "credentials_file", "credentials_ref"] },
  tls_config: {
    goType: "config.plain",
    fields: ["ca", "ca_file", "ca_ref", "cert", "cert_file", "cert_ref", "key", "key_file", "key_ref", "server_name", "insecure_skip_verify", "min_version", "max_version"],
  },
};

/** Why a field Prometheus knows is refused, where the field name alone does not say it. */
const WHY_NOT: Readonly<Record<string, string>> = {
  remote_read: "Shoal serves remote read at /api/v1/read but does not read from other stores",
  scrape_failure_log_file: "Shoal reports failed scrapes on the targets page, the up series and its log",
  query_log_file: "Shoal has no query log",
  storage: "Shoal's storage is set with --storage.tsdb.* flags",
  out_of_order_time_window: "Shoal does not accept out-of-order samples",
  stale_series_compaction_threshold: "Shoal's storage is set with --storage.tsdb.* flags",
  chunk_encoding: "Shoal's storage is set with --storage.tsdb.* flags",
  retention: "retention is set with --storage.tsdb.retention.time and --storage.tsdb.retention.size",
  exemplars: "Shoal does not store exemplars",
  max_exemplars: "Shoal does not store exemplars",
  tracing: "Shoal does not export traces",
  otlp: "Shoal does not accept OTLP",
  runtime: "Shoal does not run on Go's runtime",
  gogc: "Shoal does not run on Go's runtime",
  oauth2: "use authorization or basic_auth",
  sigv4: "cloud-specific request signing is not implemented",
  azuread: "cloud-specific request signing is not implemented",
  google_iam: "cloud-specific request signing is not implemented",
  proxy_url: "Shoal connects to targets directly",
  no_proxy: "Shoal connects to targets directly",
  proxy_from_environment: "Shoal connects to targets directly",
  proxy_connect_header: "Shoal connects to targets directly",
  http_headers: "use authorization or basic_auth for credentials",
  username_ref: "secret references need a secret manager, which Shoal does not have",
  password_ref: "secret references need a secret manager, which Shoal does not have",
  credentials_ref: "secret references need a secret manager, which Shoal does not have",
  ca_ref: "secret references need a secret manager, which Shoal does not have",
  cert_ref: "secret references need a secret manager, which Shoal does not have",
  key_ref: "secret references need a secret manager, which Shoal does not have",
};

/** The section a path (indices included) points at, or undefined for free-form maps. */
export function sectionAt(path: readonly PropertyKey[]): Section | undefined {
  const names = path.filter((p): p is string => typeof p === "string");
  const exact = SECTIONS_BY_PATH[names.join(".")];
  if (exact) return exact;
  const last = names.at(-1);
  if (last === undefined) return undefined;
  const byField = SECTIONS_BY_FIELD[last];
  if (byField) return byField;
  // A discovery kind Shoal implements names its fields in its own schema; a field missing
  // there is a typo, reported against the kind's Go type.
  const kind = /^(\w+)_sd_configs$/.exec(last)?.[1];
  return kind === undefined ? undefined : { goType: `${SD_PACKAGES[kind] ?? kind}.plain`, fields: [] };
}

export type UnknownField = { kind: "typo"; goType: string } | { kind: "unsupported"; message: string };

/** What to say about a field the schema lacks at `path`. */
export function classifyField(path: readonly PropertyKey[], key: string): UnknownField {
  const section = sectionAt(path);
  if (section === undefined || !section.fields.includes(key)) return { kind: "typo", goType: section?.goType ?? "config.plain" };
  return { kind: "unsupported", message: unsupportedMessage(key) };
}

/** `field "x" is not supported by Shoal` with the reason, naming the discovery kind for SD fields. */
export function unsupportedMessage(key: string, value?: string): string {
  const shown = value === undefined ? `field ${JSON.stringify(key)}` : `${key}: ${value}`;
  const kind = SD_KINDS[key];
  if (kind !== undefined) return `${shown} is not supported by Shoal: ${kind} is not implemented (use static_configs or file_sd_configs)`;
  const why = WHY_NOT[key];
  return `${shown} is not supported by Shoal${why === undefined ? "" : ` (${why})`}`;
}
