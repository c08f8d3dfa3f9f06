/** Result comparison as Prometheus's promqltest does it (relative float tolerance 1e-6). */
import { compareLabels, labelsKey, type Labels } from "../../../src/model/index.ts";
import { formatLabels } from "../../../src/model/index.ts";
import type { QueryResult, QueryValue } from "../../../src/promql/index.ts";
import type { EvalCmd, ExpectedSeries } from "./reader.ts";

const MIN_NORMAL = 2.2250738585072014e-308;
const EPSILON = 0.000001;

/** Prometheus's util/almost.Equal. */
export function almostEqual(a: number, b: number, eps = EPSILON): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < eps * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

function fmt(ls: Labels): string {
  return formatLabels(ls);
}

function expectedMap(cmd: EvalCmd): Map<string, ExpectedSeries> {
  const m = new Map<string, ExpectedSeries>();
  for (const e of cmd.expected) m.set(labelsKey(e.labels), e);
  return m;
}

/** Returns null when the value matches the expectation, else what differs. */
export function compareValue(cmd: EvalCmd, value: QueryValue, start: number, end: number, step: number): string | null {
  const exp = expectedMap(cmd);
  switch (value.resultType) {
    case "matrix": {
      if (cmd.legacy === "ordered" || cmd.expects.some((e) => e.type === "ordered")) return "expected ordered result, but query returned a matrix";
      if (cmd.expectScalar) return "expected scalar result, but got matrix";
      for (let i = 1; i < value.result.length; i++) {
        if (compareLabels(value.result[i - 1]!.labels, value.result[i]!.labels) > 0) return "matrix results should always be sorted by labels";
      }
      const seen = new Set<string>();
      for (const s of value.result) {
        const k = labelsKey(s.labels);
        const e = exp.get(k);
        if (!e) return `unexpected metric ${fmt(s.labels)} in result, has ${s.values.length} points`;
        seen.add(k);
        const want: [number, number][] = [];
        for (let i = 0; i < e.values.length; i++) {
          const t = start + i * step;
          if (t > end) return `expected ${e.values.length} points for ${fmt(e.labels)}, but query time range cannot return this many points`;
          const v = e.values[i]!;
          if (v.histogram !== null) return "expected histogram";
          if (!v.omitted) want.push([t, v.value]);
        }
        if (want.length !== s.values.length) {
          const got = Array.from(s.timestamps, (t, i) => `${s.values[i]} @[${t}]`).join(" ");
          return `expected ${want.length} float points for ${fmt(e.labels)}, but got ${s.values.length}: ${got}`;
        }
        for (let i = 0; i < want.length; i++) {
          if (want[i]![0] !== s.timestamps[i]) return `expected point ${i} of ${fmt(e.labels)} at t=${want[i]![0]}, got t=${s.timestamps[i]}`;
          if (!almostEqual(s.values[i]!, want[i]![1])) return `expected ${want[i]![1]} at t=${want[i]![0]} for ${fmt(e.labels)}, got ${s.values[i]}`;
        }
      }
      for (const [k, e] of exp) if (!seen.has(k)) return `expected metric ${fmt(e.labels)} not found`;
      return null;
    }
    case "vector": {
      if (cmd.expectScalar) return "expected scalar result, but got vector";
      const ordered = cmd.legacy === "ordered" || cmd.expects.some((e) => e.type === "ordered");
      const seen = new Set<string>();
      for (let pos = 0; pos < value.result.length; pos++) {
        const s = value.result[pos]!;
        const k = labelsKey(s.labels);
        const e = exp.get(k);
        if (!e) return `unexpected metric ${fmt(s.labels)} in result, has value ${s.v}`;
        if (ordered && e.pos !== pos + 1) return `expected metric ${fmt(s.labels)} at position ${e.pos} but was at ${pos + 1}`;
        const v0 = e.values[0]!;
        if (v0.histogram !== null) return `expected histogram for ${fmt(s.labels)} but got float ${s.v}`;
        if (!almostEqual(v0.value, s.v)) return `expected ${v0.value} for ${fmt(s.labels)} but got ${s.v}`;
        seen.add(k);
      }
      for (const [k, e] of exp) if (!seen.has(k)) return `expected metric ${fmt(e.labels)} with ${e.values[0]?.value} not found`;
      return null;
    }
    case "scalar": {
      if (!cmd.expectScalar) return `expected vector or matrix result, but got scalar ${value.v}`;
      const want = cmd.expected[0]!.values[0]!.value;
      if (!almostEqual(want, value.v)) return `expected scalar ${want} but got ${value.v}`;
      return null;
    }
    case "string":
      if (cmd.expectedString !== value.v) return `expected string "${cmd.expectedString}" but got "${value.v}"`;
      return null;
  }
}

function matchesExpectation(msg: string | null, re: RegExp | null, s: string): boolean {
  if (re) return re.test(s);
  return msg === s;
}

/** The annotation expectations (`expect warn/info/no_warn/no_info`, legacy eval_warn/eval_info). */
export function checkAnnotations(cmd: EvalCmd, res: QueryResult): string | null {
  if (cmd.legacy === "warn" && res.warnings.length === 0) return "expected warnings but got none";
  if (cmd.legacy === "info" && res.infos.length === 0) return "expected info annotations but got none";
  const check = (type: "warn" | "info", actual: string[]): string | null => {
    const exps = cmd.expects.filter((e) => e.type === type);
    if (exps.length === 0) return null;
    if (actual.length === 0) return `expected ${type} annotations but none were found`;
    for (const e of exps) {
      if (!actual.some((a) => matchesExpectation(e.message, e.regex, a))) {
        return `expected ${type} annotation matching ${JSON.stringify(e.message ?? String(e.regex))} but found: ${JSON.stringify(actual)}`;
      }
    }
    for (const a of actual) {
      if (!exps.some((e) => matchesExpectation(e.message, e.regex, a))) return `unexpected ${type} annotation ${JSON.stringify(a)}`;
    }
    return null;
  };
  const w = check("warn", res.warnings);
  if (w) return w;
  const i = check("info", res.infos);
  if (i) return i;
  if (cmd.expects.some((e) => e.type === "no_warn") && res.warnings.length > 0) return `unexpected warnings: ${JSON.stringify(res.warnings)}`;
  if (cmd.expects.some((e) => e.type === "no_info") && res.infos.length > 0) return `unexpected infos: ${JSON.stringify(res.infos)}`;
  return null;
}

/** Whether an error matches the `expect fail` / expected_fail_* expectations; null when it does. */
export function checkFailure(cmd: EvalCmd, message: string): string | null {
  if (cmd.expectedFailMessage !== null && cmd.expectedFailMessage !== message) return `expected error ${JSON.stringify(cmd.expectedFailMessage)}, got ${JSON.stringify(message)}`;
  if (cmd.expectedFailRegexp !== null && !cmd.expectedFailRegexp.test(message)) return `expected error matching ${cmd.expectedFailRegexp}, got ${JSON.stringify(message)}`;
  const f = cmd.expects.find((e) => e.type === "fail");
  if (f && !matchesExpectation(f.message, f.regex, message)) return `expected error matching ${JSON.stringify(f.message ?? String(f.regex))}, got ${JSON.stringify(message)}`;
  return null;
}

export function isFail(cmd: EvalCmd): boolean {
  return cmd.legacy === "fail" || cmd.expects.some((e) => e.type === "fail");
}

export function isOrdered(cmd: EvalCmd): boolean {
  return cmd.legacy === "ordered" || cmd.expects.some((e) => e.type === "ordered");
}
