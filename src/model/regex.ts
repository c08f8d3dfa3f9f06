/**
 * Regular expressions as Prometheus runs them: RE2 syntax and linear-time matching (Go's
 * `regexp`, here the re2js port), fully anchored as `^(?s:re)$` so that a pattern matches the
 * whole value and `.` matches a newline too. Label matchers, label_replace and relabeling all
 * compile through here. Patterns whose shape is plain literals (see regex-literal.ts) are matched
 * with string operations and never reach the engine.
 */
import { RE2JS, RE2JSException } from "re2js";
import { literalAffix, literalPrefix, literalSet, matchesAffix, type LiteralAffix } from "./regex-literal.ts";
import { regexCost } from "./regex-size.ts";

/** Thrown for a pattern that is not valid RE2 or is too large; the message quotes it, bounded. */
export class RegexError extends Error {}

/**
 * The longest pattern accepted, in UTF-16 code units. RE2's own limits (program size, nesting)
 * still apply below it; this one bounds the time one compilation may hold the event loop
 * (re2js compiles about a megabyte of pattern a second).
 */
const MAX_REGEX_LENGTH = 512 * 1024;

/**
 * The largest program compiled, in Go's estimate of instructions, a Unicode class (`\pL`)
 * counting UNICODE_CLASS_WEIGHT times. re2js compiles about 100k plain instructions, or 10k
 * Unicode classes, in a few hundred milliseconds here; Go allows 3.3M. A 2000-name alternation
 * that is not a plain literal set (`(?i)host-0001|…`) is about 45k.
 */
export const MAX_PROGRAM_SIZE = 100_000;
const UNICODE_CLASS_WEIGHT = 10;

/**
 * The most instructions that may be live at one position of a value (regex-size.ts). Matching
 * costs about this times the value's length: at 512, a 1 KiB value takes tens of milliseconds
 * and a 64 KiB one about 2 s in the worst shape, `(?:.*x){256}`; `(?:.?){1000}` (1000) is
 * refused. The bound is loose for nested optional groups, so a lower limit would refuse small
 * ordinary patterns. With capture groups, which label_replace and relabeling find, a live thread
 * costs the NFA about four times as much (`((.*x)){64}` takes as long as `(?:.*x){256}`).
 */
export const MAX_PROGRAM_WIDTH = 512;
/**
 * Programs up to this size are never refused for width: no more instructions than they have can
 * be live, and the width bound, loose for nested optional groups, would otherwise refuse small
 * patterns Go accepts. The worst of them, all live, takes about 4 s on a 64 KiB value.
 */
const MIN_SIZE_CHECKED_FOR_WIDTH = 1024;
const CAPTURE_WIDTH_WEIGHT = 4;

/** How much of a pattern an error message repeats. */
const QUOTE_MAX = 100;

/** `text`, or its first QUOTE_MAX characters and "…" when longer (never half a surrogate pair). */
export function boundedQuote(text: string): string {
  if (text.length <= QUOTE_MAX) return text;
  let end = QUOTE_MAX;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** A successful whole-value match: what Go's regexp.Expand reads. */
export interface RegexMatch {
  /** Group texts by number (0 is the whole value); undefined for a group that took no part. */
  readonly groups: readonly (string | undefined)[];
  /** Group numbers by name. */
  readonly names: Readonly<Record<string, number>>;
}

export class AnchoredRegex {
  /** The pattern as written, without the anchors. */
  readonly source: string;
  /** A prefix of every value it matches ("" when none is known, and for a literal set). */
  readonly prefix: string;
  private readonly set: ReadonlySet<string> | null;
  private readonly setList: readonly string[] | null;
  private readonly affix: LiteralAffix | null;
  private engine: RE2JS | null = null;
  private groupNames: Record<string, number> | null = null;

  /** Use compileRegex, which caches. */
  constructor(source: string) {
    if (source.length > MAX_REGEX_LENGTH) {
      throw new RegexError(
        `error parsing regexp: expression too large (${source.length} characters, at most ${MAX_REGEX_LENGTH}): \`${boundedQuote(source)}\``,
      );
    }
    this.source = source;
    this.setList = literalSet(source);
    this.set = this.setList === null ? null : new Set(this.setList);
    this.affix = this.set === null ? literalAffix(source) : null;
    // A literal shape is valid RE2 by construction; everything else is checked now, not on use.
    if (this.set === null && this.affix === null) this.engine = compileEngine(source);
    if (this.set !== null) this.prefix = "";
    else if (this.affix !== null) this.prefix = this.affix.before === "" ? commonPrefix(this.affix.literals) : "";
    else this.prefix = literalPrefix(source);
  }

  /** Whether the whole of `value` matches. */
  matches(value: string): boolean {
    if (this.set !== null) return this.set.has(value);
    if (this.affix !== null) return matchesAffix(this.affix, value);
    // A value without the prefix cannot match: no need to run the engine on it.
    if (!value.startsWith(this.prefix)) return false;
    return this.engine!.testExact(value);
  }

  /** The groups of a whole-value match, or null when `value` does not match. */
  exec(value: string): RegexMatch | null {
    this.engine ??= compileEngine(this.source);
    const m = this.engine.exec(value);
    if (m === null) return null;
    this.groupNames ??= { ...this.engine.namedGroups() };
    return { groups: Array.from(m), names: this.groupNames };
  }

  /** The strings this pattern matches, when it is a set of literals; else null. */
  literals(): readonly string[] | null {
    return this.setList;
  }
}

function commonPrefix(xs: readonly string[]): string {
  let p = xs[0] ?? "";
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  // Never end on half a surrogate pair.
  const last = p.charCodeAt(p.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? p.slice(0, -1) : p;
}

function compileEngine(source: string): RE2JS {
  checkCost(source);
  try {
    return RE2JS.compile(`^(?s:${source})$`);
  } catch (e) {
    if (e instanceof RE2JSException) throw new RegexError(boundErrorMessage(e.message));
    throw e;
  }
}

/**
 * Refuses, before the engine spends time on it, a pattern whose program would take long to
 * compile or whose match would hold the event loop long, with Go's message for a program over
 * its size limit. A repeat Go refuses (`a{1001}`, `(a{1000}){1000}`) is counted once, and
 * unbalanced parentheses are left to the engine, whose parser stops at them before compiling:
 * either way the error is Go's.
 */
function checkCost(source: string): void {
  const cost = regexCost(source);
  if (cost.unbalanced) return;
  const size = cost.size + (UNICODE_CLASS_WEIGHT - 1) * cost.unicodeClasses;
  const width = cost.width * (cost.captures > 0 ? CAPTURE_WIDTH_WEIGHT : 1);
  if (size > MAX_PROGRAM_SIZE || (width > MAX_PROGRAM_WIDTH && cost.size > MIN_SIZE_CHECKED_FOR_WIDTH)) {
    throw new RegexError(`error parsing regexp: expression too large: \`${boundedQuote(`^(?s:${source})$`)}\``);
  }
}

/**
 * The engine's message is Go's ("error parsing regexp: missing closing ): `^(?s:(…)$`"); the
 * quoted part can be the whole pattern, so it is cut to a bounded prefix.
 */
function boundErrorMessage(message: string): string {
  const open = message.indexOf("`");
  const close = message.lastIndexOf("`");
  if (open < 0 || close <= open) return boundedQuote(message);
  return `${message.slice(0, open + 1)}${boundedQuote(message.slice(open + 1, close))}${message.slice(close)}`;
}

const cache = new Map<string, AnchoredRegex>();
const CACHE_MAX_ENTRIES = 2048;
/** Total pattern text kept, so that a few huge patterns do not pin much memory. */
const CACHE_MAX_CHARS = 8 * 1024 * 1024;
let cachedChars = 0;

/** Compiles `pattern` as Prometheus does (`^(?s:pattern)$`); the same pattern reuses one instance. */
export function compileRegex(pattern: string): AnchoredRegex {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const re = new AnchoredRegex(pattern);
  if (cache.size >= CACHE_MAX_ENTRIES || cachedChars + pattern.length > CACHE_MAX_CHARS) {
    cache.clear();
    cachedChars = 0;
  }
  cache.set(pattern, re);
  cachedChars += pattern.length;
  return re;
}

/** unicode.IsLetter, unicode.IsDigit or `_`: what a `$name` in a template is made of. */
const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/**
 * Go's regexp.Expand: `$1`, `${1}`, `$name`, `${name}` become the group's text ("" for a group
 * that does not exist or took no part), `$$` is `$`, and any other `$` stays as it is. A bare
 * `$name` takes the longest run of name characters (`$1x` is the group named "1x").
 */
export function expandTemplate(template: string, match: RegexMatch): string {
  if (!template.includes("$")) return template;
  let out = "";
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i]!;
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    if (template[i + 1] === "$") {
      out += "$";
      i += 2;
      continue;
    }
    const braced = template[i + 1] === "{";
    let j = i + (braced ? 2 : 1);
    while (j < n) {
      const cp = template.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      if (!NAME_CHAR.test(ch)) break;
      j += ch.length;
    }
    const name = template.slice(i + (braced ? 2 : 1), j);
    if (name === "" || (braced && template[j] !== "}")) {
      out += "$";
      i++;
      continue;
    }
    out += groupText(name, match);
    i = braced ? j + 1 : j;
  }
  return out;
}

function groupText(name: string, match: RegexMatch): string {
  // Up to nine digits without a leading zero make a group number (as Go); anything else a name.
  if (/^(0|[1-9][0-9]{0,8})$/.test(name)) return match.groups[Number(name)] ?? "";
  const index = Object.hasOwn(match.names, name) ? match.names[name]! : -1;
  return index >= 0 ? (match.groups[index] ?? "") : "";
}
