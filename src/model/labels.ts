/**
 * Label sets. A `Labels` value is an array of name/value pairs sorted by name, with unique names
 * and no empty values (an empty value means "label absent", as in Prometheus). The metric name is
 * the `__name__` label. Treat a `Labels` value as immutable: build a new one to change it.
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

export const METRIC_NAME = "__name__";

/** Sorts by name and drops empty values; later duplicates win. */
export function labelsFromPairs(pairs: Iterable<readonly [string, string]>): Labels {
  const byName = new Map<string, string>();
  for (const [name, value] of pairs) byName.set(name, value);
  const out: Label[] = [];
  for (const [name, value] of byName) if (value !== "") out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

export function labelsFromRecord(record: Record<string, string>): Labels {
  return labelsFromPairs(Object.entries(record));
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return "";
}

export function hasLabel(labels: Labels, name: string): boolean {
  for (const l of labels) if (l.name === name) return true;
  return false;
}

/** Compares label sets the way Prometheus's labels.Compare does (pairwise by name, then value). */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

const SEP = "\xff";

/**
 * A collision-free string key for a label set: names and values joined with a byte that cannot
 * appear in valid UTF-8 text. Use it for Map keys; use `labelsHash` where a number is needed.
 */
export function labelsKey(labels: Labels): string {
  let s = "";
  for (const l of labels) s += l.name + SEP + l.value + SEP;
  return s;
}

/** 64-bit xxHash of the label set, stable across processes and versions (the ring depends on it). */
export function labelsHash(labels: Labels): bigint {
  return BigInt.asUintN(64, BigInt(Bun.hash.xxHash64(labelsKey(labels))));
}

// Label sets are immutable and the hot paths (remote write, scrapes) hand the same object for a
// series again and again, so the ring's hash is remembered per object.
const hash32ByLabels = new WeakMap<Labels, number>();

/** 32-bit xxHash of the label set, for the consistent-hash ring. */
export function labelsHash32(labels: Labels): number {
  let h = hash32ByLabels.get(labels);
  if (h === undefined) {
    h = Bun.hash.xxHash32(labelsKey(labels)) >>> 0;
    hash32ByLabels.set(labels, h);
  }
  return h;
}

/** Returns a copy with `name` set to `value` (removed when value is empty). */
export function labelsWith(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = value === "";
  for (const l of labels) {
    if (l.name === name) continue;
    if (!placed && l.name > name) {
      out.push({ name, value });
      placed = true;
    }
    out.push(l);
  }
  if (!placed) out.push({ name, value });
  return out;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

/** Legacy (Prometheus 2) label-name charset; Prometheus 3 accepts any UTF-8 but quotes it. */
export function isLegacyLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Formats a label set as Prometheus does: `name{a="1", b="2"}`, `{a="1"}` without a name,
 * quoting names that are not legacy identifiers (`{"my.metric", "a.b"="1"}`).
 */
export function formatLabels(labels: Labels): string {
  const name = getLabel(labels, METRIC_NAME);
  const parts: string[] = [];
  let prefix = "";
  if (name !== "") {
    if (isValidMetricName(name)) prefix = name;
    else parts.push(quote(name));
  }
  for (const l of labels) {
    if (l.name === METRIC_NAME) continue;
    const n = isLegacyLabelName(l.name) ? l.name : quote(l.name);
    parts.push(`${n}=${quote(l.value)}`);
  }
  if (prefix !== "" && parts.length === 0) return prefix;
  return `${prefix}{${parts.join(", ")}}`;
}
