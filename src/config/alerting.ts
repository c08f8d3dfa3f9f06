/**
 * The `alerting` section: alert_relabel_configs for every alert, and the Alertmanager sets
 * (found through static_configs and file_sd_configs, relabeled, called with an HTTP client
 * config), with Prometheus's defaults (http, no prefix, 10s timeout, API v2) and refusals.
 */
import type { Checker, Path } from "./checker.ts";
import { checkDnsSDConfigs } from "./dns_sd_check.ts";
import { checkConsulSDConfigs } from "./consul_sd.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import { checkKubernetesSDConfigs } from "./kubernetes_sd.ts";
import { checkHttpSDConfigs } from "./http_sd_check.ts";
import { checkRelabel } from "./relabel_check.ts";
import type { RawAlertingConfig, RawAlertmanagerConfig, RawRelabel } from "./schema.ts";
import { checkFileSDConfigs, checkStaticConfigs } from "./sd_check.ts";
import type { AlertingConfig, AlertmanagerConfig, RelabelConfig } from "./types.ts";

const DEFAULT_ALERTMANAGER_TIMEOUT = 10_000;
const SUPPORTED_API_VERSIONS = ["v2"] as const;

/** Relabel rules where `null` entries get Prometheus's message for that list. */
function checkRelabelList(c: Checker, raw: readonly (RawRelabel | null)[] | null | undefined, path: Path, nullMessage: string): RelabelConfig[] {
  return (raw ?? []).map((r, i) => {
    if (r === null) c.fail([...path, i], nullMessage);
    return checkRelabel(c, r, [...path, i]);
  });
}

function checkAlertmanager(c: Checker, raw: RawAlertmanagerConfig, path: Path): AlertmanagerConfig {
  const scheme = (raw.scheme ?? "http").toLowerCase();
  if (scheme !== "http" && scheme !== "https") c.fail(path, `URL scheme must be 'http' or 'https', got ${JSON.stringify(scheme)}`, "scheme");
  const apiVersion = raw.api_version ?? "v2";
  if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    c.fail(path, `expected Alertmanager api version to be one of [${SUPPORTED_API_VERSIONS.join(" ")}] but got ${apiVersion}`, "api_version");
  }
  const timeout = raw.timeout ?? DEFAULT_ALERTMANAGER_TIMEOUT;
  // Prometheus would accept 0 and then fail every send at once; say so while the file is open.
  if (timeout <= 0) c.fail(path, "timeout must be greater than 0", "timeout");
  const relabelConfigs = checkRelabelList(c, raw.relabel_configs, [...path, "relabel_configs"], "empty or null Alertmanager target relabeling rule");
  const alertRelabelConfigs = checkRelabelList(
    c,
    raw.alert_relabel_configs,
    [...path, "alert_relabel_configs"],
    "empty or null Alertmanager alert relabeling rule",
  );
  return {
    // A URL in a target can be fixed by relabeling; only without any is it certainly wrong.
    staticConfigs: checkStaticConfigs(c, raw.static_configs, [...path, "static_configs"], relabelConfigs.length === 0),
    fileSDConfigs: checkFileSDConfigs(c, raw.file_sd_configs, [...path, "file_sd_configs"]),
    kubernetesSDConfigs: checkKubernetesSDConfigs(c, raw.kubernetes_sd_configs, [...path, "kubernetes_sd_configs"]),
    consulSDConfigs: checkConsulSDConfigs(c, raw.consul_sd_configs, [...path, "consul_sd_configs"]),
    httpSDConfigs: checkHttpSDConfigs(c, raw.http_sd_configs, [...path, "http_sd_configs"]),
    dnsSDConfigs: checkDnsSDConfigs(c, raw.dns_sd_configs, [...path, "dns_sd_configs"]),
    scheme,
    pathPrefix: raw.path_prefix ?? "",
    timeout,
    apiVersion: "v2",
    relabelConfigs,
    alertRelabelConfigs,
    ...checkHttpClientFields(c, raw, path),
  };
}

export function checkAlerting(c: Checker, raw: RawAlertingConfig | null | undefined): AlertingConfig {
  const path: Path = ["alerting"];
  const alertRelabelConfigs = checkRelabelList(c, raw?.alert_relabel_configs, [...path, "alert_relabel_configs"], "empty or null alert relabeling rule");
  const alertmanagers = (raw?.alertmanagers ?? []).map((am, i) => {
    const amPath = [...path, "alertmanagers", i];
    if (am === null) c.fail(amPath, "empty or null Alertmanager config");
    return checkAlertmanager(c, am, amPath);
  });
  return { alertRelabelConfigs, alertmanagers };
}
