/**
 * The service-discovery fields a config block shares with others (scrape jobs, Alertmanager
 * sets): static_configs and file_sd_configs, checked as Prometheus checks them.
 */
import { isLegacyLabelName } from "../model/index.ts";
import type { Checker, Path } from "./checker.ts";
import type { RawFileSD, RawStaticConfig } from "./schema.ts";
import type { FileSDConfig, TargetGroupConfig } from "./types.ts";

const DEFAULT_FILE_SD_REFRESH = 5 * 60_000;
const FILE_SD_NAME_RE = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

export function checkLabelSet(c: Checker, labels: Record<string, string | null | undefined>, path: Path): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (!isLegacyLabelName(name)) c.fail(path, `${JSON.stringify(name)} is not a valid label name`, name);
    out[name] = value ?? "";
  }
  return out;
}

/**
 * `checkAddresses`: refuse a target holding a `/` (a URL where a host:port belongs), as
 * Prometheus's CheckTargetAddress does for addresses that no relabeling can fix any more.
 */
export function checkStaticConfigs(c: Checker, raw: readonly RawStaticConfig[] | null | undefined, path: Path, checkAddresses: boolean): TargetGroupConfig[] {
  return (raw ?? []).map((sc, i) => {
    const targets = sc.targets ?? [];
    if (checkAddresses) {
      targets.forEach((t, j) => {
        if (t.includes("/")) c.fail([...path, i, "targets", j], `${JSON.stringify(t)} is not a valid hostname`);
      });
    }
    return { targets, labels: checkLabelSet(c, sc.labels ?? {}, [...path, i, "labels"]) };
  });
}

export function checkFileSDConfigs(c: Checker, raw: readonly RawFileSD[] | null | undefined, path: Path): FileSDConfig[] {
  return (raw ?? []).map((fc, i) => {
    if (fc.files.length === 0) c.fail([...path, i], "file service discovery config must contain at least one path name");
    fc.files.forEach((f, j) => {
      if (!FILE_SD_NAME_RE.test(f)) c.fail([...path, i, "files", j], `path name ${JSON.stringify(f)} is not valid for file discovery`);
    });
    return { files: fc.files.map((f) => c.file(f)!), refreshInterval: fc.refresh_interval ?? DEFAULT_FILE_SD_REFRESH };
  });
}
