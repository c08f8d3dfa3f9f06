/**
 * The PromQL lexer: a hand-written scanner that turns a query into tokens the way Prometheus's
 * lexer does (same token kinds, same keyword rules, same error texts), plus the decoding of the
 * literals it produces (numbers, durations, quoted strings) with Go's rules.
 */
import { decodeUtf8Escaped, goQuoteRune, goQuoteString, goRuneU } from "../model/index.ts";

export type TokenKind =
  | "EOF"
  | "ERROR"
  | "IDENTIFIER"
  | "METRIC_IDENTIFIER"
  | "NUMBER"
  | "DURATION"
  | "STRING"
  | "LEFT_PAREN"
  | "RIGHT_PAREN"
  | "LEFT_BRACE"
  | "RIGHT_BRACE"
  | "LEFT_BRACKET"
  | "RIGHT_BRACKET"
  | "COMMA"
  | "EQL"
  | "COLON"
  // Operators.
  | "ADD"
  | "SUB"
  | "MUL"
  | "DIV"
  | "MOD"
  | "POW"
  | "EQLC"
  | "NEQ"
  | "LTE"
  | "LSS"
  | "GTE"
  | "GTR"
  | "EQL_REGEX"
  | "NEQ_REGEX"
  | "AT"
  | "ATAN2"
  | "LAND"
  | "LOR"
  | "LUNLESS"
  // Aggregators.
  | "AVG"
  | "BOTTOMK"
  | "COUNT"
  | "COUNT_VALUES"
  | "GROUP"
  | "MAX"
  | "MIN"
  | "QUANTILE"
  | "STDDEV"
  | "STDVAR"
  | "SUM"
  | "TOPK"
  | "LIMITK"
  | "LIMIT_RATIO"
  // Keywords.
  | "BOOL"
  | "BY"
  | "GROUP_LEFT"
  | "GROUP_RIGHT"
  | "IGNORING"
  | "OFFSET"
  | "ON"
  | "WITHOUT"
  // `@` modifier preprocessors.
  | "START"
  | "END";

export interface Token {
  kind: TokenKind;
  /** The token's text (for ERROR, the error message). */
  val: string;
  /** UTF-16 index of the first character. */
  pos: number;
}

/** Keywords, looked up case-insensitively as Prometheus does. */
const KEYWORDS: Record<string, TokenKind> = {
  and: "LAND",
  or: "LOR",
  unless: "LUNLESS",
  atan2: "ATAN2",
  sum: "SUM",
  avg: "AVG",
  count: "COUNT",
  min: "MIN",
  max: "MAX",
  group: "GROUP",
  stddev: "STDDEV",
  stdvar: "STDVAR",
  topk: "TOPK",
  bottomk: "BOTTOMK",
  count_values: "COUNT_VALUES",
  quantile: "QUANTILE",
  limitk: "LIMITK",
  limit_ratio: "LIMIT_RATIO",
  offset: "OFFSET",
  by: "BY",
  without: "WITHOUT",
  on: "ON",
  ignoring: "IGNORING",
  group_left: "GROUP_LEFT",
  group_right: "GROUP_RIGHT",
  bool: "BOOL",
  start: "START",
  end: "END",
  inf: "NUMBER",
  nan: "NUMBER",
};

function keywordKind(word: string): TokenKind | undefined {
  const k = word.toLowerCase();
  return Object.prototype.hasOwnProperty.call(KEYWORDS, k) ? KEYWORDS[k] : undefined;
}

const OPERATOR_KINDS = new Set<TokenKind>([
  "ADD", "SUB", "MUL", "DIV", "MOD", "POW", "EQLC", "NEQ", "LTE", "LSS", "GTE", "GTR",
  "EQL_REGEX", "NEQ_REGEX", "AT", "ATAN2", "LAND", "LOR", "LUNLESS",
]);
const AGGREGATOR_KINDS = new Set<TokenKind>([
  "AVG", "BOTTOMK", "COUNT", "COUNT_VALUES", "GROUP", "MAX", "MIN", "QUANTILE", "STDDEV",
  "STDVAR", "SUM", "TOPK", "LIMITK", "LIMIT_RATIO",
]);
const KEYWORD_KINDS = new Set<TokenKind>(["BOOL", "BY", "GROUP_LEFT", "GROUP_RIGHT", "IGNORING", "OFFSET", "ON", "WITHOUT"]);

export function isAggregatorKind(k: TokenKind): boolean {
  return AGGREGATOR_KINDS.has(k);
}
export function isKeywordKind(k: TokenKind): boolean {
  return KEYWORD_KINDS.has(k);
}

/** Token kinds whose fixed text Prometheus prints in messages. */
const FIXED_TEXT: Partial<Record<TokenKind, string>> = {
  LEFT_PAREN: "(",
  RIGHT_PAREN: ")",
  LEFT_BRACE: "{",
  RIGHT_BRACE: "}",
  LEFT_BRACKET: "[",
  RIGHT_BRACKET: "]",
  COMMA: ",",
  EQL: "=",
  COLON: ":",
  SUB: "-",
  ADD: "+",
  MUL: "*",
  MOD: "%",
  DIV: "/",
  EQLC: "==",
  NEQ: "!=",
  LTE: "<=",
  LSS: "<",
  GTE: ">=",
  GTR: ">",
  EQL_REGEX: "=~",
  NEQ_REGEX: "!~",
  POW: "^",
  AT: "@",
};

/**
 * How Prometheus names a token in "unexpected ..." messages: `end of input`, `identifier "foo"`,
 * `<op:+>`, `<aggr:sum>`, `<by>`, `"("`, `number "1"`, `string "abc"`, `duration "5m"`.
 */
export function describeToken(t: Token): string {
  const k = t.kind;
  if (k === "EOF") return "end of input";
  if (FIXED_TEXT[k] !== undefined || KEYWORD_KINDS.has(k) || OPERATOR_KINDS.has(k) || AGGREGATOR_KINDS.has(k) || k === "START" || k === "END") {
    return tokenString(t);
  }
  const what =
    k === "ERROR" ? "error"
    : k === "IDENTIFIER" ? "identifier"
    : k === "METRIC_IDENTIFIER" ? "metric identifier"
    : k === "STRING" ? "string"
    : k === "NUMBER" ? "number"
    : k === "DURATION" ? "duration"
    : k.toLowerCase();
  return `${what} ${tokenString(t)}`;
}

function tokenString(t: Token): string {
  const k = t.kind;
  if (k === "EOF") return "EOF";
  if (k === "ERROR") return t.val;
  if (k === "IDENTIFIER" || k === "METRIC_IDENTIFIER") return goQuoteString(t.val);
  if (KEYWORD_KINDS.has(k)) return `<${t.val}>`;
  if (OPERATOR_KINDS.has(k)) return `<op:${t.val}>`;
  if (AGGREGATOR_KINDS.has(k)) return `<aggr:${t.val}>`;
  // Go's %.10q: at most 10 characters of the value, quoted, then "...".
  if ([...t.val].length > 10) return `${goQuoteString([...t.val].slice(0, 10).join(""))}...`;
  return goQuoteString(t.val);
}

// ---------------------------------------------------------------------------------------------
// Character classes.

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}
function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
function isAlpha(c: string): boolean {
  return c === "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}
function isAlphaNumeric(c: string): boolean {
  return isAlpha(c) || isDigit(c);
}
/** [a-zA-Z0-9_] by char code (NaN past the end is false). */
function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
function isHex(c: string): boolean {
  return isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}

// ---------------------------------------------------------------------------------------------
// The scanner.

/** Names usable inside duration expressions (`[step() * 2]`, `[max_of(5m, range())]`). */
const DURATION_FUNCTIONS = new Set(["step", "range", "min_of", "max_of", "min", "max"]);

class Lexer {
  readonly tokens: Token[] = [];
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  private braceOpen = false;
  private bracketOpen = false;
  private gotColon = false;
  /** Parentheses opened inside the current brackets (duration expressions). */
  private bracketParenDepth = 0;
  /** Whether a number or duration was read since the last `[`. */
  private bracketNumberSeen = false;
  /** Tokens emitted since the last `[`. */
  private bracketTokens = 0;
  private done = false;

  constructor(private readonly input: string) {}

  run(): Token[] {
    while (!this.done) {
      if (this.braceOpen) this.insideBraces();
      else if (this.bracketOpen) this.insideBrackets();
      else this.statements();
    }
    return this.tokens;
  }

  private peek(): string {
    return this.pos < this.input.length ? this.input[this.pos]! : "";
  }
  private next(): string {
    if (this.pos >= this.input.length) {
      this.pos++;
      return "";
    }
    return this.input[this.pos++]!;
  }
  private backup(): void {
    this.pos--;
  }
  private accept(valid: string): boolean {
    const c = this.peek();
    if (c !== "" && valid.includes(c)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private emit(kind: TokenKind): void {
    this.bracketTokens++;
    this.tokens.push({ kind, val: this.input.slice(this.start, this.pos), pos: this.start });
    this.start = this.pos;
  }
  private ignore(): void {
    this.start = this.pos;
  }
  private error(msg: string): void {
    this.tokens.push({ kind: "ERROR", val: msg, pos: this.start });
    this.done = true;
  }
  private eof(): void {
    this.pos = this.input.length;
    this.start = this.pos;
    this.emit("EOF");
    this.done = true;
  }

  private skipComment(): void {
    while (this.pos < this.input.length && this.input[this.pos] !== "\n") this.pos++;
    this.ignore();
  }

  private skipSpaces(): void {
    const input = this.input;
    let p = this.pos;
    for (let c = input.charCodeAt(p); c === 32 || c === 9 || c === 10 || c === 13; c = input.charCodeAt(++p));
    this.pos = p;
    this.ignore();
  }

  private statements(): void {
    const r = this.next();
    if (r === "") {
      this.pos = this.input.length;
      this.start = this.pos;
      if (this.parenDepth !== 0) return this.error("unclosed left parenthesis");
      return this.eof();
    }
    // The common classes first, by char code; punctuation below.
    const c = r.charCodeAt(0);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58) {
      this.backup();
      return this.keywordOrIdentifier();
    }
    if ((c >= 48 && c <= 57) || (c === 46 && isDigit(this.peek()))) {
      this.backup();
      return this.numberOrDuration();
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) return this.skipSpaces();
    switch (r) {
      case "#":
        return this.skipComment();
      case ",":
        return this.emit("COMMA");
      case "*":
        return this.emit("MUL");
      case "/":
        return this.emit("DIV");
      case "%":
        return this.emit("MOD");
      case "+":
        return this.emit("ADD");
      case "-":
        return this.emit("SUB");
      case "^":
        return this.emit("POW");
      case "=": {
        const t = this.peek();
        if (t === "=") {
          this.pos++;
          return this.emit("EQLC");
        }
        if (t === "~") return this.error(`unexpected character after '=': ${goQuoteRune(t)}`);
        return this.emit("EQL");
      }
      case "!": {
        const t = this.next();
        if (t === "=") return this.emit("NEQ");
        return this.error(`unexpected character after '!': ${goQuoteRune(t)}`);
      }
      case "<":
        if (this.peek() === "=") {
          this.pos++;
          return this.emit("LTE");
        }
        return this.emit("LSS");
      case ">":
        if (this.peek() === "=") {
          this.pos++;
          return this.emit("GTE");
        }
        return this.emit("GTR");
      case '"':
      case "'":
        return this.string(r);
      case "`":
        return this.rawString();
      case "(":
        this.parenDepth++;
        return this.emit("LEFT_PAREN");
      case ")":
        this.parenDepth--;
        if (this.parenDepth < 0) {
          // Prometheus reports this one just after the parenthesis.
          this.start = this.pos;
          return this.error(`unexpected right parenthesis ${goQuoteRune(r)}`);
        }
        return this.emit("RIGHT_PAREN");
      case "{":
        this.braceOpen = true;
        return this.emit("LEFT_BRACE");
      case "}":
        return this.error(`unexpected character: ${goQuoteRune(r)}`);
      case "[":
        this.gotColon = false;
        this.bracketParenDepth = 0;
        this.bracketNumberSeen = false;
        this.bracketTokens = -1; // the bracket itself is counted below
        this.emit("LEFT_BRACKET");
        this.bracketOpen = true;
        return;
      case "]":
        return this.error(`unexpected right bracket ${goQuoteRune(r)}`);
      case "@":
        return this.emit("AT");
      default:
        return this.error(`unexpected character: ${goQuoteRune(r)}`);
    }
  }

  /**
   * Inside `[...]`: durations, numbers, `:`, and duration arithmetic (`+ - * / % ^`, `( )`,
   * `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`). Prometheus lexes the part before the
   * first number with its duration-expression scanner and the rest with its statement scanner,
   * and words them differently in errors; `bracketNumberSeen` tells the two apart.
   */
  private insideBrackets(): void {
    const afterNumber = this.bracketNumberSeen;
    const r = this.next();
    switch (true) {
      case r === "":
        this.pos = this.input.length;
        this.start = this.pos;
        if (!afterNumber) return this.error("unexpected end of input in duration expression");
        if (this.bracketParenDepth > 0 || this.parenDepth > 0) return this.error("unclosed left parenthesis");
        return this.error("unclosed left bracket");
      case isSpace(r):
        return this.skipSpaces();
      case isDigit(r) || (r === "." && isDigit(this.peek())):
        this.backup();
        this.bracketNumberSeen = true;
        return this.numberOrDuration();
      case r === ":":
        if (this.gotColon) return this.error(afterNumber ? `unexpected colon ${goQuoteRune(r)}` : "unexpected repeated colon in duration expression");
        if (this.bracketTokens === 0) {
          this.start = this.pos;
          return this.error("unexpected colon before duration in duration expression");
        }
        this.gotColon = true;
        return this.emit("COLON");
      case r === "]":
        this.bracketOpen = false;
        return this.emit("RIGHT_BRACKET");
      case r === "[":
        return this.error(`unexpected left bracket ${goQuoteRune(r)}`);
      case r === "+":
        return this.emit("ADD");
      case r === "-":
        return this.emit("SUB");
      case r === "*":
        return this.emit("MUL");
      case r === "/":
        return this.emit("DIV");
      case r === "%":
        return this.emit("MOD");
      case r === "^":
        return this.emit("POW");
      case r === ",":
        return this.emit("COMMA");
      case r === "(":
        this.bracketParenDepth++;
        return this.emit("LEFT_PAREN");
      case r === ")":
        this.bracketParenDepth--;
        if (this.bracketParenDepth < 0) {
          this.start = this.pos;
          return this.error(`unexpected right parenthesis ${goQuoteRune(r)}`);
        }
        return this.emit("RIGHT_PAREN");
      case isAlpha(r): {
        while (isAlphaNumeric(this.peek())) this.pos++;
        const word = this.input.slice(this.start, this.pos);
        const kw = keywordKind(word);
        if (kw === "NUMBER") {
          this.bracketNumberSeen = true;
          return this.emit("NUMBER");
        }
        if (DURATION_FUNCTIONS.has(word.toLowerCase())) return this.emit("IDENTIFIER");
        return this.error(afterNumber ? `unexpected character: ${goQuoteRune(r)}, expected ':'` : `unexpected character in duration expression: ${goQuoteRune(r)}`);
      }
      default:
        if (!afterNumber) return this.error(`unexpected character in duration expression: ${goQuoteRune(r)}`);
        // Past the first number Prometheus scans the rest like any statement.
        this.backup();
        return this.statements();
    }
  }

  private insideBraces(): void {
    const r = this.next();
    switch (true) {
      case r === "":
        this.pos = this.input.length;
        this.start = this.pos;
        return this.error("unexpected end of input inside braces");
      case r === "#":
        return this.skipComment();
      case isSpace(r):
        return this.skipSpaces();
      case isAlpha(r): {
        const input = this.input;
        let p = this.pos;
        while (isWordCode(input.charCodeAt(p))) p++;
        this.pos = p;
        return this.emit("IDENTIFIER");
      }
      case r === ",":
        return this.emit("COMMA");
      case r === '"' || r === "'":
        return this.string(r);
      case r === "`":
        return this.rawString();
      case r === "=":
        if (this.peek() === "~") {
          this.pos++;
          return this.emit("EQL_REGEX");
        }
        return this.emit("EQL");
      case r === "!": {
        const nr = this.next();
        if (nr === "~") return this.emit("NEQ_REGEX");
        if (nr === "=") return this.emit("NEQ");
        return this.error(`unexpected character after '!' inside braces: ${goQuoteRune(nr)}`);
      }
      case r === "{":
        return this.error(`unexpected left brace ${goQuoteRune(r)}`);
      case r === "}":
        this.braceOpen = false;
        return this.emit("RIGHT_BRACE");
      default:
        return this.error(`unexpected character inside braces: ${goQuoteRune(r)}`);
    }
  }

  private keywordOrIdentifier(): void {
    const input = this.input;
    let p = this.pos;
    for (let c = input.charCodeAt(p); isWordCode(c) || c === 58 /* : */; c = input.charCodeAt(++p));
    this.pos = p;
    const word = this.input.slice(this.start, this.pos);
    const kw = keywordKind(word);
    if (kw !== undefined) this.emit(kw);
    else if (!word.includes(":")) this.emit("IDENTIFIER");
    else this.emit("METRIC_IDENTIFIER");
  }

  private numberOrDuration(): void {
    if (this.scanNumber()) return this.emit("NUMBER");
    if (this.acceptRemainingDuration()) {
      this.backup();
      return this.emit("DURATION");
    }
    return this.error(`bad number or duration syntax: ${goQuoteString(this.input.slice(this.start, this.pos))}`);
  }

  private is(valid: string): boolean {
    const c = this.peek();
    return c !== "" && valid.includes(c);
  }

  /**
   * Scans a number as Prometheus's lexer does (digits, one dot, one exponent, `_` between
   * digits, 0x hex without fraction); false when what follows makes it something else (a
   * duration or an error). Like Prometheus, an `e` after the first hex digit counts as an
   * exponent, so `0x1e` at the very end is refused.
   */
  private scanNumber(): boolean {
    const initial = this.pos;
    // Fast path: plain decimal digits ending the token (the common case).
    {
      const input = this.input;
      let p = initial;
      let c = input.charCodeAt(p);
      if (c >= 49 && c <= 57) {
        while (c >= 48 && c <= 57) c = input.charCodeAt(++p);
        if (c !== c || !(isWordCode(c) || c === 46)) {
          this.pos = p;
          return true;
        }
      }
    }
    let digits = "0123456789";
    if (this.accept("0") && this.accept("xX")) {
      this.accept("_");
      digits = "0123456789abcdefABCDEF";
    }
    const hex = digits.length > 10;
    const continuing = digits + "._eE";
    this.accept(".");
    this.accept(digits);
    let dotSeen = false;
    let expSeen = false;
    while (this.is(continuing)) {
      if (this.is(".") && dotSeen) {
        this.accept(".");
        return false;
      }
      if (this.is("eE") && expSeen) {
        this.accept("eE");
        return false;
      }
      if (this.accept(".")) {
        dotSeen = true;
        if (this.accept("_.") || hex) return false;
        continue;
      }
      if (this.accept("eE")) {
        expSeen = true;
        this.accept("+-");
        if (this.accept("._eE") || this.peek() === "") return false;
        continue;
      }
      if (this.accept("_")) {
        if (this.accept("._eE") || this.peek() === "") return false;
        continue;
      }
      while (this.accept(digits));
    }
    if (this.pos === initial) return false;
    const c = this.peek();
    return c === "" || !isAlphaNumeric(c);
  }

  private acceptRemainingDuration(): boolean {
    if (!this.accept("smhdwy")) return false;
    this.accept("s"); // "ms"; bad units such as "hs" are caught when the duration is parsed.
    while (this.accept("0123456789")) {
      while (this.accept("0123456789"));
      if (!this.accept("smhdw")) return false;
      this.accept("s");
    }
    return !isAlphaNumeric(this.next());
  }

  /**
   * Whether `c` (just read) starts a valid character; consumes the low half of a surrogate pair.
   * Bytes that were not UTF-8 arrive as lone surrogates (see decodeUtf8Escaped); like Go's
   * lexer, which reads them as utf8.RuneError, U+FFFD itself is refused too.
   */
  private validRune(c: string): boolean {
    const code = c.charCodeAt(0);
    if (!(code >= 0xd800)) return true;
    if (code === 0xfffd || (code >= 0xdc00 && code < 0xe000)) return false;
    if (code >= 0xe000) return true;
    const low = this.input.charCodeAt(this.pos);
    if (!(low >= 0xdc00 && low < 0xe000)) return false;
    this.pos++;
    return true;
  }

  private string(quote: string): void {
    const input = this.input;
    const q = quote.charCodeAt(0);
    while (true) {
      // Skip plain characters quickly; the loop below handles the rest.
      let p = this.pos;
      for (let c = input.charCodeAt(p); c === c && c !== q && c !== 92 /* \ */ && c !== 10 && c < 0xd800; c = input.charCodeAt(++p));
      this.pos = p;
      let c = this.next();
      if (!this.validRune(c)) return this.error("invalid UTF-8 rune");
      if (c === "\\") {
        c = this.next();
        if (!this.escape(c, quote)) return;
        continue;
      }
      if (c === "" || c === "\n") return this.error("unterminated quoted string");
      if (c === quote) break;
    }
    this.emit("STRING");
  }

  /** Validates the escape after a backslash; reports an error and returns false when invalid. */
  private escape(c: string, quote: string): boolean {
    switch (c) {
      case "a":
      case "b":
      case "f":
      case "n":
      case "r":
      case "t":
      case "v":
      case "\\":
      case quote:
        return true;
      case "":
      case "\n":
        this.error("escape sequence not terminated");
        return false;
    }
    let n: number;
    let base: number;
    let max: number;
    switch (c) {
      case "0": case "1": case "2": case "3": case "4": case "5": case "6": case "7":
        n = 3; base = 8; max = 255;
        this.backup();
        break;
      case "x":
        n = 2; base = 16; max = 255;
        break;
      case "u":
        n = 4; base = 16; max = 0x10ffff;
        break;
      case "U":
        n = 8; base = 16; max = 0x10ffff;
        break;
      default:
        this.error(`unknown escape sequence ${goRuneU(c)}`);
        return false;
    }
    let x = 0;
    for (; n > 0; n--) {
      const d = this.next();
      const v = base === 8 ? (d >= "0" && d <= "7" ? d.charCodeAt(0) - 48 : 99) : isHex(d) ? parseInt(d, 16) : 99;
      if (v >= base) {
        if (d === "" || d === "\n") this.error("escape sequence not terminated");
        else this.error(`illegal character ${goRuneU(d)} in escape sequence`);
        return false;
      }
      x = x * base + v;
    }
    if (x > max || (base !== 8 && c !== "x" && x >= 0xd800 && x < 0xe000)) {
      this.error("escape sequence is an invalid Unicode code point");
      return false;
    }
    return true;
  }

  private rawString(): void {
    while (true) {
      const c = this.next();
      if (!this.validRune(c)) return this.error("invalid UTF-8 rune");
      if (c === "") return this.error("unterminated raw string");
      if (c === "`") break;
    }
    this.emit("STRING");
  }
}

/** Lexes a whole query. The last token is EOF, or ERROR when the query cannot be lexed. */
export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

// ---------------------------------------------------------------------------------------------
// Literal decoding.

/**
 * Parses a NUMBER token's text as Prometheus does: first as a Go integer literal (base prefixes
 * 0x, 0o, 0b, and a leading 0 for octal), else as a Go float literal (including hex floats, Inf
 * and NaN). Returns null when it is neither.
 */
export function parseNumberLiteral(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  if (text.includes("_")) {
    // Go allows "_" only between digits (or after a base prefix).
    if (!/^(0[xob]_?)?[0-9a-f]+(_[0-9a-f]+)*(\.[0-9a-f]+(_[0-9a-f]+)*)?([ep][+-]?[0-9]+(_[0-9]+)*)?$/.test(lower) &&
      !/^[0-9]+(_[0-9]+)*\.?([0-9]+(_[0-9]+)*)?(e[+-]?[0-9]+(_[0-9]+)*)?$/.test(lower)) {
      return null;
    }
  }
  const s = lower.replace(/_/g, "");
  if (/^0x[0-9a-f]+$/.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0b[01]+$/.test(s)) return parseInt(s.slice(2), 2);
  if (/^0[0-7]+$/.test(s)) return parseInt(s.slice(1), 8);
  if (/^0x[0-9a-f]*\.?[0-9a-f]*p[+-]?[0-9]+$/.test(s)) return parseHexFloat(s);
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/.test(s)) return Number(s);
  return null;
}

function parseHexFloat(s: string): number | null {
  const m = /^0x([0-9a-f]*)\.?([0-9a-f]*)p([+-]?[0-9]+)$/.exec(s);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  const mant = parseInt((m[1] || "0") + (m[2] || ""), 16);
  return mant * Math.pow(2, Number(m[3]) - 4 * (m[2] ?? "").length);
}

/**
 * Decodes a STRING token (with its quotes) as Prometheus does: Go escapes in "..." and '...',
 * none in `...`. Bytes that are not valid UTF-8 (from \x or octal escapes) become the lone
 * surrogates U+DC80..U+DCFF, so `goQuoteString` can print them back as \xNN and a check for
 * well-formedness finds them.
 */
export function unquoteString(text: string): string {
  const q = text[0];
  const body = text.slice(1, -1);
  if (q === "`" || !body.includes("\\")) return body;
  let out = "";
  let bytes: number[] | null = null; // pending raw bytes from \x / octal escapes
  const flush = () => {
    if (bytes) {
      out += decodeUtf8Escaped(bytes);
      bytes = null;
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      flush();
      out += c;
      continue;
    }
    const e = body[++i]!;
    switch (e) {
      case "a": flush(); out += "\x07"; break;
      case "b": flush(); out += "\b"; break;
      case "f": flush(); out += "\f"; break;
      case "n": flush(); out += "\n"; break;
      case "r": flush(); out += "\r"; break;
      case "t": flush(); out += "\t"; break;
      case "v": flush(); out += "\v"; break;
      case "\\": flush(); out += "\\"; break;
      case "'": flush(); out += "'"; break;
      case '"': flush(); out += '"'; break;
      case "x":
        (bytes ??= []).push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        flush();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        flush();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        (bytes ??= []).push(parseInt(body.slice(i, i + 3), 8));
        i += 2;
    }
  }
  flush();
  return out;
}
