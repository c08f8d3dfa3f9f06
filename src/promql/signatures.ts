/**
 * The signature table of PromQL functions and aggregation operators, as Prometheus 3.14 defines
 * them: argument types, how many optional trailing arguments a function takes, and what it
 * returns. The parser type-checks calls against it; the engine uses `returnTypeOf`.
 */
import type { AggregateOp, ValueType } from "./ast.ts";

export interface FunctionSignature {
  name: string;
  /** Types of the arguments. For variadic functions the last type repeats for extra arguments. */
  argTypes: ValueType[];
  /**
   * 0: exactly `argTypes.length` arguments. n > 0: the last argument is optional and up to n
   * arguments of its type may be given. -1: the last argument may repeat without limit (and may
   * be omitted).
   */
  variadic: number;
  returnType: ValueType;
  /** Only available with `--enable-feature=promql-experimental-functions`. */
  experimental?: boolean;
}

const V: ValueType = "vector";
const M: ValueType = "matrix";
const S: ValueType = "scalar";
const STR: ValueType = "string";

function fn(name: string, argTypes: ValueType[], returnType: ValueType, variadic = 0, experimental = false): FunctionSignature {
  return experimental ? { name, argTypes, variadic, returnType, experimental } : { name, argTypes, variadic, returnType };
}

const list: FunctionSignature[] = [
  fn("abs", [V], V),
  fn("absent", [V], V),
  fn("absent_over_time", [M], V),
  fn("acos", [V], V),
  fn("acosh", [V], V),
  fn("asin", [V], V),
  fn("asinh", [V], V),
  fn("atan", [V], V),
  fn("atanh", [V], V),
  fn("avg_over_time", [M], V),
  fn("ceil", [V], V),
  fn("changes", [M], V),
  fn("clamp", [V, S, S], V),
  fn("clamp_max", [V, S], V),
  fn("clamp_min", [V, S], V),
  fn("cos", [V], V),
  fn("cosh", [V], V),
  fn("count_over_time", [M], V),
  fn("days_in_month", [V], V, 1),
  fn("day_of_month", [V], V, 1),
  fn("day_of_week", [V], V, 1),
  fn("day_of_year", [V], V, 1),
  fn("deg", [V], V),
  fn("delta", [M], V),
  fn("deriv", [M], V),
  fn("double_exponential_smoothing", [M, S, S], V, 0, true),
  fn("end", [], S, 0, true),
  fn("exp", [V], V),
  fn("first_over_time", [M], V),
  fn("floor", [V], V),
  fn("histogram_avg", [V], V),
  fn("histogram_count", [V], V),
  fn("histogram_fraction", [S, S, V], V),
  fn("histogram_quantile", [S, V], V),
  fn("histogram_quantiles", [V, STR, S, S], V, 10, true),
  fn("histogram_stddev", [V], V),
  fn("histogram_stdvar", [V], V),
  fn("histogram_sum", [V], V),
  fn("hour", [V], V, 1),
  fn("idelta", [M], V),
  fn("increase", [M], V),
  fn("info", [V, V], V, 1, true),
  fn("irate", [M], V),
  fn("label_join", [V, STR, STR, STR], V, -1),
  fn("label_replace", [V, STR, STR, STR, STR], V),
  fn("last_over_time", [M], V),
  fn("ln", [V], V),
  fn("log10", [V], V),
  fn("log2", [V], V),
  fn("mad_over_time", [M], V, 0, true),
  fn("max_of", [S, S], S, 0, true),
  fn("max_over_time", [M], V),
  fn("min_of", [S, S], S, 0, true),
  fn("min_over_time", [M], V),
  fn("minute", [V], V, 1),
  fn("month", [V], V, 1),
  fn("pi", [], S),
  fn("predict_linear", [M, S], V),
  fn("present_over_time", [M], V),
  fn("quantile_over_time", [S, M], V),
  fn("rad", [V], V),
  fn("range", [], S, 0, true),
  fn("rate", [M], V),
  fn("resets", [M], V),
  fn("round", [V, S], V, 1),
  fn("scalar", [V], S),
  fn("sgn", [V], V),
  fn("sin", [V], V),
  fn("sinh", [V], V),
  fn("sort", [V], V),
  fn("sort_by_label", [V, STR], V, -1, true),
  fn("sort_by_label_desc", [V, STR], V, -1, true),
  fn("sort_desc", [V], V),
  fn("sqrt", [V], V),
  fn("start", [], S, 0, true),
  fn("start_timestamp", [V], V, 0, true),
  fn("stddev_over_time", [M], V),
  fn("stdvar_over_time", [M], V),
  fn("step", [], S, 0, true),
  fn("sum_over_time", [M], V),
  fn("tan", [V], V),
  fn("tanh", [V], V),
  fn("time", [], S),
  fn("timestamp", [V], V),
  fn("ts_of_first_over_time", [M], V, 0, true),
  fn("ts_of_last_over_time", [M], V, 0, true),
  fn("ts_of_max_over_time", [M], V, 0, true),
  fn("ts_of_min_over_time", [M], V, 0, true),
  fn("vector", [S], V),
  fn("year", [V], V, 1),
];

/** Every PromQL function by name. */
export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = Object.freeze(
  Object.fromEntries(list.map((f) => [f.name, f])),
);

export function getFunction(name: string): FunctionSignature | undefined {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}

/** The value type a function returns ("none" for an unknown name). */
export function returnTypeOf(name: string): ValueType {
  return getFunction(name)?.returnType ?? "none";
}

export interface AggregationSignature {
  op: AggregateOp;
  /** Type of the leading parameter (`topk(3, ...)`), or null for aggregations without one. */
  paramType: ValueType | null;
  experimental?: boolean;
}

/** Every aggregation operator and the type of its parameter. */
export const AGGREGATIONS: Readonly<Record<AggregateOp, AggregationSignature>> = Object.freeze({
  sum: { op: "sum", paramType: null },
  avg: { op: "avg", paramType: null },
  min: { op: "min", paramType: null },
  max: { op: "max", paramType: null },
  count: { op: "count", paramType: null },
  stddev: { op: "stddev", paramType: null },
  stdvar: { op: "stdvar", paramType: null },
  group: { op: "group", paramType: null },
  topk: { op: "topk", paramType: "scalar" },
  bottomk: { op: "bottomk", paramType: "scalar" },
  quantile: { op: "quantile", paramType: "scalar" },
  count_values: { op: "count_values", paramType: "string" },
  limitk: { op: "limitk", paramType: "scalar", experimental: true },
  limit_ratio: { op: "limit_ratio", paramType: "scalar", experimental: true },
});

/** Prometheus's name for a value type in messages ("range vector" for matrix). */
export function documentedType(t: ValueType): string {
  switch (t) {
    case "vector":
      return "instant vector";
    case "matrix":
      return "range vector";
    default:
      return t;
  }
}
