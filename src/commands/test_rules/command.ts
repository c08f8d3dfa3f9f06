/**
 * `shoal test rules FILE...`: promtool's rule unit tests. Each file names rule files and test
 * groups (input series, expected alerts at given times, PromQL expressions with expected
 * samples); the rules are evaluated by the rules room's RuleGroup with the real PromQL engine
 * over a temporary local TSDB. Output and exit status are promtool's: "Unit Testing:  FILE",
 * then "  SUCCESS" or "  FAILED:" with every failure, exit 1 if any file failed.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { globFiles } from "../../config/index.ts";
import { formatHelp } from "../../model/index.ts";
import { loadRuleConfigs, RuleLoadError } from "../../rules/index.ts";
import { parseFileCommand, stdio, type CommandOutput, type FileCommandSpec } from "../file_command.ts";
import { parseUnitTestFile } from "./file.ts";
import { runTestGroup } from "./run.ts";

export const TEST_RULES_USAGE = "shoal test rules FILE...";

const TEST_HELP = formatHelp({
  usage: [TEST_RULES_USAGE],
  description: "Run rule unit tests in promtool's test file format, with its verdicts and wording.",
  sections: [{ title: "Commands", lines: ["  rules", "      Unit tests for rules (see shoal test rules --help)."] }],
  flags: [],
});

const COMMAND: FileCommandSpec<null> = {
  name: "test rules",
  usage: TEST_RULES_USAGE,
  help: formatHelp({
    usage: [TEST_RULES_USAGE],
    description:
      "Unit tests for rules: each FILE is a promtool unit-test file (rule_files, evaluation_interval, group_eval_order, tests with input_series, alert_rule_test and promql_expr_test). Exit status 1 if any test fails.",
    flags: [],
  }),
  flags: [],
  settings: () => null,
  existingFiles: true,
};

/** One unit-test file; resolves to its failure messages (empty: it passed). */
async function runFile(filename: string, io: CommandOutput): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(filename, "utf8");
  } catch (e) {
    return [`open ${filename}: ${(e as Error).message}`];
  }
  let file;
  try {
    file = parseUnitTestFile(text, filename);
  } catch (e) {
    return [(e as Error).message];
  }
  // Rule files are relative to the test file; a pattern that matches nothing is only a warning.
  const ruleFiles: string[] = [];
  for (const rf of file.ruleFiles) {
    const pattern = rf !== "" && !isAbsolute(rf) ? join(dirname(filename), rf) : rf;
    const matches = globFiles(pattern, { anyPath: true });
    if (matches.length === 0) io.err(`  WARNING: no file match pattern ${pattern}\n`);
    for (const m of matches) if (!ruleFiles.includes(m)) ruleFiles.push(m);
  }
  const evalIntervalMs = file.evaluationInterval > 0 ? file.evaluationInterval : 60_000;
  const groupOrder = new Map<string, number>();
  for (const [i, name] of file.groupEvalOrder.entries()) {
    if (groupOrder.has(name)) return [`group name repeated in evaluation order: ${name}`];
    groupOrder.set(name, i);
  }
  const errs: string[] = [];
  for (const tg of file.tests) {
    // Like promtool, the rule files are loaded again for every test group (and fail it).
    let loaded;
    try {
      loaded = loadRuleConfigs(ruleFiles);
    } catch (e) {
      if (!(e instanceof RuleLoadError)) throw e;
      errs.push(...e.errors);
      continue;
    }
    try {
      errs.push(...(await runTestGroup(tg, { evalIntervalMs, ruleFiles: loaded, groupOrder })));
    } catch (e) {
      errs.push((e as Error).message);
    }
  }
  return errs;
}

export async function runTestRules(args: readonly string[], io: CommandOutput = stdio): Promise<number> {
  const parsed = parseFileCommand(args, COMMAND, io);
  if (typeof parsed === "number") return parsed;
  const { files } = parsed;
  let failed = false;
  for (const f of files) {
    io.out(`Unit Testing:  ${f}\n`);
    const errs = await runFile(f, io);
    if (errs.length > 0) {
      io.err("  FAILED:\n");
      for (const e of errs) {
        io.err(`${e}\n`);
        io.out("\n");
      }
      failed = true;
    } else {
      io.out("  SUCCESS\n");
    }
    io.out("\n");
  }
  return failed ? 1 : 0;
}

/** `shoal test VERB`: promtool's `test` commands (`rules`). */
export async function runTestCommand(args: readonly string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === "help" || verb.startsWith("-")) {
    process.stdout.write(TEST_HELP);
    return 0;
  }
  if (verb === "rules") return runTestRules(rest);
  process.stderr.write(`unknown test command ${JSON.stringify(verb)}\n${TEST_HELP}`);
  return 2;
}
