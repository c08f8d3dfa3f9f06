/**
 * Go's text/template builtins: and, or, not, len, index, slice, print, printf, println, html,
 * js, urlquery, call and the comparisons eq (several operands), ne, lt, le, gt, ge, with Go's
 * errors. Their arguments arrive as reflect.Values: any value, a nil one included.
 */
import type { FuncDef } from "./exec.ts";
import { FuncError } from "./func_error.ts";
import { formatV, sprint, sprintf, sprintln } from "./go_fmt.ts";
import { queryEscape } from "./text_funcs.ts";
import {
  ABSENT, basicKind, compareGoStrings, GoDuration, GoHTML, GoMap, GoPtr, GoSlice, GoStruct, GoTime, intOf, isTrue, stringOf,
  T_STRING, T_VALUE, typeName, zeroOf, type GoFunc, type GoValue,
} from "./values.ts";

function fn(params: GoFunc["params"], call: GoFunc["call"], variadic?: GoFunc["variadic"]): FuncDef {
  return { fn: variadic === undefined ? { params, call } : { params, variadic, call }, builtin: true };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function indexArg(index: GoValue, cap: number): number {
  if (index === undefined) throw new FuncError("cannot index slice/array with nil");
  if (typeof index !== "bigint" && !(index instanceof GoDuration && !index.pointer)) {
    throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
  }
  const x = intOf(index);
  if (x < 0n || x > BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
  return Number(x);
}

function index(item: GoValue, indexes: GoValue[]): GoValue {
  if (item === undefined) throw new FuncError("index of untyped nil");
  for (const idx of indexes) {
    if (item instanceof GoPtr) {
      if (item.target === null) throw new FuncError("index of nil pointer");
      item = item.target;
    }
    if (item instanceof GoSlice || typeof item === "string" || item instanceof GoHTML) {
      const isString: boolean = !(item instanceof GoSlice);
      const bytes: Uint8Array | null = isString ? enc.encode(stringOf(item)) : null;
      const len: number = bytes !== null ? bytes.length : (item as GoSlice).length;
      const x = indexArg(idx, len);
      // Go checks the index against the capacity only; reflect then panics at the length.
      if (x === len) throw new FuncError(`reflect: ${isString ? "string" : "slice"} index out of range`);
      item = bytes !== null ? BigInt(bytes[x]!) : (item as GoSlice).items![x];
      continue;
    }
    if (item instanceof GoMap) {
      if (idx === undefined) throw new FuncError("value is nil; should be of type string");
      if (typeof idx !== "string") throw new FuncError(`value has type ${typeName(idx)}; should be string`);
      const v = item.get(idx);
      item = v === ABSENT ? zeroOf(item.type.elem!) : v;
      continue;
    }
    throw new FuncError(`can't index item of type ${typeName(item)}`);
  }
  return item;
}

function slice(item: GoValue, indexes: GoValue[]): GoValue {
  if (item === undefined) throw new FuncError("slice of untyped nil");
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === "string" || item instanceof GoHTML) {
    if (indexes.length === 3) throw new FuncError("cannot 3-index slice a string");
    len = enc.encode(stringOf(item)).length;
  } else if (item instanceof GoSlice) len = item.length;
  else throw new FuncError(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, len)));
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (item instanceof GoSlice) return new GoSlice(item.type, (item.items ?? []).slice(idx[0], idx[1]));
  const text = dec.decode(enc.encode(stringOf(item)).slice(idx[0], idx[1]));
  return item instanceof GoHTML ? new GoHTML(text) : text;
}

function length(item: GoValue): bigint {
  if (item instanceof GoPtr && item.target === null) throw new FuncError("len of nil pointer");
  if (typeof item === "string" || item instanceof GoHTML) return BigInt(enc.encode(stringOf(item)).length);
  if (item instanceof GoMap) return BigInt(item.size);
  if (item instanceof GoSlice) return BigInt(item.length);
  if (item === undefined) throw new FuncError("reflect: call of reflect.Value.Type on zero Value");
  throw new FuncError(`len of type ${typeName(item instanceof GoPtr ? item.target! : item)}`);
}

/** text/template's evalArgs: one string as is, otherwise fmt.Sprint with values made printable. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => (a === undefined ? "<no value>" : a instanceof GoPtr && a.target !== null ? a.target : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[\u0000"'&<>]/g, (c) => ({ "\u0000": "\uFFFD", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case "\\": out += "\\\\"; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case "<": out += "\\u003C"; continue;
      case ">": out += "\\u003E"; continue;
      case "&": out += "\\u0026"; continue;
      case "=": out += "\\u003D"; continue;
    }
    if (cp < 0x20) out += "\\u00" + cp.toString(16).toUpperCase().padStart(2, "0");
    else if (cp < 0x80 || /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) out += ch;
    else out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
  }
  return out;
}

function isNilValue(v: GoValue): boolean {
  return v === undefined || (v instanceof GoPtr && v.target === null) || (v instanceof GoMap && v.entries === null) || (v instanceof GoSlice && v.items === null);
}

function eq(arg1: GoValue, rest: GoValue[]): boolean {
  if (rest.length === 0) throw new FuncError("missing argument for comparison");
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (arg1 !== undefined && arg !== undefined) {
        throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
      }
    } else if (k1 === "bool" || k1 === "float" || k1 === "int") {
      truth = k1 === "int" ? intOf(arg1) === intOf(arg) : arg1 === arg;
    } else if (k1 === "string") {
      truth = stringOf(arg1) === stringOf(arg);
    } else {
      if (isNilValue(arg1) || isNilValue(arg)) truth = isNilValue(arg1) === isNilValue(arg);
      else if (arg instanceof GoMap || arg instanceof GoSlice || arg instanceof GoStruct) {
        throw new FuncError(`non-comparable type ${formatV(arg)}: ${typeName(arg)}`);
      } else if (arg1 instanceof GoTime && arg instanceof GoTime) truth = arg1.pointer === arg.pointer && (arg1.pointer ? arg1 === arg : arg1.ns === arg.ns);
      else if (typeName(arg1) !== typeName(arg)) {
        throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
      } else truth = arg1 === arg;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "invalid" || k2 === "invalid") throw new FuncError("invalid type for comparison");
  if (k1 !== k2) throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  switch (k1) {
    case "bool":
      throw new FuncError("invalid type for comparison");
    case "float":
      return (a as number) < (b as number);
    case "int":
      return intOf(a) < intOf(b);
    default:
      return compareGoStrings(stringOf(a), stringOf(b)) < 0;
  }
}

function le(a: GoValue, b: GoValue): boolean {
  return lt(a, b) || eq(a, [b]);
}

export const BUILTINS: ReadonlyMap<string, FuncDef> = new Map<string, FuncDef>([
  ["and", fn([T_VALUE], () => undefined, T_VALUE)],
  ["or", fn([T_VALUE], () => undefined, T_VALUE)],
  ["not", fn([T_VALUE], ([v]) => !isTrue(v))],
  ["len", fn([T_VALUE], ([v]) => length(v))],
  ["index", fn([T_VALUE], ([item, ...idx]) => index(item, idx), T_VALUE)],
  ["slice", fn([T_VALUE], ([item, ...idx]) => slice(item, idx), T_VALUE)],
  ["print", fn([], (args) => sprint(args), T_VALUE)],
  ["printf", fn([T_STRING], ([format, ...args]) => sprintf(format as string, args), T_VALUE)],
  ["println", fn([], (args) => sprintln(args), T_VALUE)],
  ["html", fn([], (args) => htmlEscape(evalArgs(args)), T_VALUE)],
  ["js", fn([], (args) => jsEscape(evalArgs(args)), T_VALUE)],
  ["urlquery", fn([], (args) => queryEscape(evalArgs(args)), T_VALUE)],
  [
    "call",
    fn(
      [T_VALUE],
      ([f]) => {
        // No value a template can reach here is a function.
        if (f === undefined) throw new FuncError("call of nil");
        throw new FuncError(`non-function of type ${typeName(f)}`);
      },
      T_VALUE,
    ),
  ],
  ["eq", fn([T_VALUE], ([a, ...rest]) => eq(a, rest), T_VALUE)],
  ["ne", fn([T_VALUE, T_VALUE], ([a, b]) => !eq(a, [b]))],
  ["lt", fn([T_VALUE, T_VALUE], ([a, b]) => lt(a, b))],
  ["le", fn([T_VALUE, T_VALUE], ([a, b]) => le(a, b))],
  ["gt", fn([T_VALUE, T_VALUE], ([a, b]) => !le(a, b))],
  ["ge", fn([T_VALUE, T_VALUE], ([a, b]) => !lt(a, b))],
]);

