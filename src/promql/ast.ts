/**
 * The PromQL abstract syntax tree, shaped like Prometheus's promql/parser AST so that its
 * semantics carry over one to one. Durations and times are in milliseconds. Every node carries
 * the half-open character range [start, end) of its text in the query, used for error and
 * annotation positions.
 */
import type { Matcher } from "../model/index.ts";

export type ValueType = "scalar" | "vector" | "matrix" | "string" | "none";

export interface PosRange {
  start: number;
  end: number;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr
  | StepInvariantExpr;

/** `@ start()` / `@ end()`: resolved to the query's start or end time by the engine. */
export type AtModifierKind = "start" | "end" | null;

export interface NumberLiteral {
  type: "NumberLiteral";
  value: number;
  /** Written as a duration (`5m`, value in seconds); printed back as one. */
  duration?: boolean;
  pos: PosRange;
}

export interface StringLiteral {
  type: "StringLiteral";
  value: string;
  pos: PosRange;
}

export interface VectorSelector {
  type: "VectorSelector";
  /** The metric name when written before the braces, else "" (it is also among `matchers`). */
  name: string;
  matchers: Matcher[];
  /** Offset in ms; negative offsets look into the future. */
  offset: number;
  /** `@` time in ms, or null. */
  timestamp: number | null;
  startOrEnd: AtModifierKind;
  /** The offset when written as a duration expression (`offset (1h + step())`); see DurationExpr. */
  offsetExpr?: DurationExpr;
  /**
   * The experimental `anchored` / `smoothed` range selector modifiers
   * (`--enable-feature=promql-extended-range-selectors`); only set when the parser allows them.
   */
  anchored?: boolean;
  smoothed?: boolean;
  pos: PosRange;
}

export interface MatrixSelector {
  type: "MatrixSelector";
  vectorSelector: VectorSelector;
  /** Range in ms. */
  range: number;
  /** The range when written as a duration expression (`[5m + 1m]`); see DurationExpr. */
  rangeExpr?: DurationExpr;
  pos: PosRange;
}

export interface SubqueryExpr {
  type: "SubqueryExpr";
  expr: Expr;
  range: number;
  /** Resolution in ms; 0 means the default (the evaluation interval). */
  step: number;
  offset: number;
  timestamp: number | null;
  startOrEnd: AtModifierKind;
  /** Range, step and offset when written as duration expressions; see DurationExpr. */
  rangeExpr?: DurationExpr;
  stepExpr?: DurationExpr;
  offsetExpr?: DurationExpr;
  pos: PosRange;
}

/**
 * Duration arithmetic in ranges, subquery steps and offsets (Prometheus's experimental duration
 * expressions): `[5m + 1m]`, `[step() * 5]`, `offset -(1h)`, `min_of(5m, range())`. Values are in
 * seconds. When an expression has no `step()`/`range()` the parser already stored its value in
 * the node's `range`/`step`/`offset` (ms); otherwise the engine resolves it per query with
 * `resolveDurationExprs` from duration_expr.ts. The expression is kept for printing.
 */
export interface DurationExpr {
  type: "DurationExpr";
  /**
   * "literal" (a number or duration, `value` in seconds); "+", "-", "*", "/", "%", "^" (binary,
   * or unary "+"/"-" with `lhs` null); "step" and "range" (the query's step/range); "min_of" and
   * "max_of" (of `lhs` and `rhs`).
   */
  op: "literal" | "+" | "-" | "*" | "/" | "%" | "^" | "step" | "range" | "min_of" | "max_of";
  lhs: DurationExpr | null;
  rhs: DurationExpr | null;
  value: number;
  /** The literal was written as a duration (`5m`) rather than a number (`300`). */
  duration: boolean;
  /** Written inside parentheses. */
  wrapped: boolean;
  /** Position of the operator of a binary duration expression (for error messages). */
  opPos?: number;
  pos: PosRange;
}

export interface Call {
  type: "Call";
  func: string;
  args: Expr[];
  pos: PosRange;
}

export type AggregateOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "quantile"
  | "count_values"
  | "group"
  | "limitk"
  | "limit_ratio";

export interface AggregateExpr {
  type: "AggregateExpr";
  op: AggregateOp;
  expr: Expr;
  /** The parameter of topk, bottomk, quantile, count_values, limitk, limit_ratio. */
  param: Expr | null;
  grouping: string[];
  /** `without (...)` rather than `by (...)`. */
  without: boolean;
  pos: PosRange;
}

export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^"
  | "atan2"
  | "=="
  | "!="
  | ">"
  | "<"
  | ">="
  | "<="
  | "and"
  | "or"
  | "unless";

export type Cardinality = "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";

export interface VectorMatching {
  card: Cardinality;
  /** Labels in `on(...)` or `ignoring(...)`. */
  matchingLabels: string[];
  /** `on` rather than `ignoring`. */
  on: boolean;
  /** Extra labels of `group_left(...)` / `group_right(...)`. */
  include: string[];
  /**
   * The experimental `fill(v)`, `fill_left(v)`, `fill_right(v)` modifiers
   * (`--enable-feature=promql-binop-fill-modifiers`): the value that stands in for a missing
   * match on that side; null where none was given. Only set when the parser allows them.
   */
  fillValues?: { lhs: number | null; rhs: number | null };
}

export interface BinaryExpr {
  type: "BinaryExpr";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** Set when both sides are vectors (or when a modifier was written). */
  matching: VectorMatching | null;
  /** The `bool` modifier of comparison operators. */
  returnBool: boolean;
  pos: PosRange;
}

export interface UnaryExpr {
  type: "UnaryExpr";
  op: "+" | "-";
  expr: Expr;
  pos: PosRange;
}

export interface ParenExpr {
  type: "ParenExpr";
  expr: Expr;
  pos: PosRange;
}

/** Wraps a subtree whose value is the same at every step (added by the engine's preprocessing). */
export interface StepInvariantExpr {
  type: "StepInvariantExpr";
  expr: Expr;
  pos: PosRange;
}

/** The type of value an expression produces, as Prometheus's parser defines it. */
export function exprValueType(e: Expr, returnTypeOf: (func: string) => ValueType): ValueType {
  switch (e.type) {
    case "NumberLiteral":
      return "scalar";
    case "StringLiteral":
      return "string";
    case "VectorSelector":
    case "AggregateExpr":
      return "vector";
    case "MatrixSelector":
    case "SubqueryExpr":
      return "matrix";
    case "Call":
      return returnTypeOf(e.func);
    case "BinaryExpr":
      return exprValueType(e.lhs, returnTypeOf) === "scalar" && exprValueType(e.rhs, returnTypeOf) === "scalar"
        ? "scalar"
        : "vector";
    case "UnaryExpr":
    case "ParenExpr":
    case "StepInvariantExpr":
      return exprValueType(e.expr, returnTypeOf);
  }
}
