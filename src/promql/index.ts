/** The PromQL room's door. */
export { Engine, type EngineOptions, type QueryOptions } from "./engine.ts";
export { parseExpr, ParseError } from "./parser.ts";
export { formatExpr } from "./printer.ts";
export { prettyExpr } from "./prettier.ts";
export { getFunction, type FunctionSignature } from "./signatures.ts";
export { QueryError } from "./result.ts";
export type { QueryResult, QueryValue, QueryStats, QueryErrorType, VectorSample, MatrixSeries } from "./result.ts";
export type * from "./ast.ts";
