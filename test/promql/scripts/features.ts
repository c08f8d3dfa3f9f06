/**
 * The experimental syntax Prometheus's own test engine turns on (promqltest's TestParserOpts:
 * extended range selectors and binop fill modifiers; duration expressions and experimental
 * functions are on in Shoal's parser anyway). The scripts use it freely, so every parse the runner
 * does — the eval itself, the `@` variants, the native-histogram check — enables the same.
 */
import type { PromqlFeatures } from "../../../src/promql/index.ts";

export const SCRIPT_FEATURES: PromqlFeatures = { extendedRangeSelectors: true, binopFillModifiers: true };
