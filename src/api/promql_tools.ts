/**
 * The PromQL front-end services the API needs besides evaluation: metric selectors for
 * `match[]`, Prometheus's multi-line formatting for /api/v1/format_query (the PromQL room's
 * prettier), and the JSON syntax tree of /api/v1/parse_query (Prometheus's translateAST shape).
 */
import type { Matcher } from "../model/index.ts";
import { getFunction, parseExpr, ParseError, prettyExpr, type Expr } from "../promql/index.ts";
import { formatSampleValue } from "../telemetry/index.ts";
import type { PromqlTools } from "./deps.ts";

/** Parses a series selector such as `up{job="x"}` (what match[] takes). */
export function parseMetricSelector(text: string): Matcher[] {
  const e = parseExpr(text);
  if (e.type !== "VectorSelector") {
    throw new ParseError(text, e.pos, `expected a series selector such as up{job="x"}, got an expression of type ${e.type}`);
  }
  return e.matchers;
}

function matchersJSON(ms: Matcher[]) {
  return ms.map((m) => ({ name: m.name, value: m.value, type: m.type }));
}

/** The syntax tree as Prometheus's /api/v1/parse_query renders it. */
export function astJSON(e: Expr | null): unknown {
  if (e === null) return null;
  switch (e.type) {
    case "AggregateExpr":
      return { type: "aggregation", op: e.op, expr: astJSON(e.expr), param: astJSON(e.param), grouping: e.grouping, without: e.without };
    case "BinaryExpr":
      return {
        type: "binaryExpr",
        op: e.op,
        lhs: astJSON(e.lhs),
        rhs: astJSON(e.rhs),
        matching: e.matching
          ? { card: e.matching.card, labels: e.matching.matchingLabels, on: e.matching.on, include: e.matching.include }
          : null,
        bool: e.returnBool,
      };
    case "Call": {
      const sig = getFunction(e.func);
      return {
        type: "call",
        func: {
          name: e.func,
          argTypes: sig?.argTypes ?? [],
          variadic: sig?.variadic ?? 0,
          returnType: sig?.returnType ?? "vector",
        },
        args: e.args.map(astJSON),
      };
    }
    case "MatrixSelector": {
      const vs = e.vectorSelector;
      return {
        type: "matrixSelector",
        name: vs.name,
        range: e.range,
        offset: vs.offset,
        matchers: matchersJSON(vs.matchers),
        timestamp: vs.timestamp,
        startOrEnd: vs.startOrEnd,
      };
    }
    case "SubqueryExpr":
      return {
        type: "subquery",
        expr: astJSON(e.expr),
        range: e.range,
        offset: e.offset,
        step: e.step,
        timestamp: e.timestamp,
        startOrEnd: e.startOrEnd,
      };
    case "NumberLiteral":
      return { type: "numberLiteral", val: formatSampleValue(e.value) };
    case "ParenExpr":
      return { type: "parenExpr", expr: astJSON(e.expr) };
    case "StringLiteral":
      return { type: "stringLiteral", val: e.value };
    case "UnaryExpr":
      return { type: "unaryExpr", op: e.op, expr: astJSON(e.expr) };
    case "VectorSelector":
      return {
        type: "vectorSelector",
        name: e.name,
        offset: e.offset,
        matchers: matchersJSON(e.matchers),
        timestamp: e.timestamp,
        startOrEnd: e.startOrEnd,
      };
    case "StepInvariantExpr":
      return astJSON(e.expr);
  }
}

export function createPromqlTools(): PromqlTools {
  return {
    parseMetricSelector,
    formatQuery: (text) => prettyExpr(parseExpr(text)),
    parseQueryTree: (text) => astJSON(parseExpr(text)),
  };
}
