/** `shoal check VERB`: promtool's `check` commands (`config`, `rules`). */
import { formatHelp } from "../../model/index.ts";
import { CHECK_CONFIG_USAGE, runCheckConfig } from "./config.ts";
import { CHECK_RULES_USAGE, runCheckRules } from "./rules.ts";

const CHECK_HELP = formatHelp({
  usage: [CHECK_CONFIG_USAGE, CHECK_RULES_USAGE],
  description: "Check files the way promtool check does, with its verdicts and wording.",
  sections: [
    {
      title: "Commands",
      lines: [
        "  config",
        "      Check configuration files and the rule files they name (see shoal check config --help).",
        "  rules",
        "      Check rule files: every error of each file, and duplicate rules (see shoal check rules --help).",
      ],
    },
  ],
  flags: [],
});

export async function runCheckCommand(args: readonly string[]): Promise<number> {
  const [verb, ...rest] = args;
  // Without a verb, or with only flags, the command says what it takes.
  if (verb === undefined || verb === "help" || verb.startsWith("-")) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  if (verb === "config") return runCheckConfig(rest);
  if (verb === "rules") return runCheckRules(rest);
  process.stderr.write(`unknown check command ${JSON.stringify(verb)}\n${CHECK_HELP}`);
  return 2;
}
