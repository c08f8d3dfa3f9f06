/**
 * The one command-line flag reader, for the node and every sub-command: Prometheus's flag
 * syntax (`--flag=value`, `--flag value`, booleans as `--flag` / `--no-flag` / `--flag=false`),
 * rows that say each flag's kind, default and help, and one `--help` layout. Rooms contribute
 * rows (the cluster its `--cluster.*` flags); whoever parses a command line assembles a table
 * from them and reads it here, so a flag means the same and fails with the same words wherever
 * it is given.
 */
import { parseByteSize } from "./byte_size.ts";
import { parseDuration } from "./duration.ts";

export type FlagKind = "string" | "duration" | "size" | "int" | "bool" | "list";

export interface FlagSpec {
  /** Without the leading dashes, e.g. "storage.tsdb.path". */
  readonly name: string;
  /** `list` is comma separated and repeatable (its items add up). */
  readonly kind: FlagKind;
  /** Textual default as --help and /api/v1/status/flags show it ("" means none). */
  readonly def: string;
  readonly help: string;
  /** The only values the flag takes. */
  readonly choices?: readonly string[];
  /** A string flag given several times keeps every value (read them with `Flags.all`). */
  readonly repeatable?: boolean;
  /** What --help shows for the value, instead of the kind (e.g. "<selector>"). */
  readonly placeholder?: string;
}

/** A command line the flag table refuses; the message names the flag and what was wrong. */
export class FlagError extends Error {}

export interface ParseFlagsOptions {
  /** Arguments that are not flags are collected (otherwise they are errors). */
  readonly positionals?: boolean;
  /** `--version` is recognised (the node has one; sub-commands do not). */
  readonly version?: boolean;
}

/** Parsed flags: raw text by name (for /status/flags) plus typed accessors. */
export class Flags {
  constructor(
    /** Every known flag with its effective textual value (default when not given). */
    readonly values: ReadonlyMap<string, string>,
    /** Names given explicitly on the command line. */
    readonly given: ReadonlySet<string>,
    readonly help: boolean,
    readonly version: boolean,
    /** Arguments that are not flags, in order (only when the parser was asked to keep them). */
    readonly positionals: readonly string[] = [],
    /** Every value of repeatable flags, in order. */
    private readonly occurrences: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {}

  string(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new FlagError(`unknown flag --${name}`);
    return v;
  }

  bool(name: string): boolean {
    return this.string(name) === "true";
  }

  durationMs(name: string): number {
    return parseDuration(this.string(name));
  }

  bytes(name: string): number {
    return parseByteSize(this.string(name));
  }

  int(name: string): number {
    return Number.parseInt(this.string(name), 10);
  }

  /** A list flag's items: every occurrence, each split at commas, blanks dropped. */
  list(name: string): string[] {
    return this.string(name)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** Every value a repeatable flag was given, in order (none when it was not given). */
  all(name: string): readonly string[] {
    this.string(name);
    return this.occurrences.get(name) ?? [];
  }

  /** Flags as Prometheus's /api/v1/status/flags shows them: every flag, textual values. */
  toRecord(): Record<string, string> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function validate(spec: FlagSpec, value: string): void {
  const what = `invalid value ${JSON.stringify(value)} for flag --${spec.name}`;
  try {
    switch (spec.kind) {
      case "duration":
        parseDuration(value);
        break;
      case "size":
        parseByteSize(value);
        break;
      case "int":
        if (!/^-?\d+$/.test(value)) throw new FlagError("not an integer");
        break;
      case "bool":
        if (value !== "true" && value !== "false") throw new FlagError("expected true or false");
        break;
      default:
        break;
    }
  } catch (e) {
    throw new FlagError(`${what}: ${(e as Error).message}`);
  }
  if (spec.choices !== undefined && !spec.choices.includes(value)) {
    throw new FlagError(`${what}: expected one of ${spec.choices.join(", ")}`);
  }
}

/** Parses argv against `specs`; throws FlagError naming the offending flag or argument. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], options: ParseFlagsOptions = {}): Flags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string>(specs.map((s) => [s.name, s.def]));
  const occurrences = new Map<string, string[]>();
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--version" && options.version) {
      version = true;
      continue;
    }
    if (options.positionals) {
      if (arg === "--") {
        positionals.push(...argv.slice(i + 1));
        break;
      }
      if (arg === "-" || !arg.startsWith("-")) {
        positionals.push(arg);
        continue;
      }
      if (!arg.startsWith("--")) throw new FlagError(`unknown flag ${arg}`);
    }
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith("no-") && value === undefined) {
      const negated = byName.get(name.slice(3));
      if (negated && negated.kind === "bool") {
        spec = negated;
        name = negated.name;
        value = "false";
      }
    }
    if (!spec) throw new FlagError(`unknown flag --${name}`);
    if (value === undefined) {
      if (spec.kind === "bool") value = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new FlagError(`expected a value for flag --${name}`);
        value = next;
        i++;
      }
    }
    validate(spec, value);
    given.add(name);
    if (spec.kind === "list" || spec.repeatable) {
      const all = occurrences.get(name) ?? [];
      all.push(value);
      occurrences.set(name, all);
      values.set(name, all.join(","));
    } else {
      values.set(name, value);
    }
  }
  return new Flags(values, given, help, version, positionals, occurrences);
}

export interface HelpText {
  /** Usage lines, without the leading "usage: ". */
  readonly usage: readonly string[];
  readonly description: string;
  /** Titled paragraphs between the description and the flags (e.g. "Commands"). */
  readonly sections?: readonly { readonly title: string; readonly lines: readonly string[] }[];
  readonly flags: readonly FlagSpec[];
  /** Adds `--version` to the listed flags. */
  readonly version?: boolean;
}

/** The one --help layout: usage, description, sections, then one entry per flag with its default. */
export function formatHelp(h: HelpText): string {
  const lines = h.usage.map((u, i) => `${i === 0 ? "usage: " : "       "}${u}`);
  lines.push("", h.description);
  for (const section of h.sections ?? []) lines.push("", `${section.title}:`, ...section.lines);
  lines.push("", "Flags:", "  -h, --help                 Show this help.");
  if (h.version) lines.push("      --version              Show the version.");
  for (const s of h.flags) {
    const value = s.kind === "bool" ? "" : `=${s.placeholder ?? `<${s.kind}>`}`;
    const def = s.def !== "" && s.kind !== "bool" ? ` (default: ${s.def})` : "";
    lines.push(`      --${s.name}${value}`);
    lines.push(`          ${s.help}${def}`);
  }
  return lines.join("\n") + "\n";
}
