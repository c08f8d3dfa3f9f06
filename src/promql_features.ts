/**
 * The Prometheus --enable-feature names that switch experimental PromQL syntax on in Shoal's
 * query engine. They are off by default, as in Prometheus, so that a query that a stock
 * Prometheus refuses is refused here too; each one given is logged once at start.
 */
import type { Flags, Logger } from "./model/index.ts";
import type { PromqlFeatures } from "./promql/index.ts";

/** Feature name → the engine option it turns on, and what the log says it enabled. */
export const PROMQL_FEATURE_FLAGS: ReadonlyMap<string, { option: keyof PromqlFeatures; what: string }> = new Map([
  ["promql-extended-range-selectors", { option: "extendedRangeSelectors", what: "the anchored and smoothed range selector modifiers are accepted in queries" }],
  ["promql-binop-fill-modifiers", { option: "binopFillModifiers", what: "fill(), fill_left() and fill_right() are accepted on binary operators" }],
]);

/** The engine features that --enable-feature asks for. */
export function promqlFeatures(flags: Flags): PromqlFeatures {
  const out: PromqlFeatures = {};
  for (const name of flags.list("enable-feature")) {
    const f = PROMQL_FEATURE_FLAGS.get(name);
    if (f) out[f.option] = true;
  }
  return out;
}

/** Logs the experimental PromQL features that are on; true when `name` is one of them. */
export function reportPromqlFeature(name: string, logger: Logger): boolean {
  const f = PROMQL_FEATURE_FLAGS.get(name);
  if (!f) return false;
  logger.info(`Experimental feature ${name} enabled: ${f.what}`, { option: name });
  return true;
}
