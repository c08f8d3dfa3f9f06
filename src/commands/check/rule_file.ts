/**
 * One rule file checked as promtool checks it, for `shoal check rules` and for the rule files
 * `shoal check config` finds: every error rulefmt reports, then (when the file is valid) the
 * duplicate-rule lint, with promtool's --lint / --lint-fatal settings.
 */
import { loadRuleFile, RuleFileError, type RuleGroupConfig } from "../../config/index.ts";
import { compareLabels, labelsFromRecord, type FlagSpec, type Labels } from "../../model/index.ts";
import { parseExpr } from "../../promql/index.ts";
import { checkTemplate } from "../../rules/index.ts";

export const LINT_OPTIONS = ["all", "duplicate-rules", "none"] as const;

export interface LintSettings {
  readonly duplicateRules: boolean;
  /** Lint findings make the command exit with 3 (otherwise they are reported and exit 0). */
  readonly fatal: boolean;
}

/** promtool's --lint and --lint-fatal, for `check rules` and `check config`. */
export function lintFlags(what: string): FlagSpec[] {
  return [
    { name: "lint", kind: "string", def: "duplicate-rules", help: `Linting checks to apply${what}. Available options are: ${LINT_OPTIONS.join(", ")}. Use --lint=none to disable linting.` },
    { name: "lint-fatal", kind: "bool", def: "false", help: "Make lint errors exit with exit code 3." },
  ];
}

/** Reads --lint's comma-separated options; like promtool, an unknown one is a warning on stdout. */
export function lintSettings(value: string, fatal: boolean, out: (s: string) => void): LintSettings {
  let duplicateRules = false;
  for (const option of value.split(",")) {
    if (option === "all" || option === "duplicate-rules") duplicateRules = true;
    else if (option !== "none") out(`WARNING: unknown lint option ${option}\n`);
  }
  return { duplicateRules, fatal };
}

export interface RuleFileVerdict {
  /** Rules in the file (0 when it failed). */
  readonly rules: number;
  /** Each as promtool prints it; empty when the file passed. */
  readonly errors: readonly string[];
  /** The only findings are lint findings (they fail the command only with --lint-fatal). */
  readonly lintOnly: boolean;
}

const checkExpr = (expr: string) => void parseExpr(expr);
// Prometheus names an alerting rule's templates `__alert_NAME` (it shows in their errors).
const checkAlertTemplate = (alertName: string, text: string) => checkTemplate(`__alert_${alertName}`, text);

export function checkRuleFile(path: string, lint: LintSettings): RuleFileVerdict {
  let groups: RuleGroupConfig[];
  try {
    groups = loadRuleFile(path, checkExpr, checkAlertTemplate);
  } catch (e) {
    const errors = e instanceof RuleFileError ? e.errors.map((x) => x.message) : [(e as Error).message];
    return { rules: 0, errors, lintOnly: false };
  }
  const rules = groups.reduce((n, g) => n + g.rules.length, 0);
  if (lint.duplicateRules) {
    const dups = duplicateRules(groups);
    if (dups.length > 0) {
      let msg = `lint error ${dups.length} duplicate rule(s) found.\n`;
      for (const d of dups) {
        msg += `Metric: ${d.metric}\nLabel(s):\n`;
        for (const l of d.labels) msg += `\t${l.name}: ${l.value}\n`;
      }
      msg += "Might cause inconsistency while recording expressions";
      return { rules: 0, errors: [msg], lintOnly: true };
    }
  }
  return { rules, errors: [], lintOnly: false };
}

interface RuleIdentity {
  metric: string;
  labels: Labels;
}

function compareIdentity(a: RuleIdentity, b: RuleIdentity): number {
  if (a.metric !== b.metric) return a.metric < b.metric ? -1 : 1;
  return compareLabels(a.labels, b.labels);
}

/**
 * Rules that would write the same series: the same record (or alert) name with the same static
 * labels, each reported once, in name order.
 */
function duplicateRules(groups: readonly RuleGroupConfig[]): RuleIdentity[] {
  const all = groups
    .flatMap((g) => g.rules)
    .map((r) => ({ metric: r.alert ?? r.record ?? "", labels: labelsFromRecord(r.labels) }))
    .sort(compareIdentity);
  const dups: RuleIdentity[] = [];
  for (let i = 1; i < all.length; i++) {
    if (compareIdentity(all[i - 1]!, all[i]!) !== 0) continue;
    if (dups.length === 0 || compareIdentity(all[i]!, dups[dups.length - 1]!) !== 0) dups.push(all[i]!);
  }
  return dups;
}
