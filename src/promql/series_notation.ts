/**
 * The series notation of PromQL test scripts and of promtool's rule unit tests:
 * `metric{a="b"} 1+2x3 _ stale {{...}}`. Values expand as promtool's do: `a+bxn` is a then n more
 * values each b larger, `axn` repeats a n+1 times, `_` is a missing sample, `_xn` n missing
 * samples, `stale` a staleness marker, `{{...}}` a native histogram (kept as text; Shoal does not
 * evaluate them). Shared by the PromQL test-script runner and `shoal test rules`.
 */
import { labelsFromPairs, type Labels } from "../model/index.ts";

export interface SeqValue {
  value: number;
  omitted: boolean;
  stale: boolean;
  /** Text of a native histogram literal, when the value is one. */
  histogram: string | null;
}

const NUM = String.raw`[+-]?(?:Inf|inf|NaN|nan|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)`;
const SEQ_RE = new RegExp(`^(${NUM})(?:([+-])(${NUM}))?(?:x([0-9]+))?$`);

export function parseSeriesNumber(s: string): number {
  let t = s;
  let sign = 1;
  if (t.startsWith("+")) t = t.slice(1);
  else if (t.startsWith("-")) {
    sign = -1;
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  if (lower === "inf") return sign * Infinity;
  if (lower === "nan") return NaN;
  if (/^0x[0-9a-f]+$/i.test(t)) return sign * parseInt(t, 16);
  if (!/^(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)$/.test(t)) throw new Error(`bad number ${JSON.stringify(s)}`);
  return sign * Number(t);
}

function value(v: number): SeqValue {
  return { value: v, omitted: false, stale: false, histogram: null };
}

/** Expands one whitespace-free value token (or a histogram token) into its values. */
function expandToken(tok: string): SeqValue[] {
  if (tok.startsWith("{{")) {
    // {{...}}, {{...}}xN, {{...}}+{{...}}xN
    const end = tok.indexOf("}}");
    const first = tok.slice(0, end + 2);
    let rest = tok.slice(end + 2);
    let n = 0;
    if (rest.startsWith("+") || rest.startsWith("-")) {
      const e2 = rest.indexOf("}}");
      rest = rest.slice(e2 + 2);
    }
    if (rest.startsWith("x")) n = Number(rest.slice(1));
    const out: SeqValue[] = [];
    for (let i = 0; i <= n; i++) out.push({ value: 0, omitted: false, stale: false, histogram: first });
    return out;
  }
  if (tok === "_") return [{ value: 0, omitted: true, stale: false, histogram: null }];
  const blanks = /^_x([0-9]+)$/.exec(tok);
  if (blanks) {
    const out: SeqValue[] = [];
    for (let i = 0; i < Number(blanks[1]); i++) out.push({ value: 0, omitted: true, stale: false, histogram: null });
    return out;
  }
  if (tok === "stale") return [{ value: NaN, omitted: false, stale: true, histogram: null }];
  const m = SEQ_RE.exec(tok);
  if (!m) throw new Error(`bad series value ${JSON.stringify(tok)}`);
  const start = parseSeriesNumber(m[1]!);
  if (m[4] === undefined) {
    if (m[2] !== undefined) throw new Error(`bad series value ${JSON.stringify(tok)}: missing xN`);
    return [value(start)];
  }
  const n = Number(m[4]);
  let delta = 0;
  if (m[2] !== undefined) delta = (m[2] === "-" ? -1 : 1) * parseSeriesNumber(m[3]!);
  const out: SeqValue[] = [];
  // Accumulate like Prometheus does (repeated addition), so float rounding matches.
  let cur = start;
  for (let i = 0; i <= n; i++) {
    out.push(value(cur));
    cur += delta;
  }
  return out;
}

/** Splits the value part into tokens, keeping `{{ ... }}` (which contains spaces) together. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let j = i;
    let depth = 0;
    while (j < s.length) {
      if (s.startsWith("{{", j)) {
        depth++;
        j += 2;
        continue;
      }
      if (s.startsWith("}}", j) && depth > 0) {
        depth--;
        j += 2;
        continue;
      }
      if (depth === 0 && /\s/.test(s[j]!)) break;
      j++;
    }
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

export function unquoteGoString(s: string): string {
  const q = s[0];
  const body = s.slice(1, -1);
  if (q === "`") return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = body[++i]!;
    switch (n) {
      case "n":
        out += "\n";
        break;
      case "t":
        out += "\t";
        break;
      case "r":
        out += "\r";
        break;
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "v":
        out += "\v";
        break;
      case "x":
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (/[0-7]/.test(n)) {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else out += n;
    }
  }
  return out;
}

/** Reads a quoted string starting at s[i]; returns [value, index after the closing quote]. */
function readQuoted(s: string, i: number): [string, number] {
  const q = s[i]!;
  let j = i + 1;
  while (j < s.length && s[j] !== q) {
    if (s[j] === "\\" && q !== "`") j++;
    j++;
  }
  return [unquoteGoString(s.slice(i, j + 1)), j + 1];
}

/** Parses `name{a="b", ...}` at the start of s; returns the labels and the rest of the line. */
export function parseSeriesLabels(s: string): { labels: Labels; rest: string } {
  let i = 0;
  const pairs: [string, string][] = [];
  const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (nm) {
    pairs.push(["__name__", nm[0]]);
    i = nm[0].length;
  }
  if (s[i] === "{") {
    i++;
    for (;;) {
      while (/\s/.test(s[i] ?? "")) i++;
      if (s[i] === "}") {
        i++;
        break;
      }
      let name: string;
      if (s[i] === '"' || s[i] === "'" || s[i] === "`") {
        [name, i] = readQuoted(s, i);
      } else {
        const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
        if (!m) throw new Error(`bad label name at ${JSON.stringify(s.slice(i))}`);
        name = m[0];
        i += name.length;
      }
      while (/\s/.test(s[i] ?? "")) i++;
      if (s[i] === "=") {
        i++;
        while (/\s/.test(s[i] ?? "")) i++;
        let v: string;
        [v, i] = readQuoted(s, i);
        pairs.push([name, v]);
      } else {
        pairs.push(["__name__", name]);
      }
      while (/\s/.test(s[i] ?? "")) i++;
      if (s[i] === ",") i++;
    }
  }
  if (pairs.length === 0 && !s.startsWith("{")) throw new Error(`bad series description ${JSON.stringify(s)}`);
  return { labels: labelsFromPairs(pairs), rest: s.slice(i) };
}

/** Expands a value sequence (`1+1x3 _ stale`) into its values, one per step. */
export function parseSeriesValues(text: string): SeqValue[] {
  const values: SeqValue[] = [];
  for (const tok of tokenize(text)) values.push(...expandToken(tok));
  return values;
}

/** A whole series line: its label set, then its values. */
export function parseSeriesDesc(line: string): { labels: Labels; values: SeqValue[] } {
  const { labels, rest } = parseSeriesLabels(line.trim());
  return { labels, values: parseSeriesValues(rest) };
}
