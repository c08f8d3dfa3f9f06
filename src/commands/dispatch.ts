/**
 * Which sub-command a command line names, `shoal help [COMMAND]`, and the lines `shoal --help`
 * shows for the sub-commands. A command line that names none starts a node (the caller's part).
 */

interface Command {
  readonly name: string;
  /** Usage lines, as `shoal --help` lists them. */
  readonly usage: readonly string[];
  readonly summary: string;
  /** Runs the command on the arguments after its name; resolves to the exit code. */
  readonly run: (args: readonly string[]) => Promise<number>;
}

// Each command is loaded when it runs: `shoal cluster status` need not load storage or the
// PromQL engine, and starting a node loads none of the commands.
const COMMANDS: readonly Command[] = [
  {
    name: "tsdb",
    usage: ["shoal tsdb <import|dump|analyze> [<flags>]"],
    summary: "Import samples into, dump or analyze the data directory of a stopped node.",
    run: async (args) => (await import("./tsdb/command.ts")).runTsdbCommand(args),
  },
  {
    name: "check",
    usage: ["shoal check config [--syntax-only] [--lint=duplicate-rules] [--lint-fatal] FILE...", "shoal check rules [--lint=duplicate-rules] [--lint-fatal] FILE..."],
    summary: "Check configuration and rule files, as promtool check does.",
    run: async (args) => (await import("./check/command.ts")).runCheckCommand(args),
  },
  {
    name: "test",
    usage: ["shoal test rules FILE..."],
    summary: "Run rule unit tests (promtool's test file format), as promtool test rules does.",
    run: async (args) => (await import("./test_rules/command.ts")).runTestCommand(args),
  },
  {
    name: "cluster",
    usage: ["shoal cluster <status|leave> [<flags>]"],
    summary: "Show a running cluster's members and hand-off progress, or make a node leave it.",
    run: async (args) => (await import("./cluster/command.ts")).runClusterCommand(args),
  },
];

const HELP_USAGE = "shoal help [<command>]";

function commandNamed(name: string | undefined): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Usage lines of every sub-command, for the node's --help. */
export function commandUsages(): string[] {
  return [...COMMANDS.flatMap((c) => c.usage), HELP_USAGE];
}

/** One line per sub-command with what it does, for the node's --help. */
export function commandSummaries(): string[] {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), "help".length) + 2;
  return [...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`), `  ${"help".padEnd(width)}Show this help, or a command's: shoal help COMMAND.`];
}

/**
 * Runs the sub-command `argv` names, or `shoal help [COMMAND ...]`; any other command line goes
 * to `runNode`. Resolves to the exit code.
 */
export async function runCommandLine(argv: readonly string[], runNode: (argv: readonly string[]) => Promise<number>): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "help") {
    const [topic, ...more] = rest;
    if (topic === undefined) return runNode(["--help"]);
    const command = commandNamed(topic);
    if (command === undefined) {
      process.stderr.write(`shoal: error: unknown command ${JSON.stringify(topic)}, try shoal --help\n`);
      return 2;
    }
    return command.run([...more, "--help"]);
  }
  const command = commandNamed(first);
  return command === undefined ? runNode(argv) : command.run(rest);
}
