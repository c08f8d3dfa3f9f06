/**
 * Evaluation of duration expressions (`[5m + 1m]`, `[step() * 3]`, `offset -min_of(1h, range())`)
 * with Prometheus's rules: arithmetic in seconds, division and modulo by zero are errors, and
 * ranges and steps must come out greater than zero.
 */
import { MAX_DURATION_MS } from "../model/index.ts";
import type { DurationExpr, Expr, PosRange } from "./ast.ts";

/** Go's math.Round: halves away from zero. */
export function goRound(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Seconds to whole ms as Prometheus converts them: to nanoseconds rounded (Go's
 * time.Duration(math.Round(v * 1e9))), then truncated to ms. `4.018` is 4018 ms, not 4017.
 */
export function secondsToMs(v: number): number {
  return Math.trunc(goRound(v * 1e9) / 1e6);
}

/** A new duration expression node. */
export function durationNode(op: DurationExpr["op"], lhs: DurationExpr | null, rhs: DurationExpr | null, pos: PosRange): DurationExpr {
  return { type: "DurationExpr", op, lhs, rhs, value: 0, duration: false, wrapped: false, pos };
}

/**
 * Problems Prometheus reports while parsing, before any query runs: a literal too long for a
 * duration, and division or modulo by a constant zero (reported at the operator).
 */
export function checkDurationExpr(d: DurationExpr): { pos: PosRange; msg: string } | null {
  if (d.op === "literal") {
    return Math.abs(d.value) * 1000 > MAX_DURATION_MS ? { pos: d.pos, msg: "duration out of range" } : null;
  }
  const inner = (d.lhs && checkDurationExpr(d.lhs)) || (d.rhs && checkDurationExpr(d.rhs));
  if (inner) return inner;
  if ((d.op === "/" || d.op === "%") && d.rhs && durationExprIsConstant(d.rhs) && evalSeconds(d.rhs, 0, 0) === 0) {
    const at = d.opPos ?? d.pos.start;
    return { pos: { start: at, end: at + 1 }, msg: d.op === "/" ? "division by zero" : "modulo by zero" };
  }
  return null;
}

/** Whether the expression can be computed without the query's step and range. */
export function durationExprIsConstant(d: DurationExpr): boolean {
  if (d.op === "step" || d.op === "range") return false;
  return (d.lhs === null || durationExprIsConstant(d.lhs)) && (d.rhs === null || durationExprIsConstant(d.rhs));
}

function evalSeconds(d: DurationExpr, stepMs: number, rangeMs: number): number {
  switch (d.op) {
    case "literal":
      return d.value;
    case "step":
      return stepMs / 1000;
    case "range":
      return rangeMs / 1000;
  }
  const lhs = d.lhs ? evalSeconds(d.lhs, stepMs, rangeMs) : 0;
  const rhs = evalSeconds(d.rhs!, stepMs, rangeMs);
  switch (d.op) {
    case "+":
      return d.lhs ? lhs + rhs : rhs;
    case "-":
      return d.lhs ? lhs - rhs : -rhs;
    case "*":
      return lhs * rhs;
    case "/":
      if (rhs === 0) throw new Error("division by zero");
      return lhs / rhs;
    case "%":
      if (rhs === 0) throw new Error("modulo by zero");
      return lhs % rhs;
    case "^":
      return Math.pow(lhs, rhs);
    case "min_of":
      return Math.min(lhs, rhs);
    case "max_of":
      return Math.max(lhs, rhs);
  }
}

/**
 * The value of a duration expression in ms, given the query's step and range (end - start) in
 * ms. Throws an Error with Prometheus's message when it is invalid.
 */
export function evalDurationExpr(d: DurationExpr, stepMs: number, rangeMs: number, allowNegative: boolean): number {
  const s = evalSeconds(d, stepMs, rangeMs);
  if (!allowNegative && !(s > 0)) throw new Error("duration must be greater than 0");
  if (!Number.isFinite(s) || Math.abs(s * 1000) > MAX_DURATION_MS) throw new Error("duration out of range");
  return secondsToMs(s);
}

/**
 * Fills in `range`, `step` and `offset` of every node whose duration expression uses `step()` or
 * `range()`, for a query with this step and range (ms; an instant query has step 0 and range 0).
 * Mutates the tree; throws an Error with Prometheus's message when a value is invalid.
 */
export function resolveDurationExprs(e: Expr, stepMs: number, rangeMs: number): void {
  switch (e.type) {
    case "VectorSelector":
      if (e.offsetExpr) e.offset = evalDurationExpr(e.offsetExpr, stepMs, rangeMs, true);
      return;
    case "MatrixSelector":
      if (e.rangeExpr) e.range = evalDurationExpr(e.rangeExpr, stepMs, rangeMs, false);
      resolveDurationExprs(e.vectorSelector, stepMs, rangeMs);
      return;
    case "SubqueryExpr":
      if (e.rangeExpr) e.range = evalDurationExpr(e.rangeExpr, stepMs, rangeMs, false);
      if (e.stepExpr) e.step = evalDurationExpr(e.stepExpr, stepMs, rangeMs, false);
      if (e.offsetExpr) e.offset = evalDurationExpr(e.offsetExpr, stepMs, rangeMs, true);
      resolveDurationExprs(e.expr, stepMs, rangeMs);
      return;
    case "Call":
      for (const a of e.args) resolveDurationExprs(a, stepMs, rangeMs);
      return;
    case "AggregateExpr":
      resolveDurationExprs(e.expr, stepMs, rangeMs);
      if (e.param) resolveDurationExprs(e.param, stepMs, rangeMs);
      return;
    case "BinaryExpr":
      resolveDurationExprs(e.lhs, stepMs, rangeMs);
      resolveDurationExprs(e.rhs, stepMs, rangeMs);
      return;
    case "UnaryExpr":
    case "ParenExpr":
    case "StepInvariantExpr":
      resolveDurationExprs(e.expr, stepMs, rangeMs);
      return;
    case "NumberLiteral":
    case "StringLiteral":
      return;
  }
}
