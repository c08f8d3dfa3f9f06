/**
 * Bytes to a string without losing what is not UTF-8: each byte that is not part of a valid
 * UTF-8 sequence becomes the lone surrogate U+DC00+byte (U+DC80..U+DCFF). Such a string is not
 * well-formed (`isWellFormed()` is false), so whoever needs valid text — the PromQL lexer, label
 * checks — can refuse it with its own error, and printers can show the byte again as \xNN.
 * Prometheus gets the same effect from Go strings, which hold any bytes.
 */
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8Escaped(b: Uint8Array | readonly number[]): string {
  if (b instanceof Uint8Array) {
    try {
      return fatal.decode(b);
    } catch {
      // Not valid UTF-8: decode byte by byte below.
    }
  }
  let out = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    let need = 0;
    let cp = 0;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c < 0xe0) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c < 0xf0) {
      need = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c < 0xf5) {
      need = 3;
      cp = c & 0x07;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
      continue;
    }
    let ok = i + need < b.length;
    for (let k = 1; ok && k <= need; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (ok && ((need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (!ok) {
      out += String.fromCharCode(0xdc00 + c);
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}
