/** `--match` selectors of `shoal tsdb dump`, read with the PromQL parser (a bare vector selector). */
import { FlagError, type Matcher } from "../../model/index.ts";
import { parseExpr } from "../../promql/index.ts";

export function parseSelector(text: string): Matcher[] {
  let expr;
  try {
    expr = parseExpr(text);
  } catch (e) {
    throw new FlagError(`--match ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
  if (expr.type !== "VectorSelector") throw new FlagError(`--match ${JSON.stringify(text)}: expected a series selector like name{label="value"}`);
  return expr.matchers;
}
