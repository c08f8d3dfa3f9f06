/**
 * Reads Prometheus's PromQL test scripts (load / clear / eval with expect lines), following
 * promql/promqltest's grammar as FORMAT.md describes it.
 */
import { parseDuration, type Labels } from "../../../src/model/index.ts";
import { parseSeriesDesc, parseSeriesNumber, unquoteGoString, type SeqValue } from "../../../src/promql/index.ts";

export type ExpectType = "fail" | "warn" | "no_warn" | "info" | "no_info" | "ordered";

export interface Expectation {
  type: ExpectType;
  /** Exact message, or a regex (a bare `expect warn` matches anything). */
  message: string | null;
  regex: RegExp | null;
}

export interface LoadSeries {
  labels: Labels;
  values: SeqValue[];
}

export interface LoadCmd {
  kind: "load";
  line: number;
  intervalMs: number;
  withNhcb: boolean;
  series: LoadSeries[];
}

export interface ClearCmd {
  kind: "clear";
  line: number;
}

export interface ExpectedSeries {
  labels: Labels;
  values: SeqValue[];
  /** 1-based position among the expected series (for `expect ordered`). */
  pos: number;
}

export interface EvalCmd {
  kind: "eval";
  line: number;
  expr: string;
  isRange: boolean;
  startMs: number;
  endMs: number;
  stepMs: number;
  /** Evaluation time of an instant query. */
  evalMs: number;
  legacy: "fail" | "warn" | "info" | "ordered" | null;
  expectedFailMessage: string | null;
  expectedFailRegexp: RegExp | null;
  expects: Expectation[];
  expectScalar: boolean;
  expected: ExpectedSeries[];
  expectedString: string | null;
  excludeFromRangeQuery: boolean;
}

export type Command = LoadCmd | ClearCmd | EvalCmd;

const PAT_LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const PAT_EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const PAT_EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const PAT_EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const PAT_EXPECT_RANGE = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;

function lines(input: string): string[] {
  return input.split("\n").map((l) => {
    const t = l.trim();
    return t.startsWith("#") ? "" : t;
  });
}

/** Go's regexp syntax is close enough to JavaScript's for the patterns in the scripts. */
function goRegex(p: string): RegExp {
  return new RegExp(p.replace(/\(\?P</g, "(?<"));
}

export function readScript(input: string): Command[] {
  const ls = lines(input);
  const cmds: Command[] = [];
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (l === "") continue;
    const word = l.split(/[\t ]+/, 1)[0]!.toLowerCase();
    if (word === "clear") {
      cmds.push({ kind: "clear", line: i + 1 });
    } else if (word.startsWith("load")) {
      const m = PAT_LOAD.exec(l);
      if (!m) throw new Error(`line ${i + 1}: invalid load command`);
      const cmd: LoadCmd = { kind: "load", line: i + 1, intervalMs: parseDuration(m[2]!), withNhcb: m[1] !== undefined, series: [] };
      while (i + 1 < ls.length && ls[i + 1] !== "") {
        i++;
        const s = parseSeriesDesc(ls[i]!);
        cmd.series.push(s);
      }
      cmds.push(cmd);
    } else if (word.startsWith("eval")) {
      i = readEval(ls, i, cmds);
    } else {
      throw new Error(`line ${i + 1}: invalid command ${JSON.stringify(l)}`);
    }
  }
  return cmds;
}

function readEval(ls: string[], i: number, cmds: Command[]): number {
  const l = ls[i]!;
  const inst = PAT_EVAL_INSTANT.exec(l);
  const rng = PAT_EVAL_RANGE.exec(l);
  if (!inst && !rng) throw new Error(`line ${i + 1}: invalid eval command`);
  const cmd: EvalCmd = {
    kind: "eval",
    line: i + 1,
    expr: "",
    isRange: false,
    startMs: 0,
    endMs: 0,
    stepMs: 0,
    evalMs: 0,
    legacy: null,
    expectedFailMessage: null,
    expectedFailRegexp: null,
    expects: [],
    expectScalar: false,
    expected: [],
    expectedString: null,
    excludeFromRangeQuery: false,
  };
  if (inst) {
    cmd.legacy = (inst[1] as EvalCmd["legacy"]) ?? null;
    cmd.expr = inst[3]!;
    cmd.evalMs = parseDuration(inst[2]!);
    cmd.startMs = cmd.endMs = cmd.evalMs;
  } else {
    cmd.legacy = (rng![1] as EvalCmd["legacy"]) ?? null;
    cmd.isRange = true;
    cmd.startMs = parseDuration(rng![2]!);
    cmd.endMs = parseDuration(rng![3]!);
    cmd.stepMs = parseDuration(rng![4]!);
    cmd.expr = rng![5]!;
  }
  let pos = 1;
  while (i + 1 < ls.length && ls[i + 1] !== "") {
    i++;
    const d = ls[i]!;
    if (cmd.legacy === "fail" && d.startsWith("expected_fail_message")) {
      cmd.expectedFailMessage = d.slice("expected_fail_message".length).trim();
      break;
    }
    if (cmd.legacy === "fail" && d.startsWith("expected_fail_regexp")) {
      cmd.expectedFailRegexp = goRegex(d.slice("expected_fail_regexp".length).trim());
      break;
    }
    if (d.startsWith("expect range vector")) {
      const m = PAT_EXPECT_RANGE.exec(d);
      if (!m) throw new Error(`line ${i + 1}: invalid range vector definition`);
      cmd.startMs = parseDuration(m[1]!);
      cmd.endMs = parseDuration(m[2]!);
      cmd.stepMs = parseDuration(m[3]!);
      cmd.evalMs = cmd.endMs;
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (d.startsWith("expect string")) {
      cmd.expectedString = unquoteGoString(d.slice("expect string".length).trim());
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (d.split(" ")[0] === "expect") {
      const m = PAT_EXPECT.exec(d.trim());
      if (!m) throw new Error(`line ${i + 1}: invalid expect statement`);
      const e: Expectation = { type: m[1] as ExpectType, message: null, regex: null };
      if (m[2] === "msg") e.message = m[3]!.trim();
      else if (m[2] === "regex") e.regex = goRegex(m[3]!.trim());
      else e.regex = /^.*$/s;
      cmd.expects.push(e);
      continue;
    }
    let num: number | null = null;
    try {
      num = parseSeriesNumber(d);
    } catch {
      num = null;
    }
    if (num !== null) {
      cmd.expectScalar = true;
      cmd.expected = [{ labels: [], values: [{ value: num, omitted: false, stale: false, histogram: null }], pos: 0 }];
      break;
    }
    const s = parseSeriesDesc(d);
    cmd.expected.push({ labels: s.labels, values: s.values, pos: pos++ });
  }
  cmds.push(cmd);
  return i;
}
