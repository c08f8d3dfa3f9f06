/**
 * `shoal check config FILE...`: validates config files and reports like `promtool check config`
 * (same wording, stdout for success, stderr for failure, exit status 1 if any file failed).
 * Rule files that a config names are checked too, as `shoal check rules` checks them.
 */
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { globFiles, loadConfigFile, parseFileSD, type Config } from "../../config/index.ts";
import { formatHelp, type FlagSpec } from "../../model/index.ts";
import { parseFileCommand, stdio, type CommandOutput, type FileCommandSpec } from "../file_command.ts";
import { checkAlertmanagerTargets } from "./alerting.ts";
import { checkRuleFile, lintFlags, lintSettings, type LintSettings } from "./rule_file.ts";

/**
 * What promtool checks beyond syntax: referenced credential and TLS files exist, and file_sd
 * files that exist parse (a pattern matching nothing is only a warning).
 */
function checkReferencedFiles(cfg: Config, io: CommandOutput): void {
  for (const sc of cfg.scrapeConfigs) {
    const cred = sc.authorization?.credentialsFile;
    if (cred !== undefined && !existsSync(cred)) {
      throw new Error(`error checking authorization credentials or bearer token file ${JSON.stringify(cred)}: stat ${cred}: no such file or directory`);
    }
    const tls = sc.tlsConfig;
    if (tls.certFile !== undefined && tls.keyFile === undefined) throw new Error(`client cert file ${JSON.stringify(tls.certFile)} specified without client key file`);
    if (tls.keyFile !== undefined && tls.certFile === undefined) throw new Error(`client key file ${JSON.stringify(tls.keyFile)} specified without client cert file`);
    for (const [what, f] of [["client cert", tls.certFile], ["client key", tls.keyFile]] as const) {
      if (f !== undefined && !existsSync(f)) throw new Error(`error checking ${what} file ${JSON.stringify(f)}: stat ${f}: no such file or directory`);
    }
    // promtool lets a missing CA file pass; scraping would fail, so say so without failing.
    if (tls.caFile !== undefined && !existsSync(tls.caFile)) {
      io.out(`  WARNING: CA file ${JSON.stringify(tls.caFile)} for scrape job ${JSON.stringify(sc.jobName)} does not exist\n`);
    }
    for (const fsd of sc.fileSDConfigs) {
      for (const pattern of fsd.files) {
        const files = globFiles(pattern, { anyPath: true });
        if (files.length === 0) {
          io.out(`  WARNING: file ${JSON.stringify(pattern)} for file_sd in scrape job ${JSON.stringify(sc.jobName)} does not exist\n`);
        }
        for (const f of files) {
          try {
            parseFileSD(f, readFileSync(f, "utf8"));
          } catch (e) {
            throw new Error(`checking SD file ${JSON.stringify(pattern)}: ${(e as Error).message}`);
          }
        }
      }
    }
  }
}

const CHECK_CONFIG_FLAGS: readonly FlagSpec[] = [
  { name: "syntax-only", kind: "bool", def: "false", help: "Only check the config file's syntax, not the files it refers to (rule files, credentials, certificates, file_sd files), as promtool's --syntax-only." },
  ...lintFlags(" to the rules specified in the config"),
];

export const CHECK_CONFIG_USAGE = "shoal check config [--syntax-only] [--lint=duplicate-rules] [--lint-fatal] FILE...";

const COMMAND: FileCommandSpec<{ syntaxOnly: boolean; lint: LintSettings }> = {
  name: "check config",
  usage: CHECK_CONFIG_USAGE,
  help: formatHelp({
    usage: [CHECK_CONFIG_USAGE],
    description: "Check configuration files, and the rule files they name, with promtool's verdicts and wording.",
    flags: CHECK_CONFIG_FLAGS,
  }),
  flags: CHECK_CONFIG_FLAGS,
  settings: (flags, io) => ({ syntaxOnly: flags.bool("syntax-only"), lint: lintSettings(flags.string("lint"), flags.bool("lint-fatal"), io.out) }),
  // A missing FILE fails on its own, under its `Checking` line, and the other files are still checked.
  existingFiles: false,
};

export async function runCheckConfig(args: readonly string[], io: CommandOutput = stdio): Promise<number> {
  const parsed = parseFileCommand(args, COMMAND, io);
  if (typeof parsed === "number") return parsed;
  const { files, settings: { syntaxOnly, lint } } = parsed;
  let failed = false;
  let hasErrors = false;
  for (const file of files) {
    io.out(`Checking ${file}\n`);
    try {
      const cfg = loadConfigFile(file);
      if (!syntaxOnly) {
        checkReferencedFiles(cfg, io);
        checkAlertmanagerTargets(cfg, io.out);
      }
      // As promtool's --syntax-only: the config alone, not the files it refers to.
      const ruleFiles = syntaxOnly ? [] : cfg.ruleFiles.flatMap((p) => globFiles(p, { anyPath: true }));
      if (cfg.ruleFiles.length > 0 && !syntaxOnly) io.out(`  SUCCESS: ${ruleFiles.length} rule files found\n`);
      io.out(` SUCCESS: ${file} is valid prometheus config file syntax\n\n`);
      for (const rf of ruleFiles) {
        const shown = relative(process.cwd(), rf).startsWith("..") ? rf : relative(process.cwd(), rf);
        io.out(`Checking ${shown}\n`);
        const verdict = checkRuleFile(shown, lint);
        if (verdict.errors.length > 0) {
          failed = true;
          hasErrors ||= !verdict.lintOnly;
          io.err(`  FAILED:\n${verdict.errors.map((e) => `     ${e}\n`).join("")}`);
        } else {
          io.out(`  SUCCESS: ${verdict.rules} rules found\n`);
        }
        io.out("\n");
      }
    } catch (e) {
      failed = true;
      hasErrors = true;
      io.out("\n");
      io.err(`  FAILED: ${(e as Error).message}\n`);
    }
  }
  if (failed && hasErrors) return 1;
  return failed && lint.fatal ? 3 : 0;
}
