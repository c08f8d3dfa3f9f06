/**
 * Values printed the way promtool's unit-test failures print them (Go's formatting): label sets
 * as labels.Labels.String, floats as strconv.FormatFloat(v, 'E', -1, 64), evaluation times as
 * time.Duration.String, alert lists with promtool's numbering and indentation.
 */
import { goQuoteString, type Labels } from "../../model/index.ts";

/** `{a="1", b="2"}`, names as they are, values Go-quoted. */
export function goLabelsString(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${goQuoteString(l.value)}`).join(", ")}}`;
}

/** Go's FormatFloat(v, 'E', -1, 64): shortest mantissa, exponent of at least two digits. */
export function goFloatE(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const [mantissa, exp] = v.toExponential().split("e") as [string, string];
  const sign = exp.startsWith("-") ? "-" : "+";
  const digits = exp.replace(/^[-+]/, "");
  return `${Object.is(v, -0) ? "-" : ""}${mantissa}E${sign}${digits.padStart(2, "0")}`;
}

/** Go's time.Duration.String for whole milliseconds: `0s`, `500ms`, `1m30s`, `1h0m0s`. */
export function goDurationString(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  if (rest < 1000) return `${neg ? "-" : ""}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = `${s}s`;
  if (h > 0 || m > 0) out = `${m}m${out}`;
  if (h > 0) out = `${h}h${out}`;
  return (neg ? "-" : "") + out;
}

/** Every line after the first prefixed with `indent` (promtool's indentLines). */
export function indentLines(text: string, indent: string): string {
  return text.split("\n").join("\n" + indent);
}

export interface LabelsAndAnnotations {
  labels: Labels;
  annotations: Labels;
}

/** promtool's labelsAndAnnotations.String: `[]`, or numbered entries with their labels and annotations. */
export function alertListString(list: readonly LabelsAndAnnotations[]): string {
  if (list.length === 0) return "[]";
  const entry = (a: LabelsAndAnnotations, i: number) => `${i}:` + indentLines(`\nLabels:${goLabelsString(a.labels)}\nAnnotations:${goLabelsString(a.annotations)}`, "  ");
  return `[\n${list.map(entry).join(",\n")}\n]`;
}
