/**
 * Reads a Prometheus-style config file: YAML through the `yaml` document API (so every error can
 * name its line), shape through zod, then Prometheus's defaults and cross-field rules.
 * Every error is a ConfigError whose message reads `file:line: field.path: what is wrong`.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { compileRegex, isLegacyLabelName, labelsFromRecord, RegexError } from "../model/index.ts";
import { ConfigError, readConfigText } from "./error.ts";
import { YamlDoc } from "./yamldoc.ts";
import { configSchema, type RawRelabel, type RawScrapeConfig } from "./schema.ts";
import {
  RELABEL_ACTIONS,
  type Config,
  type GlobalConfig,
  type RelabelAction,
  type RelabelConfig,
  type ScrapeConfig,
} from "./types.ts";

export { ConfigError };

export const DEFAULT_SCRAPE_INTERVAL = 60_000;
export const DEFAULT_SCRAPE_TIMEOUT = 10_000;
export const DEFAULT_EVALUATION_INTERVAL = 60_000;
const DEFAULT_FILE_SD_REFRESH = 5 * 60_000;

/** Prometheus's DefaultRelabelConfig. */
export const RELABEL_DEFAULTS = { separator: ";", regex: "(.*)", replacement: "$1", action: "replace" } as const;

const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;
const FILE_SD_NAME_RE = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;
const RULE_PATH_RE = /^[^*]*(\*[^/]*)?$/;

type Path = (string | number)[];

function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

class Checker {
  constructor(
    readonly filename: string,
    readonly yaml: YamlDoc,
    readonly baseDir: string,
  ) {}

  fail(path: Path, message: string, key?: string): never {
    const line = this.yaml.line(path, key);
    const field = formatPath(key !== undefined ? [...path, key] : path);
    const where = line === null ? this.filename : `${this.filename}:${line}`;
    throw new ConfigError(`${where}: ${field === "" ? "" : field + ": "}${message}`, this.filename, line, field);
  }

  file(p: string | null | undefined): string | undefined {
    if (p === null || p === undefined || p === "") return undefined;
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }
}

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

function checkRelabel(c: Checker, raw: RawRelabel, path: Path): RelabelConfig {
  const rawAction = raw.action ?? RELABEL_DEFAULTS.action;
  const action = rawAction.toLowerCase() as RelabelAction;
  if (rawAction === "") c.fail(path, "relabel action cannot be empty", "action");
  if (!RELABEL_ACTIONS.includes(action)) c.fail(path, `unknown relabel action ${JSON.stringify(rawAction)}`, "action");
  const regex = raw.regex ?? RELABEL_DEFAULTS.regex;
  try {
    compileRegex(regex);
  } catch (e) {
    if (e instanceof RegexError) c.fail(path, e.message, "regex");
    throw e;
  }
  const sourceLabels = raw.source_labels ?? [];
  sourceLabels.forEach((name, i) => {
    if (!isLegacyLabelName(name)) c.fail([...path, "source_labels", i], `${JSON.stringify(name)} is not a valid label name`);
  });
  const cfg: RelabelConfig = {
    sourceLabels,
    separator: raw.separator ?? RELABEL_DEFAULTS.separator,
    regex,
    modulus: raw.modulus ?? 0,
    targetLabel: raw.target_label ?? "",
    replacement: raw.replacement ?? RELABEL_DEFAULTS.replacement,
    action,
  };
  const needsTarget = ["replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"];
  if (action === "hashmod" && cfg.modulus === 0) {
    c.fail(path, "relabel configuration for hashmod requires non-zero modulus");
  }
  if (needsTarget.includes(action) && cfg.targetLabel === "") {
    c.fail(path, `relabel configuration for ${action} action requires 'target_label' value`);
  }
  const badTarget = () =>
    c.fail(path, `${JSON.stringify(cfg.targetLabel)} is invalid 'target_label' for ${action} action`, "target_label");
  if (action === "replace" && !RELABEL_TARGET_RE.test(cfg.targetLabel)) badTarget();
  if (["lowercase", "uppercase", "keepequal", "dropequal", "hashmod"].includes(action) && !isLegacyLabelName(cfg.targetLabel)) {
    badTarget();
  }
  if ((action === "keepequal" || action === "dropequal") && cfg.replacement !== RELABEL_DEFAULTS.replacement) {
    c.fail(path, `'replacement' can not be set for ${action} action`, "replacement");
  }
  if (action === "labelmap" && !RELABEL_TARGET_RE.test(cfg.replacement)) {
    c.fail(path, `${JSON.stringify(cfg.replacement)} is invalid 'replacement' for ${action} action`, "replacement");
  }
  if (action === "labeldrop" || action === "labelkeep") {
    if (
      raw.source_labels != null ||
      cfg.targetLabel !== "" ||
      cfg.modulus !== 0 ||
      cfg.separator !== RELABEL_DEFAULTS.separator ||
      cfg.replacement !== RELABEL_DEFAULTS.replacement
    ) {
      c.fail(path, `${action} action requires only 'regex', and no other fields`);
    }
  }
  if (action === "keepequal" || action === "dropequal") {
    if (cfg.regex !== RELABEL_DEFAULTS.regex || cfg.modulus !== 0 || cfg.separator !== RELABEL_DEFAULTS.separator) {
      c.fail(path, `${action} action requires only 'source_labels' and \`target_label\`, and no other fields`);
    }
  }
  return cfg;
}

function checkLabelSet(c: Checker, labels: Record<string, string | null | undefined>, path: Path): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (!isLegacyLabelName(name)) c.fail(path, `${JSON.stringify(name)} is not a valid label name`, name);
    out[name] = value ?? "";
  }
  return out;
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

  const staticConfigs = (raw.static_configs ?? []).map((sc, i) => {
    const targets = sc.targets ?? [];
    targets.forEach((t, j) => {
      if (t.includes("/")) c.fail([...path, "static_configs", i, "targets", j], `${JSON.stringify(t)} is not a valid hostname`);
    });
    return { targets, labels: checkLabelSet(c, sc.labels ?? {}, [...path, "static_configs", i, "labels"]) };
  });
  const fileSDConfigs = (raw.file_sd_configs ?? []).map((fc, i) => {
    if (fc.files.length === 0) c.fail([...path, "file_sd_configs", i], "file service discovery config must contain at least one path name");
    fc.files.forEach((f, j) => {
      if (!FILE_SD_NAME_RE.test(f)) c.fail([...path, "file_sd_configs", i, "files", j], `path name ${JSON.stringify(f)} is not valid for file discovery`);
    });
    return { files: fc.files.map((f) => c.file(f)!), refreshInterval: fc.refresh_interval ?? DEFAULT_FILE_SD_REFRESH };
  });
  const relabelConfigs = (raw.relabel_configs ?? []).map((r, i) => checkRelabel(c, r, [...path, "relabel_configs", i]));
  const metricRelabelConfigs = (raw.metric_relabel_configs ?? []).map((r, i) =>
    checkRelabel(c, r, [...path, "metric_relabel_configs", i]),
  );

  let basicAuth: ScrapeConfig["basicAuth"];
  if (raw.basic_auth) {
    const b = raw.basic_auth;
    if (b.password && b.password_file) {
      c.fail([...path, "basic_auth"], "at most one of basic_auth password & password_file must be configured");
    }
    basicAuth = { username: b.username ?? "", password: b.password ?? undefined, passwordFile: c.file(b.password_file) };
  }
  let authorization: ScrapeConfig["authorization"];
  if (raw.authorization) {
    const a = raw.authorization;
    const type = a.type ?? "Bearer";
    if (type.toLowerCase() === "basic") {
      c.fail([...path, "authorization"], `authorization type cannot be set to "basic", use "basic_auth" instead`, "type");
    }
    if (a.credentials && a.credentials_file) {
      c.fail([...path, "authorization"], "at most one of authorization credentials & credentials_file must be configured");
    }
    authorization = { type, credentials: a.credentials ?? undefined, credentialsFile: c.file(a.credentials_file) };
  }
  if (raw.bearer_token || raw.bearer_token_file) {
    if (raw.bearer_token && raw.bearer_token_file) c.fail(path, "at most one of bearer_token & bearer_token_file must be configured");
    if (authorization) c.fail(path, "at most one of bearer_token, bearer_token_file & authorization must be configured");
    authorization = {
      type: "Bearer",
      credentials: raw.bearer_token ?? undefined,
      credentialsFile: c.file(raw.bearer_token_file),
    };
  }
  if (basicAuth && authorization) {
    c.fail(path, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
  }
  const tls = raw.tls_config ?? {};
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
    basicAuth,
    authorization,
    tlsConfig: {
      caFile: c.file(tls.ca_file),
      certFile: c.file(tls.cert_file),
      keyFile: c.file(tls.key_file),
      serverName: tls.server_name ?? undefined,
      insecureSkipVerify: tls.insecure_skip_verify ?? false,
    },
    sampleLimit: raw.sample_limit ?? 0,
    labelLimit: raw.label_limit ?? 0,
    labelNameLengthLimit: raw.label_name_length_limit ?? 0,
    labelValueLengthLimit: raw.label_value_length_limit ?? 0,
    bodySizeLimit: raw.body_size_limit ?? 0,
    enableCompression: raw.enable_compression ?? true,
    followRedirects: raw.follow_redirects ?? true,
    targetLimit: raw.target_limit ?? 0,
    keepDroppedTargets: raw.keep_dropped_targets ?? 0,
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
    alerting: raw.alerting ?? null,
    source: { filename, text },
  };
}

/** Reads and parses a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigText(path), path);
}
