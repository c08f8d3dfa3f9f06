/**
 * The error a template function returns (Go's second result, or a recovered panic): execution
 * stops with `error calling NAME: MESSAGE`.
 */
export class FuncError extends Error {}
