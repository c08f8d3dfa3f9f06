/**
 * Reads a Prometheus-style config file: YAML through the `yaml` document API (so every error can
 * name its line), shape through zod, then Prometheus's defaults and cross-field rules.
 * Every error is a ConfigError whose message reads `file:line: field.path: what is wrong`.
 */
import { dirname, resolve } from "node:path";
import { labelsFromRecord } from "../model/index.ts";
import { checkAlerting } from "./alerting.ts";
import { Checker, type Path } from "./checker.ts";
import { ConfigError, readConfigText } from "./error.ts";
import { checkDnsSDConfigs } from "./dns_sd_check.ts";
import { checkConsulSDConfigs } from "./consul_sd.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import { checkKubernetesSDConfigs } from "./kubernetes_sd.ts";
import { checkHttpSDConfigs } from "./http_sd_check.ts";
import { unsupportedMessage } from "./prometheus_fields.ts";
import { checkRelabel } from "./relabel_check.ts";
import { checkRemoteWrite } from "./remote_write.ts";
import { configSchema, type RawScrapeConfig } from "./schema.ts";
import { checkScrapeProtocol, checkScrapeSettings } from "./scrape_settings.ts";
import { checkFileSDConfigs, checkLabelSet, checkStaticConfigs } from "./sd_check.ts";
import type { Config, GlobalConfig, ScrapeConfig } from "./types.ts";
import { YamlDoc } from "./yamldoc.ts";

export { ConfigError };

export const DEFAULT_SCRAPE_INTERVAL = 60_000;
export const DEFAULT_SCRAPE_TIMEOUT = 10_000;
export const DEFAULT_EVALUATION_INTERVAL = 60_000;
const RULE_PATH_RE = /^[^*]*(\*[^/]*)?$/;

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
  const kubernetesSDConfigs = checkKubernetesSDConfigs(c, raw.kubernetes_sd_configs, [...path, "kubernetes_sd_configs"]);
  const consulSDConfigs = checkConsulSDConfigs(c, raw.consul_sd_configs, [...path, "consul_sd_configs"]);
  const httpSDConfigs = checkHttpSDConfigs(c, raw.http_sd_configs, [...path, "http_sd_configs"]);
  const dnsSDConfigs = checkDnsSDConfigs(c, raw.dns_sd_configs, [...path, "dns_sd_configs"]);
  const settings = checkScrapeSettings(c, raw, path, global.scrapeSettings, `for scrape config with job name ${JSON.stringify(jobName)}`);
  const fallback = raw.fallback_scrape_protocol;
  const fallbackScrapeProtocol =
    fallback == null || fallback === "" ? "PrometheusText0.0.4" : checkScrapeProtocol(c, fallback, path, "fallback_scrape_protocol", `for fallback_scrape_protocol of scrape config with job name ${JSON.stringify(jobName)}`);
  if (raw.track_timestamps_staleness === true) {
    c.fail(path, "track_timestamps_staleness: true is not supported by Shoal (series with explicit timestamps are not marked stale)", "track_timestamps_staleness");
  }
  for (const key of ["native_histogram_bucket_limit", "native_histogram_min_bucket_factor"] as const) {
    if (raw[key]) c.fail(path, `${key}: ${raw[key]} is not supported by Shoal (it stores no native histograms)`, key);
  }
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
    kubernetesSDConfigs,
    consulSDConfigs,
    httpSDConfigs,
    dnsSDConfigs,
    relabelConfigs,
    metricRelabelConfigs,
    ...settings,
    fallbackScrapeProtocol,
    enableCompression: raw.enable_compression ?? true,
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
  if (!parsed.success) c.failSchema(parsed.error.issues);
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
    scrapeSettings: checkScrapeSettings(c, g, ["global"], undefined, "for global config"),
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

  const remoteWrite = checkRemoteWrite(c, raw.remote_write);
  // Refused whole: reading other stores into queries is not implemented (an empty list configures nothing).
  if ((raw.remote_read ?? []).length > 0) c.fail([], unsupportedMessage("remote_read"), "remote_read");

  return {
    global,
    ruleFiles,
    scrapeConfigs,
    remoteWrite,
    alerting: checkAlerting(c, raw.alerting),
    source: { filename, text },
  };
}

/** Reads and parses a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigText(path), path);
}
