/**
 * Relabeling with Prometheus's semantics (relabel.Process): the rules run in order over a
 * label set; `keep`/`drop`/`keepequal`/`dropequal` may drop it (null). Regexes are RE2, fully
 * anchored; replacements use Go's template syntax ($1, ${1}, $name, ${name}, $$).
 * Shared by scrape (targets and samples), the notifier (Alertmanagers and alerts) and remote
 * write; the config room parses and checks the rules into these types.
 */
import { createHash } from "node:crypto";
import { compileRegex, expandTemplate } from "./regex.ts";
import { labelsFromPairs, type Labels } from "./labels.ts";

export type RelabelAction =
  | "replace"
  | "keep"
  | "drop"
  | "keepequal"
  | "dropequal"
  | "hashmod"
  | "labelmap"
  | "labeldrop"
  | "labelkeep"
  | "lowercase"
  | "uppercase";

export const RELABEL_ACTIONS: readonly RelabelAction[] = [
  "replace",
  "keep",
  "drop",
  "keepequal",
  "dropequal",
  "hashmod",
  "labelmap",
  "labeldrop",
  "labelkeep",
  "lowercase",
  "uppercase",
];

export interface RelabelConfig {
  sourceLabels: string[];
  separator: string;
  /** The pattern as written (unanchored); compile with the model's compileRegex. */
  regex: string;
  modulus: number;
  targetLabel: string;
  replacement: string;
  action: RelabelAction;
}

function hashMod(value: string, modulus: number): number {
  const digest = createHash("md5").update(value).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Applies one rule to the builder; false means the label set is dropped. */
function applyRule(lb: Map<string, string>, cfg: RelabelConfig): boolean {
  let val = "";
  for (let i = 0; i < cfg.sourceLabels.length; i++) {
    if (i > 0) val += cfg.separator;
    val += lb.get(cfg.sourceLabels[i]!) ?? "";
  }
  const re = compileRegex(cfg.regex);
  switch (cfg.action) {
    case "drop":
      return !re.matches(val);
    case "keep":
      return re.matches(val);
    case "dropequal":
      return (lb.get(cfg.targetLabel) ?? "") !== val;
    case "keepequal":
      return (lb.get(cfg.targetLabel) ?? "") === val;
    case "replace": {
      const m = re.exec(val);
      if (m === null) return true;
      const target = expandTemplate(cfg.targetLabel, m);
      if (!LABEL_NAME_RE.test(target)) return true;
      const res = expandTemplate(cfg.replacement, m);
      if (res === "") lb.delete(target);
      else lb.set(target, res);
      return true;
    }
    case "lowercase":
      setOrDelete(lb, cfg.targetLabel, val.toLowerCase());
      return true;
    case "uppercase":
      setOrDelete(lb, cfg.targetLabel, val.toUpperCase());
      return true;
    case "hashmod":
      lb.set(cfg.targetLabel, String(hashMod(val, cfg.modulus)));
      return true;
    case "labelmap": {
      const additions: [string, string][] = [];
      for (const [name, value] of [...lb].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        const m = re.exec(name);
        if (m !== null) additions.push([expandTemplate(cfg.replacement, m), value]);
      }
      for (const [name, value] of additions) setOrDelete(lb, name, value);
      return true;
    }
    case "labeldrop":
      for (const name of [...lb.keys()]) if (re.matches(name)) lb.delete(name);
      return true;
    case "labelkeep":
      for (const name of [...lb.keys()]) if (!re.matches(name)) lb.delete(name);
      return true;
  }
}

function setOrDelete(lb: Map<string, string>, name: string, value: string): void {
  if (value === "") lb.delete(name);
  else lb.set(name, value);
}

/** The relabeled label set, or null when a rule dropped it. Returns `labels` itself for no rules. */
export function relabel(labels: Labels, cfgs: readonly RelabelConfig[]): Labels | null {
  if (cfgs.length === 0) return labels;
  const lb = new Map<string, string>();
  for (const l of labels) lb.set(l.name, l.value);
  for (const cfg of cfgs) if (!applyRule(lb, cfg)) return null;
  return labelsFromPairs(lb);
}
