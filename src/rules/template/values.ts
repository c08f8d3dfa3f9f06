/**
 * The Go values a template works on, in the few shapes Prometheus's alert templates can meet:
 * Go's `int` is a bigint and `float64` a number (so `{{ 1 }}` and `{{ 1.0 }}` stay apart as in Go,
 * which matters for printf verbs and comparisons), strings and bools are themselves, and an
 * invalid reflect.Value (a nil interface, a missing key) is `undefined`. Maps, slices, structs,
 * pointers, time.Time and time.Duration carry their Go type name, because error messages and
 * `%T` print it.
 */

export type GoValue =
  | undefined
  | string
  | number
  | bigint
  | boolean
  | GoMap
  | GoSlice
  | GoStruct
  | GoPtr
  | GoTime
  | GoDuration
  | GoHTML;

/**
 * A function or bound method a template can call: its parameter types (for Go's argument
 * checks and messages) and its body, which throws FuncError for Go's returned error.
 */
export interface GoFunc {
  readonly params: readonly GoType[];
  /** The element type of a trailing `...T` parameter. */
  readonly variadic?: GoType;
  call(args: GoValue[], env: ExecEnv): GoValue;
}

/** What template functions may read of the expansion they run in. */
export interface ExecEnv {
  /** The evaluation time, in ms since the epoch (`now`, `query`'s instant). */
  readonly timeMs: number;
  readonly externalURL: string;
  /** The result of `query expr`: throws PendingQuery while the answer is not known yet. */
  queryResult(expr: string): GoValue;
}

/** A Go type, as far as argument checking, zero values and messages need it. */
export interface GoType {
  readonly name: string;
  readonly kind: "string" | "float64" | "int" | "bool" | "any" | "value" | "map" | "slice" | "ptr" | "struct" | "time" | "duration" | "html";
  /** The element type of a map, slice or pointer. */
  readonly elem?: GoType;
  /** A struct's field names. */
  readonly fields?: readonly string[];
}

export const T_STRING: GoType = { name: "string", kind: "string" };
export const T_FLOAT: GoType = { name: "float64", kind: "float64" };
export const T_INT: GoType = { name: "int", kind: "int" };
export const T_BOOL: GoType = { name: "bool", kind: "bool" };
/** interface {}: any value, a nil one included. */
export const T_ANY: GoType = { name: "interface {}", kind: "any" };
/** reflect.Value, how Go's builtins take their arguments: anything, even an invalid value. */
export const T_VALUE: GoType = { name: "reflect.Value", kind: "value" };
export const T_HTML: GoType = { name: "template.HTML", kind: "html" };
export const T_TIME: GoType = { name: "time.Time", kind: "time" };
export const T_DURATION: GoType = { name: "time.Duration", kind: "duration" };
export const T_TIME_PTR: GoType = { name: "*time.Time", kind: "ptr", elem: T_TIME };
export const T_DURATION_PTR: GoType = { name: "*time.Duration", kind: "ptr", elem: T_DURATION };
export const T_LABELS: GoType = { name: "map[string]string", kind: "map", elem: T_STRING };
export const T_ARGS_MAP: GoType = { name: "map[string]interface {}", kind: "map", elem: T_ANY };
export const T_SAMPLE: GoType = { name: "template.sample", kind: "struct", fields: ["Labels", "Value"] };
export const T_SAMPLE_PTR: GoType = { name: "*template.sample", kind: "ptr", elem: T_SAMPLE };
export const T_QUERY_RESULT: GoType = { name: "template.queryResult", kind: "slice", elem: T_SAMPLE_PTR };

export class GoMap {
  constructor(
    readonly type: GoType,
    /** null for a nil map. Only own properties are entries. */
    readonly entries: Readonly<Record<string, GoValue>> | null,
  ) {}
  get(key: string): GoValue | typeof ABSENT {
    if (this.entries === null || !Object.hasOwn(this.entries, key)) return ABSENT;
    return this.entries[key];
  }
  /** Keys in Go's order for printing and range (sorted). */
  sortedKeys(): string[] {
    return this.entries === null ? [] : Object.keys(this.entries).sort(compareGoStrings);
  }
  get size(): number {
    return this.entries === null ? 0 : Object.keys(this.entries).length;
  }
}

/** A marker for "no such key", distinct from a key holding a nil interface. */
export const ABSENT: unique symbol = Symbol("absent");

export class GoSlice {
  constructor(
    readonly type: GoType,
    /** null for a nil slice. */
    readonly items: readonly GoValue[] | null,
  ) {}
  get length(): number {
    return this.items === null ? 0 : this.items.length;
  }
}

export class GoStruct {
  constructor(
    readonly type: GoType,
    /** Field names in declaration order (printing follows it). */
    readonly fieldNames: readonly string[],
    readonly fields: Readonly<Record<string, GoValue>>,
  ) {}
}

export class GoPtr {
  constructor(
    readonly type: GoType,
    /** null for a nil pointer. */
    readonly target: GoStruct | null,
  ) {}
}

/** time.Time in UTC (Prometheus's template functions only make UTC times), or *time.Time. */
export class GoTime {
  constructor(
    /** Nanoseconds since the Unix epoch. */
    readonly ns: bigint,
    readonly pointer: boolean,
  ) {}
}

/** time.Duration (int64 nanoseconds), or *time.Duration. */
export class GoDuration {
  constructor(
    readonly ns: bigint,
    readonly pointer: boolean,
  ) {}
}

/** html/template.HTML: a string kind of its own type, what safeHtml returns. */
export class GoHTML {
  constructor(readonly text: string) {}
}

/** Go compares strings by UTF-8 bytes; UTF-16 order differs only above U+FFFF, so compare code points. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export function typeOf(v: GoValue): GoType | null {
  switch (typeof v) {
    case "undefined":
      return null;
    case "string":
      return T_STRING;
    case "number":
      return T_FLOAT;
    case "bigint":
      return T_INT;
    case "boolean":
      return T_BOOL;
  }
  if (v instanceof GoTime) return v.pointer ? T_TIME_PTR : T_TIME;
  if (v instanceof GoDuration) return v.pointer ? T_DURATION_PTR : T_DURATION;
  if (v instanceof GoHTML) return T_HTML;
  return v.type;
}

/** `%T`: the type's name, `<nil>` for a nil interface. */
export function typeName(v: GoValue): string {
  return typeOf(v)?.name ?? "<nil>";
}

/** The zero value of a type, what missingkey=zero yields for an absent map key. */
export function zeroOf(t: GoType): GoValue {
  switch (t.kind) {
    case "string":
      return "";
    case "float64":
      return 0;
    case "int":
      return 0n;
    case "bool":
      return false;
    case "html":
      return new GoHTML("");
    case "map":
      return new GoMap(t, null);
    case "slice":
      return new GoSlice(t, null);
    case "ptr":
      return new GoPtr(t, null);
    case "time":
      return new GoTime(-62135596800000000000n, false);
    case "duration":
      return new GoDuration(0n, false);
    default:
      return undefined;
  }
}

/** Whether an untyped nil can stand for a value of this type (reflect's canBeNil). */
export function canBeNil(t: GoType): boolean {
  return t.kind === "any" || t.kind === "value" || t.kind === "map" || t.kind === "slice" || t.kind === "ptr";
}

/** Go's truth (text/template's isTrue): the zero value of its type is false; structs are always true. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case "undefined":
      return false;
    case "string":
      return v.length > 0;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "boolean":
      return v;
  }
  if (v instanceof GoMap) return v.size > 0;
  if (v instanceof GoSlice) return v.length > 0;
  if (v instanceof GoPtr) return v.target !== null;
  if (v instanceof GoHTML) return v.text.length > 0;
  if (v instanceof GoDuration) return v.pointer || v.ns !== 0n;
  // Structs (GoStruct, time.Time) and non-nil *time.Time.
  return true;
}

/** The kinds Go's comparison builtins accept. */
export type BasicKind = "bool" | "int" | "float" | "string" | "invalid";

export function basicKind(v: GoValue): BasicKind {
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return "float";
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
  }
  if (v instanceof GoHTML) return "string";
  if (v instanceof GoDuration && !v.pointer) return "int";
  return "invalid";
}

/** The string of a string-kinded value (string or template.HTML). */
export function stringOf(v: GoValue): string {
  return v instanceof GoHTML ? v.text : (v as string);
}

/** The integer of an int-kinded value (int or time.Duration). */
export function intOf(v: GoValue): bigint {
  return v instanceof GoDuration ? v.ns : (v as bigint);
}

/** A map[string]string view of labels, without copying them. */
export function labelsMap(labels: Readonly<Record<string, string>>): GoMap {
  return new GoMap(T_LABELS, labels);
}

/** Prometheus's query-result element, as a *sample. */
export function samplePtr(labels: Readonly<Record<string, string>>, value: number): GoPtr {
  return new GoPtr(T_SAMPLE_PTR, new GoStruct(T_SAMPLE, T_SAMPLE.fields!, { Labels: labelsMap(labels), Value: value }));
}
