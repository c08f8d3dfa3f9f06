/**
 * The PromQL parser: recursive descent with precedence climbing over the lexer's tokens,
 * followed by Prometheus's type check. It accepts what Prometheus 3.14's grammar accepts and
 * reports errors with Prometheus's texts and positions (the first error wins, as in
 * Prometheus's `ParseErrors.Error()`).
 */
import { goQuoteString, Matcher, MAX_DURATION_MS, parseDuration, RegexError } from "../model/index.ts";
import type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  DurationExpr,
  Expr,
  MatrixSelector,
  NumberLiteral,
  PosRange,
  SubqueryExpr,
  ValueType,
  VectorMatching,
  VectorSelector,
} from "./ast.ts";
import { exprValueType } from "./ast.ts";
import {
  checkDurationExpr,
  durationExprIsConstant,
  durationNode,
  evalDurationExpr,
  goRound,
  secondsToMs,
} from "./duration_expr.ts";
import {
  describeToken,
  isAggregatorKind,
  isKeywordKind,
  lex,
  parseNumberLiteral,
  unquoteString,
  type Token,
  type TokenKind,
} from "./lexer.ts";
import { ParseError } from "./parse_error.ts";
import { AGGREGATIONS, documentedType, getFunction, returnTypeOf } from "./signatures.ts";

export { ParseError } from "./parse_error.ts";

export interface ParseOptions {
  /** Allow experimental functions and `limitk`/`limit_ratio` (default true). */
  experimentalFunctions?: boolean;
  /** Allow duration arithmetic in ranges and offsets (default true). */
  durationExpressions?: boolean;
  /** Allow the `anchored` and `smoothed` selector modifiers (default false). */
  extendedRangeSelectors?: boolean;
  /** Allow `fill`, `fill_left` and `fill_right` on binary operators (default false). */
  binopFillModifiers?: boolean;
}

/** Parses a PromQL expression and type-checks it; throws ParseError. */
export function parseExpr(input: string, opts: ParseOptions = {}): Expr {
  try {
    const p = new Parser(input, opts);
    const e = p.parseTop();
    new Checker(input).check(e);
    return e;
  } catch (err) {
    // A query nested deeper than the call stack allows is refused rather than crashing.
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new ParseError(input, { start: 0, end: input.length }, "expression is nested too deeply");
    }
    throw err;
  }
}

/** The value type of an expression. */
export function typeOf(e: Expr): ValueType {
  return exprValueType(e, returnTypeOf);
}

const enum Prec {
  None = 0,
  Or = 1,
  And = 2,
  Cmp = 3,
  Add = 4,
  Mul = 5,
  Pow = 6,
}

const BINARY_OPS: Partial<Record<TokenKind, [BinaryOp, Prec]>> = {
  LOR: ["or", Prec.Or],
  LAND: ["and", Prec.And],
  LUNLESS: ["unless", Prec.And],
  EQLC: ["==", Prec.Cmp],
  NEQ: ["!=", Prec.Cmp],
  LTE: ["<=", Prec.Cmp],
  LSS: ["<", Prec.Cmp],
  GTE: [">=", Prec.Cmp],
  GTR: [">", Prec.Cmp],
  ADD: ["+", Prec.Add],
  SUB: ["-", Prec.Add],
  MUL: ["*", Prec.Mul],
  DIV: ["/", Prec.Mul],
  MOD: ["%", Prec.Mul],
  ATAN2: ["atan2", Prec.Mul],
  POW: ["^", Prec.Pow],
};

const COMPARISON_OPS = new Set<BinaryOp>(["==", "!=", "<=", "<", ">=", ">"]);
const SET_OPS = new Set<BinaryOp>(["and", "or", "unless"]);

function isComparisonOp(op: BinaryOp): boolean {
  return COMPARISON_OPS.has(op);
}
function isSetOp(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** Token kinds that may name a metric when they are not used as what they usually are. */
/** The label matching operators: =, !=, =~, !~. */
const MATCH_OPS: ReadonlySet<TokenKind> = new Set<TokenKind>(["EQL", "NEQ", "EQL_REGEX", "NEQ_REGEX"]);

const METRIC_NAME_KINDS = new Set<TokenKind>([
  "IDENTIFIER", "METRIC_IDENTIFIER", "AVG", "BOTTOMK", "BY", "COUNT", "COUNT_VALUES", "GROUP",
  "LAND", "LOR", "LUNLESS", "MAX", "MIN", "OFFSET", "QUANTILE", "STDDEV", "STDVAR", "SUM", "TOPK",
  "WITHOUT", "START", "END", "LIMITK", "LIMIT_RATIO",
]);

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What may start a duration, as Prometheus words it. */
const DURATION_EXPECTED = "number, duration, step(), or range()";

class Parser {
  private readonly toks: Token[];
  private i = 0;
  /** Enclosing constructs whose error recovery names them ("aggregation"). */
  private readonly recovery: string[] = [];
  private readonly experimental: boolean;
  private readonly durationExprs: boolean;
  private readonly extendedSelectors: boolean;
  private readonly fillModifiers: boolean;

  constructor(
    private readonly input: string,
    opts: ParseOptions,
  ) {
    this.toks = lex(input);
    this.experimental = opts.experimentalFunctions ?? true;
    this.durationExprs = opts.durationExpressions ?? true;
    this.extendedSelectors = opts.extendedRangeSelectors ?? false;
    this.fillModifiers = opts.binopFillModifiers ?? false;
  }

  // --- token helpers ------------------------------------------------------------------------

  private peek(k = 0): Token {
    const t = this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind === "ERROR") this.lexError(t);
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  /** The kind of the next token; reports a lexer error when the next token is one. */
  private kind(k = 0): TokenKind {
    const t = this.peek(k);
    if (t.kind === "ERROR" && k === 0) this.lexError(t);
    return t.kind;
  }

  private prevEnd(): number {
    const t = this.toks[this.i - 1]!;
    return t.pos + t.val.length;
  }

  private lexError(t: Token): never {
    throw new ParseError(this.input, { start: t.pos, end: this.input.length }, t.val);
  }

  fail(range: PosRange, msg: string): never {
    throw new ParseError(this.input, range, msg);
  }

  /** Prometheus's "unexpected <token>[ in <context>][, expected <what>]". */
  private unexpected(context = "", expected = ""): never {
    const t = this.peek();
    if (t.kind === "ERROR") this.lexError(t);
    const ctx = context || this.recovery[this.recovery.length - 1] || "";
    let msg = `unexpected ${describeToken(t)}`;
    if (ctx) msg += ` in ${ctx}`;
    if (expected && context) msg += `, expected ${expected}`;
    this.fail({ start: t.pos, end: t.pos + t.val.length }, msg);
  }

  private expect(kind: TokenKind, context = "", expected = ""): Token {
    if (this.kind() !== kind) this.unexpected(context, expected);
    return this.next();
  }

  // --- expressions --------------------------------------------------------------------------

  parseTop(): Expr {
    if (this.kind() === "EOF") this.fail({ start: 0, end: 0 }, "no expression found in input");
    const e = this.parseBinary(Prec.None);
    if (this.kind() !== "EOF") this.unexpected();
    return e;
  }

  private parseBinary(minPrec: Prec): Expr {
    let lhs = this.parseUnary();
    for (;;) {
      const k = this.kind();
      const entry = BINARY_OPS[k];
      if (!entry) break;
      const [op, prec] = entry;
      // Only operators binding tighter than the caller's are taken here.
      if (prec <= minPrec) break;
      this.next();
      const matching = this.parseBinModifiers();
      // `^` is right-associative: its right side may contain another `^`.
      const rhs = this.parseBinary(prec === Prec.Pow ? Prec.Pow - 1 : prec);
      if (matching.matching.fillValues && !this.fillModifiers) {
        this.fail({ start: lhs.pos.start, end: rhs.pos.end }, "binop fill modifiers are experimental and not enabled");
      }
      lhs = {
        type: "BinaryExpr",
        op,
        lhs,
        rhs,
        matching: matching.matching,
        returnBool: matching.returnBool,
        pos: { start: lhs.pos.start, end: rhs.pos.end },
      } satisfies BinaryExpr;
    }
    return lhs;
  }

  private parseBinModifiers(): { matching: VectorMatching; returnBool: boolean } {
    const matching: VectorMatching = { card: "one-to-one", matchingLabels: [], on: false, include: [] };
    let returnBool = false;
    if (this.kind() === "BOOL") {
      this.next();
      returnBool = true;
    }
    const k = this.kind();
    if (k === "ON" || k === "IGNORING") {
      this.next();
      matching.on = k === "ON";
      matching.matchingLabels = this.parseGroupingLabels();
      const g = this.kind();
      if (g === "GROUP_LEFT" || g === "GROUP_RIGHT") {
        this.next();
        matching.card = g === "GROUP_LEFT" ? "many-to-one" : "one-to-many";
        if (this.kind() === "LEFT_PAREN") matching.include = this.parseGroupingLabels();
      }
    }
    // fill(v) | fill_left(v) [fill_right(v)] | fill_right(v) [fill_left(v)]
    const fill = this.fillKeyword();
    if (fill) {
      const fv: { lhs: number | null; rhs: number | null } = { lhs: null, rhs: null };
      this.next();
      const v = this.parseFillValue();
      if (fill === "fill") {
        fv.lhs = v;
        fv.rhs = v;
      } else {
        fv[fill === "fill_left" ? "lhs" : "rhs"] = v;
        const other = fill === "fill_left" ? "fill_right" : "fill_left";
        if (this.fillKeyword() === other) {
          this.next();
          fv[other === "fill_left" ? "lhs" : "rhs"] = this.parseFillValue();
        }
      }
      matching.fillValues = fv;
    }
    return { matching, returnBool };
  }

  /** `fill`, `fill_left` or `fill_right` when the next tokens are one of them and `(`. */
  private fillKeyword(): "fill" | "fill_left" | "fill_right" | null {
    const t = this.peek();
    if (t.kind !== "IDENTIFIER" || this.kind(1) !== "LEFT_PAREN") return null;
    const w = t.val.toLowerCase();
    return w === "fill" || w === "fill_left" || w === "fill_right" ? w : null;
  }

  /** `( [+|-] number_or_duration )` of a fill modifier. */
  private parseFillValue(): number {
    this.expect("LEFT_PAREN");
    let sign = 1;
    const k = this.kind();
    if (k === "ADD" || k === "SUB") {
      this.next();
      if (k === "SUB") sign = -1;
    }
    const nk = this.kind();
    if (nk !== "NUMBER" && nk !== "DURATION") this.unexpected();
    const n = this.numberLiteral(this.next());
    this.expect("RIGHT_PAREN");
    return sign * n.value;
  }

  /** `( label, ... )` of by/without/on/ignoring/group_x. */
  private parseGroupingLabels(): string[] {
    if (this.kind() !== "LEFT_PAREN") this.unexpected("grouping opts", '"("');
    this.next();
    const labels: string[] = [];
    if (this.kind() === "RIGHT_PAREN") {
      this.next();
      return labels;
    }
    for (;;) {
      const t = this.peek();
      const k = this.kind();
      if (k === "STRING") {
        labels.push(unquoteString(t.val));
      } else if (
        (k === "IDENTIFIER" || isKeywordKind(k) || isAggregatorKind(k) || k === "LAND" || k === "LOR" ||
          k === "LUNLESS" || k === "ATAN2" || k === "START" || k === "END") &&
        LEGACY_LABEL.test(t.val)
      ) {
        labels.push(t.val);
      } else {
        this.unexpected("grouping opts", "label");
      }
      this.next();
      if (!this.listSeparator("RIGHT_PAREN", "grouping opts", '"," or ")"')) return labels;
    }
  }

  private parseUnary(): Expr {
    const k = this.kind();
    if (k === "ADD" || k === "SUB") {
      const opTok = this.next();
      // Unary operators bind like `*`: looser than `^`, tighter than everything else.
      const operand = this.parseBinary(Prec.Mul);
      if (operand.type === "NumberLiteral") {
        if (k === "SUB") operand.value *= -1;
        operand.pos = { start: opTok.pos, end: operand.pos.end };
        return operand;
      }
      return { type: "UnaryExpr", op: k === "ADD" ? "+" : "-", expr: operand, pos: { start: opTok.pos, end: operand.pos.end } };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    const k = this.kind();
    switch (k) {
      case "NUMBER":
      case "DURATION":
        this.next();
        return this.numberLiteral(t);
      case "STRING":
        this.next();
        return { type: "StringLiteral", value: unquoteString(t.val), pos: { start: t.pos, end: t.pos + t.val.length } };
      case "LEFT_PAREN": {
        this.next();
        const e = this.parseBinary(Prec.None);
        if (this.kind() !== "RIGHT_PAREN") this.unexpected();
        const close = this.next();
        return { type: "ParenExpr", expr: e, pos: { start: t.pos, end: close.pos + 1 } };
      }
      case "LEFT_BRACE":
        return this.parseVectorSelector(null);
      case "ADD":
      case "SUB":
        return this.parseUnary();
    }
    if (isAggregatorKind(k)) {
      const n = this.kind(1);
      if (n === "LEFT_PAREN" || n === "BY" || n === "WITHOUT") return this.parseAggregate();
    }
    if ((k === "IDENTIFIER" || k === "START" || k === "END") && this.kind(1) === "LEFT_PAREN") return this.parseCall();
    if (METRIC_NAME_KINDS.has(k)) {
      this.next();
      return this.parseVectorSelector(t);
    }
    this.unexpected();
  }

  private numberLiteral(t: Token): NumberLiteral {
    const pos = { start: t.pos, end: t.pos + t.val.length };
    if (t.kind === "DURATION") {
      let ms: number;
      try {
        ms = parseDuration(t.val);
      } catch (e) {
        this.fail(pos, (e as Error).message);
      }
      return { type: "NumberLiteral", value: ms / 1000, duration: true, pos };
    }
    const v = parseNumberLiteral(t.val);
    if (v === null) this.fail(pos, `error parsing number: strconv.ParseFloat: parsing ${goQuoteString(t.val)}: invalid syntax`);
    if (v === Infinity && t.val.toLowerCase() !== "inf") {
      this.fail(pos, `error parsing number: strconv.ParseFloat: parsing ${goQuoteString(t.val)}: value out of range`);
    }
    return { type: "NumberLiteral", value: v, pos };
  }

  private parseCall(): Call {
    const nameTok = this.next();
    const name = nameTok.val;
    this.next(); // (
    const args = this.parseArgs();
    const close = this.next();
    const namePos = { start: nameTok.pos, end: nameTok.pos + name.length };
    const fn = getFunction(name);
    if (!fn) this.fail(namePos, `unknown function with name ${goQuoteString(name)}`);
    if (fn.experimental && !this.experimental) this.fail(namePos, `function ${goQuoteString(name)} is not enabled`);
    return { type: "Call", func: name, args, pos: { start: nameTok.pos, end: close.pos + 1 } };
  }

  /** The comma-separated arguments of a call or aggregation, after `(`, up to (not past) `)`. */
  private parseArgs(): Expr[] {
    const args: Expr[] = [];
    if (this.kind() === "RIGHT_PAREN") return args;
    for (;;) {
      args.push(this.parseBinary(Prec.None));
      const k = this.kind();
      if (k === "RIGHT_PAREN") return args;
      if (k !== "COMMA") this.unexpected();
      const comma = this.next();
      if (this.kind() === "RIGHT_PAREN") {
        this.fail({ start: comma.pos, end: comma.pos + 1 }, "trailing commas not allowed in function call args");
      }
    }
  }

  private parseAggregate(): AggregateExpr {
    const opTok = this.next();
    const op = opTok.val.toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let modifierSeen = false;
    const modifier = () => {
      const k = this.kind();
      if (k === "BY" || k === "WITHOUT") {
        this.next();
        without = k === "WITHOUT";
        grouping = this.parseGroupingLabels();
        modifierSeen = true;
      }
    };
    modifier();
    if (this.kind() !== "LEFT_PAREN") this.unexpected("aggregation");
    this.next();
    this.recovery.push("aggregation");
    const args = this.parseArgs();
    this.next(); // )
    this.recovery.pop();
    if (!modifierSeen) modifier();
    const pos = { start: opTok.pos, end: this.prevEnd() };
    const sig = AGGREGATIONS[op];
    if (sig.experimental && !this.experimental) {
      this.fail(pos, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
    }
    if (args.length === 0) this.fail(pos, "no arguments for aggregate expression provided");
    const desired = sig.paramType ? 2 : 1;
    if (args.length !== desired) {
      this.fail(pos, `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`);
    }
    return {
      type: "AggregateExpr",
      op,
      expr: args[desired - 1]!,
      param: sig.paramType ? args[0]! : null,
      grouping,
      without,
      pos,
    };
  }

  /** A vector selector; `nameTok` is the metric name token already consumed, if any. */
  private parseVectorSelector(nameTok: Token | null): VectorSelector {
    const matchers: Matcher[] = [];
    let start = nameTok ? nameTok.pos : this.peek().pos;
    let end = nameTok ? nameTok.pos + nameTok.val.length : start;
    if (this.kind() === "LEFT_BRACE") {
      const open = this.next();
      if (!nameTok) start = open.pos;
      this.parseMatchers(matchers);
      end = this.prevEnd();
    }
    const name = nameTok ? nameTok.val : "";
    if (name !== "") matchers.push(new Matcher("=", "__name__", name));
    return { type: "VectorSelector", name, matchers, offset: 0, timestamp: null, startOrEnd: null, pos: { start, end } };
  }

  private parseMatchers(out: Matcher[]): void {
    if (this.kind() === "RIGHT_BRACE") {
      this.next();
      return;
    }
    for (;;) {
      const t = this.peek();
      const k = this.kind();
      let labelName: string;
      if (k === "IDENTIFIER") {
        labelName = t.val;
        this.next();
        if (!MATCH_OPS.has(this.kind())) {
          this.unexpected("label matching", "label matching operator");
        }
      } else if (k === "STRING") {
        labelName = unquoteString(t.val);
        this.next();
        const nk = this.kind();
        if (nk === "COMMA" || nk === "RIGHT_BRACE") {
          // `{"metric.name"}`: a quoted metric name.
          out.push(new Matcher("=", "__name__", labelName));
          if (!this.listSeparator("RIGHT_BRACE", "label matching", '"," or "}"')) return;
          continue;
        }
        if (!MATCH_OPS.has(nk)) {
          this.unexpected("label matching", "label matching operator");
        }
      } else {
        this.unexpected("label matching", 'identifier or "}"');
      }
      const opTok = this.next();
      const type = opTok.kind === "EQL" ? "=" : opTok.kind === "NEQ" ? "!=" : opTok.kind === "EQL_REGEX" ? "=~" : "!~";
      if (this.kind() !== "STRING") this.unexpected("label matching", "string");
      const valTok = this.next();
      const value = unquoteString(valTok.val);
      try {
        out.push(new Matcher(type, labelName, value));
      } catch (e) {
        if (e instanceof RegexError) {
          this.fail({ start: t.pos, end: valTok.pos + valTok.val.length }, e.message);
        }
        throw e;
      }
      if (!this.listSeparator("RIGHT_BRACE", "label matching", '"," or "}"')) return;
    }
  }

  /**
   * After an item of a comma-separated list (grouping labels, matchers): `,` (then maybe the
   * closing token: a trailing comma is allowed) or the closing token. Returns false once closed.
   */
  private listSeparator(close: TokenKind, context: string, expected: string): boolean {
    const k = this.kind();
    if (k === close) {
      this.next();
      return false;
    }
    if (k !== "COMMA") this.unexpected(context, expected);
    this.next();
    if (this.kind() === close) {
      this.next();
      return false;
    }
    return true;
  }

  // --- postfix: ranges, subqueries, offset, @ ------------------------------------------------

  private parsePostfix(e: Expr): Expr {
    for (;;) {
      const k = this.kind();
      if (k === "LEFT_BRACKET") e = this.parseRangeOrSubquery(e);
      else if (k === "OFFSET") e = this.parseOffset(e);
      else if (k === "AT") e = this.parseAt(e);
      else if (k === "IDENTIFIER" && /^(anchored|smoothed)$/i.test(this.peek().val)) {
        const which = this.next().val.toLowerCase() as "anchored" | "smoothed";
        this.setExtendedModifier(e, which);
      } else return e;
    }
  }

  /** The construct a malformed duration is reported in. */
  private durationCtx: [string, string] = ["subquery or range selector", DURATION_EXPECTED];

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.next();
    this.durationCtx = ["subquery or range selector", DURATION_EXPECTED];
    if (!this.startsDuration()) this.unexpected("subquery or range selector", DURATION_EXPECTED);
    const range = this.parseDurationExpr(true);
    const k = this.kind();
    if (k === "RIGHT_BRACKET") {
      const close = this.next();
      let err = "";
      if (e.type !== "VectorSelector") err = "ranges only allowed for vector selectors";
      else if (e.offset !== 0 || e.offsetExpr) err = "no offset modifiers allowed before range";
      else if (e.timestamp !== null || e.startOrEnd !== null) err = "no @ modifiers allowed before range";
      if (err) this.fail({ start: open.pos, end: close.pos + 1 }, err);
      const ms: MatrixSelector = {
        type: "MatrixSelector",
        vectorSelector: e as VectorSelector,
        range: this.durationValue(range, false),
        pos: { start: e.pos.start, end: close.pos + 1 },
      };
      if (range.op !== "literal") ms.rangeExpr = range;
      return ms;
    }
    if (k !== "COLON") this.unexpected("subquery or range", '":" or "]"');
    this.next();
    let step: DurationExpr | null = null;
    if (this.kind() !== "RIGHT_BRACKET") {
      this.durationCtx = ["subquery selector", 'number, duration, step(), range(), or "]"'];
      if (!this.startsDuration()) this.unexpected(...this.durationCtx);
      step = this.parseDurationExpr(true);
      if (this.kind() !== "RIGHT_BRACKET") this.unexpected("subquery selector", '"]"');
    }
    const close = this.next();
    const sq: SubqueryExpr = {
      type: "SubqueryExpr",
      expr: e,
      range: this.durationValue(range, false),
      step: step ? this.durationValue(step, false) : 0,
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      pos: { start: e.pos.start, end: close.pos + 1 },
    };
    if (range.op !== "literal") sq.rangeExpr = range;
    if (step && step.op !== "literal") sq.stepExpr = step;
    return sq;
  }

  /** The duration function (`step`, `range`, `min_of`, `max_of`) the next token names, if any. */
  private durationFunction(): "step" | "range" | "min_of" | "max_of" | null {
    const t = this.peek();
    if (t.kind !== "IDENTIFIER") return null;
    // Prometheus's lexer reads duration keywords case-insensitively (`STEP()`), and knows no others
    // (`min`/`max` are aggregations, not duration functions).
    const word = t.val.toLowerCase();
    return word === "step" || word === "range" || word === "min_of" || word === "max_of" ? word : null;
  }

  /** Whether the next token can begin a duration expression. */
  private startsDuration(): boolean {
    const k = this.kind();
    if (k === "NUMBER" || k === "DURATION") return true;
    if (k === "LEFT_PAREN" || k === "ADD" || k === "SUB") return true;
    return this.durationFunction() !== null;
  }

  /**
   * The value in ms of a duration expression: checked and computed now when it does not depend
   * on the query (else 0, and the engine resolves it with resolveDurationExprs).
   */
  private durationValue(d: DurationExpr, allowNegative: boolean): number {
    if (!this.durationExprs && d.op !== "literal") this.fail(d.pos, "experimental duration expression is not enabled");
    const err = checkDurationExpr(d);
    if (err) this.fail(err.pos, err.msg);
    if (!durationExprIsConstant(d)) return 0;
    try {
      return evalDurationExpr(d, 0, 0, allowNegative);
    } catch (e) {
      this.fail(d.pos, (e as Error).message);
    }
  }

  /**
   * Duration arithmetic: `+ -` < `* / %` < `^` (right-associative), unary signs, parentheses,
   * `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`. With `full` false (after `offset`)
   * only a signed primary is read, so `foo offset 5m + 1` stays a binary expression.
   */
  private parseDurationExpr(full: boolean, minPrec = 0): DurationExpr {
    let lhs = this.parseDurationUnary(full);
    if (!full) return lhs;
    for (;;) {
      const k = this.kind();
      const prec = k === "ADD" || k === "SUB" ? 1 : k === "MUL" || k === "DIV" || k === "MOD" ? 2 : k === "POW" ? 3 : 0;
      // Precedence climbing: a left-associative operator's right side binds only tighter
      // operators (prec + 1); `^` is right-associative, so its right side may hold another `^`.
      if (prec === 0 || prec < minPrec) break;
      const opTok = this.next();
      const rhs = this.parseDurationExpr(true, prec === 3 ? 3 : prec + 1);
      const op = k === "ADD" ? "+" : k === "SUB" ? "-" : k === "MUL" ? "*" : k === "DIV" ? "/" : k === "MOD" ? "%" : "^";
      lhs = durationNode(op, lhs, rhs, { start: lhs.pos.start, end: rhs.pos.end });
      lhs.opPos = opTok.pos;
    }
    return lhs;
  }

  private parseDurationUnary(full: boolean): DurationExpr {
    const t = this.peek();
    const k = this.kind();
    if (k === "ADD" || k === "SUB") {
      this.next();
      // Prometheus gives a unary sign the precedence of `*`: `-a * b` is `(-a) * b`, `-a ^ b` is `-(a ^ b)`.
      const operand = full ? this.parseDurationExpr(true, 3) : this.parseDurationUnary(false);
      if (operand.op === "literal" && !operand.wrapped) {
        if (k === "SUB") operand.value = -operand.value;
        operand.pos = { start: t.pos, end: operand.pos.end };
        return operand;
      }
      return durationNode(k === "ADD" ? "+" : "-", null, operand, { start: t.pos, end: operand.pos.end });
    }
    if (k === "NUMBER" || k === "DURATION") {
      this.next();
      const n = this.numberLiteral(t);
      return { ...durationNode("literal", null, null, n.pos), value: n.value, duration: k === "DURATION" };
    }
    if (k === "LEFT_PAREN") {
      this.next();
      const inner = this.parseDurationExpr(true);
      if (this.kind() !== "RIGHT_PAREN") this.unexpected("duration expression", '")"');
      const close = this.next();
      return { ...inner, wrapped: true, pos: { start: t.pos, end: close.pos + 1 } };
    }
    const fn = this.durationFunction();
    if (fn === "step" || fn === "range") {
      this.next();
      this.expect("LEFT_PAREN", ...this.durationCtx);
      const close = this.expect("RIGHT_PAREN", "duration expression", '")"');
      return durationNode(fn, null, null, { start: t.pos, end: close.pos + 1 });
    }
    if (fn === "min_of" || fn === "max_of") {
      this.next();
      this.expect("LEFT_PAREN", ...this.durationCtx);
      const a = this.parseDurationExpr(true);
      this.expect("COMMA", "duration expression", '","');
      const b = this.parseDurationExpr(true);
      const close = this.expect("RIGHT_PAREN", "duration expression", '")"');
      return durationNode(fn, a, b, { start: t.pos, end: close.pos + 1 });
    }
    this.unexpected(...this.durationCtx);
  }

  private parseOffset(e: Expr): Expr {
    this.next();
    this.durationCtx = ["offset", DURATION_EXPECTED];
    if (!this.startsDuration()) this.unexpected("offset", DURATION_EXPECTED);
    const d = this.parseDurationExpr(false);
    const end = this.prevEnd();
    const target = this.modifierTarget(e, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
    if (target.offset !== 0 || target.offsetExpr) this.fail(e.pos, "offset may not be set multiple times");
    // `|| 0`: Prometheus's offsets are int64 milliseconds, where `offset -0s` is plain 0.
    if (d.op === "literal") {
      if (Math.abs(d.value) * 1000 > MAX_DURATION_MS) this.fail(d.pos, "duration out of range");
      target.offset = secondsToMs(d.value) || 0;
    } else {
      target.offset = this.durationValue(d, true) || 0;
      target.offsetExpr = d;
    }
    return this.extend(e, end);
  }

  private parseAt(e: Expr): Expr {
    this.next();
    const k = this.kind();
    let ts: number | null = null;
    let startOrEnd: "start" | "end" | null = null;
    if (k === "START" || k === "END") {
      this.next();
      this.expect("LEFT_PAREN", "@", "timestamp");
      this.expect("RIGHT_PAREN", "@", "timestamp");
      startOrEnd = k === "START" ? "start" : "end";
    } else {
      let sign = 1;
      if (k === "ADD" || k === "SUB") {
        this.next();
        if (k === "SUB") sign = -1;
      }
      const nk = this.kind();
      if (nk !== "NUMBER" && nk !== "DURATION") this.unexpected("@", "timestamp");
      const n = this.numberLiteral(this.next());
      const v = sign * n.value;
      if (!Number.isFinite(v) || v >= 9223372036854775807 || v <= -9223372036854775808) {
        this.fail(e.pos, `timestamp out of bounds for @ modifier: ${goFloatF(v)}`);
      }
      ts = goRound(v * 1000) || 0; // int64 milliseconds: `@ -0` is 0
    }
    const end = this.prevEnd();
    const target = this.modifierTarget(e, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
    if (target.timestamp !== null || target.startOrEnd !== null) this.fail(e.pos, "@ <timestamp> may not be set multiple times");
    target.timestamp = ts;
    target.startOrEnd = startOrEnd;
    return this.extend(e, end);
  }

  /** `anchored` / `smoothed` after a selector (Prometheus's setAnchored / setSmoothed). */
  private setExtendedModifier(e: Expr, which: "anchored" | "smoothed"): void {
    if (!this.extendedSelectors) this.fail(e.pos, `${which} modifier is experimental and not enabled`);
    let vs: VectorSelector;
    if (e.type === "VectorSelector") vs = e;
    else if (e.type === "MatrixSelector") vs = e.vectorSelector;
    else if (e.type === "SubqueryExpr") this.fail(e.pos, `${which} modifier is not supported for subqueries`);
    else this.fail(e.pos, `${which} modifier not implemented`);
    if ((which === "anchored" && vs.smoothed) || (which === "smoothed" && vs.anchored)) {
      this.fail(e.pos, "anchored and smoothed modifiers cannot be used together");
    }
    vs[which] = true;
  }

  /** The node that carries offset and @ for `e`. */
  private modifierTarget(e: Expr, msg: string): VectorSelector | SubqueryExpr {
    if (e.type === "VectorSelector" || e.type === "SubqueryExpr") return e;
    if (e.type === "MatrixSelector") return e.vectorSelector;
    this.fail(e.pos, msg);
  }

  private extend(e: Expr, end: number): Expr {
    e.pos = { start: e.pos.start, end };
    return e;
  }
}

/** Go's %f (6 decimals). */
function goFloatF(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  return v.toFixed(6);
}

// -----------------------------------------------------------------------------------------------
// Type checking, as Prometheus's checkAST.

class Checker {
  /** info()'s label-selector argument may have only empty matchers. */
  private readonly bypassEmptyMatcher = new WeakSet<Expr>();

  constructor(private readonly input: string) {}

  private fail(range: PosRange, msg: string): never {
    throw new ParseError(this.input, range, msg);
  }

  /** Checks a subtree and returns its type (computed bottom-up: one pass, even for long chains). */
  check(e: Expr): ValueType {
    switch (e.type) {
      case "AggregateExpr":
        this.expectType(e.expr, "vector", "aggregation expression");
        if (e.param) {
          const want = AGGREGATIONS[e.op].paramType!;
          this.expectType(e.param, want, "aggregation parameter");
        }
        return "vector";
      case "BinaryExpr": {
        // Walk a left-leaning chain (a + b + c + ...) iteratively: long chains must not
        // exhaust the call stack.
        const chain: BinaryExpr[] = [];
        let cur: Expr = e;
        while (cur.type === "BinaryExpr") {
          chain.push(cur);
          cur = cur.lhs;
        }
        let lt = this.check(cur);
        for (let i = chain.length - 1; i >= 0; i--) lt = this.checkBinary(chain[i]!, lt);
        return lt;
      }
      case "Call":
        this.checkCall(e);
        return returnTypeOf(e.func);
      case "ParenExpr":
      case "StepInvariantExpr":
        return this.check(e.expr);
      case "UnaryExpr": {
        const it = this.check(e.expr);
        if (it !== "scalar" && it !== "vector") {
          this.fail(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuoteString(documentedType(it))}`);
        }
        return it;
      }
      case "SubqueryExpr": {
        const it = this.check(e.expr);
        if (it !== "vector") this.fail(e.pos, `subquery is only allowed on instant vector, got ${it} instead`);
        return "matrix";
      }
      case "MatrixSelector":
        this.check(e.vectorSelector);
        return "matrix";
      case "VectorSelector":
        this.checkSelector(e);
        return "vector";
      case "NumberLiteral":
        return "scalar";
      case "StringLiteral":
        return "string";
    }
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e);
    if (t !== want) this.fail(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  private checkSelector(e: VectorSelector): void {
    if (e.name !== "") {
      // The last matcher is the one for the name written before the braces.
      for (const m of e.matchers.slice(0, -1)) {
        if (m.name === "__name__") {
          this.fail(e.pos, `metric name must not be set twice: ${goQuoteString(e.name)} or ${goQuoteString(m.value)}`);
        }
      }
      return;
    }
    if (this.bypassEmptyMatcher.has(e)) return;
    if (!e.matchers.some((m) => !m.matches(""))) {
      this.fail(e.pos, "vector selector must contain at least one non-empty matcher");
    }
  }

  /** Checks a binary expression whose left side was already checked and has type `lt`. */
  private checkBinary(e: BinaryExpr, lt: ValueType): ValueType {
    const rt = this.check(e.rhs);
    const opRange = (): PosRange => {
      let start = e.lhs.pos.end;
      while (start < this.input.length && /\s/.test(this.input[start]!)) start++;
      let end = e.rhs.pos.start - 1;
      while (end > start && /\s/.test(this.input[end]!)) end--;
      return { start, end };
    };
    if (e.returnBool && !isComparisonOp(e.op)) this.fail(opRange(), "bool modifier can only be used on comparison operators");
    if (isComparisonOp(e.op) && !e.returnBool && lt === "scalar" && rt === "scalar") {
      this.fail(opRange(), "comparisons between scalars must use BOOL modifier");
    }
    const m = e.matching;
    if (m && isSetOp(e.op) && m.card === "one-to-one") m.card = "many-to-many";
    if (m && m.on) {
      for (const l of m.matchingLabels) {
        if (m.include.includes(l)) this.fail(opRange(), `label ${goQuoteString(l)} must not occur in ON and GROUP clause at once`);
      }
    }
    if (lt !== "scalar" && lt !== "vector") this.fail(e.lhs.pos, "binary expression must contain only scalar and instant vector types");
    if (rt !== "scalar" && rt !== "vector") this.fail(e.rhs.pos, "binary expression must contain only scalar and instant vector types");
    if ((lt !== "vector" || rt !== "vector") && m) {
      if (m.matchingLabels.length > 0) this.fail(e.pos, "vector matching only allowed between instant vectors");
      e.matching = null;
    } else if (m && isSetOp(e.op)) {
      if (m.card === "one-to-many" || m.card === "many-to-one") this.fail(e.pos, `no grouping allowed for ${goQuoteString(e.op)} operation`);
      if (m.card !== "many-to-many") this.fail(e.pos, "set operations must always be many-to-many");
    }
    if ((lt === "scalar" || rt === "scalar") && isSetOp(e.op)) {
      this.fail(e.pos, `set operator ${goQuoteString(e.op)} not allowed in binary scalar expression`);
    }
    return lt === "scalar" && rt === "scalar" ? "scalar" : "vector";
  }

  private checkCall(e: Call): void {
    const fn = getFunction(e.func)!;
    const nargs = fn.argTypes.length;
    const q = goQuoteString(fn.name);
    if (fn.variadic === 0) {
      if (nargs !== e.args.length) this.fail(e.pos, `expected ${nargs} argument(s) in call to ${q}, got ${e.args.length}`);
    } else {
      const na = nargs - 1;
      if (na > e.args.length) {
        this.fail(e.pos, `expected at least ${na} argument(s) in call to ${q}, got ${e.args.length}`);
      } else if (fn.variadic > 0 && na + fn.variadic < e.args.length) {
        this.fail(e.pos, `expected at most ${na + fn.variadic} argument(s) in call to ${q}, got ${e.args.length}`);
      }
    }
    if (fn.name === "info" && e.args.length > 1) {
      const sel = e.args[1]!;
      const st = typeOf(sel);
      if (st !== "vector") this.fail(e.pos, `expected type instant vector in call to function ${q}, got ${documentedType(st)}`);
      if (sel.type === "VectorSelector") {
        if (sel.name !== "") this.fail(sel.pos, "expected label selectors only, got vector selector instead");
        this.bypassEmptyMatcher.add(sel);
      } else {
        this.fail(sel.pos, "expected label selectors only");
      }
    }
    for (let i = 0; i < e.args.length; i++) {
      let ti = i;
      if (i >= nargs) {
        if (fn.variadic === 0) break;
        ti = nargs - 1;
      }
      this.expectType(e.args[i]!, fn.argTypes[ti]!, `call to function ${q}`);
    }
  }
}
