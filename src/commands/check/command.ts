/** `shoal check VERB`: promtool's `check` commands. `config` is the one there is so far. */
import { formatHelp } from "../../model/index.ts";
import { runCheckConfig } from "./config.ts";

const CHECK_HELP = formatHelp({
  usage: ["shoal check config [--syntax-only] FILE..."],
  description: "Check files the way promtool check does, with its verdicts and wording.",
  sections: [{ title: "Commands", lines: ["  config", "      Check configuration files and the rule files they name (see shoal check config --help)."] }],
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
  process.stderr.write(`unknown check command ${JSON.stringify(verb)}\n${CHECK_HELP}`);
  return 2;
}
