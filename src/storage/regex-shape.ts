/**
 * What a regex matcher's pattern says about the values it can match, found without running it,
 * so postings need not test every value of a label (as Prometheus's FastRegexMatcher does):
 *   - `a|b|c` of plain literals matches exactly those strings (set lookups, no scan);
 *   - a pattern starting with a literal (`node_.+`, `/api/v1/query.*`) only matches values with
 *     that prefix (a sorted index jumps to them; others are skipped without the regex).
 * Matchers are anchored at both ends (Matcher does that), which is what makes both hold.
 */
export interface RegexShape {
  /** Every string the pattern matches, when it is an alternation of literals; else null. */
  readonly alternatives: readonly string[] | null;
  /** A prefix every match starts with ("" when none is known). */
  readonly prefix: string;
}

const META = new Set(["\\", ".", "+", "*", "?", "(", ")", "|", "[", "]", "{", "}", "^", "$"]);
const cache = new Map<string, RegexShape>();
const CACHE_MAX = 1024;

export function regexShape(pattern: string): RegexShape {
  let s = cache.get(pattern);
  if (s === undefined) {
    s = analyse(pattern);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(pattern, s);
  }
  return s;
}

function isLiteral(piece: string): boolean {
  for (const ch of piece) if (META.has(ch)) return false;
  return true;
}

function analyse(pattern: string): RegexShape {
  const pieces = pattern.split("|");
  if (pieces.every(isLiteral)) return { alternatives: [...new Set(pieces)], prefix: "" };
  // An alternation anywhere (even in a group) could start differently: no prefix then.
  if (pattern.includes("|")) return { alternatives: null, prefix: "" };
  let n = 0;
  while (n < pattern.length && !META.has(pattern[n]!)) n++;
  // A quantifier after the literal run applies to its last character, which is then optional.
  const next = pattern[n];
  if (next === "?" || next === "*" || next === "{") n = Math.max(0, n - 1);
  return { alternatives: null, prefix: pattern.slice(0, n) };
}
