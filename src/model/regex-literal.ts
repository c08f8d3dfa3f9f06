/**
 * What an anchored regex pattern matches, read off the pattern itself for the shapes that need no
 * regex engine at all (as Prometheus's FastRegexMatcher does):
 *   - a finite set of strings: literals, alternations and groups of them (`a|b`, `(a|b)_total`);
 *   - such a set with `.*` or `.+` at either end (`.*foo.*`, `api_.+`, `node_(cpu|mem)_.*`),
 *     and `.*`/`.+` alone;
 *   - a literal prefix every match starts with, a cheap filter before the engine runs.
 * Anything else (classes, flags, other quantifiers, `\d`…) is left to the engine. The analysis
 * only accepts constructs that are always valid RE2, so a pattern it understands never needs
 * compiling to be checked.
 *
 * Why plain string operations give RE2's answer here: patterns are matched as `^(?s:…)$`, so `.`
 * is any code point including newline; a literal must be well-formed UTF-16, so an occurrence of
 * it in a value starts and ends on code point boundaries, and a non-empty UTF-16 prefix or suffix
 * of a value holds at least one code point (the engine reads a lone surrogate as one code point).
 */

/** The strings a pattern matches when they are few and known; null for any other pattern. */
export function literalSet(pattern: string): string[] | null {
  if (!pattern.isWellFormed()) return null;
  const p = new SetParser(pattern);
  const set = p.alternation();
  if (set === null || p.pos !== pattern.length) return null;
  return [...set];
}

/** `.*`/`.+` before and/or after one of a few literals; "" means nothing on that side. */
export interface LiteralAffix {
  readonly before: "" | ".*" | ".+";
  readonly literals: readonly string[];
  readonly after: "" | ".*" | ".+";
}

/** At most this many literals between the dots: each costs a string search per value. */
const MAX_AFFIX_LITERALS = 16;

/** The pattern as `[.*|.+] literal-set [.*|.+]`, or null when it has another shape. */
export function literalAffix(pattern: string): LiteralAffix | null {
  if (!pattern.isWellFormed()) return null;
  let start = 0;
  let end = pattern.length;
  let before: LiteralAffix["before"] = "";
  let after: LiteralAffix["after"] = "";
  if (pattern.startsWith(".*") || pattern.startsWith(".+")) {
    before = pattern.slice(0, 2) as ".*" | ".+";
    start = 2;
  }
  // A trailing `.*`/`.+` whose dot is not escaped (an even run of backslashes before it).
  if (end - start >= 2 && pattern[end - 2] === "." && (pattern[end - 1] === "*" || pattern[end - 1] === "+")) {
    let slashes = 0;
    while (end - 3 - slashes >= start && pattern[end - 3 - slashes] === "\\") slashes++;
    if (slashes % 2 === 0) {
      after = pattern[end - 1] === "*" ? ".*" : ".+";
      end -= 2;
    }
  }
  const middle = pattern.slice(start, end);
  const p = new SetParser(middle);
  const set = p.alternation();
  if (set === null || p.pos !== middle.length || set.size > MAX_AFFIX_LITERALS) return null;
  // `.*a|b` is `.*a` or `b`: a top-level `|` binds looser than the dots.
  if ((before !== "" || after !== "") && p.topLevelAlternation) return null;
  // `.+.+` and the like count code points: leave them to the engine.
  if (set.has("") && before !== "" && after !== "") return null;
  return { before, literals: [...set], after };
}

/** Whether `value` matches the affix shape; exact (see the module comment). */
export function matchesAffix(a: LiteralAffix, value: string): boolean {
  for (const lit of a.literals) if (matchesOne(a, lit, value)) return true;
  return false;
}

function matchesOne(a: LiteralAffix, lit: string, value: string): boolean {
  if (a.before === "") {
    if (a.after === "") return value === lit;
    if (!value.startsWith(lit)) return false;
    return a.after === ".*" || value.length > lit.length;
  }
  if (a.after === "") {
    if (!value.endsWith(lit)) return false;
    return a.before === ".*" || value.length > lit.length;
  }
  // A literal somewhere inside: the earliest allowed occurrence leaves the most room after it.
  const at = value.indexOf(lit, a.before === ".+" ? 1 : 0);
  if (at < 0) return false;
  return a.after === ".*" || at + lit.length < value.length;
}

/**
 * A prefix every value the pattern matches starts with ("" when none is known): the plain
 * characters it starts with, short of one that a quantifier may make optional. No prefix when
 * the pattern has an alternation anywhere (one branch could start differently).
 */
export function literalPrefix(pattern: string): string {
  if (pattern.includes("|")) return "";
  let n = 0;
  while (n < pattern.length && !META.includes(pattern[n]!)) n++;
  // Unless what follows surely starts a new atom, a quantifier may apply to the run's last
  // character (a whole surrogate pair), which is then optional: `ab?`, `ab{0,1}`, and in RE2 also
  // `ab(?i)*` and `ab\Q\E*`, where a flag group or an empty quote stands between.
  if (n < pattern.length && !startsAtom(pattern, n)) {
    const pair = n >= 2 && isLowSurrogate(pattern.charCodeAt(n - 1)) && isHighSurrogate(pattern.charCodeAt(n - 2));
    n = Math.max(0, n - (pair ? 2 : 1));
  }
  return pattern.slice(0, n);
}

/** Whether the text at `i` begins something a quantifier cannot reach back across. */
function startsAtom(pattern: string, i: number): boolean {
  const c = pattern[i]!;
  if (c === "+") {
    // `b+` keeps at least one b, unless a later quantifier reaches back over a flag group to it
    // (`ab+(?i)*`): then what follows the `+` must itself be safe.
    const j = pattern[i + 1] === "?" ? i + 2 : i + 1;
    return j >= pattern.length || (pattern[j] !== "+" && startsAtom(pattern, j));
  }
  if (!META.includes(c) || c === "." || c === "[" || c === "$" || c === "^") return true;
  if (c === "(") return pattern[i + 1] !== "?" || pattern[i + 2] === ":" || pattern[i + 2] === "P" || pattern[i + 2] === "<";
  if (c === "\\") return pattern[i + 1] !== "Q" && pattern[i + 1] !== "E";
  return false;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * A concatenation multiplies out its groups' alternatives: at most this many strings (as
 * Prometheus's set matcher), and their text at most a few times the pattern's. A plain `a|b|…`
 * has no such cap: it costs one string per alternative already written out.
 */
const MAX_PRODUCT = 256;
/** Characters RE2 gives a meaning outside a class (and `]`, `}`, kept out for simplicity). */
const META = "\\.+*?()|[]{}^$";

/** One literal character at `i`: a plain character or an escaped ASCII punctuation mark. */
function literalAt(pattern: string, i: number): { text: string; next: number } | null {
  const c = pattern[i]!;
  if (c === "\\") {
    const e = pattern[i + 1];
    // RE2 reads `\` before any ASCII character that is not a letter or digit as that character.
    if (e !== undefined && e.charCodeAt(0) < 0x80 && !/[0-9A-Za-z]/.test(e)) return { text: e, next: i + 2 };
    return null;
  }
  if (META.includes(c)) return null;
  return { text: c, next: i + 1 };
}

/** Recursive descent over literals, `|` and groups, building the set of matched strings. */
class SetParser {
  pos = 0;
  /** Whether a `|` appeared outside every group. */
  topLevelAlternation = false;
  private depth = 0;
  constructor(private readonly s: string) {}

  alternation(): Set<string> | null {
    const out = new Set<string>();
    for (;;) {
      const part = this.concatenation();
      if (part === null) return null;
      for (const v of part) out.add(v);
      if (this.s[this.pos] !== "|") return out;
      if (this.depth === 0) this.topLevelAlternation = true;
      this.pos++;
    }
  }

  private concatenation(): Set<string> | null {
    let acc: string[] = [""];
    let run = "";
    const budget = 4 * this.s.length + 4096;
    const join = (tails: Iterable<string>, count: number): boolean => {
      if (acc.length * count > MAX_PRODUCT) return false;
      const next: string[] = [];
      let chars = 0;
      for (const a of acc) {
        for (const t of tails) {
          chars += a.length + t.length;
          if (chars > budget) return false;
          next.push(a + t);
        }
      }
      acc = next;
      return true;
    };
    while (this.pos < this.s.length) {
      const c = this.s[this.pos]!;
      if (c === "|" || c === ")") break;
      if (c === "(") {
        if (run !== "" && !join([run], 1)) return null;
        run = "";
        const inner = this.group();
        if (inner === null || !join(inner, inner.size)) return null;
        continue;
      }
      const lit = literalAt(this.s, this.pos);
      if (lit === null) return null;
      run += lit.text;
      this.pos = lit.next;
    }
    if (run !== "" && !join([run], 1)) return null;
    return new Set(acc);
  }

  private group(): Set<string> | null {
    // Past RE2's nesting limit the engine must say so; beyond a few levels nobody writes sets.
    if (++this.depth > 8) return null;
    this.pos++;
    if (this.s[this.pos] === "?") {
      if (this.s[this.pos + 1] !== ":") return null;
      this.pos += 2;
    }
    const inner = this.alternation();
    if (inner === null || this.s[this.pos] !== ")") return null;
    this.pos++;
    this.depth--;
    // A quantifier after the group changes the set: leave that to the engine.
    const q = this.s[this.pos];
    if (q === "*" || q === "+" || q === "?" || q === "{") return null;
    return inner;
  }
}
