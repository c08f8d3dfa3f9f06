/** Label matchers with Prometheus's semantics. */
import { compileRegex, type AnchoredRegex } from "./regex.ts";

export type MatchType = "=" | "!=" | "=~" | "!~";

export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Fully anchored (`^(?s:value)$`), RE2; only set for regex matchers. */
  readonly re: AnchoredRegex | null;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    this.re = type === "=~" || type === "!~" ? compileRegex(value) : null;
  }

  /** Whether a label value matches. An absent label has the value "". */
  matches(value: string): boolean {
    switch (this.type) {
      case "=":
        return value === this.value;
      case "!=":
        return value !== this.value;
      case "=~":
        return this.re!.matches(value);
      case "!~":
        return !this.re!.matches(value);
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

export function matchLabels(matchers: readonly Matcher[], get: (name: string) => string): boolean {
  for (const m of matchers) if (!m.matches(get(m.name))) return false;
  return true;
}
