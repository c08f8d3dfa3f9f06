/**
 * Query preparation, as Prometheus's engine does it before evaluation: resolve `@ start()` /
 * `@ end()`, unwrap parentheses around function and aggregation arguments, and wrap the largest
 * step-invariant subtrees in StepInvariantExpr so they are evaluated once. Also computes, for
 * every selector, the time range it will read, so data is fetched once before evaluation.
 */
import type { Expr, MatrixSelector, SubqueryExpr, VectorSelector } from "../ast.ts";
import { extendedReach } from "./extended.ts";
import { infoSelector } from "./info.ts";

/** Functions whose result depends on the evaluation time even when their arguments do not. */
export const AT_MODIFIER_UNSAFE = new Set([
  "days_in_month",
  "day_of_month",
  "day_of_week",
  "day_of_year",
  "hour",
  "minute",
  "month",
  "year",
  "predict_linear",
  "time",
  "timestamp",
  // The query's own start, end, range and step.
  "start",
  "end",
  "range",
  "step",
]);

function unwrapParens(e: Expr): Expr {
  while (e.type === "ParenExpr") e = e.expr;
  return e;
}

function wrap(e: Expr): Expr {
  return { type: "StepInvariantExpr", expr: e, pos: e.pos };
}

/** Returns a new tree; the input is not modified. */
export function preprocess(expr: Expr, startMs: number, endMs: number): Expr {
  const [e, inv, shouldWrap] = walk(expr, startMs, endMs);
  return inv && shouldWrap ? wrap(e) : e;
}

function resolveAt<T extends VectorSelector | SubqueryExpr>(n: T, start: number, end: number): T {
  if (n.startOrEnd === "start") return { ...n, timestamp: start };
  if (n.startOrEnd === "end") return { ...n, timestamp: end };
  return { ...n };
}

/** Returns [new node, isStepInvariant, shouldWrap]. */
function walk(e: Expr, start: number, end: number): [Expr, boolean, boolean] {
  switch (e.type) {
    case "VectorSelector": {
      const n = resolveAt(e, start, end);
      return [n, n.timestamp !== null, n.timestamp !== null];
    }
    case "MatrixSelector": {
      const vs = resolveAt(e.vectorSelector, start, end);
      return [{ ...e, vectorSelector: vs }, vs.timestamp !== null, false];
    }
    case "SubqueryExpr": {
      let [inner, inv] = walk(e.expr, start, end);
      if (inv) inner = wrap(inner);
      const n = resolveAt({ ...e, expr: inner }, start, end);
      return [n, n.timestamp !== null, n.timestamp !== null];
    }
    case "AggregateExpr": {
      const [inner, inv, sw] = walk(unwrapParens(e.expr), start, end);
      let param = e.param ? unwrapParens(e.param) : null;
      if (param) param = walk(param, start, end)[0];
      return [{ ...e, expr: inner, param }, inv, sw];
    }
    case "BinaryExpr": {
      const [l, il, swl] = walk(e.lhs, start, end);
      const [r, ir, swr] = walk(e.rhs, start, end);
      if (il && ir) return [{ ...e, lhs: l, rhs: r }, true, true];
      return [{ ...e, lhs: swl ? wrap(l) : l, rhs: swr ? wrap(r) : r }, false, false];
    }
    case "Call": {
      let inv = !AT_MODIFIER_UNSAFE.has(e.func);
      const args: Expr[] = [];
      const sws: boolean[] = [];
      for (const a of e.args) {
        const [n, ai, sw] = walk(unwrapParens(a), start, end);
        args.push(n);
        sws.push(sw);
        inv = inv && ai;
      }
      if (inv) return [{ ...e, args }, true, true];
      return [{ ...e, args: args.map((a, i) => (sws[i] ? wrap(a) : a)) }, false, false];
    }
    case "ParenExpr": {
      const [inner, inv, sw] = walk(e.expr, start, end);
      return [{ ...e, expr: inner }, inv, sw];
    }
    case "UnaryExpr": {
      const [inner, inv, sw] = walk(e.expr, start, end);
      return [{ ...e, expr: inner }, inv, sw];
    }
    case "StringLiteral":
    case "NumberLiteral":
      return [e, true, false];
    case "StepInvariantExpr":
      return [e, true, false];
  }
}

export interface SelectorRange {
  mint: number;
  maxt: number;
}

/**
 * Walks a preprocessed tree with the evaluation window each node sees and records the sample
 * range every selector needs: [mint, maxt] covering lookback/range windows, offsets and `@`.
 */
export function selectorRanges(
  expr: Expr,
  start: number,
  end: number,
  lookback: number,
  subqueryStep: number,
): Map<VectorSelector, SelectorRange> {
  const out = new Map<VectorSelector, SelectorRange>();
  const note = (vs: VectorSelector, back: number, s: number, e: number, ahead = 0) => {
    const bs = vs.timestamp ?? s;
    const be = vs.timestamp ?? e;
    const mint = bs - vs.offset - back;
    const maxt = be - vs.offset + ahead;
    const prev = out.get(vs);
    if (prev) {
      prev.mint = Math.min(prev.mint, mint);
      prev.maxt = Math.max(prev.maxt, maxt);
    } else out.set(vs, { mint, maxt });
  };
  const visit = (e: Expr, s: number, en: number): void => {
    switch (e.type) {
      case "VectorSelector":
        // A smoothed selector interpolates towards the next sample, up to a lookback ahead.
        note(e, lookback, s, en, e.smoothed ? lookback : 0);
        return;
      case "MatrixSelector": {
        const reach = extendedReach(e.vectorSelector, lookback);
        note(e.vectorSelector, e.range + reach.before, s, en, reach.after);
        return;
      }
      case "SubqueryExpr": {
        const r = subqueryRange(e, s, en, subqueryStep);
        visit(e.expr, r.start, r.end);
        return;
      }
      case "StepInvariantExpr":
        visit(e.expr, s, s);
        return;
      case "AggregateExpr":
        visit(e.expr, s, en);
        if (e.param) visit(e.param, s, en);
        return;
      case "BinaryExpr":
        visit(e.lhs, s, en);
        visit(e.rhs, s, en);
        return;
      case "Call":
        if (e.func === "info") {
          // The second argument only describes the info series: they are fetched by the call's
          // own selector, over the lookback at the steps of the first argument's reference time.
          visit(e.args[0]!, s, en);
          note(infoSelector(e), lookback, s, en);
          return;
        }
        for (const a of e.args) visit(a, s, en);
        return;
      case "ParenExpr":
      case "UnaryExpr":
        visit(e.expr, s, en);
        return;
      default:
        return;
    }
  };
  visit(expr, start, end);
  return out;
}

/** The inner evaluation window of a subquery, aligned to multiples of its step as Prometheus aligns it. */
export function subqueryRange(
  e: SubqueryExpr,
  start: number,
  end: number,
  defaultStep: number,
): { start: number; end: number; step: number } {
  const step = e.step > 0 ? e.step : defaultStep;
  const bs = e.timestamp ?? start;
  const be = e.timestamp ?? end;
  const from = bs - e.offset - e.range;
  // Go's integer division truncates toward zero.
  let s = step * Math.trunc(from / step);
  if (s <= from) s += step;
  return { start: s, end: be - e.offset, step };
}

/** A range-vector argument: a matrix selector or a subquery. */
export function isMatrixArg(e: Expr): e is MatrixSelector | SubqueryExpr {
  return e.type === "MatrixSelector" || e.type === "SubqueryExpr";
}
