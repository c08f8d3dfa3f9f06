/**
 * Go's strict YAML decoding (yaml.v3 `KnownFields`, as Prometheus's rulefmt and promtool use it),
 * walked over a YamlDoc's nodes so that messages name lines as Go's decoder does: wrong types
 * (`line N: cannot unmarshal !!str `abc` into int`) and unknown fields (`line N: field x not found
 * in type T`) are collected and reported together; a custom unmarshaler's error (a bad duration)
 * stops decoding at once (DecodeAbort).
 * A format describes its Go types with `struct` and `list` callbacks and these primitives.
 */
import { isMap, isScalar, isSeq } from "yaml";
import { parseDuration } from "../model/index.ts";
import type { YamlDoc } from "./yamldoc.ts";

/** A custom unmarshaler's error (a bad duration): Go's decoder stops at the first one. */
export class DecodeAbort extends Error {}

/** The setters of a Go struct's YAML fields, by field name; each gets the field's resolved node. */
export type GoStructFields = Record<string, (node: unknown) => void>;

export class GoYamlDecoder {
  /** The collected `line N: …` errors, in document order. */
  readonly errors: string[] = [];

  constructor(readonly yaml: YamlDoc) {}

  /** `n` itself, or the node its alias points at. */
  node(n: unknown): unknown {
    return this.yaml.resolve(n);
  }

  position(n: unknown): { line: number; col: number } | null {
    return this.yaml.position(n);
  }

  line(n: unknown): number {
    return this.position(n)?.line ?? 0;
  }

  /** An absent value or `null`/`~`: Go leaves the field at its zero value. */
  isNull(n: unknown): boolean {
    return n === null || n === undefined || (isScalar(n) && n.value === null);
  }

  /** yaml.v3's "cannot unmarshal" line: the node's tag, its text (shortened) for scalars, the Go type. */
  typeErrorText(n: unknown, goType: string): string {
    let tag = "!!map";
    let shown = "";
    if (isSeq(n)) tag = "!!seq";
    else if (isScalar(n)) {
      const v = n.value;
      const text = typeof n.source === "string" ? n.source : String(v);
      if (typeof v === "boolean") tag = "!!bool";
      else if (typeof v === "number" || typeof v === "bigint") tag = /^[-+]?[0-9]+$/.test(text) ? "!!int" : "!!float";
      else tag = "!!str";
      shown = text.length > 10 ? ` \`${text.slice(0, 7)}...\`` : ` \`${text}\``;
    }
    return `line ${this.line(n)}: cannot unmarshal ${tag}${shown} into ${goType}`;
  }

  typeError(n: unknown, goType: string): void {
    this.errors.push(this.typeErrorText(n, goType));
  }

  /** A mapping decoded into the Go struct `goType`: each known field to its setter, unknown fields reported. */
  struct(n: unknown, goType: string, fields: GoStructFields): void {
    n = this.node(n);
    if (this.isNull(n)) return;
    if (!isMap(n)) return this.typeError(n, goType);
    for (const p of n.items) {
      const key = this.node(p.key);
      const name = isScalar(key) ? String(key.value) : "";
      const set = Object.hasOwn(fields, name) ? fields[name] : undefined;
      if (set === undefined) this.errors.push(`line ${this.line(key)}: field ${name} not found in type ${goType}`);
      else set(this.node(p.value));
    }
  }

  /** A sequence decoded into the Go slice `goType`, item by item. */
  list<T>(n: unknown, goType: string, item: (node: unknown) => T): T[] {
    n = this.node(n);
    if (this.isNull(n)) return [];
    if (!isSeq(n)) {
      this.typeError(n, goType);
      return [];
    }
    return n.items.map((it) => item(this.node(it)));
  }

  string(n: unknown): string {
    if (this.isNull(n)) return "";
    if (isScalar(n)) return String(n.value);
    this.typeError(n, "string");
    return "";
  }

  int(n: unknown): number {
    if (this.isNull(n)) return 0;
    // Go's decoder truncates a float into an int field.
    if (isScalar(n) && typeof n.value === "number" && Number.isFinite(n.value)) return Math.trunc(n.value);
    this.typeError(n, "int");
    return 0;
  }

  float(n: unknown): number {
    if (this.isNull(n)) return 0;
    if (isScalar(n)) {
      if (typeof n.value === "number") return n.value;
      // Go's YAML reads .inf, .nan and numbers written as strings only when they resolve to floats.
      const text = String(n.value);
      if (/^[-+]?\.(inf|Inf|INF)$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
      if (/^\.(nan|NaN|NAN)$/.test(text)) return NaN;
    }
    this.typeError(n, "float64");
    return 0;
  }

  /** Prometheus's model.Duration, in ms; its parse error aborts decoding as its unmarshaler does. */
  duration(n: unknown): number {
    if (this.isNull(n)) return 0;
    if (!isScalar(n)) {
      this.typeError(n, "string");
      return 0;
    }
    try {
      return parseDuration(String(n.value));
    } catch (e) {
      throw new DecodeAbort((e as Error).message);
    }
  }

  /** A map[string]string as its entries in file order (a checker reports each entry). */
  stringPairs(n: unknown): [string, string][] {
    n = this.node(n);
    if (this.isNull(n)) return [];
    if (!isMap(n)) {
      this.typeError(n, "map[string]string");
      return [];
    }
    return n.items.map((p): [string, string] => [this.string(this.node(p.key)), this.string(this.node(p.value))]);
  }

  stringMap(n: unknown): Record<string, string> {
    return Object.fromEntries(this.stringPairs(n));
  }
}
