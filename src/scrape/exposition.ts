/**
 * Parsers for the Prometheus text format 0.0.4 and OpenMetrics 1.0. A scrape body is parsed in
 * one pass into the parser's reusable columns (series text, value, timestamp, line) with no
 * object per sample: the series text (`name{labels}` exactly as written) is the scrape cache's
 * key, and only a cache miss turns it into Labels (parseSeriesKey). Any syntax error rejects the
 * whole body with an ExpositionError naming line and column.
 */
import { METRIC_NAME, type Label, type Labels } from "../model/index.ts";
import { numberOk, parseFloatToken, parseIntToken } from "./numbers.ts";

export type ExpositionFormat = "text" | "openmetrics";

export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

const TEXT_TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const OM_TYPES = new Set(["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]);

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;

/** Character classes of ASCII codes, one table lookup per character on the hot path. */
const NAME_START = 1;
const NAME_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  const digit = c >= 48 && c <= 57;
  CHAR_CLASS[c] = (letter || c === 58 ? NAME_START : 0) | (letter || digit || c === 58 ? NAME_CHAR : 0) | (letter ? LABEL_START : 0) | (letter || digit ? LABEL_CHAR : 0);
}
function isNameStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_START) !== 0;
}
function isNameChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_CHAR) !== 0;
}
function isLabelStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_START) !== 0;
}
function isLabelChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_CHAR) !== 0;
}

/** A short, quoted excerpt of what was found, for error messages. */
function found(s: string, pos: number, end: number): string {
  if (pos >= end) return "end of line";
  const t = s.slice(pos, Math.min(end, pos + 20));
  return JSON.stringify(t + (end - pos > 20 ? "…" : ""));
}

function unescape(s: string, start: number, end: number, quoteEscape: boolean): string {
  const seg = s.slice(start, end);
  const first = seg.indexOf("\\");
  if (first < 0) return seg;
  s = seg;
  end = seg.length;
  let i = first;
  let out = s.slice(0, i);
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < end) {
      const n = s.charCodeAt(i + 1);
      if (n === BACKSLASH) out += "\\";
      else if (n === 110) out += "\n";
      else if (n === QUOTE && quoteEscape) out += '"';
      else out += s.slice(i, i + 2);
      i += 2;
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}

/** Scanning state shared by the line parsers; `collect`, when set, receives the label pairs. */
class Scanner {
  s = "";
  lineNo = 0;
  lineStart = 0;
  lineEnd = 0;

  fail(pos: number, reason: string): never {
    throw new ExpositionError(this.lineNo, pos - this.lineStart + 1, reason);
  }

  /** Position of the next backslash at or after `nextBackslashFrom`; Infinity when none. */
  private nextBackslash = -1;
  private nextBackslashFrom = 0;

  reset(s: string): void {
    this.s = s;
    this.nextBackslash = -1;
    this.nextBackslashFrom = 0;
  }

  /**
   * The closing quote of a label value starting at `pos`. Searches natively (indexOf) and only
   * walks characters when a backslash lies before the quote; the next-backslash position is
   * remembered, so the whole body is searched for backslashes at most once.
   */
  closingQuote(pos: number): number {
    const s = this.s;
    const end = this.lineEnd;
    const start = pos;
    for (;;) {
      const q = s.indexOf('"', pos);
      if (q < 0 || q >= end) this.fail(start - 1, "unterminated label value");
      if (this.nextBackslashFrom > pos || this.nextBackslash < pos) {
        const b = s.indexOf("\\", pos);
        this.nextBackslash = b < 0 ? Infinity : b;
        this.nextBackslashFrom = pos;
      }
      const b = this.nextBackslash;
      if (b > q) return q;
      // An escape before the quote: step over it and search again.
      if (b + 1 >= end) this.fail(b, "unterminated escape in label value");
      pos = b + 2;
    }
  }

  skipBlanks(pos: number): number {
    const s = this.s;
    while (pos < this.lineEnd) {
      const c = s.charCodeAt(pos);
      if (c !== SPACE && c !== TAB) break;
      pos++;
    }
    return pos;
  }

  tokenEnd(pos: number): number {
    const s = this.s;
    while (pos < this.lineEnd) {
      const c = s.charCodeAt(pos);
      if (c === SPACE || c === TAB) break;
      pos++;
    }
    return pos;
  }

  metricName(pos: number): number {
    const s = this.s;
    if (pos >= this.lineEnd || !isNameStart(s.charCodeAt(pos))) {
      this.fail(pos, `expected metric name, got ${found(s, pos, this.lineEnd)}`);
    }
    pos++;
    while (pos < this.lineEnd && isNameChar(s.charCodeAt(pos))) pos++;
    return pos;
  }

  /**
   * Scans `{...}` starting at the brace; returns the position after `}`. The text format (as
   * Prometheus parses it) allows blanks around tokens, a trailing comma and even a missing
   * comma between pairs; OpenMetrics (`om`) allows none of these.
   */
  labels(pos: number, collect: Label[] | null, om = false): number {
    const s = this.s;
    const end = this.lineEnd;
    pos++;
    let afterComma = false;
    for (;;) {
      if (!om) pos = this.skipBlanks(pos);
      if (pos >= end) this.fail(pos, 'unexpected end of line in label set, expected "}"');
      let c = s.charCodeAt(pos);
      if (c === RBRACE && !(om && afterComma)) return pos + 1;
      if (!isLabelStart(c)) this.fail(pos, `expected label name${afterComma ? "" : ' or "}"'}, got ${found(s, pos, end)}`);
      const nameStart = pos;
      pos++;
      while (pos < end && isLabelChar(s.charCodeAt(pos))) pos++;
      const nameEnd = pos;
      if (!om) pos = this.skipBlanks(pos);
      if (pos >= end || s.charCodeAt(pos) !== EQUALS) this.fail(pos, `expected "=" after label name, got ${found(s, pos, end)}`);
      pos++;
      if (!om) pos = this.skipBlanks(pos);
      if (pos >= end || s.charCodeAt(pos) !== QUOTE) this.fail(pos, `expected quoted label value, got ${found(s, pos, end)}`);
      const valueStart = ++pos;
      pos = this.closingQuote(pos);
      if (collect !== null) collect.push({ name: s.slice(nameStart, nameEnd), value: unescape(s, valueStart, pos, true) });
      pos++;
      if (!om) pos = this.skipBlanks(pos);
      c = pos < end ? s.charCodeAt(pos) : -1;
      if (c === COMMA) {
        pos++;
        afterComma = true;
        continue;
      }
      if (c === RBRACE) return pos + 1;
      if (!om && isLabelStart(c)) {
        afterComma = false;
        continue;
      }
      this.fail(pos, `expected "," or "}" after label value, got ${found(s, pos, end)}`);
    }
  }
}

const keyScanner = new Scanner();
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * The labels of a series text (`name{a="1"}`) that the parser accepted. Throws for duplicate
 * label names, which the grammar alone does not catch.
 */
export function parseSeriesKey(key: string): Labels {
  const sc = keyScanner;
  sc.reset(key);
  sc.lineNo = 0;
  sc.lineStart = 0;
  sc.lineEnd = key.length;
  const nameEnd = sc.metricName(0);
  const pairs: Label[] = [{ name: METRIC_NAME, value: key.slice(0, nameEnd) }];
  const brace = sc.skipBlanks(nameEnd);
  if (brace < key.length && key.charCodeAt(brace) === LBRACE) sc.labels(brace, pairs);
  sc.s = "";
  // Few labels per series: an insertion sort beats a map and a general sort here.
  for (let i = 1; i < pairs.length; i++) {
    const x = pairs[i]!;
    let j = i - 1;
    while (j >= 0 && pairs[j]!.name > x.name) {
      pairs[j + 1] = pairs[j]!;
      j--;
    }
    pairs[j + 1] = x;
  }
  let empty = false;
  for (let i = 0; i < pairs.length; i++) {
    if (i > 0 && pairs[i]!.name === pairs[i - 1]!.name) {
      throw new Error(`label name ${JSON.stringify(pairs[i]!.name)} is not unique in ${key}`);
    }
    if (pairs[i]!.value === "") empty = true;
  }
  return empty ? pairs.filter((l) => l.value !== "") : pairs;
}

/**
 * Keeps columns between scrapes; read `count` entries after `parse`. A sample's series text
 * is not sliced out of the body: it is a range (`keyStart`/`keyEnd`) with a 32-bit FNV-1a hash
 * (`keyHash`), so a scrape-cache hit costs no allocation; `key(i)` slices it on a miss.
 */
export class ExpositionParser {
  count = 0;
  keyStart = new Int32Array(256);
  keyEnd = new Int32Array(256);
  keyHash = new Int32Array(256);
  values = new Float64Array(256);
  /** Milliseconds; NaN when the sample had no timestamp. */
  timestamps = new Float64Array(256);
  lines = new Int32Array(256);
  /** Per metric family: from HELP/TYPE/UNIT lines of the last parse. */
  metadata = new Map<string, MetricMetadata>();

  private readonly sc = new Scanner();

  /** The body of the last parse (the key ranges point into it). */
  private body = "";

  parse(body: string, format: ExpositionFormat): void {
    this.count = 0;
    this.metadata.clear();
    this.body = body;
    const sc = this.sc;
    sc.reset(body);
    try {
      if (format === "openmetrics") this.parseOpenMetrics(body);
      else this.parseText(body);
    } finally {
      sc.s = "";
    }
  }

  /** The series text of sample i, as its own string (not a view that keeps the body alive). */
  key(i: number): string {
    // A substring would keep the whole body alive for as long as the cache holds the key (and
    // the labels sliced from it); a round trip through UTF-8 makes an independent copy.
    return utf8Decoder.decode(utf8Encoder.encode(this.body.substring(this.keyStart[i]!, this.keyEnd[i]!)));
  }

  /** Whether sample i's series text equals `key`, without slicing the body. */
  keyEquals(i: number, key: string): boolean {
    const start = this.keyStart[i]!;
    return this.keyEnd[i]! - start === key.length && this.body.startsWith(key, start);
  }

  /** Drops the reference to the last body once its samples are consumed. */
  release(): void {
    this.body = "";
  }

  private grow(): void {
    const n = this.values.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.values = f64(this.values);
    this.timestamps = f64(this.timestamps);
    this.lines = i32(this.lines);
    this.keyStart = i32(this.keyStart);
    this.keyEnd = i32(this.keyEnd);
    this.keyHash = i32(this.keyHash);
  }

  private push(start: number, end: number, v: number, t: number, line: number): void {
    const i = this.count;
    if (i === this.values.length) this.grow();
    const s = this.sc.s;
    let h = 0x811c9dc5 | 0;
    for (let j = start; j < end; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
    this.keyStart[i] = start;
    this.keyEnd[i] = end;
    this.keyHash[i] = h;
    this.values[i] = v;
    this.timestamps[i] = t;
    this.lines[i] = line;
    this.count = i + 1;
  }

  private meta(name: string): MetricMetadata {
    let m = this.metadata.get(name);
    if (m === undefined) {
      m = { type: "unknown", help: "", unit: "" };
      this.metadata.set(name, m);
    }
    return m;
  }

  private parseText(s: string): void {
    const sc = this.sc;
    const n = s.length;
    let pos = 0;
    sc.lineNo = 0;
    while (pos < n) {
      sc.lineNo++;
      sc.lineStart = pos;
      let eol = s.indexOf("\n", pos);
      if (eol < 0) eol = n;
      sc.lineEnd = eol;
      const p = sc.skipBlanks(pos);
      if (p < sc.lineEnd) {
        if (s.charCodeAt(p) === HASH) this.textComment(p);
        else if (p !== pos) sc.fail(pos, "unexpected blank before metric name");
        else this.sample(p, false);
      }
      pos = eol + 1;
    }
  }

  private textComment(p: number): void {
    const sc = this.sc;
    const s = sc.s;
    let pos = sc.skipBlanks(p + 1);
    const wordEnd = sc.tokenEnd(pos);
    const word = wordEnd - pos === 4 ? s.slice(pos, wordEnd) : "";
    if ((word !== "HELP" && word !== "TYPE") || wordEnd === sc.lineEnd) return;
    pos = sc.skipBlanks(wordEnd);
    const nameStart = pos;
    const nameEnd = sc.metricName(pos);
    if (nameEnd < sc.lineEnd && s.charCodeAt(nameEnd) !== SPACE && s.charCodeAt(nameEnd) !== TAB) {
      sc.fail(nameEnd, `invalid metric name in ${word} line`);
    }
    const m = this.meta(s.slice(nameStart, nameEnd));
    pos = sc.skipBlanks(nameEnd);
    if (word === "HELP") {
      m.help = unescape(s, pos, sc.lineEnd, false);
      return;
    }
    const typeEnd = sc.tokenEnd(pos);
    const type = s.slice(pos, typeEnd);
    if (!TEXT_TYPES.has(type)) sc.fail(pos, `invalid metric type ${JSON.stringify(type)}`);
    if (sc.skipBlanks(typeEnd) !== sc.lineEnd) sc.fail(typeEnd, `unexpected ${found(s, typeEnd, sc.lineEnd)} after metric type`);
    m.type = type === "untyped" ? "unknown" : type;
  }

  /** One sample line in either format; `om` selects OpenMetrics' single-space rules. */
  private sample(p: number, om: boolean): void {
    const sc = this.sc;
    const s = sc.s;
    const end = sc.lineEnd;
    const nameEnd = sc.metricName(p);
    let keyEnd = nameEnd;
    const brace = om ? nameEnd : sc.skipBlanks(nameEnd);
    const hasLabels = brace < end && s.charCodeAt(brace) === LBRACE;
    if (hasLabels) keyEnd = sc.labels(brace, null, om);
    let pos = om ? this.singleSpace(keyEnd) : sc.skipBlanks(keyEnd);
    // The text format needs a blank after a bare name, not after `}`.
    if (pos === keyEnd && !om && !hasLabels) sc.fail(pos, `expected value after metric, got ${found(s, pos, end)}`);
    if (pos >= end) sc.fail(pos, "expected value after metric, got end of line");
    const valueEnd = sc.tokenEnd(pos);
    const v = parseFloatToken(s, pos, valueEnd);
    if (!numberOk) sc.fail(pos, `invalid value ${found(s, pos, valueEnd)}`);
    let t = NaN;
    pos = om ? valueEnd : sc.skipBlanks(valueEnd);
    if (om && pos < end) {
      pos = this.singleSpace(pos);
      if (s.charCodeAt(pos) !== HASH) {
        const tsEnd = sc.tokenEnd(pos);
        const sec = parseFloatToken(s, pos, tsEnd);
        if (!numberOk || !Number.isFinite(sec)) sc.fail(pos, `invalid timestamp ${found(s, pos, tsEnd)}`);
        t = Math.trunc(sec * 1000);
        pos = tsEnd;
        if (pos < end) pos = this.singleSpace(pos);
      }
      if (pos < end) this.exemplar(pos);
    } else if (!om && pos < end) {
      const tsEnd = sc.tokenEnd(pos);
      t = parseIntToken(s, pos, tsEnd);
      if (!numberOk) sc.fail(pos, `invalid timestamp ${found(s, pos, tsEnd)}`);
      pos = sc.skipBlanks(tsEnd);
      if (pos < end) sc.fail(pos, `unexpected ${found(s, pos, end)} after timestamp`);
    }
    this.push(p, keyEnd, v, t, sc.lineNo);
  }

  private singleSpace(pos: number): number {
    const sc = this.sc;
    if (pos >= sc.lineEnd || sc.s.charCodeAt(pos) !== SPACE) sc.fail(pos, `expected a single space, got ${found(sc.s, pos, sc.lineEnd)}`);
    if (pos + 1 >= sc.lineEnd || sc.s.charCodeAt(pos + 1) === SPACE) sc.fail(pos + 1, "unexpected extra space or end of line");
    return pos + 1;
  }

  /** `# {labels} value [timestamp]` after an OpenMetrics sample: checked, then ignored. */
  private exemplar(pos: number): void {
    const sc = this.sc;
    const s = sc.s;
    const end = sc.lineEnd;
    if (s.charCodeAt(pos) !== HASH) sc.fail(pos, `expected timestamp or exemplar, got ${found(s, pos, end)}`);
    pos = this.singleSpace(pos + 1);
    if (s.charCodeAt(pos) !== LBRACE) sc.fail(pos, `expected exemplar label set, got ${found(s, pos, end)}`);
    pos = this.singleSpace(sc.labels(pos, null, true));
    const valueEnd = sc.tokenEnd(pos);
    parseFloatToken(s, pos, valueEnd);
    if (!numberOk) sc.fail(pos, `invalid exemplar value ${found(s, pos, valueEnd)}`);
    pos = valueEnd;
    if (pos < end) {
      pos = this.singleSpace(pos);
      const tsEnd = sc.tokenEnd(pos);
      parseFloatToken(s, pos, tsEnd);
      if (!numberOk || tsEnd !== end) sc.fail(pos, `invalid exemplar timestamp ${found(s, pos, end)}`);
    }
  }

  private parseOpenMetrics(s: string): void {
    const sc = this.sc;
    const n = s.length;
    let pos = 0;
    sc.lineNo = 0;
    let sawEOF = false;
    while (pos < n) {
      sc.lineNo++;
      sc.lineStart = pos;
      let eol = s.indexOf("\n", pos);
      if (eol < 0) eol = n;
      sc.lineEnd = eol;
      if (sawEOF) sc.fail(pos, "unexpected data after # EOF");
      if (eol === pos) sc.fail(pos, "unexpected empty line");
      if (s.charCodeAt(pos) === HASH) sawEOF = this.omComment(pos);
      else this.sample(pos, true);
      pos = eol + 1;
    }
    if (!sawEOF) {
      sc.lineStart = pos;
      throw new ExpositionError(Math.max(1, sc.lineNo + (n > 0 && s.charCodeAt(n - 1) === 10 ? 1 : 0)), 1, "data does not end with # EOF");
    }
  }

  /** Returns true for the `# EOF` line. */
  private omComment(p: number): boolean {
    const sc = this.sc;
    const s = sc.s;
    const end = sc.lineEnd;
    if (end - p === 5 && s.startsWith("# EOF", p)) return true;
    if (p + 1 >= end || s.charCodeAt(p + 1) !== SPACE) sc.fail(p + 1, `expected "# HELP", "# TYPE", "# UNIT" or "# EOF", got ${found(s, p, end)}`);
    const wordEnd = sc.tokenEnd(p + 2);
    const word = s.slice(p + 2, wordEnd);
    if (word !== "HELP" && word !== "TYPE" && word !== "UNIT") {
      sc.fail(p + 2, `expected "# HELP", "# TYPE", "# UNIT" or "# EOF", got ${found(s, p, end)}`);
    }
    const nameStart = this.singleSpace(wordEnd);
    const nameEnd = sc.metricName(nameStart);
    const name = s.slice(nameStart, nameEnd);
    const m = this.meta(name);
    let pos = nameEnd;
    if (word === "HELP") {
      if (pos >= end) sc.fail(pos, "expected text in HELP");
      if (s.charCodeAt(pos) !== SPACE) sc.fail(pos, "invalid metric name in HELP line");
      m.help = unescape(s, pos + 1, end, true);
      return false;
    }
    pos = this.singleSpace(pos);
    const valEnd = sc.tokenEnd(pos);
    if (valEnd !== end) sc.fail(valEnd, `unexpected ${found(s, valEnd, end)} after ${word}`);
    const val = s.slice(pos, end);
    if (word === "TYPE") {
      if (!OM_TYPES.has(val)) sc.fail(pos, `invalid metric type ${JSON.stringify(val)}`);
      m.type = val;
    } else {
      if (!name.endsWith(val)) sc.fail(pos, `unit ${JSON.stringify(val)} not a suffix of metric ${JSON.stringify(name)}`);
      m.unit = val;
    }
    return false;
  }
}
