/**
 * Turns discovered target groups into scrape targets as Prometheus's populateLabels does:
 * group labels under target labels, the job's defaults (`job`, `__scheme__`,
 * `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__`, `__param_*`), then
 * relabel_configs; `__meta_*` labels are removed and `instance` defaults to `__address__`.
 */
import { hostname } from "node:os";
import { formatDuration, labelsFromPairs, labelsKey, parseDuration, relabel, type Labels, type RelabelConfig } from "../model/index.ts";
import type { ScrapeConfig } from "../config/index.ts";
import type { TargetGroup } from "../discovery/index.ts";

export interface TargetSpec {
  /** Labels before relabeling (shown as discoveredLabels). */
  discoveredLabels: Labels;
  /** All labels after relabeling, including `__address__`, `__scheme__`, … */
  labels: Labels;
  /** The labels attached to scraped series: those not starting with `__`. */
  publicLabels: Labels;
  url: string;
  interval: number;
  timeout: number;
  /** Identity across reloads and discovery updates: public labels and URL. */
  key: string;
  /** Stable 32-bit hash of `key`, for the scrape offset. */
  hash: number;
}

/** A target relabeling dropped: its labels before relabeling, and the rule that dropped it. */
export interface DroppedSpec {
  discoveredLabels: Labels;
  reason: string;
}

export interface BuiltTargets {
  active: TargetSpec[];
  dropped: DroppedSpec[];
  errors: string[];
}

function get(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return "";
}

/** A duration label set by relabeling; zero or unparsable refuses the target, as Prometheus does. */
function relabeledDuration(labels: Labels, name: string, what: string): number {
  const text = get(labels, name);
  let ms = 0;
  try {
    ms = parseDuration(text);
  } catch {
    ms = 0;
  }
  if (ms === 0) throw new Error(`error parsing ${what}: ${JSON.stringify(text)}`);
  return ms;
}

export function scrapeURL(labels: Labels, cfg: ScrapeConfig): string {
  const params = new Map<string, string[]>();
  for (const [k, v] of Object.entries(cfg.params)) params.set(k, [...v]);
  for (const l of labels) {
    if (!l.name.startsWith("__param_")) continue;
    const k = l.name.slice("__param_".length);
    const cur = params.get(k);
    if (cur && cur.length > 0) cur[0] = l.value;
    else params.set(k, [l.value]);
  }
  const search = new URLSearchParams();
  for (const k of [...params.keys()].sort()) for (const v of params.get(k)!) search.append(k, v);
  const q = search.toString();
  const path = get(labels, "__metrics_path__");
  return `${get(labels, "__scheme__")}://${get(labels, "__address__")}${path.startsWith("/") ? "" : "/"}${path}${q ? "?" + q : ""}`;
}

/** Builds one target; null when relabeling dropped it; throws for an unusable target. */
export function buildTarget(targetLabels: Labels, groupLabels: Labels, cfg: ScrapeConfig): TargetSpec | null {
  const discoveredLabels = discoveredLabelsOf(targetLabels, groupLabels, cfg);
  const relabeled = relabel(discoveredLabels, cfg.relabelConfigs);
  if (relabeled === null) return null;
  const address = get(relabeled, "__address__");
  if (address === "") throw new Error("no address");
  const interval = relabeledDuration(relabeled, "__scrape_interval__", "scrape interval");
  const timeout = relabeledDuration(relabeled, "__scrape_timeout__", "scrape timeout");
  if (timeout > interval) {
    throw new Error(`scrape timeout cannot be greater than scrape interval (${JSON.stringify(formatDuration(timeout))} > ${JSON.stringify(formatDuration(interval))})`);
  }
  const out = new Map<string, string>();
  for (const l of relabeled) if (!l.name.startsWith("__meta_")) out.set(l.name, l.value);
  if (!out.has("instance")) out.set("instance", address);
  const labels = labelsFromPairs(out);
  const publicLabels = labels.filter((l) => !l.name.startsWith("__"));
  const url = scrapeURL(labels, cfg);
  // Interval and timeout are not part of the identity: changing them restarts the loop but
  // keeps its series (and their staleness tracking).
  const key = labelsKey(publicLabels) + url;
  return { discoveredLabels, labels, publicLabels, url, interval, timeout, key, hash: Bun.hash.xxHash32(key) >>> 0 };
}

export function buildTargets(groups: readonly TargetGroup[], cfg: ScrapeConfig): BuiltTargets {
  const active: TargetSpec[] = [];
  const dropped: DroppedSpec[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const g of groups) {
    for (const t of g.targets) {
      try {
        const spec = buildTarget(t, g.labels, cfg);
        if (spec === null) {
          const discovered = discoveredLabelsOf(t, g.labels, cfg);
          dropped.push({ discoveredLabels: discovered, reason: droppedBy(discovered, cfg.relabelConfigs) });
        } else if (!seen.has(spec.key)) {
          seen.add(spec.key);
          active.push(spec);
        }
      } catch (e) {
        errors.push(`instance ${get(t, "__address__")}: ${(e as Error).message}`);
      }
    }
  }
  return { active, dropped, errors };
}

/**
 * Which relabel rule dropped a target, for the Service Discovery page: the first rule after which
 * nothing is left, with what it looked at (dropped targets only, so this costs nothing on the
 * scrape path).
 */
export function droppedBy(discovered: Labels, rules: readonly RelabelConfig[]): string {
  let current: Labels = discovered;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const next = relabel(current, [rule]);
    if (next === null) {
      const looked = rule.sourceLabels.length > 0 ? ` of [${rule.sourceLabels.join(", ")}]` : "";
      const what = rule.action === "keepequal" || rule.action === "dropequal" ? ` ${rule.targetLabel}` : ` regex ${JSON.stringify(rule.regex)}`;
      return `relabel_configs[${i}]: action ${rule.action}${looked},${what}`;
    }
    current = next;
  }
  return "relabel_configs";
}

/** Group labels under target labels, plus the job's defaults for what is not set. */
export function discoveredLabelsOf(t: Labels, g: Labels, cfg: ScrapeConfig): Labels {
  const m = new Map<string, string>();
  for (const l of g) m.set(l.name, l.value);
  for (const l of t) m.set(l.name, l.value);
  const defaults: [string, string][] = [
    ["job", cfg.jobName],
    ["__scrape_interval__", formatDuration(cfg.scrapeInterval)],
    ["__scrape_timeout__", formatDuration(cfg.scrapeTimeout)],
    ["__metrics_path__", cfg.metricsPath],
    ["__scheme__", cfg.scheme],
  ];
  for (const [k, v] of defaults) if (!m.has(k)) m.set(k, v);
  for (const [k, v] of Object.entries(cfg.params)) if (v.length > 0 && !m.has(`__param_${k}`)) m.set(`__param_${k}`, v[0]!);
  return labelsFromPairs(m);
}

/** The scrape URL with a loopback host replaced by this machine's name (Prometheus's globalUrl). */
export function globalURL(url: string): string {
  try {
    const u = new URL(url);
    if (u.hostname === "localhost" || u.hostname === "127.0.0.1" || u.hostname === "[::1]") {
      u.hostname = hostname();
      return u.toString();
    }
  } catch {
    // keep the URL as it is
  }
  return url;
}
