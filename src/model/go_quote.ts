/**
 * Go's quoting (strconv.Quote, %q, %#U), so that messages about user text read exactly as
 * Prometheus prints them; several rooms quote the input they refuse this way.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.Quote (%q) of a string; lone surrogates U+DC80..U+DCFF print as \xNN bytes. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) {
      if (ch === '"' || ch === "\\") out += "\\" + ch;
      else out += ch;
      continue;
    }
    out += goEscapeRune(ch, cp, '"');
  }
  return out + '"';
}

function goEscapeRune(ch: string, cp: number, quote: string): string {
  switch (cp) {
    case 0x07: return "\\a";
    case 0x08: return "\\b";
    case 0x0c: return "\\f";
    case 0x0a: return "\\n";
    case 0x0d: return "\\r";
    case 0x09: return "\\t";
    case 0x0b: return "\\v";
  }
  if (ch === quote || ch === "\\") return "\\" + ch;
  if (cp >= 0xdc80 && cp <= 0xdcff) return "\\x" + (cp - 0xdc00).toString(16).padStart(2, "0");
  if (cp >= 0xd800 && cp < 0xe000) return "\\ufffd";
  if (cp < 0x20 || cp === 0x7f) return "\\x" + cp.toString(16).padStart(2, "0");
  if (cp >= 0x20 && cp < 0x7f) return ch;
  if (PRINTABLE.test(ch)) return ch;
  if (cp < 0x10000) return "\\u" + cp.toString(16).padStart(4, "0");
  return "\\U" + cp.toString(16).padStart(8, "0");
}

/** Go's %q of a rune: 'x'. */
export function goQuoteRune(r: string): string {
  if (r === "") return "'\\x00'";
  const cp = r.codePointAt(0)!;
  // A byte that was not UTF-8: Go read it as utf8.RuneError.
  if (cp >= 0xdc00 && cp < 0xe000) return "'\ufffd'";
  if (r === "'") return "'\\''";
  if (cp >= 0x20 && cp < 0x7f) return `'${r}'`;
  return `'${goEscapeRune(r, cp, "'")}'`;
}

/** Go's %#U of a rune: U+0041 'A'. */
export function goRuneU(r: string): string {
  const cp = r.codePointAt(0) ?? 0;
  const hex = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  return PRINTABLE.test(r) || (cp >= 0x20 && cp < 0x7f) ? `${hex} '${r}'` : hex;
}
