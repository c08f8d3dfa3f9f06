/**
 * The file_sd file format: a JSON (or, for .yml/.yaml, YAML) list of target groups,
 * `[{targets: ["host:port", …], labels: {name: value}}]`. Each group also gets
 * `__meta_filepath`. Shared by file discovery and `shoal check config`.
 */
import { isLegacyLabelName, labelsFromRecord, type Labels } from "../model/index.ts";
import { YamlDoc } from "./yamldoc.ts";

export interface TargetGroup {
  /** Identifies the group within its discoverer (e.g. `file.json:0`). */
  source: string;
  /** One label set per target; each holds at least `__address__`. */
  targets: Labels[];
  /** Labels shared by the group's targets (targets' own labels win). */
  labels: Labels;
}

/** Parses one file_sd file (JSON, or YAML for .yml/.yaml). Throws with a clear message. */
export function parseFileSD(path: string, text: string): TargetGroup[] {
  let raw: unknown;
  if (/\.ya?ml$/i.test(path)) {
    raw = YamlDoc.parse(text, path).value;
  } else {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error(`${path}: expected a list of target groups`);
  return raw.map((g: unknown, i) => {
    if (typeof g !== "object" || g === null || Array.isArray(g)) throw new Error(`${path}: group ${i} is not a mapping`);
    const { targets = [], labels = {}, ...rest } = g as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new Error(`${path}: group ${i}: unknown field ${JSON.stringify(extra[0])}`);
    if (!Array.isArray(targets) || targets.some((t) => typeof t !== "string")) {
      throw new Error(`${path}: group ${i}: targets must be a list of strings`);
    }
    if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
      throw new Error(`${path}: group ${i}: labels must be a mapping`);
    }
    const lset: Record<string, string> = { __meta_filepath: path };
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      if (!isLegacyLabelName(k)) throw new Error(`${path}: group ${i}: ${JSON.stringify(k)} is not a valid label name`);
      if (typeof v !== "string") throw new Error(`${path}: group ${i}: label ${k} must be a string`);
      lset[k] = v;
    }
    for (const t of targets as string[]) {
      if (t.includes("/")) throw new Error(`${path}: group ${i}: ${JSON.stringify(t)} is not a valid hostname`);
    }
    return {
      source: `${path}:${i}`,
      targets: (targets as string[]).map((t) => labelsFromRecord({ __address__: t })),
      labels: labelsFromRecord(lset),
    };
  });
}

