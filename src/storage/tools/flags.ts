/** A small flag reader for the tsdb sub-commands: `--name value`, `--name=value`, repeatable. */
export class FlagError extends Error {}

export interface ParsedFlags {
  positional: string[];
  values: Map<string, string[]>;
}

export function parseFlags(args: readonly string[], known: ReadonlySet<string>, booleans: ReadonlySet<string> = new Set()): ParsedFlags {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--") || a === "--") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!known.has(name) && !booleans.has(name)) throw new FlagError(`unknown flag --${name}`);
    let value: string;
    if (booleans.has(name)) value = eq < 0 ? "true" : a.slice(eq + 1);
    else if (eq >= 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new FlagError(`flag --${name} needs a value`);
      value = args[++i]!;
    }
    const list = values.get(name) ?? [];
    list.push(value);
    values.set(name, list);
  }
  return { positional, values };
}

export function lastFlag(f: ParsedFlags, name: string): string | undefined {
  const l = f.values.get(name);
  return l === undefined ? undefined : l[l.length - 1];
}

/** Prometheus durations: 1y2w3d4h5m6s7ms (units in descending order). */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let i = 0;
  let total = 0;
  if (s === "0") return 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) throw new FlagError(`invalid duration ${JSON.stringify(s)} (e.g. 2h, 15d, 1h30m)`);
    total += Number(m[1]) * units[m[2]!]!;
    i = re.lastIndex;
  }
  if (s.length === 0) throw new FlagError("empty duration");
  return total;
}

/** A time flag: integer milliseconds, or an RFC 3339 date. */
export function parseTimeFlag(name: string, s: string): number {
  if (/^-?\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new FlagError(`--${name}: expected milliseconds since the epoch or an RFC 3339 time, got ${JSON.stringify(s)}`);
  return t;
}
