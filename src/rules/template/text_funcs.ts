/**
 * Prometheus's string functions for templates: unanchored RE2 matching and replacement with
 * Go's `$1` expansion (match, reReplaceAll), title/toUpper/toLower, host helpers built on Go's
 * net.SplitHostPort (stripPort, stripDomain), url.QueryEscape and the expression-browser links.
 */
import { RE2JS } from "re2js";
import { compileRegex, expandTemplate, goQuoteString, RegexError } from "../../model/index.ts";
import { FuncError } from "./func_error.ts";

const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_MAX = 256;

/** Go's regexp.Compile(pattern), unanchored; throws Go's message. */
function compileUnanchored(pattern: string): RE2JS {
  const hit = regexCache.get(pattern);
  if (hit !== undefined) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new FuncError((e as Error).message);
  }
  // The shared compiler refuses patterns too costly to run on the event loop; its syntax is the same.
  try {
    compileRegex(pattern);
  } catch (e) {
    if (e instanceof RegexError) throw new FuncError(e.message);
    throw e;
  }
  if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

/** regexp.MatchString: an unanchored match. */
export function match(pattern: string, text: string): boolean {
  return compileUnanchored(pattern).matcher(text).find();
}

/** Go's regexp quote(): backquoted when it can be. */
function regexpQuote(s: string): string {
  return /[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/.test(s) ? goQuoteString(s) : "`" + s + "`";
}

/** regexp.MustCompile(pattern).ReplaceAllString(text, repl); a bad pattern is Go's panic message. */
export function reReplaceAll(pattern: string, repl: string, text: string): string {
  let re: RE2JS;
  try {
    re = compileUnanchored(pattern);
  } catch (e) {
    throw new FuncError(`regexp: Compile(${regexpQuote(pattern)}): ${(e as Error).message}`);
  }
  const m = re.matcher(text);
  const expand = repl.includes("$");
  const groupCount = re.groupCount();
  const names = expand ? re.namedGroups() : {};
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  const end = text.length;
  while (searchPos <= end) {
    if (!m.find(searchPos)) break;
    const a0 = m.start(0);
    const a1 = m.end(0);
    out += text.slice(lastMatchEnd, a0);
    // No replacement for an empty match right after the previous match (Go's rule).
    if (a1 > lastMatchEnd || a0 === 0) {
      if (expand) {
        const groups: (string | undefined)[] = [];
        for (let g = 0; g <= groupCount; g++) groups.push(m.group(g) ?? undefined);
        out += expandTemplate(repl, { groups, names });
      } else out += repl;
    }
    lastMatchEnd = a1;
    const cp = searchPos < end ? text.codePointAt(searchPos)! : -1;
    const width = cp < 0 ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + text.slice(lastMatchEnd);
}

/** Go's simple upper/lower case mapping: a character whose mapping is not one character stays. */
function mapCase(s: string, upper: boolean): string {
  if (/^[\u0000-\u007f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = "";
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

export function toUpper(s: string): string {
  return mapCase(s, true);
}

export function toLower(s: string): string {
  return mapCase(s, false);
}

const WORD = /[\p{L}\p{M}\p{N}_]/u;
/** Characters that join two word characters into one word (Unicode word breaking's MidLetter/MidNum). */
const JOINER = /['.:’·\u2018\u2019\u2024\ufe52\uff07\uff0e]/u;

/**
 * cases.Title(language.AmericanEnglish, cases.NoLower): the first letter of every word in title
 * case, the rest untouched. Words follow Unicode word breaking closely enough for labels and
 * annotations: letters, digits and `_` form words, and `'`, `.`, `:` between two word
 * characters do not break one ("don't", "foo.bar").
 */
export function title(s: string): string {
  const chars = [...s];
  let out = "";
  let inWord = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (WORD.test(ch)) {
      if (!inWord) {
        const up = ch.toUpperCase();
        out += [...up].length === 1 ? up : ch;
        inWord = true;
      } else out += ch;
      continue;
    }
    if (inWord && JOINER.test(ch) && i + 1 < chars.length && WORD.test(chars[i + 1]!)) {
      out += ch;
      continue;
    }
    inWord = false;
    out += ch;
  }
  return out;
}

/** net.SplitHostPort; null where Go returns an error. */
export function splitHostPort(hostport: string): [string, string] | null {
  const i = hostport.lastIndexOf(":");
  if (i < 0) return null;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0) return null;
    if (end + 1 === hostport.length) return null;
    if (end + 1 !== i) return null;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return null;
  }
  if (hostport.slice(j).includes("[")) return null;
  if (hostport.slice(k).includes("]")) return null;
  return [host, hostport.slice(i + 1)];
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** net.ParseIP(s) != nil. */
export function isIP(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (!s.includes(":")) return false;
  let rest = s;
  let groups = 8;
  // An embedded IPv4 address takes the last two groups.
  const lastColon = rest.lastIndexOf(":");
  const tail = rest.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!IPV4.test(tail)) return false;
    rest = rest.slice(0, lastColon + 1) + "0";
    groups = 7;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return false;
  const parse = (h: string) => (h === "" ? [] : h.split(":"));
  const parts = halves.flatMap(parse);
  if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return false;
  if (halves.length === 2) return parts.length < groups;
  return parts.length === groups;
}

export function stripPort(hostPort: string): string {
  return splitHostPort(hostPort)?.[0] ?? hostPort;
}

export function stripDomain(hostPort: string): string {
  const split = splitHostPort(hostPort);
  let host = split === null ? hostPort : split[0];
  const port = split === null ? "" : split[1];
  if (isIP(host)) return hostPort;
  host = host.split(".")[0]!;
  if (port !== "") return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return host;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function graphLink(expr: string): string {
  return `/graph?g0.expr=${queryEscape(expr)}&g0.tab=0`;
}

export function tableLink(expr: string): string {
  return `/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`;
}

/** The path of a URL as Go's url.URL.Path holds it (unescaped; "" when there is none). */
export function urlPath(raw: string): string {
  const m = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?:\/\/[^/?#]*)?([^?#]*)/.exec(raw);
  const path = m?.[1] ?? "";
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
