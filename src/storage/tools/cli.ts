/**
 * `shoal tsdb import|dump|analyze`: operator tools working on a stopped node's data directory
 * (`--storage.tsdb.path`, default ./data). Returns the process exit code.
 */
import { createLogger, type LogLevel, type Logger } from "../../model/index.ts";
import { DEFAULT_BLOCK_DURATION_MS } from "../db.ts";
import { analyze } from "./analyze.ts";
import { dump } from "./dump.ts";
import { FlagError, lastFlag, parseDuration, parseFlags, parseTimeFlag } from "./flags.ts";
import { importFile } from "./import.ts";
import { parseSelector } from "./selector.ts";
import { ImportSyntaxError } from "./textformat.ts";

const USAGE = `usage:
  shoal tsdb import FILE [--storage.tsdb.path=./data] [--max-block-duration=2h]
      Backfill OpenMetrics (with "# EOF", timestamps in seconds, as promtool accepts) or
      Prometheus text with millisecond timestamps (e.g. dump's output) into blocks.
  shoal tsdb dump [--storage.tsdb.path=./data] [--match=SELECTOR]... [--min-time=MS] [--max-time=MS]
      Print every sample as "{labels} value timestamp_ms", sorted by series then time.
  shoal tsdb analyze [--storage.tsdb.path=./data] [--limit=20]
      Series, samples, label cardinality and bytes per sample.
common flags: --log.level=info|debug|warn|error
`;

const COMMON = ["storage.tsdb.path", "log.level"];

function makeLogger(level: string | undefined): Logger {
  const l = (level ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(l)) throw new FlagError(`--log.level: unknown level ${JSON.stringify(level)}`);
  return createLogger({ level: l });
}

export async function runTsdbCommand(sub: string, args: string[]): Promise<number> {
  try {
    if (sub === "help" || args.includes("--help") || args.includes("-h")) {
      process.stdout.write(USAGE);
      return 0;
    }
    switch (sub) {
      case "import": {
        const f = parseFlags(args, new Set([...COMMON, "max-block-duration"]));
        if (f.positional.length !== 1) throw new FlagError("import needs exactly one FILE argument");
        const dir = lastFlag(f, "storage.tsdb.path") ?? "./data";
        const dur = lastFlag(f, "max-block-duration");
        const blockMs = dur === undefined ? DEFAULT_BLOCK_DURATION_MS : parseDuration(dur);
        if (blockMs <= 0) throw new FlagError("--max-block-duration must be positive");
        const logger = makeLogger(lastFlag(f, "log.level"));
        const r = await importFile(f.positional[0]!, dir, blockMs, logger);
        process.stdout.write(
          `imported ${r.samples} samples of ${r.series} series (${r.format} format` +
            (r.samples > 0 ? `, ${r.minTime}..${r.maxTime} ms` : "") +
            `) into ${r.blocksWritten} block(s) in ${dir}` +
            (r.duplicatesDropped > 0 ? `; ${r.duplicatesDropped} identical duplicate(s) dropped` : "") +
            "\n",
        );
        return 0;
      }
      case "dump": {
        const f = parseFlags(args, new Set([...COMMON, "match", "min-time", "max-time"]));
        if (f.positional.length > 0) throw new FlagError(`unexpected argument ${JSON.stringify(f.positional[0])}`);
        const dir = lastFlag(f, "storage.tsdb.path") ?? "./data";
        const selectors = await Promise.all((f.values.get("match") ?? []).map(parseSelector));
        const minS = lastFlag(f, "min-time");
        const maxS = lastFlag(f, "max-time");
        const mint = minS === undefined ? -Number.MAX_SAFE_INTEGER : parseTimeFlag("min-time", minS);
        const maxt = maxS === undefined ? Number.MAX_SAFE_INTEGER : parseTimeFlag("max-time", maxS);
        const logger = makeLogger(lastFlag(f, "log.level") ?? "warn");
        const sink = Bun.stdout.writer();
        await dump(dir, selectors, mint, maxt, logger, async (s) => {
          sink.write(s);
          await sink.flush();
        });
        await sink.end();
        return 0;
      }
      case "analyze": {
        const f = parseFlags(args, new Set([...COMMON, "limit"]));
        if (f.positional.length > 0) throw new FlagError(`unexpected argument ${JSON.stringify(f.positional[0])}`);
        const dir = lastFlag(f, "storage.tsdb.path") ?? "./data";
        const limitS = lastFlag(f, "limit") ?? "20";
        if (!/^\d+$/.test(limitS)) throw new FlagError(`--limit: expected a number, got ${JSON.stringify(limitS)}`);
        const logger = makeLogger(lastFlag(f, "log.level") ?? "warn");
        process.stdout.write(await analyze(dir, Number(limitS), logger));
        return 0;
      }
      default:
        process.stderr.write(`unknown tsdb command ${JSON.stringify(sub)}\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`shoal tsdb ${sub}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ImportSyntaxError) {
      process.stderr.write(`shoal tsdb ${sub}: ${args.find((a) => !a.startsWith("-")) ?? ""}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`shoal tsdb ${sub}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
