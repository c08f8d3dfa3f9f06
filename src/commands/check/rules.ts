/**
 * `shoal check rules FILE...`: validates rule files and reports like `promtool check rules`
 * (progress on stdout, every error of a file on stderr under "  FAILED:"), exit status 1 when a
 * file has errors, 3 when the only findings are lint findings and --lint-fatal is given.
 */
import { statSync } from "node:fs";
import { FlagError, formatHelp, parseFlags } from "../../model/index.ts";
import { checkRuleFile, lintFlags, lintSettings, type LintSettings } from "./rule_file.ts";

export interface CheckOutput {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: CheckOutput = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

const FLAGS = lintFlags("");

export const CHECK_RULES_USAGE = "shoal check rules [--lint=duplicate-rules] [--lint-fatal] FILE...";

const HELP = formatHelp({
  usage: [CHECK_RULES_USAGE],
  description: "Check rule files with promtool's verdicts and wording: every error of each file, then the duplicate-rule lint.",
  flags: FLAGS,
});

/** promtool (kingpin) refuses a path that is not an existing file before checking anything. */
export function missingFileError(files: readonly string[]): string | null {
  for (const f of files) {
    let isDir: boolean;
    try {
      isDir = statSync(f).isDirectory();
    } catch {
      return `path '${f}' does not exist`;
    }
    if (isDir) return `'${f}' is a directory`;
  }
  return null;
}

export async function runCheckRules(args: readonly string[], io: CheckOutput = stdio): Promise<number> {
  let files: readonly string[];
  let lint: LintSettings;
  try {
    const flags = parseFlags(args, FLAGS, { positionals: true });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    files = flags.positionals;
    lint = lintSettings(flags.string("lint"), flags.bool("lint-fatal"), io.out);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.err(`shoal check rules: ${e.message}\nusage: ${CHECK_RULES_USAGE}\n`);
    return 2;
  }
  if (files.length === 0) {
    io.err(`usage: ${CHECK_RULES_USAGE}\n`);
    return 2;
  }
  const missing = missingFileError(files);
  if (missing !== null) {
    io.err(`shoal: error: ${missing}, try --help\n`);
    return 1;
  }
  let failed = false;
  let hasErrors = false;
  for (const file of files) {
    io.out(`Checking ${file}\n`);
    const verdict = checkRuleFile(file, lint);
    if (verdict.errors.length > 0) {
      io.err(`  FAILED:\n${verdict.errors.map((e) => e + "\n").join("")}`);
      failed = true;
      hasErrors ||= !verdict.lintOnly;
    } else {
      io.out(`  SUCCESS: ${verdict.rules} rules found\n`);
    }
    io.out("\n");
  }
  if (hasErrors) return 1;
  return failed && lint.fatal ? 3 : 0;
}
