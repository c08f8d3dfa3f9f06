/** The flag rows of `shoal tsdb import|dump|analyze`, and the reading of their time flags. */
import { DEFAULT_BLOCK_DURATION_MS } from "../../storage/index.ts";
import { FlagError, formatDuration, type FlagSpec } from "../../model/index.ts";

const DATA_DIR: FlagSpec = { name: "storage.tsdb.path", kind: "string", def: "./data", help: "Base path for metrics storage." };

function logLevel(def: string): FlagSpec {
  return {
    name: "log.level",
    kind: "string",
    def,
    choices: ["debug", "info", "warn", "error"],
    help: "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
  };
}

export const IMPORT_FLAGS: readonly FlagSpec[] = [
  DATA_DIR,
  {
    name: "max-block-duration",
    kind: "duration",
    def: formatDuration(DEFAULT_BLOCK_DURATION_MS),
    help: "Time range of the blocks the samples are written into (aligned to it), before the node's compaction merges them.",
  },
  logLevel("info"),
];

export const DUMP_FLAGS: readonly FlagSpec[] = [
  DATA_DIR,
  { name: "match", kind: "string", def: "", repeatable: true, placeholder: "<selector>", help: "Series selector of the series to print (repeatable). Default: every series." },
  { name: "min-time", kind: "string", def: "", placeholder: "<time>", help: "Earliest sample to print: milliseconds since the epoch or an RFC 3339 time. Default: the earliest there is." },
  { name: "max-time", kind: "string", def: "", placeholder: "<time>", help: "Latest sample to print: milliseconds since the epoch or an RFC 3339 time. Default: the latest there is." },
  logLevel("warn"),
];

export const ANALYZE_FLAGS: readonly FlagSpec[] = [
  DATA_DIR,
  { name: "limit", kind: "int", def: "20", help: "How many entries each of the highest-cardinality tables lists." },
  logLevel("warn"),
];

/** A time flag: integer milliseconds, or an RFC 3339 date. */
export function parseTimeFlag(name: string, s: string): number {
  if (/^-?\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new FlagError(`--${name}: expected milliseconds since the epoch or an RFC 3339 time, got ${JSON.stringify(s)}`);
  return t;
}
