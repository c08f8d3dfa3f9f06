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
  relabel_configs: z.array(relabelSchema).nullish(),
  metric_relabel_configs: z.array(relabelSchema).nullish(),
  ...httpClientFields,
  sample_limit: uint.nullish(),
  label_limit: uint.nullish(),
  label_name_length_limit: uint.nullish(),
  label_value_length_limit: uint.nullish(),
  body_size_limit: byteSize.nullish(),
  enable_compression: z.boolean().nullish(),
  target_limit: uint.nullish(),
  keep_dropped_targets: uint.nullish(),
});
export type RawScrapeConfig = z.infer<typeof scrapeConfigSchema>;

/** One `alerting.alertmanagers` entry; `null` relabel rules are refused by load with Prometheus's messages. */
const alertmanagerSchema = z.strictObject({
  static_configs: z.array(staticConfigSchema).nullish(),
  file_sd_configs: z.array(fileSDSchema).nullish(),
  path_prefix: str.nullish(),
  scheme: str.nullish(),
  timeout: duration.nullish(),
  api_version: str.nullish(),
  relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  alert_relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  ...httpClientFields,
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
});

/** Sections Shoal stores but does not act on yet (remote write and read): any mapping is kept as written. */
const looseObject = z.record(z.string(), z.unknown());

export const configSchema = z
  .strictObject({
    global: globalSchema.nullish(),
    rule_files: z.array(str).nullish(),
    scrape_configs: z.array(scrapeConfigSchema.nullable()).nullish(),
    remote_write: z.array(looseObject).nullish(),
    remote_read: z.array(looseObject).nullish(),
    alerting: alertingSchema.nullish(),
  })
  .nullable();
export type RawConfig = z.infer<typeof configSchema>;
