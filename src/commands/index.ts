/**
 * The commands room's door: `shoal`'s sub-commands (tsdb, check, test, cluster) and `shoal help`.
 * cli.ts hands the command line to `runCommandLine`; the node's --help lists the sub-commands
 * with `commandUsages` and `commandSummaries`. Commands use the rooms below node.ts (storage,
 * config, promql, cluster, model), never the node itself.
 */
export { commandSummaries, commandUsages, runCommandLine } from "./dispatch.ts";
