/** relabel_configs entries (of scrape jobs, Alertmanager sets, alerts) checked as Prometheus's relabel.Config. */
import { compileRegex, isLegacyLabelName, RegexError, RELABEL_ACTIONS, type RelabelAction, type RelabelConfig } from "../model/index.ts";
import type { Checker, Path } from "./checker.ts";
import type { RawRelabel } from "./schema.ts";

/** Prometheus's DefaultRelabelConfig. */
export const RELABEL_DEFAULTS = { separator: ";", regex: "(.*)", replacement: "$1", action: "replace" } as const;

const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

export function checkRelabel(c: Checker, raw: RawRelabel, path: Path): RelabelConfig {
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
