#!/usr/bin/env bun
/**
 * Entry point of the `shoal` binary: a sub-command (src/commands), or a node when the command
 * line names none.
 */
import { runCommandLine } from "./commands/index.ts";

const argv = process.argv.slice(2);

// The node is loaded only when one starts, so sub-commands start quickly.
const runNode = async (args: readonly string[]) => (await import("./node.ts")).runNodeCommand([...args]);

runCommandLine(argv, runNode).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
