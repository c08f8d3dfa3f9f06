/**
 * Go's fmt for template values: `%v` printing of every value shape (what an action prints),
 * Sprint / Sprintln spacing, and Sprintf with Go's verbs, flags, width and precision, including
 * its in-band error forms (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`).
 */
import { goQuoteRune, goQuoteString } from "../../model/index.ts";
import { formatFloat } from "./go_float.ts";
import { durationString, timeString } from "./go_time.ts";
import { GoDuration, GoHTML, GoMap, GoPtr, GoSlice, GoStruct, GoTime, typeName, type GoValue } from "./values.ts";

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number; // -1 when absent
  prec: number; // -1 when absent
}

const PLAIN: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false, width: -1, prec: -1 };
const PLUS_V: Spec = { ...PLAIN, plus: true };

/** Go's `fmt.Sprint(v)` of one value: the `%v` form. */
export function formatV(v: GoValue): string {
  return printArg(v, "v", PLAIN, 0);
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = "";
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const isString = typeof a === "string" || a instanceof GoHTML;
    if (i > 0 && !isString && !prevString) out += " ";
    out += formatV(a);
    prevString = isString;
  }
  return out;
}

/** fmt.Sprintln: operands always separated by a space, then a newline. */
export function sprintln(args: readonly GoValue[]): string {
  return args.map(formatV).join(" ") + "\n";
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = "";
  let argNum = 0;
  let reordered = false;
  const n = format.length;
  let i = 0;
  while (i < n) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { ...PLAIN };
    // Flags.
    for (; i < n; i++) {
      const c = format[i];
      if (c === "#") spec.sharp = true;
      else if (c === "0") spec.zero = true;
      else if (c === "+") spec.plus = true;
      else if (c === "-") spec.minus = true;
      else if (c === " ") spec.space = true;
      else break;
    }
    // An explicit argument index: %[2]d.
    const takeIndex = (): void => {
      if (format[i] !== "[") return;
      reordered = true;
      const close = format.indexOf("]", i);
      const idx = close > i ? Number(format.slice(i + 1, close)) : NaN;
      if (Number.isInteger(idx) && idx >= 1) {
        argNum = idx - 1;
        i = close + 1;
      } else {
        argNum = args.length; // bad index: reported as a missing argument
        i = close > i ? close + 1 : i + 1;
      }
    };
    takeIndex();
    // Width.
    if (format[i] === "*") {
      i++;
      const w = args[argNum++];
      if (typeof w === "bigint") {
        spec.width = Number(w < 0n ? -w : w);
        if (w < 0n) spec.minus = true;
      } else out += "%!(BADWIDTH)";
    } else {
      let w = "";
      while (isDigit(format[i])) w += format[i++];
      if (w !== "") spec.width = Number(w);
    }
    // Precision.
    if (format[i] === ".") {
      i++;
      takeIndex();
      if (format[i] === "*") {
        i++;
        const p = args[argNum++];
        if (typeof p === "bigint" && p >= 0n) spec.prec = Number(p);
        else out += "%!(BADPREC)";
      } else {
        let p = "";
        while (isDigit(format[i])) p += format[i++];
        spec.prec = p === "" ? 0 : Number(p);
      }
    }
    takeIndex();
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (spec.minus) spec.zero = false;
    out += printArg(args[argNum++], verb, spec, 0);
  }
  if (!reordered && argNum < args.length) {
    out += "%!(EXTRA ";
    out += args
      .slice(argNum)
      .map((a) => (a === undefined ? "<nil>" : `${typeName(a)}=${formatV(a)}`))
      .join(", ");
    out += ")";
  }
  return out;
}

function pad(s: string, spec: Spec): string {
  if (spec.width < 0) return s;
  const len = [...s].length;
  if (len >= spec.width) return s;
  const fill = (spec.zero && !spec.minus ? "0" : " ").repeat(spec.width - len);
  return spec.minus ? s + fill : fill + s;
}

function badVerb(v: GoValue, verb: string): string {
  if (v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatV(v)})`;
}

function printArg(v: GoValue, verb: string, spec: Spec, depth: number): string {
  if (verb === "T") return pad(typeName(v), spec);
  if (v === undefined) return verb === "v" ? pad("<nil>", spec) : badVerb(v, verb);
  // Stringers (time.Time, time.Duration and their pointers) for the string verbs.
  if ((v instanceof GoTime || v instanceof GoDuration) && (verb === "v" || verb === "s" || verb === "x" || verb === "X" || verb === "q")) {
    return fmtString(v instanceof GoTime ? timeString(v.ns) : durationString(v.ns), verb, spec, v);
  }
  switch (typeof v) {
    case "string":
      return fmtString(v, verb, spec, v);
    case "boolean":
      return verb === "v" || verb === "t" ? pad(String(v), spec) : badVerb(v, verb);
    case "bigint":
      return fmtInteger(v, verb, spec);
    case "number":
      return fmtFloatVerb(v, verb, spec);
  }
  if (v instanceof GoHTML) return fmtString(v.text, verb, spec, v);
  if (v instanceof GoDuration) return fmtInteger(v.ns, verb, spec);
  if (v instanceof GoTime) return badVerb(v, verb);
  if (v instanceof GoMap) {
    const parts = v.sortedKeys().map((k) => `${printArg(k, verb, spec, depth + 1)}:${printArg(v.entries![k], verb, spec, depth + 1)}`);
    return `map[${parts.join(" ")}]`;
  }
  if (v instanceof GoSlice) {
    return `[${(v.items ?? []).map((x) => printArg(x, verb, spec, depth + 1)).join(" ")}]`;
  }
  if (v instanceof GoStruct) {
    const plusV = verb === "v" && spec.plus;
    const parts = v.fieldNames.map((f) => (plusV ? `${f}:` : "") + printArg(v.fields[f], verb, plusV ? PLUS_V : spec, depth + 1));
    return `{${parts.join(" ")}}`;
  }
  if (v instanceof GoPtr) {
    if (v.target === null) return verb === "v" ? pad("<nil>", spec) : badVerb(v, verb);
    // At the top, fmt prints what a struct pointer points to; deeper down, its address.
    if (depth === 0) return "&" + printArg(v.target, verb, spec, depth + 1);
    return pad(pointerAddress(v.target), spec);
  }
  return badVerb(v, verb);
}

/**
 * fmt prints a nested pointer as its memory address, which differs from run to run in Go; here
 * it is a stable stand-in of the same shape.
 */
const addresses = new WeakMap<object, string>();
let nextAddress = 0xc000010000;
function pointerAddress(target: object): string {
  let a = addresses.get(target);
  if (a === undefined) {
    a = "0x" + nextAddress.toString(16);
    nextAddress += 0x30;
    addresses.set(target, a);
  }
  return a;
}

function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function fmtString(s: string, verb: string, spec: Spec, original: GoValue): string {
  switch (verb) {
    case "v":
    case "s": {
      if (spec.prec >= 0) s = [...s].slice(0, spec.prec).join("");
      return pad(s, spec);
    }
    case "q": {
      if (spec.prec >= 0) s = [...s].slice(0, spec.prec).join("");
      if (spec.sharp && !/[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/.test(s)) return pad("`" + s + "`", spec);
      return pad(goQuoteString(s), spec);
    }
    case "x":
    case "X": {
      let bytes = utf8Bytes(s);
      if (spec.prec >= 0) bytes = bytes.slice(0, spec.prec);
      let out = "";
      bytes.forEach((b, i) => {
        if (spec.space && i > 0) out += " ";
        if (spec.sharp && (spec.space || i === 0)) out += verb === "x" ? "0x" : "0X";
        const h = b.toString(16).padStart(2, "0");
        out += verb === "X" ? h.toUpperCase() : h;
      });
      return pad(out, spec);
    }
  }
  return badVerb(original, verb);
}

function fmtInteger(v: bigint, verb: string, spec: Spec): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  let digits: string;
  let prefix = "";
  switch (verb) {
    case "v":
    case "d":
      digits = abs.toString(10);
      break;
    case "b":
      digits = abs.toString(2);
      if (spec.sharp) prefix = "0b";
      break;
    case "o":
    case "O":
      digits = abs.toString(8);
      if (verb === "O") prefix = "0o";
      else if (spec.sharp) prefix = "0";
      break;
    case "x":
      digits = abs.toString(16);
      if (spec.sharp) prefix = "0x";
      break;
    case "X":
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = "0X";
      break;
    case "c":
      return pad(String.fromCodePoint(validRune(v)), spec);
    case "q":
      return pad(goQuoteRune(String.fromCodePoint(validRune(v))), spec);
    case "U": {
      const hex = "U+" + abs.toString(16).toUpperCase().padStart(4, "0");
      return pad(spec.sharp ? `${hex} '${String.fromCodePoint(validRune(v))}'` : hex, spec);
    }
    default:
      return badVerb(v, verb);
  }
  if (spec.prec >= 0) {
    if (spec.prec === 0 && v === 0n) digits = "";
    digits = digits.padStart(spec.prec, "0");
  }
  const sign = neg ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  if (spec.zero && spec.width >= 0 && spec.prec < 0 && !spec.minus) {
    digits = digits.padStart(spec.width - sign.length - prefix.length, "0");
  }
  return pad(sign + prefix + digits, { ...spec, zero: false });
}

function validRune(v: bigint): number {
  return v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn) ? 0xfffd : Number(v);
}

function fmtFloatVerb(v: number, verb: string, spec: Spec): string {
  let num: string;
  switch (verb) {
    case "v":
      num = formatFloat(v, "g", spec.prec);
      break;
    case "e":
    case "E":
      num = formatFloat(v, verb, spec.prec < 0 ? 6 : spec.prec);
      break;
    case "f":
    case "F":
      num = formatFloat(v, "f", spec.prec < 0 ? 6 : spec.prec);
      break;
    case "g":
    case "G":
      num = formatFloat(v, verb, spec.prec);
      break;
    default:
      return badVerb(v, verb);
  }
  let signed = num[0] === "-" || num[0] === "+" ? num : "+" + num;
  if (spec.space && signed[0] === "+" && !spec.plus) signed = " " + signed.slice(1);
  if (signed[1] === "I" || signed[1] === "N") {
    // Infinities and NaN are never zero-padded; NaN shows a sign only when asked.
    if (signed[1] === "N" && !spec.space && !spec.plus) signed = signed.slice(1);
    return pad(signed, { ...spec, zero: false });
  }
  if (spec.plus || signed[0] !== "+") {
    if (spec.zero && spec.width > signed.length && !spec.minus) {
      return signed[0] + "0".repeat(spec.width - signed.length) + signed.slice(1);
    }
    return pad(signed, spec);
  }
  return pad(signed.slice(1), spec);
}
