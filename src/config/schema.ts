/**
 * The shape of a Prometheus config file as written, checked with zod. Every object is strict
 * (unknown fields are errors, like Prometheus's strict YAML unmarshalling); `null` means "not
 * set", as an empty YAML value does for Go. Defaults and cross-field rules live in load.ts.
 */
import { z } from "zod";
import { parseByteSize, parseDuration } from "../model/index.ts";

/** Go's YAML decoder turns any scalar into a string field. */
const str = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(String(v));
  } catch {
    ctx.addIssue({ code: "custom", message: `invalid duration ${JSON.stringify(String(v))}` });
    return z.NEVER;
  }
});

/** A YAML number is a count of bytes (Go decodes it into the int64 directly); text needs a unit. */
const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  try {
    return parseByteSize(String(v));
  } catch {
    ctx.addIssue({ code: "custom", message: `invalid size ${JSON.stringify(String(v))}` });
    return z.NEVER;
  }
});

const uint = z.number().int().nonnegative();

const labelMap = z.record(z.string(), str.nullish());

export const relabelSchema = z.strictObject({
  source_labels: z.array(str).nullish(),
  separator: str.nullish(),
  regex: str.nullish(),
  modulus: uint.nullish(),
  target_label: str.nullish(),
  replacement: str.nullish(),
  action: str.nullish(),
});
export type RawRelabel = z.infer<typeof relabelSchema>;

const staticConfigSchema = z.strictObject({
  targets: z.array(str).nullish(),
  labels: labelMap.nullish(),
});
export type RawStaticConfig = z.infer<typeof staticConfigSchema>;

const fileSDSchema = z.strictObject({
  files: z.array(str),
  refresh_interval: duration.nullish(),
});
export type RawFileSD = z.infer<typeof fileSDSchema>;

export const basicAuthSchema = z.strictObject({
  username: str.nullish(),
  password: str.nullish(),
  password_file: str.nullish(),
});

export const authorizationSchema = z.strictObject({
  type: str.nullish(),
  credentials: str.nullish(),
  credentials_file: str.nullish(),
});

export const tlsSchema = z.strictObject({
  ca_file: str.nullish(),
  cert_file: str.nullish(),
  key_file: str.nullish(),
  server_name: str.nullish(),
  insecure_skip_verify: z.boolean().nullish(),
});

/** Prometheus's HTTP client config, inlined into every block that calls out. */
export const httpClientFields = {
  basic_auth: basicAuthSchema.nullish(),
  authorization: authorizationSchema.nullish(),
  bearer_token: str.nullish(),
  bearer_token_file: str.nullish(),
  tls_config: tlsSchema.nullish(),
  follow_redirects: z.boolean().nullish(),
};
const httpClientFieldsSchema = z.strictObject(httpClientFields);
export type RawHttpClientFields = z.infer<typeof httpClientFieldsSchema>;

const kubernetesSDSchema = z.strictObject({
  api_server: str.nullish(),
  role: str.nullish(),
  kubeconfig_file: str.nullish(),
  namespaces: z.strictObject({ own_namespace: z.boolean().nullish(), names: z.array(str).nullish() }).nullish(),
  selectors: z.array(z.strictObject({ role: str.nullish(), label: str.nullish(), field: str.nullish() })).nullish(),
  attach_metadata: z
    .strictObject({
      node: z.boolean().nullish(),
      namespace: z.boolean().nullish(),
      deployment: z.boolean().nullish(),
      job: z.boolean().nullish(),
      cronjob: z.boolean().nullish(),
    })
    .nullish(),
  ...httpClientFields,
});
export type RawKubernetesSD = z.infer<typeof kubernetesSDSchema>;

const consulSDSchema = z.strictObject({
  server: str.nullish(),
  path_prefix: str.nullish(),
  token: str.nullish(),
  datacenter: str.nullish(),
  namespace: str.nullish(),
  partition: str.nullish(),
  tag_separator: str.nullish(),
  scheme: str.nullish(),
  username: str.nullish(),
  password: str.nullish(),
  allow_stale: z.boolean().nullish(),
  refresh_interval: duration.nullish(),
  services: z.array(str).nullish(),
  tags: z.array(str).nullish(),
  node_meta: z.record(z.string(), str).nullish(),
  filter: str.nullish(),
  health_filter: str.nullish(),
  ...httpClientFields,
});
export type RawConsulSD = z.infer<typeof consulSDSchema>;

const httpSDSchema = z.strictObject({
  url: str.nullish(),
  refresh_interval: duration.nullish(),
  ...httpClientFields,
});
export type RawHttpSD = z.infer<typeof httpSDSchema>;

const dnsSDSchema = z.strictObject({
  names: z.array(str).nullish(),
  type: str.nullish(),
  port: z.number().int().nullish(),
  refresh_interval: duration.nullish(),
});
export type RawDnsSD = z.infer<typeof dnsSDSchema>;

/**
 * Scrape settings a scrape config takes, most of which `global` also takes as their default.
 * The native-histogram and UTF-8 ones are accepted only at values matching what Shoal does (load.ts).
 */
const scrapeSettingFields = {
  scrape_protocols: z.array(str).nullish(),
  sample_limit: uint.nullish(),
  label_limit: uint.nullish(),
  label_name_length_limit: uint.nullish(),
  label_value_length_limit: uint.nullish(),
  body_size_limit: byteSize.nullish(),
  target_limit: uint.nullish(),
  keep_dropped_targets: uint.nullish(),
  metric_name_validation_scheme: str.nullish(),
  metric_name_escaping_scheme: str.nullish(),
  scrape_native_histograms: z.boolean().nullish(),
  always_scrape_classic_histograms: z.boolean().nullish(),
  convert_classic_histograms_to_nhcb: z.boolean().nullish(),
  extra_scrape_metrics: z.boolean().nullish(),
};
const scrapeSettingsSchema = z.strictObject(scrapeSettingFields);
export type RawScrapeSettings = z.infer<typeof scrapeSettingsSchema>;

export const scrapeConfigSchema = z.strictObject({
  job_name: str.nullish(),
  scrape_interval: duration.nullish(),
  scrape_timeout: duration.nullish(),
  metrics_path: str.nullish(),
  scheme: str.nullish(),
  params: z.record(z.string(), z.array(str)).nullish(),
  honor_labels: z.boolean().nullish(),
  honor_timestamps: z.boolean().nullish(),
  static_configs: z.array(staticConfigSchema).nullish(),
  file_sd_configs: z.array(fileSDSchema).nullish(),
  http_sd_configs: z.array(httpSDSchema).nullish(),
  dns_sd_configs: z.array(dnsSDSchema).nullish(),
  kubernetes_sd_configs: z.array(kubernetesSDSchema).nullish(),
  consul_sd_configs: z.array(consulSDSchema).nullish(),
  relabel_configs: z.array(relabelSchema).nullish(),
  metric_relabel_configs: z.array(relabelSchema).nullish(),
  ...httpClientFields,
  enable_http2: z.boolean().nullish(),
  ...scrapeSettingFields,
  enable_compression: z.boolean().nullish(),
  fallback_scrape_protocol: str.nullish(),
  track_timestamps_staleness: z.boolean().nullish(),
  native_histogram_bucket_limit: uint.nullish(),
  native_histogram_min_bucket_factor: z.number().nullish(),
});
export type RawScrapeConfig = z.infer<typeof scrapeConfigSchema>;

/** One `alerting.alertmanagers` entry; `null` relabel rules are refused by load with Prometheus's messages. */
const alertmanagerSchema = z.strictObject({
  static_configs: z.array(staticConfigSchema).nullish(),
  file_sd_configs: z.array(fileSDSchema).nullish(),
  http_sd_configs: z.array(httpSDSchema).nullish(),
  dns_sd_configs: z.array(dnsSDSchema).nullish(),
  kubernetes_sd_configs: z.array(kubernetesSDSchema).nullish(),
  consul_sd_configs: z.array(consulSDSchema).nullish(),
  path_prefix: str.nullish(),
  scheme: str.nullish(),
  timeout: duration.nullish(),
  api_version: str.nullish(),
  relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  alert_relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  ...httpClientFields,
  enable_http2: z.boolean().nullish(),
});
export type RawAlertmanagerConfig = z.infer<typeof alertmanagerSchema>;

export const alertingSchema = z.strictObject({
  alert_relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  alertmanagers: z.array(alertmanagerSchema.nullable()).nullish(),
});
export type RawAlertingConfig = z.infer<typeof alertingSchema>;

const globalSchema = z.strictObject({
  scrape_interval: duration.nullish(),
  scrape_timeout: duration.nullish(),
  evaluation_interval: duration.nullish(),
  rule_query_offset: duration.nullish(),
  external_labels: labelMap.nullish(),
  ...scrapeSettingFields,
});
export type RawGlobalConfig = z.infer<typeof globalSchema>;

/**
 * Sections of Prometheus's config Shoal does not implement: empty ones are accepted (they
 * configure nothing), every field in them is refused as not supported (prometheus_fields.ts).
 */
const unsupportedSection = z.strictObject({}).nullish();

export const configSchema = z
  .strictObject({
    global: globalSchema.nullish(),
    rule_files: z.array(str).nullish(),
    scrape_configs: z.array(scrapeConfigSchema.nullable()).nullish(),
    // Checked entry by entry by remote_write.ts (its own schema, errors with the entry's line).
    remote_write: z.unknown().optional(),
    remote_read: z.array(z.unknown()).nullish(),
    alerting: alertingSchema.nullish(),
    storage: z.strictObject({ tsdb: unsupportedSection, exemplars: unsupportedSection }).nullish(),
    tracing: unsupportedSection,
    otlp: unsupportedSection,
    runtime: unsupportedSection,
  })
  .nullable();
export type RawConfig = z.infer<typeof configSchema>;
