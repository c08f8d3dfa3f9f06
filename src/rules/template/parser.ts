/**
 * The parser of Go's text/template: the grammar of pipelines, commands and operands, variable
 * scoping, if/else if/range/with/else with, define/template/block, break/continue inside range,
 * and Go's parse-time checks (undefined functions and variables) with its messages
 * (`template: NAME:LINE: …`).
 */
import { goQuoteString } from "../../model/index.ts";
import { parseGoFloat } from "./go_float.ts";
import { isKeyword, lex, Tok, type Token } from "./lexer.ts";
import {
  nodeString,
  type ArgNode, type BranchNode, type CommandNode, type ElseNode, type EndNode, type ListNode, type Node, type NumberNode,
  type PipeNode, type TemplateNode, type VariableNode,
} from "./nodes.ts";

/** A syntax error, worded as Go's parser words it. */
export class TemplateSyntaxError extends Error {}

export interface ParsedTemplate {
  /** The top-level template's name (the ParseName of every error). */
  readonly name: string;
  /** The whole parsed text, for error locations. */
  readonly text: string;
  /** Every template by name: the top-level one and each define/block. */
  readonly trees: ReadonlyMap<string, ListNode>;
}

/** How deep parentheses and blocks may nest before parsing refuses (Go allows 10000 parentheses). */
const MAX_NESTING = 1000;

export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): ParsedTemplate {
  const trees = new Map<string, ListNode>();
  const p = new Parser(name, lex(text), hasFunction, trees);
  try {
    p.parseTop();
  } catch (e) {
    if (e instanceof RangeError) throw new TemplateSyntaxError(`template: ${name}: template nested too deeply`);
    throw e;
  }
  return { name, text, trees };
}

type EndOrElse = EndNode | ElseNode;

function isEmptyTree(n: Node): boolean {
  switch (n.kind) {
    case "list":
      return n.nodes.every(isEmptyTree);
    case "text":
      return n.text.trim() === "";
    case "comment":
      return true;
    default:
      return false;
  }
}

/** Go's item.String(), how unexpected tokens are named in messages. */
function tokenString(t: Token): string {
  if (t.type === Tok.EOF) return "EOF";
  if (t.type === Tok.Error) return t.val;
  if (isKeyword(t.type)) return `<${t.val}>`;
  const chars = [...t.val];
  if (chars.length > 10) return `${goQuoteString(chars.slice(0, 10).join(""))}...`;
  return goQuoteString(t.val);
}

class Parser {
  private i = 0;
  private furthest = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;
  private actionLine = 0;
  private depth = 0;

  constructor(
    private readonly name: string,
    private readonly tokens: Token[],
    private readonly hasFunction: (name: string) => boolean,
    private readonly trees: Map<string, ListNode>,
  ) {}

  // Token stream.

  private at(i: number): Token {
    const t = this.tokens[Math.min(i, this.tokens.length - 1)]!;
    if (i > this.furthest) this.furthest = Math.min(i, this.tokens.length - 1);
    return t;
  }
  private next(): Token {
    return this.at(this.i++);
  }
  private backup(): void {
    this.i--;
  }
  private peek(): Token {
    return this.at(this.i);
  }
  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.type === Tok.Space);
    return t;
  }
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  // Errors.

  private errorf(message: string): never {
    throw new TemplateSyntaxError(`template: ${this.name}:${this.at(this.furthest).line}: ${message}`);
  }
  private unexpected(token: Token, context: string): never {
    if (token.type === Tok.Error) {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${tokenString(token)} in ${context}`);
  }
  private expect(type: Tok, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  // Templates.

  parseTop(): void {
    const root: ListNode = { kind: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== Tok.EOF) {
      if (this.peek().type === Tok.LeftDelim) {
        const mark = this.i;
        this.next();
        if (this.nextNonSpace().type === Tok.Define) {
          this.inNewTree(() => this.parseDefinition());
          continue;
        }
        this.i = mark;
      }
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.add(this.name, root);
  }

  /** Runs `f` with the per-tree state of a fresh template (define and block bodies). */
  private inNewTree<T>(f: () => T): T {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ["$"];
    this.rangeDepth = 0;
    try {
      return f();
    } finally {
      this.vars = saved.vars;
      this.rangeDepth = saved.rangeDepth;
    }
  }

  private add(name: string, root: ListNode): void {
    const existing = this.trees.get(name);
    if (existing === undefined || isEmptyTree(existing)) {
      this.trees.set(name, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${goQuoteString(name)}`);
  }

  private parseDefinition(): void {
    const context = "define clause";
    const t = this.nextNonSpace();
    if (t.type !== Tok.String && t.type !== Tok.RawString) this.unexpected(t, context);
    const name = this.unquote(t.val);
    this.expect(Tok.RightDelim, context);
    const [root, end] = this.itemList();
    if (end.kind !== "end") this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add(name, root);
  }

  private itemList(): [ListNode, EndOrElse] {
    const list: ListNode = { kind: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== Tok.EOF) {
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") return [list, n];
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    if (t.type === Tok.Text) return { kind: "text", pos: t.pos, text: t.val };
    if (t.type === Tok.LeftDelim) {
      this.actionLine = t.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(t, "input");
  }

  private action(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case Tok.Block:
        return this.blockControl();
      case Tok.Break:
      case Tok.Continue: {
        const word = t.type === Tok.Break ? "break" : "continue";
        const after = this.nextNonSpace();
        if (after.type !== Tok.RightDelim) this.unexpected(after, `{{${word}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${word}}} outside {{range}}`);
        return { kind: word, pos: t.pos, line: t.line };
      }
      case Tok.Else: {
        const peek = this.peekNonSpace();
        // "{{else if …" and "{{else with …" read as "{{else}}{{if …".
        if (peek.type === Tok.If || peek.type === Tok.With) return { kind: "else", pos: peek.pos, line: peek.line };
        const r = this.expect(Tok.RightDelim, "else");
        return { kind: "else", pos: r.pos, line: r.line };
      }
      case Tok.End:
        return { kind: "end", pos: this.expect(Tok.RightDelim, "end").pos };
      case Tok.If:
        return this.control("if");
      case Tok.Range:
        return this.control("range");
      case Tok.With:
        return this.control("with");
      case Tok.Template:
        return this.templateControl();
    }
    this.backup();
    const start = this.peek();
    return { kind: "action", pos: start.pos, line: start.line, pipe: this.pipeline("command", Tok.RightDelim) };
  }

  private nest<T>(f: () => T): T {
    if (this.depth >= MAX_NESTING) this.errorf("max expression depth exceeded");
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private control(kind: "if" | "range" | "with"): BranchNode {
    return this.nest(() => {
      const varsLen = this.vars.length;
      try {
        const pipe = this.pipeline(kind, Tok.RightDelim);
        if (kind === "range") this.rangeDepth++;
        let [list, next] = this.itemList();
        if (kind === "range") this.rangeDepth--;
        let elseList: ListNode | null = null;
        if (next.kind === "else") {
          const chained = kind === "if" ? Tok.If : kind === "with" ? Tok.With : null;
          if (chained !== null && this.peek().type === chained) {
            this.next();
            elseList = { kind: "list", pos: next.pos, nodes: [this.control(kind)] };
          } else {
            [elseList, next] = this.itemList();
            if (next.kind !== "end") this.errorf(`expected end; found ${nodeString(next)}`);
          }
        }
        return { kind, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
      } finally {
        this.vars.length = varsLen;
      }
    });
  }

  private blockControl(): TemplateNode {
    const context = "block clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, Tok.RightDelim);
    this.inNewTree(() => {
      const [root, end] = this.itemList();
      if (end.kind !== "end") this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      this.add(name, root);
    });
    return { kind: "template", pos: t.pos, line: t.line, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = "template clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== Tok.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, Tok.RightDelim);
    }
    return { kind: "template", pos: t.pos, line: t.line, name, pipe };
  }

  private templateName(t: Token, context: string): string {
    if (t.type === Tok.String || t.type === Tok.RawString) return this.unquote(t.val);
    this.unexpected(t, context);
  }

  // Pipelines.

  private pipeline(context: string, end: Tok.RightDelim | Tok.RightParen): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { kind: "pipe", pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== Tok.Variable) break;
      const mark = this.i;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === Tok.Assign || next.type === Tok.Declare) {
        pipe.isAssign = next.type === Tok.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.variable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      }
      if (next.type === Tok.Char && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push(this.variable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const after = this.peekNonSpace().type;
          if (after === Tok.Variable || after === Tok.RightDelim || after === Tok.RightParen) continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: the variable is the first operand.
      this.i = mark;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.type) {
        case Tok.Bool: case Tok.CharConstant: case Tok.Complex: case Tok.Dot: case Tok.Field: case Tok.Identifier:
        case Tok.Number: case Tok.Nil: case Tok.RawString: case Tok.String: case Tok.Variable: case Tok.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]!.args[0]!.kind;
      if (k === "bool" || k === "dot" || k === "nil" || k === "number" || k === "string") {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const t = this.next();
      if (t.type === Tok.Space) continue;
      if (t.type === Tok.RightDelim || t.type === Tok.RightParen) this.backup();
      else if (t.type !== Tok.Pipe) this.unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().type !== Tok.Field) return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === Tok.Field) fields.push(this.next().val.slice(1));
    switch (node.kind) {
      // A field or variable just gets longer; Go gives it the position of the first added field.
      case "field":
        return { kind: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { kind: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.errorf(`unexpected . after term ${goQuoteString(nodeString(node))}`);
    }
    return { kind: "chain", pos, node, field: fields };
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case Tok.Identifier:
        if (!this.hasFunction(t.val)) this.errorf(`function ${goQuoteString(t.val)} not defined`);
        return { kind: "identifier", pos: t.pos, ident: t.val };
      case Tok.Dot:
        return { kind: "dot", pos: t.pos };
      case Tok.Nil:
        return { kind: "nil", pos: t.pos };
      case Tok.Variable: {
        const v = this.variable(t.pos, t.val);
        if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${goQuoteString(v.ident[0]!)}`);
        return v;
      }
      case Tok.Field:
        return { kind: "field", pos: t.pos, ident: t.val.slice(1).split(".") };
      case Tok.Bool:
        return { kind: "bool", pos: t.pos, value: t.val === "true" };
      case Tok.CharConstant:
      case Tok.Complex:
      case Tok.Number:
        return this.number(t);
      case Tok.LeftParen:
        return this.nest(() => this.pipeline("parenthesized pipeline", Tok.RightParen));
      case Tok.String:
      case Tok.RawString:
        return { kind: "string", pos: t.pos, quoted: t.val, text: this.unquote(t.val) };
    }
    this.backup();
    return null;
  }

  private variable(pos: number, text: string): VariableNode {
    return { kind: "variable", pos, ident: text.split(".") };
  }

  private unquote(quoted: string): string {
    try {
      return unquoteGo(quoted);
    } catch (e) {
      this.errorf((e as Error).message);
    }
  }

  private number(t: Token): NumberNode {
    if (t.type === Tok.Complex) this.errorf(`complex numbers are not supported: ${goQuoteString(t.val)}`);
    if (t.type === Tok.CharConstant) {
      let r: string;
      try {
        r = unquoteGo(t.val);
      } catch {
        this.errorf(`malformed character constant: ${t.val}`);
      }
      const cp = BigInt([...r].length === 1 ? r.codePointAt(0)! : 0xfffd);
      return { kind: "number", pos: t.pos, text: t.val, isInt: true, isUint: true, isFloat: true, int64: cp, float64: Number(cp) };
    }
    const n = parseNumber(t.val);
    if (typeof n === "string") this.errorf(n);
    return { kind: "number", pos: t.pos, text: t.val, ...n };
  }
}

const MAX_INT64 = (1n << 63n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

/** strconv.ParseInt(s, 0, 64)'s digits: a sign, a base prefix, underscores between digits. */
function parseGoInteger(s: string): bigint | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (m === null) return null;
  let body = m[2]!;
  if (body.includes("_")) {
    // Underscores only between digits, the base prefix counting as one (Go's underscoreOK).
    const digits = /^0[xXbBoO]/.test(body) ? "0" + body.slice(2) : body;
    if (/^_|_$|__/.test(digits)) return null;
    body = body.replaceAll("_", "");
  }
  let v: bigint;
  if (/^0[xX]/.test(body) || /^0[bB]/.test(body)) v = BigInt(body.toLowerCase());
  else if (/^0[oO]/.test(body)) v = BigInt("0o" + body.slice(2));
  else if (body.length > 1 && body.startsWith("0")) v = BigInt("0o" + body.slice(1));
  else v = BigInt(body);
  return m[1] === "-" ? -v : v;
}

/** Go's parse.NumberNode reading: which of int, uint and float the literal is. */
function parseNumber(text: string): Omit<NumberNode, "kind" | "pos" | "text"> | string {
  let isInt = false;
  let isUint = false;
  let isFloat = false;
  let int64 = 0n;
  let float64 = 0;
  const i = parseGoInteger(text);
  if (i !== null) {
    if (!text.startsWith("-") && !text.startsWith("+") && i <= MAX_UINT64) isUint = true;
    if (i >= -MAX_INT64 - 1n && i <= MAX_INT64) {
      isInt = true;
      int64 = i;
    }
  }
  if (isInt || isUint) {
    isFloat = true;
    float64 = Number(i);
  } else {
    let f: number | null = null;
    try {
      f = parseGoFloat(text);
    } catch {
      f = null;
    }
    if (f !== null) {
      if (!/[.eEpP]/.test(text)) return `integer overflow: ${goQuoteString(text)}`;
      isFloat = true;
      float64 = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        isInt = true;
        int64 = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) isUint = true;
    }
  }
  if (!isInt && !isUint && !isFloat) return `illegal number syntax: ${goQuoteString(text)}`;
  return { isInt, isUint, isFloat, int64, float64 };
}

/** strconv.Unquote for "…", `…` and '…'; throws "invalid syntax". */
export function unquoteGo(s: string): string {
  const bad = () => new Error("invalid syntax");
  if (s.length < 2) throw bad();
  const q = s[0]!;
  if (q !== s[s.length - 1]) throw bad();
  const body = s.slice(1, -1);
  if (q === "`") {
    if (body.includes("`")) throw bad();
    return body.replaceAll("\r", "");
  }
  if (q !== '"' && q !== "'") throw bad();
  if (body.includes("\n")) throw bad();
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushText = (t: string) => {
    for (const b of enc.encode(t)) bytes.push(b);
  };
  let i = 0;
  let runes = 0;
  while (i < body.length) {
    const c = body[i]!;
    runes++;
    if (c === q) throw bad();
    if (c !== "\\") {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case "a": bytes.push(7); break;
      case "b": bytes.push(8); break;
      case "f": bytes.push(12); break;
      case "n": bytes.push(10); break;
      case "r": bytes.push(13); break;
      case "t": bytes.push(9); break;
      case "v": bytes.push(11); break;
      case "\\": bytes.push(92); break;
      case "'":
      case '"':
        if (e !== q) throw bad();
        bytes.push(e.charCodeAt(0));
        break;
      case "x":
      case "u":
      case "U": {
        const n = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = body.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw bad();
        i += n;
        const v = parseInt(hex, 16);
        if (e === "x") {
          if (q === "'") pushText(String.fromCodePoint(v));
          else bytes.push(v);
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw bad();
          pushText(String.fromCodePoint(v));
        }
        break;
      }
      default: {
        if (e !== undefined && e >= "0" && e <= "7") {
          const oct = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(oct)) throw bad();
          const v = parseInt(oct, 8);
          if (v > 255) throw bad();
          i += 2;
          if (q === "'") pushText(String.fromCodePoint(v));
          else bytes.push(v);
          break;
        }
        throw bad();
      }
    }
  }
  if (q === "'" && runes !== 1) throw bad();
  return new TextDecoder().decode(new Uint8Array(bytes));
}
