/**
 * What promtool checks of the `alerting` section beyond syntax: file_sd files of Alertmanager
 * sets parse (a pattern matching nothing is only a warning), and every discovered target,
 * static or from a file, still names a host:port after the set's relabel_configs.
 */
import { readFileSync } from "node:fs";
import { globFiles, parseFileSD, type Config, type TargetGroup } from "../../config/index.ts";
import { StaticDiscoverer } from "../../discovery/index.ts";
import { alertmanagersFromGroup } from "../../rules/index.ts";

/** Throws with promtool's wording on the first problem; warnings go to `warn`. */
export function checkAlertmanagerTargets(cfg: Config, warn: (line: string) => void): void {
  for (const am of cfg.alerting.alertmanagers) {
    const groups: TargetGroup[] = [];
    // A static discoverer reports its groups during start.
    new StaticDiscoverer(am.staticConfigs, "static/").start((g) => groups.push(...g));
    for (const fsd of am.fileSDConfigs) {
      for (const pattern of fsd.files) {
        const files = globFiles(pattern, { anyPath: true });
        if (files.length === 0) warn(`  WARNING: file ${JSON.stringify(pattern)} for file_sd in alertmanager config does not exist\n`);
        for (const f of files) {
          try {
            groups.push(...parseFileSD(f, readFileSync(f, "utf8")));
          } catch (e) {
            throw new Error(`checking SD file ${JSON.stringify(pattern)}: ${(e as Error).message}`);
          }
        }
      }
    }
    for (const g of groups) alertmanagersFromGroup(g, am);
  }
}
