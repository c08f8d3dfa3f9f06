/**
 * What a regex matcher's pattern says about the values it can match, found without running it,
 * so postings need not test every value of a label (as Prometheus's FastRegexMatcher does):
 *   - `a|b|c`, `(a|b)_total` and other sets of literals match exactly those strings (set lookups,
 *     no scan), as the model's regex finds them;
 *   - a pattern starting with a literal (`node_.+`, `/api/v1/query.*`) only matches values with
 *     that prefix (a sorted index jumps to them; others are skipped without the regex).
 * Matchers are anchored at both ends (Matcher does that), which is what makes both hold.
 */
import { compileRegex } from "../model/index.ts";

export interface RegexShape {
  /** Every string the pattern matches, when it is a set of literals; else null. */
  readonly alternatives: readonly string[] | null;
  /** A prefix every match starts with ("" when none is known). */
  readonly prefix: string;
}

const cache = new Map<string, RegexShape>();
const CACHE_MAX = 1024;

export function regexShape(pattern: string): RegexShape {
  let s = cache.get(pattern);
  if (s === undefined) {
    const re = compileRegex(pattern);
    s = { alternatives: re.literals(), prefix: re.prefix };
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(pattern, s);
  }
  return s;
}
