/** Label matchers with Prometheus's semantics. */
export type MatchType = "=" | "!=" | "=~" | "!~";

export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Fully anchored, compiled once; only set for regex matchers. */
  readonly re: RegExp | null;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    this.re = type === "=~" || type === "!~" ? compileAnchoredRegex(value) : null;
  }

  /** Whether a label value matches. An absent label has the value "". */
  matches(value: string): boolean {
    switch (this.type) {
      case "=":
        return value === this.value;
      case "!=":
        return value !== this.value;
      case "=~":
        return this.re!.test(value);
      case "!~":
        return !this.re!.test(value);
    }
  }

  /** Whether this matcher selects series that lack the label (matches the empty string). */
  matchesEmpty(): boolean {
    return this.matches("");
  }

  toString(): string {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(this.name) ? this.name : JSON.stringify(this.name);
    return `${name}${this.type}${JSON.stringify(this.value)}`;
  }
}

/** Thrown for a regular expression that cannot be compiled; the message names the pattern. */
export class RegexError extends Error {}

/**
 * Compiles a Prometheus (RE2) regular expression, fully anchored, with `.` matching newlines as
 * Prometheus does. A leading inline flag group such as `(?i)` becomes a JavaScript flag.
 */
export function compileAnchoredRegex(pattern: string): RegExp {
  let flags = "su";
  let body = pattern;
  const m = /^\(\?([imsU]+)\)/.exec(body);
  if (m) {
    body = body.slice(m[0].length);
    if (m[1]!.includes("i")) flags += "i";
    if (m[1]!.includes("m")) flags += "m";
  }
  body = scopeInlineFlags(body);
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (e) {
    throw new RegexError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

export function matchLabels(matchers: readonly Matcher[], get: (name: string) => string): boolean {
  for (const m of matchers) if (!m.matches(get(m.name))) return false;
  return true;
}

/**
 * RE2 lets a flag group such as `(?i)` appear anywhere, applying to the rest of the enclosing
 * group; JavaScript only has scoped modifiers `(?i:...)`. Rewrites the former into the latter.
 */
export function scopeInlineFlags(pattern: string): string {
  if (!pattern.includes("(?")) return pattern;
  let out = "";
  const pending: number[] = [0];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      if (pattern[j] === "^") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j += pattern[j] === "\\" ? 2 : 1;
      out += pattern.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "(") {
      const m = /^\(\?([ims]+)\)/.exec(pattern.slice(i));
      if (m) {
        out += `(?${m[1]}:`;
        pending[pending.length - 1]!++;
        i += m[0].length - 1;
        continue;
      }
      pending.push(0);
      out += c;
      continue;
    }
    if (c === ")" && pending.length > 1) {
      out += ")".repeat(pending.pop()!) + ")";
      continue;
    }
    out += c;
  }
  return out + ")".repeat(pending[0]!);
}
