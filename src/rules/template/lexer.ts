/**
 * The lexer of Go's text/template: text, `{{ }}` actions with trim markers (`{{- ` and ` -}}`,
 * which need an ASCII space beside the dash), comments between `{{/*` and its closing star-slash, and the tokens inside an
 * action. The input is lexed in one pass up to the end or the first error token, which the parser
 * reports where it meets it (so the earlier syntax errors come first, as in Go). Positions are
 * UTF-16 offsets; messages convert them to Go's byte columns.
 */
import { goQuoteString } from "../../model/index.ts";

export const enum Tok {
  Error,
  EOF,
  Text,
  LeftDelim,
  RightDelim,
  Space,
  Pipe,
  Declare, // :=
  Assign, // =
  Char, // a printable ASCII character such as ','
  LeftParen,
  RightParen,
  String,
  RawString,
  CharConstant,
  Number,
  Complex,
  Bool,
  Identifier,
  Field,
  Variable,
  // Keywords.
  Dot,
  Nil,
  Block,
  Break,
  Continue,
  Define,
  Else,
  End,
  If,
  Range,
  Template,
  With,
}

export interface Token {
  readonly type: Tok;
  readonly pos: number;
  readonly val: string;
  readonly line: number;
}

const KEYWORDS: ReadonlyMap<string, Tok> = new Map([
  [".", Tok.Dot],
  ["nil", Tok.Nil],
  ["block", Tok.Block],
  ["break", Tok.Break],
  ["continue", Tok.Continue],
  ["define", Tok.Define],
  ["else", Tok.Else],
  ["end", Tok.End],
  ["if", Tok.If],
  ["range", Tok.Range],
  ["template", Tok.Template],
  ["with", Tok.With],
]);

export function isKeyword(t: Tok): boolean {
  return t >= Tok.Dot;
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isAlphaNumeric(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if (code < 0x80) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
  return ALNUM.test(c);
}

/** `%#U` of a character, as Go prints it in lexer errors: U+0041 'A'. */
function runeU(c: string): string {
  const cp = c.codePointAt(0)!;
  const hex = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `${hex} '${c}'` : hex;
}

export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

class Lexer {
  private pos = 0;
  private start = 0;
  private line = 1;
  private startLine = 1;
  private parenDepth = 0;
  private readonly tokens: Token[] = [];
  private done = false;

  constructor(private readonly input: string) {}

  run(): Token[] {
    this.next = () => this.lexText();
    while (!this.done) this.next();
    return this.tokens;
  }

  private next: () => void = () => {};

  /** The next character (a whole code point) or undefined at the end. */
  private peekChar(at = this.pos): string | undefined {
    if (at >= this.input.length) return undefined;
    const cp = this.input.codePointAt(at)!;
    return String.fromCodePoint(cp);
  }

  private readChar(): string | undefined {
    const c = this.peekChar();
    if (c !== undefined) {
      this.pos += c.length;
      if (c === "\n") this.line++;
    }
    return c;
  }

  private emit(type: Tok): void {
    const val = this.input.slice(this.start, this.pos);
    this.tokens.push({ type, pos: this.start, val, line: this.startLine });
    this.start = this.pos;
    this.startLine = this.line;
  }

  private ignore(): void {
    // Newlines skipped over still count.
    for (let i = this.start; i < this.pos; i++) if (this.input.charCodeAt(i) === 10) this.startLine++;
    this.line = this.startLine;
    this.start = this.pos;
  }

  private error(message: string): void {
    this.tokens.push({ type: Tok.Error, pos: this.start, val: message, line: this.startLine });
    this.done = true;
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === "-" && isSpace(this.input[at + 1]);
  }

  private hasRightTrimMarker(at: number): boolean {
    return isSpace(this.input[at]) && this.input[at + 1] === "-";
  }

  /** At `}}`, or at ` -}}` (the delimiter with a trim marker before it). */
  private atRightDelim(): { delim: boolean; trim: boolean } {
    if (this.input.startsWith("}}", this.pos)) return { delim: true, trim: false };
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith("}}", this.pos + 2)) return { delim: true, trim: true };
    return { delim: false, trim: false };
  }

  private lexText(): void {
    const x = this.input.indexOf("{{", this.pos);
    if (x < 0) {
      this.pos = this.input.length;
      if (this.pos > this.start) this.emitText(this.pos);
      this.emit(Tok.EOF);
      this.done = true;
      return;
    }
    let end = x;
    if (this.hasLeftTrimMarker(x + 2)) {
      while (end > this.start && isSpace(this.input[end - 1])) end--;
    }
    if (end > this.start) this.emitText(end);
    this.pos = x;
    this.ignore();
    this.next = () => this.lexLeftDelim();
  }

  private emitText(end: number): void {
    this.pos = end;
    const val = this.input.slice(this.start, end);
    this.tokens.push({ type: Tok.Text, pos: this.start, val, line: this.startLine });
    for (let i = 0; i < val.length; i++) if (val.charCodeAt(i) === 10) this.line++;
    this.start = this.pos;
    this.startLine = this.line;
  }

  private lexLeftDelim(): void {
    this.pos += 2;
    const trim = this.hasLeftTrimMarker(this.pos);
    const afterMarker = trim ? 2 : 0;
    if (this.input.startsWith("/*", this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.ignore();
      this.next = () => this.lexComment();
      return;
    }
    this.emit(Tok.LeftDelim);
    this.pos += afterMarker;
    this.ignore();
    this.parenDepth = 0;
    this.next = () => this.lexInsideAction();
  }

  private lexComment(): void {
    this.pos += 2;
    const i = this.input.indexOf("*/", this.pos);
    if (i < 0) return this.error("unclosed comment");
    this.pos = i + 2;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.error("comment ends before closing delimiter");
    if (trim) this.pos += 2;
    this.pos += 2;
    if (trim) while (isSpace(this.input[this.pos])) this.pos++;
    this.ignore();
    this.next = () => this.lexText();
  }

  private lexRightDelim(): void {
    const trim = this.hasRightTrimMarker(this.pos);
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += 2;
    this.emit(Tok.RightDelim);
    if (trim) {
      while (isSpace(this.input[this.pos])) this.pos++;
      this.ignore();
    }
    this.next = () => this.lexText();
  }

  private lexInsideAction(): void {
    const { delim } = this.atRightDelim();
    if (delim) {
      if (this.parenDepth === 0) {
        this.next = () => this.lexRightDelim();
        return;
      }
      return this.error("unclosed left paren");
    }
    const c = this.readChar();
    if (c === undefined) return this.error("unclosed action");
    if (isSpace(c)) {
      this.pos--;
      if (c === "\n") this.line--;
      this.next = () => this.lexSpace();
      return;
    }
    switch (c) {
      case "=":
        return this.emit(Tok.Assign);
      case ":":
        if (this.readChar() !== "=") return this.error("expected :=");
        return this.emit(Tok.Declare);
      case "|":
        return this.emit(Tok.Pipe);
      case '"':
        return this.lexQuote();
      case "`":
        return this.lexRawQuote();
      case "$":
        return this.lexVariable();
      case "'":
        return this.lexChar();
      case "(":
        this.emit(Tok.LeftParen);
        this.parenDepth++;
        return;
      case ")":
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error("unexpected right paren");
        return this.emit(Tok.RightParen);
    }
    if (c === ".") {
      const d = this.input[this.pos];
      if (d === undefined || d < "0" || d > "9") return this.lexFieldOrVariable(Tok.Field);
    }
    if (c === "." || c === "+" || c === "-" || (c >= "0" && c <= "9")) {
      this.pos -= c.length;
      return this.lexNumber();
    }
    if (isAlphaNumeric(c)) {
      this.pos -= c.length;
      return this.lexIdentifier();
    }
    const code = c.codePointAt(0)!;
    if (code < 0x7f && code >= 0x20) return this.emit(Tok.Char);
    return this.error(`unrecognized character in action: ${runeU(c)}`);
  }

  private lexSpace(): void {
    let spaces = 0;
    while (isSpace(this.input[this.pos])) {
      this.readChar();
      spaces++;
    }
    // A space that belongs to a trim-marked right delimiter (" -}}") is not a space token.
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith("}}", this.pos + 1)) {
      this.pos--;
      if (this.input[this.pos] === "\n") this.line--;
      if (spaces === 1) {
        this.next = () => this.lexRightDelim();
        return;
      }
    }
    this.emit(Tok.Space);
    this.next = () => this.lexInsideAction();
  }

  private atTerminator(): boolean {
    const c = this.input[this.pos];
    if (c === undefined || isSpace(c)) return true;
    switch (c) {
      case ".":
      case ",":
      case "|":
      case ":":
      case ")":
      case "(":
        return true;
    }
    return this.input.startsWith("}}", this.pos);
  }

  private lexIdentifier(): void {
    while (isAlphaNumeric(this.peekChar())) this.readChar();
    if (!this.atTerminator()) {
      return this.error(`bad character ${runeU(this.peekChar()!)}`);
    }
    const word = this.input.slice(this.start, this.pos);
    const kw = KEYWORDS.get(word);
    if (kw !== undefined && kw !== Tok.Dot) this.emit(kw);
    else if (word === "true" || word === "false") this.emit(Tok.Bool);
    else this.emit(Tok.Identifier);
    this.next = () => this.lexInsideAction();
  }

  /** After `.` or `$`: a field or variable name, or `.` / `$` alone. */
  private lexFieldOrVariable(type: Tok.Field | Tok.Variable): void {
    if (this.atTerminator()) {
      this.emit(type === Tok.Variable ? Tok.Variable : Tok.Dot);
      this.next = () => this.lexInsideAction();
      return;
    }
    while (isAlphaNumeric(this.peekChar())) this.readChar();
    if (!this.atTerminator()) {
      const bad = this.peekChar()!;
      return this.error(`bad character ${runeU(bad)}`);
    }
    this.emit(type);
    this.next = () => this.lexInsideAction();
  }

  private lexVariable(): void {
    this.lexFieldOrVariable(Tok.Variable);
  }

  private lexChar(): void {
    for (;;) {
      const c = this.readChar();
      if (c === "\\") {
        const d = this.readChar();
        if (d !== undefined && d !== "\n") continue;
        return this.error("unterminated character constant");
      }
      if (c === undefined || c === "\n") return this.error("unterminated character constant");
      if (c === "'") break;
    }
    this.emit(Tok.CharConstant);
    this.next = () => this.lexInsideAction();
  }

  private lexQuote(): void {
    for (;;) {
      const c = this.readChar();
      if (c === "\\") {
        const d = this.readChar();
        if (d !== undefined && d !== "\n") continue;
        return this.error("unterminated quoted string");
      }
      if (c === undefined || c === "\n") return this.error("unterminated quoted string");
      if (c === '"') break;
    }
    this.emit(Tok.String);
    this.next = () => this.lexInsideAction();
  }

  private lexRawQuote(): void {
    const end = this.input.indexOf("`", this.pos);
    if (end < 0) return this.error("unterminated raw quoted string");
    while (this.pos <= end) this.readChar();
    this.emit(Tok.RawString);
    this.next = () => this.lexInsideAction();
  }

  private accept(valid: string): boolean {
    const c = this.input[this.pos];
    if (c !== undefined && valid.includes(c)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  private scanNumber(): boolean {
    this.accept("+-");
    let digits = "0123456789_";
    if (this.accept("0")) {
      if (this.accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (this.accept("oO")) digits = "01234567_";
      else if (this.accept("bB")) digits = "01_";
    }
    this.acceptRun(digits);
    if (this.accept(".")) this.acceptRun(digits);
    if (digits.length === 11 && this.accept("eE")) {
      this.accept("+-");
      this.acceptRun("0123456789_");
    }
    if (digits.length === 23 && this.accept("pP")) {
      this.accept("+-");
      this.acceptRun("0123456789_");
    }
    this.accept("i");
    if (isAlphaNumeric(this.peekChar())) {
      this.readChar();
      return false;
    }
    return true;
  }

  private lexNumber(): void {
    if (!this.scanNumber()) return this.error(`bad number syntax: ${goQuoteString(this.input.slice(this.start, this.pos))}`);
    const sign = this.input[this.pos];
    if (sign === "+" || sign === "-") {
      if (!this.scanNumber() || this.input[this.pos - 1] !== "i") {
        return this.error(`bad number syntax: ${goQuoteString(this.input.slice(this.start, this.pos))}`);
      }
      this.emit(Tok.Complex);
    } else this.emit(Tok.Number);
    this.next = () => this.lexInsideAction();
  }
}
