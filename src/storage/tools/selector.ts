/** `--match` selectors, parsed with the PromQL parser (a bare vector selector is required). */
import { Matcher } from "../../model/index.ts";
import { FlagError } from "./flags.ts";

export async function parseSelector(text: string): Promise<Matcher[]> {
  // Loaded on demand: dump without --match, import and analyze do not need the PromQL room.
  const { parseExpr } = await import("../../promql/index.ts");
  let expr;
  try {
    expr = parseExpr(text);
  } catch (e) {
    throw new FlagError(`--match ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
  if (expr.type !== "VectorSelector") throw new FlagError(`--match ${JSON.stringify(text)}: expected a series selector like name{label="value"}`);
  return expr.matchers;
}
