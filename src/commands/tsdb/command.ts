/**
 * `shoal tsdb import|dump|analyze`: operator tools working on a stopped node's data directory
 * (`--storage.tsdb.path`, default ./data). The engines are storage's; this file reads the
 * command line and reports. Returns the process exit code.
 */
import { createLogger, FlagError, formatHelp, parseFlags, type FlagSpec, type Flags, type LogLevel } from "../../model/index.ts";
import { analyze, dump, ImportSyntaxError, importFile } from "../../storage/index.ts";
import { ANALYZE_FLAGS, DUMP_FLAGS, IMPORT_FLAGS, parseTimeFlag } from "./flags.ts";
import { parseSelector } from "./selector.ts";

interface TsdbVerb {
  readonly usage: string;
  readonly what: string;
  readonly flags: readonly FlagSpec[];
  readonly run: (f: Flags) => Promise<number>;
}

const VERBS: ReadonlyMap<string, TsdbVerb> = new Map([
  [
    "import",
    {
      usage: "shoal tsdb import FILE [<flags>]",
      what:
        'Backfill OpenMetrics (with "# EOF", timestamps in seconds, as promtool accepts) or Prometheus text with ' +
        "millisecond timestamps (e.g. dump's output) into blocks.",
      flags: IMPORT_FLAGS,
      run: runImport,
    },
  ],
  [
    "dump",
    {
      usage: "shoal tsdb dump [<flags>]",
      what: 'Print every sample as "{labels} value timestamp_ms", sorted by series then time.',
      flags: DUMP_FLAGS,
      run: runDump,
    },
  ],
  [
    "analyze",
    {
      usage: "shoal tsdb analyze [<flags>]",
      what: "Series, samples, label cardinality and bytes per sample.",
      flags: ANALYZE_FLAGS,
      run: runAnalyze,
    },
  ],
]);

/** `shoal tsdb --help`: every verb, what it does and which flags it takes. */
function tsdbHelp(): string {
  const lines: string[] = [];
  for (const [name, v] of VERBS) {
    lines.push(`  ${name}`, `      ${v.what}`, `      Flags: ${v.flags.map((f) => `--${f.name}`).join(", ")} (see shoal tsdb ${name} --help).`);
  }
  return formatHelp({
    usage: [...VERBS.values()].map((v) => v.usage),
    description: "Tools for a stopped node's data directory.",
    sections: [{ title: "Commands", lines }],
    flags: [],
  });
}

function verbHelp(v: TsdbVerb): string {
  return formatHelp({ usage: [v.usage], description: v.what, flags: v.flags });
}

function loggerFor(f: Flags) {
  return createLogger({ level: f.string("log.level") as LogLevel });
}

function noPositionals(f: Flags): void {
  if (f.positionals.length > 0) throw new FlagError(`unexpected argument ${JSON.stringify(f.positionals[0])}`);
}

async function runImport(f: Flags): Promise<number> {
  if (f.positionals.length !== 1) throw new FlagError("import needs exactly one FILE argument");
  const dir = f.string("storage.tsdb.path");
  const blockMs = f.durationMs("max-block-duration");
  if (blockMs <= 0) throw new FlagError("--max-block-duration must be positive");
  const r = await importFile(f.positionals[0]!, dir, blockMs, loggerFor(f));
  process.stdout.write(
    `imported ${r.samples} samples of ${r.series} series (${r.format} format` +
      (r.samples > 0 ? `, ${r.minTime}..${r.maxTime} ms` : "") +
      `) into ${r.blocksWritten} block(s) in ${dir}` +
      (r.duplicatesDropped > 0 ? `; ${r.duplicatesDropped} identical duplicate(s) dropped` : "") +
      "\n",
  );
  return 0;
}

async function runDump(f: Flags): Promise<number> {
  noPositionals(f);
  const selectors = f.all("match").map(parseSelector);
  const minS = f.string("min-time");
  const maxS = f.string("max-time");
  const mint = minS === "" ? -Number.MAX_SAFE_INTEGER : parseTimeFlag("min-time", minS);
  const maxt = maxS === "" ? Number.MAX_SAFE_INTEGER : parseTimeFlag("max-time", maxS);
  const sink = Bun.stdout.writer();
  await dump(f.string("storage.tsdb.path"), selectors, mint, maxt, loggerFor(f), async (s) => {
    sink.write(s);
    await sink.flush();
  });
  await sink.end();
  return 0;
}

async function runAnalyze(f: Flags): Promise<number> {
  noPositionals(f);
  const limit = f.int("limit");
  if (limit < 0) throw new FlagError(`--limit: expected a number, got ${JSON.stringify(f.string("limit"))}`);
  process.stdout.write(await analyze(f.string("storage.tsdb.path"), limit, loggerFor(f)));
  return 0;
}

export async function runTsdbCommand(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  // Without a verb, or with only flags, the command says what it takes.
  if (name === undefined || name === "help" || name.startsWith("-")) {
    process.stdout.write(tsdbHelp());
    return 0;
  }
  const verb = VERBS.get(name);
  if (verb === undefined) {
    process.stderr.write(`unknown tsdb command ${JSON.stringify(name)}\n${tsdbHelp()}`);
    return 2;
  }
  let file = "";
  try {
    const f = parseFlags(rest, verb.flags, { positionals: true });
    file = f.positionals[0] ?? "";
    if (f.help) {
      process.stdout.write(verbHelp(verb));
      return 0;
    }
    return await verb.run(f);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`shoal tsdb ${name}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ImportSyntaxError) {
      process.stderr.write(`shoal tsdb ${name}: ${file}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`shoal tsdb ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
