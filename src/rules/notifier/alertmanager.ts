/**
 * Discovered targets → Alertmanager URLs, as Prometheus's notifier builds them: each target
 * starts with the set's `__scheme__` and `__alerts_path__` (path_prefix + `/api/v2/alerts`) and
 * its group's labels, goes through the set's relabel_configs, and becomes
 * `__scheme__://__address__/__alerts_path__`. Dropped targets are kept for the API.
 */
import { posix } from "node:path";
import { getLabel, labelsFromPairs, relabel, type Labels } from "../../model/index.ts";
import type { AlertmanagerConfig, TargetGroup } from "../../config/index.ts";

const SCHEME_LABEL = "__scheme__";
const ADDRESS_LABEL = "__address__";
const PATH_LABEL = "__alerts_path__";

/** The path alerts are posted to: path_prefix joined with the API version's endpoint. */
export function alertsPath(pathPrefix: string, apiVersion: string): string {
  return posix.join("/", pathPrefix, `/api/${apiVersion}/alerts`);
}

/** The URL an Alertmanager's labels name. */
export function alertmanagerURL(labels: Labels): string {
  let path = getLabel(labels, PATH_LABEL);
  if (path !== "" && !path.startsWith("/")) path = `/${path}`;
  return `${getLabel(labels, SCHEME_LABEL)}://${getLabel(labels, ADDRESS_LABEL)}${path}`;
}

export interface GroupAlertmanagers {
  /** Labels after relabeling of each Alertmanager kept. */
  active: Labels[];
  /** Labels before relabeling of each target a rule dropped. */
  dropped: Labels[];
}

/**
 * The Alertmanagers of one target group. Throws when a kept address is not a host:port (a URL
 * left in `__address__`), which makes the whole group unusable, as in Prometheus.
 */
export function alertmanagersFromGroup(group: TargetGroup, cfg: AlertmanagerConfig): GroupAlertmanagers {
  const out: GroupAlertmanagers = { active: [], dropped: [] };
  const path = alertsPath(cfg.pathPrefix, cfg.apiVersion);
  for (const target of group.targets) {
    const lb = new Map<string, string>();
    for (const l of target) lb.set(l.name, l.value);
    lb.set(SCHEME_LABEL, cfg.scheme);
    lb.set(PATH_LABEL, path);
    // Group labels may override the set's defaults, never the target's own labels.
    for (const l of group.labels) if (!target.some((t) => t.name === l.name)) lb.set(l.name, l.value);
    const before = labelsFromPairs(lb);
    const after = relabel(before, cfg.relabelConfigs);
    if (after === null) {
      out.dropped.push(before);
      continue;
    }
    const address = getLabel(after, ADDRESS_LABEL);
    if (address.includes("/")) throw new Error(`${JSON.stringify(address)} is not a valid hostname`);
    out.active.push(after);
  }
  return out;
}
