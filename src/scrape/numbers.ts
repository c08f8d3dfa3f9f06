/**
 * Number tokens of the exposition formats, parsed straight from the body string without
 * slicing it (the common case), with Go's strconv.ParseFloat as the reference for what is valid.
 */

/** Exact powers of ten that a double holds, for the exact fast path (Clinger). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Set by parseFloatToken/parseIntToken: whether the last token was valid. */
export let numberOk = true;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function lowerEquals(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((s.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses s[start, end) as a Go float (decimal, Inf/Infinity, NaN; any letter case). */
export function parseFloatToken(s: string, start: number, end: number): number {
  numberOk = true;
  let i = start;
  let neg = false;
  const c0 = s.charCodeAt(i);
  if (c0 === 43 || c0 === 45) {
    neg = c0 === 45;
    i++;
  }
  let mantissa = 0;
  let sigDigits = 0;
  let exp10 = 0;
  let anyDigit = false;
  while (i < end && isDigit(s.charCodeAt(i))) {
    const d = s.charCodeAt(i) - 48;
    if (sigDigits > 0 || d !== 0) {
      if (sigDigits < 15) mantissa = mantissa * 10 + d;
      else exp10++;
      sigDigits++;
    }
    anyDigit = true;
    i++;
  }
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) {
      const d = s.charCodeAt(i) - 48;
      if (sigDigits > 0 || d !== 0) {
        if (sigDigits < 15) {
          mantissa = mantissa * 10 + d;
          exp10--;
        }
        sigDigits++;
      } else {
        exp10--;
      }
      anyDigit = true;
      i++;
    }
  }
  if (!anyDigit) return special(s, start, end);
  let inexact = sigDigits > 15;
  if (i < end && (s.charCodeAt(i) | 0x20) === 101) {
    i++;
    let eneg = false;
    const c = s.charCodeAt(i);
    if (c === 43 || c === 45) {
      eneg = c === 45;
      i++;
    }
    if (i >= end) return invalid();
    let e = 0;
    while (i < end && isDigit(s.charCodeAt(i))) {
      if (e < 100000) e = e * 10 + (s.charCodeAt(i) - 48);
      i++;
    }
    exp10 += eneg ? -e : e;
  }
  if (i !== end) return invalid();
  if (mantissa === 0) return neg ? -0 : 0;
  if (inexact || exp10 > 22 || exp10 < -22) {
    const v = Number(s.substring(start, end));
    // Go's ParseFloat refuses a finite number too large for a double ("value out of range").
    return v === Infinity || v === -Infinity ? invalid() : v;
  }
  const v = exp10 >= 0 ? mantissa * POW10[exp10]! : mantissa / POW10[-exp10]!;
  return neg ? -v : v;
}

function special(s: string, start: number, end: number): number {
  let i = start;
  let sign = 1;
  const c0 = s.charCodeAt(i);
  if (c0 === 43 || c0 === 45) {
    sign = c0 === 45 ? -1 : 1;
    i++;
  }
  if (lowerEquals(s, i, end, "inf") || lowerEquals(s, i, end, "infinity")) return sign * Infinity;
  if (i === start && lowerEquals(s, i, end, "nan")) return NaN;
  return invalid();
}

function invalid(): number {
  numberOk = false;
  return NaN;
}

/** Parses s[start, end) as a signed 64-bit decimal integer (Go's strconv.ParseInt). */
export function parseIntToken(s: string, start: number, end: number): number {
  numberOk = true;
  let i = start;
  let neg = false;
  const c0 = s.charCodeAt(i);
  if (c0 === 43 || c0 === 45) {
    neg = c0 === 45;
    i++;
  }
  if (i >= end || end - i > 19) return invalid();
  const digitsStart = i;
  let v = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return invalid();
    v = v * 10 + (c - 48);
  }
  // int64 range, checked on the digits (a double cannot tell 2^63-1 from 2^63).
  if (end - digitsStart === 19) {
    const digits = s.slice(digitsStart, end);
    if (digits > (neg ? "9223372036854775808" : "9223372036854775807")) return invalid();
  }
  return neg ? -v : v;
}
