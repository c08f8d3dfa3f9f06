/**
 * Go's strconv float formatting ('e', 'f', 'g' with a precision or the shortest form) and
 * ParseFloat, so that `{{ $value }}`, `printf "%.2f"` and the humanize functions print digit for
 * digit what Prometheus prints: 1e+06, 0.1, 1.235M. Rounding with a precision is exact and
 * rounds a true halfway case to even, as Go does (JavaScript's toFixed rounds it up).
 */
import { goQuoteString } from "../../model/index.ts";

/** Decimal digits of |v| (no leading or trailing zeros) with the decimal point after `dp` of them. */
interface Digits {
  d: string;
  dp: number;
}

const view = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite v > 0. */
function exactDigits(v: number): Digits {
  view.setFloat64(0, v);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let d: string;
  let dp: number;
  if (exp >= 0) {
    d = (mant << BigInt(exp)).toString();
    dp = d.length;
  } else {
    d = (mant * 5n ** BigInt(-exp)).toString();
    dp = d.length + exp;
  }
  return trimZeros({ d, dp });
}

function trimZeros(x: Digits): Digits {
  let end = x.d.length;
  while (end > 0 && x.d.charCodeAt(end - 1) === 48) end--;
  return end === x.d.length ? x : { d: x.d.slice(0, end), dp: x.dp };
}

/** The shortest digits that read back as v (v finite, > 0): JavaScript's and Go's choice agree. */
function shortestDigits(v: number): Digits {
  const s = v.toExponential();
  const e = s.indexOf("e");
  const mantissa = s.slice(0, e).replace(".", "");
  return trimZeros({ d: mantissa, dp: Number(s.slice(e + 1)) + 1 });
}

/** x rounded to nd digits, a halfway case to even (Go's decimal.Round). */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0) return { d: "", dp: x.dp };
  if (nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < x.d.length) up = true; // more non-zero digits follow (x.d has no trailing zeros)
  else up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimZeros({ d: x.d.slice(0, nd), dp: x.dp });
  let i = nd - 1;
  while (i >= 0 && x.d[i] === "9") i--;
  if (i < 0) return { d: "1", dp: x.dp + 1 };
  return { d: x.d.slice(0, i) + String.fromCharCode(x.d.charCodeAt(i) + 1), dp: x.dp };
}

function digitAt(x: Digits, i: number): string {
  return i >= 0 && i < x.d.length ? x.d[i]! : "0";
}

function fmtE(neg: boolean, x: Digits, prec: number, e: "e" | "E"): string {
  let out = neg ? "-" : "";
  out += x.d.length === 0 ? "0" : x.d[0];
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) out += digitAt(x, i);
  }
  const exp = x.d.length === 0 ? 0 : x.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${e}${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let out = neg ? "-" : "";
  if (x.dp > 0) {
    for (let i = 0; i < x.dp; i++) out += digitAt(x, i);
  } else out += "0";
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) out += digitAt(x, x.dp + i - 1);
  }
  return out;
}

/**
 * strconv.FormatFloat(v, fmt, prec, 64): fmt is e, E, f, g or G; prec -1 means the fewest digits
 * that read back as v.
 */
export function formatFloat(v: number, fmt: "e" | "E" | "f" | "g" | "G", prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const neg = v < 0 || Object.is(v, -0);
  const abs = Math.abs(v);
  const shortest = prec < 0;
  let x: Digits;
  if (abs === 0) x = { d: "", dp: 0 };
  else if (shortest) x = shortestDigits(abs);
  else {
    const exact = exactDigits(abs);
    if (fmt === "e" || fmt === "E") x = roundDigits(exact, prec + 1);
    else if (fmt === "f") x = roundDigits(exact, exact.dp + prec);
    else x = roundDigits(exact, prec === 0 ? 1 : prec);
  }
  if (shortest) {
    if (fmt === "e" || fmt === "E") prec = Math.max(x.d.length - 1, 0);
    else if (fmt === "f") prec = Math.max(x.d.length - x.dp, 0);
    else prec = x.d.length;
  }
  if (fmt === "e" || fmt === "E") return fmtE(neg, x, prec, fmt);
  if (fmt === "f") return fmtF(neg, x, prec);
  // %g: %e when the exponent is below -4 or at least the precision (6 for the shortest form).
  let p = prec === 0 ? 1 : prec;
  let eprec = p;
  if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
  if (shortest) eprec = 6;
  const exp = x.dp - 1;
  if (abs !== 0 && (exp < -4 || exp >= eprec)) {
    if (p > x.d.length) p = x.d.length;
    return fmtE(neg, x, p - 1, fmt === "g" ? "e" : "E");
  }
  if (abs === 0) return neg ? "-0" : "0";
  if (p > x.dp) p = x.d.length;
  return fmtF(neg, x, Math.max(p - x.dp, 0));
}

/** Go's `%v` of a float64. */
export function formatFloatV(v: number): string {
  return formatFloat(v, "g", -1);
}

const DECIMAL = /^[+-]?(?:[0-9]+(?:_[0-9]+)*\.?(?:[0-9]+(?:_[0-9]+)*)?|\.[0-9]+(?:_[0-9]+)*)(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?$/;
const HEX = /^([+-]?)0[xX]((?:[0-9a-fA-F_]*)(?:\.[0-9a-fA-F_]*)?)[pP]([+-]?[0-9_]+)$/;
const INF = /^[+-]?(?:inf|infinity)$/i;

/** strconv.ParseFloat(s, 64); throws with Go's message. */
export function parseGoFloat(s: string): number {
  const syntax = () => new Error(`strconv.ParseFloat: parsing ${goQuoteString(s)}: invalid syntax`);
  if (INF.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  let v: number;
  if (DECIMAL.test(s)) {
    // Go allows underscores only after a base prefix.
    if (s.includes("_")) throw syntax();
    v = Number(s);
  } else {
    const m = HEX.exec(s);
    if (m === null) throw syntax();
    const [intPart, fracPart = ""] = m[2]!.replaceAll("_", "").split(".");
    if (intPart === "" && fracPart === "") throw syntax();
    v = parseInt((intPart || "0") + fracPart, 16) * 2 ** (Number(m[3]!.replaceAll("_", "")) - 4 * fracPart.length);
    if (m[1] === "-") v = -v;
  }
  if (!Number.isFinite(v)) throw new Error(`strconv.ParseFloat: parsing ${goQuoteString(s)}: value out of range`);
  return v;
}

