/**
 * The multi-line form of a query that Prometheus's `/api/v1/format_query` returns (its
 * Pretty(0)): a node whose one-line text is longer than 100 bytes is split, its children go on
 * their own lines indented by two spaces per level; anything that fits stays on one line as
 * formatExpr prints it. Parsing the result gives back the same tree as the one-line form.
 */
import type { Expr } from "./ast.ts";
import { aggregateOpPrefix, binaryOperatorText, formatExpr, subquerySuffix } from "./printer.ts";

const MAX_LINE = 100;

/** The text /api/v1/format_query answers with. */
export function prettyExpr(e: Expr): string {
  return pretty(e, 0);
}

function indent(level: number): string {
  return "  ".repeat(level);
}

/** Whether a node's one-line text is too long (Go measures bytes). */
function needsSplit(e: Expr): boolean {
  return Buffer.byteLength(formatExpr(e), "utf8") > MAX_LINE;
}

function pretty(e: Expr, level: number): string {
  switch (e.type) {
    case "AggregateExpr": {
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      let s = `${indent(level)}${aggregateOpPrefix(e)}(\n`;
      if (e.param) s += `${pretty(e.param, level + 1)},\n`;
      return `${s}${pretty(e.expr, level + 1)}\n${indent(level)})`;
    }
    case "BinaryExpr":
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${pretty(e.lhs, level + 1)}\n${indent(level)}${binaryOperatorText(e)}\n${pretty(e.rhs, level + 1)}`;
    case "Call":
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${indent(level)}${e.func}(\n${e.args.map((a) => pretty(a, level + 1)).join(",\n")}\n${indent(level)})`;
    case "ParenExpr":
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${indent(level)}(\n${pretty(e.expr, level + 1)}\n${indent(level)})`;
    case "StepInvariantExpr":
      return pretty(e.expr, level);
    case "SubqueryExpr":
      // As in Prometheus, a subquery that fits is not indented.
      if (!needsSplit(e)) return formatExpr(e);
      return pretty(e.expr, level) + subquerySuffix(e);
    case "UnaryExpr":
      return `${indent(level)}${e.op}${pretty(e.expr, level).trim()}`;
    case "VectorSelector":
    case "MatrixSelector":
    case "NumberLiteral":
    case "StringLiteral":
      return indent(level) + formatExpr(e);
  }
}
