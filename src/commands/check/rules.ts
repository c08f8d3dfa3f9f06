/**
 * `shoal check rules FILE...`: validates rule files and reports like `promtool check rules`
 * (progress on stdout, every error of a file on stderr under "  FAILED:"), exit status 1 when a
 * file has errors, 3 when the only findings are lint findings and --lint-fatal is given.
 */
import { formatHelp } from "../../model/index.ts";
import { parseFileCommand, stdio, type CommandOutput, type FileCommandSpec } from "../file_command.ts";
import { checkRuleFile, lintFlags, lintSettings, type LintSettings } from "./rule_file.ts";

const FLAGS = lintFlags("");

export const CHECK_RULES_USAGE = "shoal check rules [--lint=duplicate-rules] [--lint-fatal] FILE...";

const COMMAND: FileCommandSpec<LintSettings> = {
  name: "check rules",
  usage: CHECK_RULES_USAGE,
  help: formatHelp({
    usage: [CHECK_RULES_USAGE],
    description: "Check rule files with promtool's verdicts and wording: every error of each file, then the duplicate-rule lint.",
    flags: FLAGS,
  }),
  flags: FLAGS,
  settings: (flags, io) => lintSettings(flags.string("lint"), flags.bool("lint-fatal"), io.out),
  existingFiles: true,
};

export async function runCheckRules(args: readonly string[], io: CommandOutput = stdio): Promise<number> {
  const parsed = parseFileCommand(args, COMMAND, io);
  if (typeof parsed === "number") return parsed;
  const { files, settings: lint } = parsed;
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
