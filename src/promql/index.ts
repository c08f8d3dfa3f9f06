/** The PromQL room's door. */
export { Engine, type EngineOptions, type PromqlFeatures, type QueryOptions } from "./engine.ts";
export { parseExpr, ParseError, type ParseOptions } from "./parser.ts";
export { formatExpr } from "./printer.ts";
export { prettyExpr } from "./prettier.ts";
export { getFunction } from "./signatures.ts";
export { QueryError } from "./result.ts";
export type { QueryResult, QueryValue, QueryStats } from "./result.ts";
export type * from "./ast.ts";
export { parseSeriesDesc, parseSeriesLabels, parseSeriesNumber, parseSeriesValues, unquoteGoString, type SeqValue } from "./series_notation.ts";
