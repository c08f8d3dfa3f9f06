/**
 * Relabel regular expressions: Prometheus compiles them as RE2, fully anchored
 * (`^(?:re)$`). JavaScript's engine is close enough for the patterns people write; the RE2-only
 * spellings that matter (`(?P<name>…)`, a leading `(?i)`/`(?s)` flag group) are translated.
 */
export class RelabelRegexError extends Error {}

const cache = new Map<string, RegExp>();

export function compileRelabelRegex(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let body = pattern.replace(/\(\?P</g, "(?<");
  let flags = "";
  const m = /^\(\?([imsU]+)\)/.exec(body);
  if (m) {
    body = body.slice(m[0].length);
    for (const f of m[1]!) if (f !== "U" && !flags.includes(f)) flags += f;
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${body})$`, flags);
  } catch (e) {
    throw new RelabelRegexError(`error parsing regexp ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, re);
  return re;
}
