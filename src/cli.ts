#!/usr/bin/env bun
/**
 * Entry point of the `shoal` binary: picks the sub-command, or starts a node when there is none.
 * Each sub-command lives with the room it operates on; this file only dispatches.
 */
const argv = process.argv.slice(2);

async function main(): Promise<number> {
  const [first, second] = argv;
  // `shoal tsdb`, `shoal tsdb --help`: the sub-command's usage, not the node's flags.
  const sub = second === undefined || second.startsWith("-") ? "help" : second;
  if (first === "tsdb") {
    const { runTsdbCommand } = await import("./storage/tools/cli.ts");
    return runTsdbCommand(sub, argv.slice(2));
  }
  if (first === "check" && second === "config") {
    const { runCheckConfig } = await import("./config/check.ts");
    return runCheckConfig(argv.slice(2));
  }
  if (first === "cluster") {
    const { runClusterCommand } = await import("./cluster/index.ts");
    return runClusterCommand(sub, argv.slice(2));
  }
  const { runNodeCommand } = await import("./node.ts");
  return runNodeCommand(argv);
}

main().then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
