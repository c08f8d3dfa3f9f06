/**
 * The line format of `shoal tsdb dump` and the parser behind `shoal tsdb import`.
 *
 * Dump prints `{__name__="m", a="b"} VALUE TIMESTAMP_MS` per sample (promtool's dump shape).
 * VALUE is the shortest decimal that parses back to the same float64 (`-0` kept), `+Inf`,
 * `-Inf`, `NaN` for the canonical quiet NaN, `StaleNaN` for Prometheus's staleness marker and
 * `NaN(0x…)` with the 64 raw bits for any other NaN payload — so every value round-trips
 * bit-exact through import.
 *
 * Import reads OpenMetrics (what `promtool tsdb create-blocks-from openmetrics` takes: a `# EOF`
 * line, timestamps in seconds) or the Prometheus text format with millisecond timestamps (which
 * includes dump's output). Every sample needs a timestamp, as in promtool; comment, HELP, TYPE
 * and UNIT lines are skipped; exemplars (` # {…} …`) are ignored.
 */
import { STALE_NAN_HI, STALE_NAN_LO, labelsFromPairs, type Labels } from "../../model/index.ts";

export class ImportSyntaxError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const f64 = new Float64Array(1);
const w32 = new Uint32Array(f64.buffer);

/** Formats the value at values[i] by its bits. */
export function formatValueAt(values: Float64Array, i: number): string {
  const v = values[i]!;
  if (v === v) {
    if (v === 0 && 1 / v < 0) return "-0";
    if (v === Infinity) return "+Inf";
    if (v === -Infinity) return "-Inf";
    return String(v);
  }
  const w = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  const lo = w[0]!;
  const hi = w[1]!;
  if (hi === STALE_NAN_HI && lo === STALE_NAN_LO) return "StaleNaN";
  if (hi === 0x7ff80000 && lo === 0) return "NaN";
  return `NaN(0x${hi.toString(16).padStart(8, "0")}${lo.toString(16).padStart(8, "0")})`;
}

/** Parses a value token into its (hi, lo) bits; null when it is not a number. */
function parseValueBits(tok: string): [number, number] | null {
  switch (tok) {
    case "StaleNaN":
      return [STALE_NAN_HI, STALE_NAN_LO];
    case "NaN":
    case "nan":
      return [0x7ff80000, 0];
    case "+Inf":
    case "Inf":
    case "+inf":
    case "inf":
      f64[0] = Infinity;
      return [w32[1]!, w32[0]!];
    case "-Inf":
    case "-inf":
      f64[0] = -Infinity;
      return [w32[1]!, w32[0]!];
  }
  const m = /^NaN\(0x([0-9a-fA-F]{16})\)$/.exec(tok);
  if (m) return [parseInt(m[1]!.slice(0, 8), 16) >>> 0, parseInt(m[1]!.slice(8), 16) >>> 0];
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(tok) && !/^[+-]?0[xX][0-9a-fA-F]+$/.test(tok)) return null;
  f64[0] = Number(tok);
  if (Number.isNaN(f64[0])) return null;
  return [w32[1]!, w32[0]!];
}

export interface ParsedSample {
  labels: Labels;
  /** Stable key of the series text as written (for grouping before Labels are built). */
  key: string;
  t: number;
  hi: number;
  lo: number;
}

/** Reads a quoted string starting at s[i] === '"'; returns [value, index after the quote]. */
function readQuoted(s: string, i: number, line: number): [string, number] {
  let j = i + 1;
  let escaped = false;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (escaped) escaped = false;
    else if (c === 92) escaped = true;
    else if (c === 34) break;
  }
  if (j >= s.length) throw new ImportSyntaxError(line, "unterminated quoted string");
  const raw = s.slice(i, j + 1);
  try {
    return [JSON.parse(raw) as string, j + 1];
  } catch {
    throw new ImportSyntaxError(line, `invalid escape in ${raw}`);
  }
}

const NAME_RE = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_RE = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** Parses `name{l="v",...}` (name optional, quoted names allowed) from s at i. */
function readSeries(s: string, i: number, line: number): [Labels, number] {
  const pairs: [string, string][] = [];
  NAME_RE.lastIndex = i;
  const nm = NAME_RE.exec(s);
  if (nm) {
    pairs.push(["__name__", nm[0]]);
    i += nm[0].length;
  }
  if (s[i] === "{") {
    i++;
    const seen = new Set<string>();
    for (;;) {
      while (s[i] === " " || s[i] === "\t") i++;
      if (s[i] === "}") {
        i++;
        break;
      }
      let name: string;
      if (s[i] === '"') {
        [name, i] = readQuoted(s, i, line);
        while (s[i] === " ") i++;
        if (s[i] !== "=") {
          // A bare quoted string is the metric name (Prometheus 3 / UTF-8 syntax).
          if (pairs.some((p) => p[0] === "__name__")) throw new ImportSyntaxError(line, "metric name given twice");
          pairs.push(["__name__", name]);
          while (s[i] === " ") i++;
          if (s[i] === ",") i++;
          continue;
        }
      } else {
        LABEL_RE.lastIndex = i;
        const lm = LABEL_RE.exec(s);
        if (!lm) throw new ImportSyntaxError(line, `expected a label name at column ${i + 1}`);
        name = lm[0];
        i += name.length;
      }
      while (s[i] === " ") i++;
      if (s[i] !== "=") throw new ImportSyntaxError(line, `expected '=' after label ${name}`);
      i++;
      while (s[i] === " ") i++;
      if (s[i] !== '"') throw new ImportSyntaxError(line, `expected a quoted value for label ${name}`);
      let value: string;
      [value, i] = readQuoted(s, i, line);
      if (seen.has(name)) throw new ImportSyntaxError(line, `duplicate label ${name}`);
      seen.add(name);
      if (name === "__name__" && pairs.some((p) => p[0] === "__name__")) throw new ImportSyntaxError(line, "metric name given twice");
      pairs.push([name, value]);
      while (s[i] === " ") i++;
      if (s[i] === ",") i++;
      else if (s[i] !== "}") throw new ImportSyntaxError(line, `expected ',' or '}' at column ${i + 1}`);
    }
  }
  if (pairs.length === 0) throw new ImportSyntaxError(line, "expected a metric name or '{'");
  return [labelsFromPairs(pairs), i];
}

export type EmitSample = (labels: Labels, key: string, t: number, hi: number, lo: number, line: number) => void;

/**
 * Parses import input line by line, fed in pieces of whole lines (the file is streamed, never
 * held whole). `openMetrics` comes from the file's end (a `# EOF` line): timestamps are then
 * seconds, otherwise milliseconds.
 */
export class ImportParser {
  samples = 0;
  private lineNo = 0;
  private sawEOF = false;
  private readonly keyCache = new Map<string, Labels>();

  constructor(
    readonly openMetrics: boolean,
    private readonly emit: EmitSample,
  ) {}

  /** Parses `text`, which must end at a line boundary (or be the end of the input). */
  feed(text: string): void {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      this.line(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
  }

  private line(line: string): void {
    const lineNo = ++this.lineNo;
    const openMetrics = this.openMetrics;
    const keyCache = this.keyCache;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      if (line.trim() === "# EOF") this.sawEOF = true;
      return;
    }
    if (this.sawEOF) throw new ImportSyntaxError(lineNo, "data after # EOF");
    // Split off the series text (labels may contain spaces inside quotes).
    let i = 0;
    const braces = line.indexOf("{");
    const firstSpace = line.search(/[ \t]/);
    if (braces >= 0 && (firstSpace < 0 || braces < firstSpace)) {
      let inQuote = false;
      for (i = braces; i < line.length; i++) {
        const c = line[i];
        if (inQuote) {
          if (c === "\\") i++;
          else if (c === '"') inQuote = false;
        } else if (c === '"') inQuote = true;
        else if (c === "}") break;
      }
      i++;
    } else {
      i = firstSpace < 0 ? line.length : firstSpace;
    }
    const key = line.slice(0, i);
    let labels = keyCache.get(key);
    if (labels === undefined) {
      const [ls, after] = readSeries(key, 0, lineNo);
      if (after !== key.length) throw new ImportSyntaxError(lineNo, `unexpected text after the series: ${JSON.stringify(key.slice(after))}`);
      labels = ls;
      keyCache.set(key, labels);
    }
    const rest = line.slice(i);
    const hash = rest.indexOf(" # ");
    const fields = (hash >= 0 && openMetrics ? rest.slice(0, hash) : rest).trim().split(/[ \t]+/);
    if (fields.length === 0 || fields[0] === "") throw new ImportSyntaxError(lineNo, "missing value");
    if (fields.length < 2) throw new ImportSyntaxError(lineNo, "expected a timestamp for the sample (import needs one on every line)");
    if (fields.length > 2) throw new ImportSyntaxError(lineNo, `unexpected text after the timestamp: ${JSON.stringify(fields.slice(2).join(" "))}`);
    const bits = parseValueBits(fields[0]!);
    if (bits === null) throw new ImportSyntaxError(lineNo, `invalid value ${JSON.stringify(fields[0])}`);
    let t: number;
    if (openMetrics) {
      const sec = Number(fields[1]);
      if (!Number.isFinite(sec) || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(fields[1]!)) {
        throw new ImportSyntaxError(lineNo, `invalid timestamp ${JSON.stringify(fields[1])}`);
      }
      t = Math.round(sec * 1000);
    } else {
      if (!/^-?\d+$/.test(fields[1]!)) throw new ImportSyntaxError(lineNo, `invalid millisecond timestamp ${JSON.stringify(fields[1])}`);
      t = Number(fields[1]);
    }
    if (!Number.isSafeInteger(t)) throw new ImportSyntaxError(lineNo, `timestamp out of range: ${fields[1]}`);
    this.emit(labels, key, t, bits[0], bits[1], lineNo);
    this.samples++;
  }
}

/** Parses a whole text at once (small inputs and tests); see ImportParser. */
export function parseImportText(text: string, emit: EmitSample): { format: "openmetrics" | "text"; samples: number } {
  const p = new ImportParser(/(^|\n)# EOF\s*$/.test(text), emit);
  p.feed(text);
  return { format: p.openMetrics ? "openmetrics" : "text", samples: p.samples };
}
