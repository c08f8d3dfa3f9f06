/**
 * Prometheus's step-invariance check for instant evals: append `@ <eval time>` to every selector
 * and subquery (not inside a subquery that already has one), skip queries with functions whose
 * result depends on the evaluation time, and evaluate at several other times.
 */
import { parseExpr, type Expr } from "../../../src/promql/index.ts";
import { AT_MODIFIER_UNSAFE } from "../../../src/promql/eval/preprocess.ts";
import { SCRIPT_FEATURES } from "./features.ts";

type Formatter = (e: Expr) => string;
let formatter: Formatter | null | undefined;

/** The printer comes from the parser's room; without it the `@` variants cannot be built. */
async function loadFormatter(): Promise<Formatter | null> {
  if (formatter !== undefined) return formatter;
  try {
    const mod = (await import("../../../src/promql/printer.ts")) as { formatExpr?: Formatter };
    formatter = mod.formatExpr ?? null;
  } catch {
    formatter = null;
  }
  return formatter;
}

export const formatterReady: Promise<Formatter | null> = loadFormatter();

export function atModifierVariants(exprStr: string, evalMs: number): { expr: string; at: number }[] {
  if (!formatter) return [];
  let expr: Expr;
  try {
    expr = parseExpr(exprStr, SCRIPT_FEATURES);
  } catch {
    return [];
  }
  let unsafe = false;
  const visit = (e: Expr, underAt: boolean): void => {
    switch (e.type) {
      case "VectorSelector":
        if (!underAt && e.timestamp === null) {
          e.timestamp = evalMs;
          e.startOrEnd = null;
        }
        return;
      case "MatrixSelector":
        if (!underAt && e.vectorSelector.timestamp === null) {
          e.vectorSelector.timestamp = evalMs;
          e.vectorSelector.startOrEnd = null;
        }
        return;
      case "SubqueryExpr": {
        if (!underAt && e.timestamp === null) {
          e.timestamp = evalMs;
          e.startOrEnd = null;
        }
        // Selectors inside a subquery that has an `@` are left alone.
        visit(e.expr, true);
        return;
      }
      case "Call":
        if (AT_MODIFIER_UNSAFE.has(e.func)) unsafe = true;
        for (const a of e.args) visit(a, underAt);
        return;
      case "AggregateExpr":
        visit(e.expr, underAt);
        if (e.param) visit(e.param, underAt);
        return;
      case "BinaryExpr":
        visit(e.lhs, underAt);
        visit(e.rhs, underAt);
        return;
      case "ParenExpr":
      case "UnaryExpr":
      case "StepInvariantExpr":
        visit(e.expr, underAt);
        return;
      default:
        return;
    }
  };
  visit(expr, false);
  if (unsafe) return [];
  const text = formatter(expr);
  const ts = evalMs;
  const times = ts === 0 ? [-1000, 0, 1000] : [-10 * ts, 0, Math.trunc(ts / 5), ts, 10 * ts];
  return times.map((at) => ({ expr: text, at }));
}
