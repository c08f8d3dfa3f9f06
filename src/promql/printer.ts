/**
 * Prints an AST back as the canonical query text Prometheus's `/api/v1/format_query` gives:
 * `sum by (job) (rate(x[5m]))`, `a + on (b) group_left () c`, durations as `1h30m`, numbers in
 * plain decimal, strings Go-quoted, selector matchers sorted. `parseExpr(formatExpr(e))` gives back
 * an equal tree (up to matcher order and positions).
 */
import type { AggregateExpr, BinaryExpr, DurationExpr, Expr, SubqueryExpr, VectorMatching, VectorSelector } from "./ast.ts";
import { formatDuration, goQuoteString, type Matcher } from "../model/index.ts";
import { secondsToMs } from "./duration_expr.ts";

/** The canonical single-line text of an expression. */
export function formatExpr(e: Expr): string {
  switch (e.type) {
    case "NumberLiteral":
      return e.duration ? formatSignedDuration(secondsToMs(e.value)) : formatNumber(e.value);
    case "StringLiteral":
      return goQuoteString(e.value);
    case "VectorSelector":
      return formatVectorSelector(e, true);
    case "MatrixSelector": {
      const vs = e.vectorSelector;
      const range = e.rangeExpr ? formatDurationExpr(e.rangeExpr) : formatDuration(e.range);
      return `${formatVectorSelector(vs, false)}[${range}]${extendedString(vs)}${atString(vs)}${offsetString(vs)}`;
    }
    case "SubqueryExpr":
      return `${formatExpr(e.expr)}${subquerySuffix(e)}`;
    case "Call":
      return `${e.func}(${e.args.map(formatExpr).join(", ")})`;
    case "AggregateExpr":
      return formatAggregate(e);
    case "BinaryExpr":
      return formatBinary(e);
    case "UnaryExpr":
      return `${e.op}${formatExpr(e.expr)}`;
    case "ParenExpr":
      return `(${formatExpr(e.expr)})`;
    case "StepInvariantExpr":
      return formatExpr(e.expr);
  }
}

/** The operator and grouping before an aggregation's arguments: `sum`, `sum by (job) `. */
export function aggregateOpPrefix(e: AggregateExpr): string {
  if (e.without) return `${e.op} without (${formatLabelList(e.grouping)}) `;
  if (e.grouping.length > 0) return `${e.op} by (${formatLabelList(e.grouping)}) `;
  return e.op;
}

function formatAggregate(e: AggregateExpr): string {
  let s = aggregateOpPrefix(e);
  s += "(";
  if (e.param) s += `${formatExpr(e.param)}, `;
  return `${s}${formatExpr(e.expr)})`;
}

/** The operator with its modifiers: `>`, `== bool`, `/ on (job) group_left (x)`. */
export function binaryOperatorText(e: BinaryExpr): string {
  return `${e.op}${e.returnBool ? " bool" : ""}${matchingString(e.matching)}`;
}

function formatBinary(e: BinaryExpr): string {
  // "+Inf ^ x" would parse back as +(Inf ^ x): the same value, but another tree.
  const lhs = e.op === "^" && e.lhs.type === "NumberLiteral" && e.lhs.value === Infinity ? "Inf" : formatExpr(e.lhs);
  return `${lhs} ${binaryOperatorText(e)} ${formatExpr(e.rhs)}`;
}

function matchingString(vm: VectorMatching | null): string {
  if (!vm) return "";
  const grouped = vm.card === "many-to-one" || vm.card === "one-to-many";
  // Prometheus leaves out an empty `ignoring ()`; it must stay when group_x follows it.
  if (vm.matchingLabels.length === 0 && !vm.on && !grouped) return fillString(vm);
  let s = ` ${vm.on ? "on" : "ignoring"} (${formatLabelList(vm.matchingLabels)})`;
  if (grouped) s += ` group_${vm.card === "many-to-one" ? "left" : "right"} (${formatLabelList(vm.include)})`;
  return s + fillString(vm);
}

function fillString(vm: VectorMatching): string {
  const f = vm.fillValues;
  if (!f) return "";
  if (f.lhs !== null && f.lhs === f.rhs) return ` fill (${formatNumber(f.lhs)})`;
  let s = "";
  if (f.lhs !== null) s += ` fill_left (${formatNumber(f.lhs)})`;
  if (f.rhs !== null) s += ` fill_right (${formatNumber(f.rhs)})`;
  return s;
}

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A label name as PromQL writes it: bare when it is a classic name, else quoted. */
function formatLabelName(name: string): string {
  return LEGACY_LABEL.test(name) ? name : goQuoteString(name);
}

function formatLabelList(names: readonly string[]): string {
  return names.map(formatLabelName).join(", ");
}

/** `name="value"` with Prometheus's quoting. */
function formatMatcher(m: Matcher): string {
  return `${formatLabelName(m.name)}${m.type}${goQuoteString(m.value)}`;
}

function formatVectorSelector(vs: VectorSelector, withModifiers: boolean): string {
  const strs: string[] = [];
  let name = vs.name;
  for (const m of vs.matchers) {
    if (name !== "" && m.name === "__name__" && m.type === "=" && m.value === name) continue;
    strs.push(formatMatcher(m));
  }
  strs.sort(compareGoStrings);
  if (name !== "" && !LEGACY_METRIC.test(name)) {
    // A name that cannot stand before the braces goes inside them, quoted, first.
    strs.unshift(goQuoteString(name));
    name = "";
  }
  const mods = withModifiers ? `${atString(vs)}${extendedString(vs)}${offsetString(vs)}` : "";
  if (strs.length === 0) return `${name}${mods}`;
  return `${name}{${strs.join(",")}}${mods}`;
}

/** Byte-wise comparison as Go's sort.Strings does (UTF-16 order differs only for astral chars). */
function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function extendedString(vs: VectorSelector): string {
  return vs.anchored ? " anchored" : vs.smoothed ? " smoothed" : "";
}

function atString(n: VectorSelector | SubqueryExpr): string {
  if (n.timestamp !== null) return ` @ ${(n.timestamp / 1000).toFixed(3)}`;
  if (n.startOrEnd === "start") return " @ start()";
  if (n.startOrEnd === "end") return " @ end()";
  return "";
}

function offsetString(n: VectorSelector | SubqueryExpr): string {
  if (n.offsetExpr) {
    const d = n.offsetExpr;
    return ` offset ${formatDurationExpr(d)}`;
  }
  if (n.offset > 0) return ` offset ${formatDuration(n.offset)}`;
  if (n.offset < 0) return ` offset -${formatDuration(-n.offset)}`;
  return "";
}

/** `[range:step]`, then `@` and `offset`, of a subquery. */
export function subquerySuffix(e: SubqueryExpr): string {
  const range = e.rangeExpr ? formatDurationExpr(e.rangeExpr) : formatDuration(e.range);
  const step = e.stepExpr ? formatDurationExpr(e.stepExpr) : e.step !== 0 ? formatDuration(e.step) : "";
  return `[${range}:${step}]${atString(e)}${offsetString(e)}`;
}

/** A duration expression as written canonically: `5m + 1m`, `-step()`, `min_of(5m, range())`. */
function formatDurationExpr(d: DurationExpr): string {
  let s: string;
  switch (d.op) {
    case "literal":
      s = d.duration ? formatSignedDuration(secondsToMs(d.value)) : formatNumber(d.value);
      break;
    case "step":
    case "range":
      s = `${d.op}()`;
      break;
    case "min_of":
    case "max_of":
      s = `${d.op}(${formatDurationExpr(d.lhs!)}, ${formatDurationExpr(d.rhs!)})`;
      break;
    default:
      s = d.lhs ? `${formatDurationExpr(d.lhs)} ${d.op} ${formatDurationExpr(d.rhs!)}` : `${d.op}${formatDurationExpr(d.rhs!)}`;
  }
  return d.wrapped ? `(${s})` : s;
}

function formatSignedDuration(ms: number): string {
  return ms < 0 ? `-${formatDuration(-ms)}` : formatDuration(ms);
}

/**
 * A number literal as Prometheus prints it (Go's strconv 'f' with the shortest exact digits):
 * `1`, `0.5`, `1000000`, `0.00001`, `+Inf`, `-Inf`, `NaN`; never an exponent.
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const sign = v < 0 ? "-" : "";
  const [mant, expStr] = Math.abs(v).toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  const exp = Number(expStr);
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
