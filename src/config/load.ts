/**
 * Reads a Prometheus-style config file: YAML through the `yaml` document API (so every error can
 * name its line), shape through zod, then Prometheus's defaults and cross-field rules.
 * Every error is a ConfigError whose message reads `file:line: field.path: what is wrong`.
 */
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { labelsFromRecord } from "../model/index.ts";
import { checkAlerting } from "./alerting.ts";
import { Checker, type Path } from "./checker.ts";
import { ConfigError, readConfigText } from "./error.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import { checkRelabel } from "./relabel_check.ts";
import { configSchema, type RawScrapeConfig } from "./schema.ts";
import { checkFileSDConfigs, checkLabelSet, checkStaticConfigs } from "./sd_check.ts";
import type { Config, GlobalConfig, ScrapeConfig } from "./types.ts";
import { YamlDoc } from "./yamldoc.ts";

export { ConfigError };

export const DEFAULT_SCRAPE_INTERVAL = 60_000;
export const DEFAULT_SCRAPE_TIMEOUT = 10_000;
export const DEFAULT_EVALUATION_INTERVAL = 60_000;
const RULE_PATH_RE = /^[^*]*(\*[^/]*)?$/;

/**
 * Fields Prometheus knows that Shoal does not implement: rejected like unknown fields, but with
 * a message that says so rather than suggesting a typo.
 */
const PROMETHEUS_ONLY_FIELDS = new Set([
  "oauth2",
  "proxy_url",
  "no_proxy",
  "proxy_from_environment",
  "proxy_connect_header",
  "enable_http2",
  "http_headers",
  "scrape_protocols",
  "fallback_scrape_protocol",
  "scrape_classic_histograms",
  "always_scrape_classic_histograms",
  "native_histogram_bucket_limit",
  "native_histogram_min_bucket_factor",
  "convert_classic_histograms_to_nhcb",
  "track_timestamps_staleness",
  "metric_name_validation_scheme",
  "metric_name_escaping_scheme",
  "scrape_config_files",
  "query_log_file",
  "scrape_failure_log_file",
  "storage",
  "tracing",
  "otlp",
  "runtime",
  "sigv4",
]);

function zodMessage(issue: z.core.$ZodIssue): { message: string; key?: string } {
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    if (PROMETHEUS_ONLY_FIELDS.has(key) || key.endsWith("_sd_configs")) {
      return { message: `field ${JSON.stringify(key)} is not supported by Shoal`, key };
    }
    return { message: `unknown field ${JSON.stringify(key)}`, key };
  }
  return { message: issue.message };
}

function checkScrapeConfig(c: Checker, raw: RawScrapeConfig, path: Path, global: GlobalConfig): ScrapeConfig {
  const jobName = raw.job_name ?? "";
  if (jobName === "") c.fail(path, "job_name is empty");
  const scrapeInterval = raw.scrape_interval ?? global.scrapeInterval;
  let scrapeTimeout = raw.scrape_timeout ?? 0;
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(global.scrapeTimeout, scrapeInterval);
  if (scrapeTimeout > scrapeInterval) {
    c.fail(path, `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`, raw.scrape_timeout != null ? "scrape_timeout" : undefined);
  }
  // URL schemes are case-insensitive (Go's URL parser lowers them).
  const scheme = (raw.scheme ?? "http").toLowerCase();
  if (scheme !== "http" && scheme !== "https") c.fail(path, `URL scheme must be 'http' or 'https', got ${JSON.stringify(scheme)}`, "scheme");

  const staticConfigs = checkStaticConfigs(c, raw.static_configs, [...path, "static_configs"], true);
  const fileSDConfigs = checkFileSDConfigs(c, raw.file_sd_configs, [...path, "file_sd_configs"]);
  const relabelConfigs = (raw.relabel_configs ?? []).map((r, i) => checkRelabel(c, r, [...path, "relabel_configs", i]));
  const metricRelabelConfigs = (raw.metric_relabel_configs ?? []).map((r, i) =>
    checkRelabel(c, r, [...path, "metric_relabel_configs", i]),
  );

  return {
    jobName,
    scrapeInterval,
    scrapeTimeout,
    metricsPath: raw.metrics_path ?? "/metrics",
    scheme,
    params: raw.params ?? {},
    honorLabels: raw.honor_labels ?? false,
    honorTimestamps: raw.honor_timestamps ?? true,
    staticConfigs,
    fileSDConfigs,
    relabelConfigs,
    metricRelabelConfigs,
    sampleLimit: raw.sample_limit ?? 0,
    labelLimit: raw.label_limit ?? 0,
    labelNameLengthLimit: raw.label_name_length_limit ?? 0,
    labelValueLengthLimit: raw.label_value_length_limit ?? 0,
    bodySizeLimit: raw.body_size_limit ?? 0,
    enableCompression: raw.enable_compression ?? true,
    targetLimit: raw.target_limit ?? 0,
    keepDroppedTargets: raw.keep_dropped_targets ?? 0,
    ...checkHttpClientFields(c, raw, path),
  };
}

/**
 * Parses config text. `filename` is used in messages and to resolve relative file paths
 * (against its directory). Throws ConfigError.
 */
export function parseConfig(text: string, filename: string): Config {
  const yaml = YamlDoc.parse(text, filename);
  const c: Checker = new Checker(filename, yaml, dirname(resolve(filename)));
  const js = yaml.value;
  const parsed = configSchema.safeParse(js);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const { message, key } = zodMessage(issue);
    c.fail(issue.path as Path, message, key);
  }
  const raw = parsed.data ?? {};

  const g = raw.global ?? {};
  const scrapeInterval = g.scrape_interval || DEFAULT_SCRAPE_INTERVAL;
  let scrapeTimeout = g.scrape_timeout ?? 0;
  if (scrapeTimeout > scrapeInterval) c.fail(["global"], "global scrape timeout greater than scrape interval", "scrape_timeout");
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(DEFAULT_SCRAPE_TIMEOUT, scrapeInterval);
  const global: GlobalConfig = {
    scrapeInterval,
    scrapeTimeout,
    evaluationInterval: g.evaluation_interval || DEFAULT_EVALUATION_INTERVAL,
    ruleQueryOffset: g.rule_query_offset ?? 0,
    externalLabels: labelsFromRecord(checkLabelSet(c, g.external_labels ?? {}, ["global", "external_labels"])),
  };

  const ruleFiles = (raw.rule_files ?? []).map((rf, i) => {
    if (!RULE_PATH_RE.test(rf)) c.fail(["rule_files", i], `invalid rule file path ${JSON.stringify(rf)}`);
    return c.file(rf)!;
  });

  const jobs = new Set<string>();
  const scrapeConfigs = (raw.scrape_configs ?? []).map((sc, i) => {
    if (sc === null) c.fail(["scrape_configs", i], "empty or null scrape config section");
    const cfg = checkScrapeConfig(c, sc!, ["scrape_configs", i], global);
    if (jobs.has(cfg.jobName)) {
      c.fail(["scrape_configs", i], `found multiple scrape configs with job name ${JSON.stringify(cfg.jobName)}`, "job_name");
    }
    jobs.add(cfg.jobName);
    return cfg;
  });

  const remoteWrite = raw.remote_write ?? [];
  remoteWrite.forEach((rw, i) => {
    if (typeof rw.url !== "string" || rw.url === "") c.fail(["remote_write", i], "url for remote_write is empty");
  });
  const remoteRead = raw.remote_read ?? [];
  remoteRead.forEach((rr, i) => {
    if (typeof rr.url !== "string" || rr.url === "") c.fail(["remote_read", i], "url for remote_read is empty");
  });

  return {
    global,
    ruleFiles,
    scrapeConfigs,
    remoteWrite,
    remoteRead,
    alerting: checkAlerting(c, raw.alerting),
    source: { filename, text },
  };
}

/** Reads and parses a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigText(path), path);
}
