/**
 * The PromQL front-end services the API needs besides evaluation: metric selectors for
 * `match[]`, canonical printing for /api/v1/format_query (Prometheus's String() form), and the
 * JSON syntax tree of /api/v1/parse_query (the shape of Prometheus's translateAST).
 */
import type { Matcher } from "../model/index.ts";
import { parseExpr, ParseError, type DurationExpr, type Expr, type VectorSelector } from "../promql/index.ts";
import { goQuoteString } from "../promql/lexer.ts";
import { getFunction } from "../promql/signatures.ts";
import { formatSampleValue } from "../telemetry/registry.ts";
import type { PromqlTools } from "./deps.ts";

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Parses a series selector such as `up{job="x"}` (what match[] takes). */
export function parseMetricSelector(text: string): Matcher[] {
  const e = parseExpr(text);
  if (e.type !== "VectorSelector") {
    throw new ParseError(text, e.pos, `expected a series selector such as up{job="x"}, got an expression of type ${e.type}`);
  }
  return e.matchers;
}

const DURATION_UNITS: [string, number][] = [
  ["y", 365 * 86400e3],
  ["w", 7 * 86400e3],
  ["d", 86400e3],
  ["h", 3600e3],
  ["m", 60e3],
  ["s", 1e3],
  ["ms", 1],
];

/** Prometheus's model.Duration String(): `1h30m`, `5m`, `0s`; negative with a leading `-`. */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.abs(ms);
  let out = ms < 0 ? "-" : "";
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

function printDurationExpr(d: DurationExpr): string {
  let s: string;
  switch (d.op) {
    case "literal":
      s = d.duration ? formatPromDuration(Math.round(d.value * 1000)) : formatSampleValue(d.value);
      break;
    case "step":
      s = "step()";
      break;
    case "range":
      s = "range()";
      break;
    case "min_of":
    case "max_of":
      s = `${d.op}(${printDurationExpr(d.lhs!)}, ${printDurationExpr(d.rhs!)})`;
      break;
    default:
      s = d.lhs ? `${printDurationExpr(d.lhs)} ${d.op} ${printDurationExpr(d.rhs!)}` : `${d.op}${printDurationExpr(d.rhs!)}`;
  }
  return d.wrapped ? `(${s})` : s;
}

function printMatcher(m: Matcher): string {
  const name = LEGACY_NAME.test(m.name) ? m.name : goQuoteString(m.name);
  return `${name}${m.type}${goQuoteString(m.value)}`;
}

function printModifiers(offset: number, offsetExpr: DurationExpr | undefined, timestamp: number | null, startOrEnd: string | null): string {
  let s = "";
  if (offsetExpr) s += ` offset ${printDurationExpr(offsetExpr)}`;
  else if (offset !== 0) s += ` offset ${formatPromDuration(offset)}`;
  if (timestamp !== null) s += ` @ ${(timestamp / 1000).toFixed(3)}`;
  else if (startOrEnd) s += ` @ ${startOrEnd}()`;
  return s;
}

function printSelectorBody(vs: VectorSelector): string {
  const ms = vs.name !== "" ? vs.matchers.filter((m) => !(m.name === "__name__" && m.type === "=" && m.value === vs.name)) : vs.matchers;
  const name = vs.name === "" ? "" : METRIC_NAME_RE.test(vs.name) ? vs.name : "";
  const all = name === "" && vs.name !== "" ? vs.matchers : ms;
  if (name !== "" && all.length === 0) return name;
  return `${name}{${all.map(printMatcher).join(", ")}}`;
}

/** Prints an expression the way Prometheus's Expr.String() does. */
export function printExpr(e: Expr): string {
  switch (e.type) {
    case "NumberLiteral":
      return formatSampleValue(e.value);
    case "StringLiteral":
      return goQuoteString(e.value);
    case "VectorSelector":
      return printSelectorBody(e) + printModifiers(e.offset, e.offsetExpr, e.timestamp, e.startOrEnd);
    case "MatrixSelector": {
      const vs = e.vectorSelector;
      const range = e.rangeExpr ? printDurationExpr(e.rangeExpr) : formatPromDuration(e.range);
      return `${printSelectorBody(vs)}[${range}]` + printModifiers(vs.offset, vs.offsetExpr, vs.timestamp, vs.startOrEnd);
    }
    case "SubqueryExpr": {
      const range = e.rangeExpr ? printDurationExpr(e.rangeExpr) : formatPromDuration(e.range);
      const step = e.stepExpr ? printDurationExpr(e.stepExpr) : e.step === 0 ? "" : formatPromDuration(e.step);
      return `${printExpr(e.expr)}[${range}:${step}]` + printModifiers(e.offset, e.offsetExpr, e.timestamp, e.startOrEnd);
    }
    case "Call":
      return `${e.func}(${e.args.map(printExpr).join(", ")})`;
    case "AggregateExpr": {
      let op: string = e.op;
      if (e.without) op += ` without (${e.grouping.join(", ")}) `;
      else if (e.grouping.length > 0) op += ` by (${e.grouping.join(", ")}) `;
      const args = e.param ? `${printExpr(e.param)}, ${printExpr(e.expr)}` : printExpr(e.expr);
      return `${op}(${args})`;
    }
    case "BinaryExpr": {
      let matching = "";
      const vm = e.matching;
      if (vm && (vm.matchingLabels.length > 0 || vm.on)) {
        matching = ` ${vm.on ? "on" : "ignoring"} (${vm.matchingLabels.join(", ")})`;
        if (vm.card === "many-to-one" || vm.card === "one-to-many") {
          matching += ` group_${vm.card === "many-to-one" ? "left" : "right"} (${vm.include.join(", ")})`;
        }
      }
      return `${printExpr(e.lhs)} ${e.op}${e.returnBool ? " bool" : ""}${matching} ${printExpr(e.rhs)}`;
    }
    case "UnaryExpr":
      return `${e.op}${printExpr(e.expr)}`;
    case "ParenExpr":
      return `(${printExpr(e.expr)})`;
    case "StepInvariantExpr":
      return printExpr(e.expr);
  }
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
    formatQuery: (text) => printExpr(parseExpr(text)),
    parseQueryTree: (text) => astJSON(parseExpr(text)),
  };
}
