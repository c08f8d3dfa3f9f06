/**
 * The PromQL parser under random input: token soups, arbitrary text (lone surrogates and bytes
 * that were not UTF-8 included), mutations of valid queries and grammar-built expressions. It
 * returns a tree or throws its own ParseError with a positioned message — never anything else —
 * within a time bound per case; and every grammar-built expression parses and prints back to
 * text that parses to the same tree.
 *
 * Budget: see budget.ts (`FUZZ_RUNS=100000 bun test test/fuzz` for a long run).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatExpr, parseExpr, ParseError, type Expr } from "../../src/promql/index.ts";
import { fuzzParams, fuzzTimeout } from "./budget.ts";

/** A single parse may not take longer than this (inputs here are at most a few KB). */
const PARSE_BOUND_MS = 250;

/** Parses; returns the tree or null for a ParseError; anything else, or a slow parse, fails the case. */
function parseBounded(q: string, boundMs = PARSE_BOUND_MS): Expr | null {
  const parse = (): Expr | null => {
    try {
      return parseExpr(q);
    } catch (e) {
      if (!(e instanceof ParseError)) throw new Error(`parseExpr(${JSON.stringify(q)}) threw ${String(e)} instead of a ParseError`);
      expect(e.message).toMatch(/^(\d+:\d+|unknown position|invalid position): parse error: \S/);
      return null;
    }
  };
  let t0 = performance.now();
  let out = parse();
  // Slow twice in a row, not once: a garbage collection or a busy machine can stall one parse.
  if (performance.now() - t0 > boundMs) {
    t0 = performance.now();
    out = parse();
    const ms = performance.now() - t0;
    if (ms > boundMs) throw new Error(`parseExpr(${JSON.stringify(q.slice(0, 200))}…) took ${ms.toFixed(0)} ms`);
  }
  return out;
}

/** The tree without positions and compiled regexes, matchers in a stable order. */
function normalize(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => {
    if (k === "pos" || k === "re" || k === "opPos" || k === "posRange") return undefined;
    if (k === "matchers") return [...(v as { name: string; type: string; value: string }[])].map((m) => `${m.name}${m.type}${m.value}`).sort();
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    if (typeof v === "number" && Object.is(v, -0)) return "-0";
    return v;
  });
}

const TOKENS = [
  ..."(){}[],:=!~<>+-*/%^@#\"'`\\ \n\t.",
  "sum", "avg", "count", "topk", "quantile", "count_values", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
  "and", "or", "unless", "offset", "start()", "end()", "rate", "label_replace", "histogram_quantile", "vector", "scalar", "time()",
  "up", "job", "__name__", "foo:bar", "5m", "1h30m", "-1d", "10s", "0x1f", "1e3", "Inf", "NaN", ".5", "=~", "!~", "!=", "==", ">=", "<=",
  '"a"', '"\\xff"', '"\\u00e9"', "'b'", "`c`", "é", "\u00a0", "\ufffd", "\udcff", "\ud83d\ude00", "\ud800", "[5m:]", "[1m:10s]",
];

describe("PromQL parser fuzzing", () => {
  test(
    "token soups: a tree or a ParseError, quickly",
    () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), fc.array(fc.constantFrom("", " ", "\n"), { maxLength: 40 }), (toks, seps) => {
          parseBounded(toks.map((t, i) => t + (seps[i] ?? "")).join(""));
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(3000, 2),
  );

  test(
    "arbitrary text, lone surrogates included: a tree or a ParseError, quickly",
    () => {
      const anyUnit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom(...TOKENS));
      fc.assert(
        fc.property(fc.string({ unit: anyUnit, maxLength: 80 }), (q) => {
          parseBounded(q);
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(3000, 2),
  );

  test(
    "a string holding a byte that is not UTF-8 is refused as Prometheus refuses it",
    () => {
      const bad = fc.integer({ min: 0xdc80, max: 0xdcff }).map((c) => String.fromCharCode(c));
      fc.assert(
        fc.property(fc.constantFrom('"', "'", "`"), fc.string({ maxLength: 5 }).filter((s) => !/["'`\\\n]/.test(s) && s.isWellFormed()), bad, (quote, text, b) => {
          const q = `foo{a=${quote}${text}${b}${quote}}`;
          expect(() => parseExpr(q)).toThrow(/^1:7: parse error: invalid UTF-8 rune$/);
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(500, 2),
  );

  test(
    "deep nesting and long inputs are refused or parsed, never a crash",
    () => {
      for (const depth of [100, 1000, 10_000, 100_000]) {
        for (const [open, close] of [["(", ")"], ["-(", ")"], ["sum(", ")"], ["abs(", ")"]] as const) {
          const q = open.repeat(depth) + "1" + close.repeat(depth);
          const t0 = performance.now();
          try {
            parseExpr(q);
          } catch (e) {
            expect(e).toBeInstanceOf(ParseError);
          }
          expect(performance.now() - t0).toBeLessThan(5000);
        }
      }
      for (const q of ["1" + " + 1".repeat(50_000), `{a="${"x".repeat(500_000)}"}`, "up offset 1m".padEnd(200_000, " ")]) parseBounded(q, 3000);
    },
    60_000,
  );
});

// Grammar-built expressions: valid PromQL of every construct the printer knows.
const ident = fc.constantFrom("up", "foo", "http_requests_total", "a:b:rate5m", "node_cpu_seconds_total", "by_x", "offset_y");
const label = fc.constantFrom("job", "instance", "le", "a_b", "code", "mode");
const dur = fc.constantFrom("1s", "30s", "5m", "1h", "1h30m", "2d", "1w", "500ms", "1y");
const num = fc.oneof(
  fc.integer({ min: -1000, max: 100000 }).map(String),
  fc.double({ noNaN: false, min: -1e6, max: 1e6 }).map((v) => (Number.isNaN(v) ? "NaN" : String(v))),
  fc.constantFrom("Inf", "-Inf", "NaN", "0x1F", "1e-3", ".5", "5.", "0"),
);
const strValue = fc.oneof(
  fc.string({ maxLength: 8 }).filter((s) => s.isWellFormed() && !s.includes("\ufffd")),
  fc.constantFrom("é", "\u00e9\u4e2d", "😀", "line\nbreak", 'q"uote', "back\\slash", "tab\t"),
);
const regexValue = fc.constantFrom("a.*", "b|c", "", ".+", "[0-9]+", "x?y", "(a|b)c");
const matcher = fc.oneof(
  fc.tuple(label, fc.constantFrom("=", "!="), strValue).map(([n, op, v]) => `${n}${op}${JSON.stringify(v)}`),
  fc.tuple(label, fc.constantFrom("=~", "!~"), regexValue).map(([n, op, v]) => `${n}${op}${JSON.stringify(v)}`),
);
const at = fc.constantFrom("@ 100", "@ start()", "@ end()", "@ -5.5", "@ 1700000000");
const modifiers = fc.tuple(fc.option(dur), fc.boolean(), fc.option(at)).map(([d, neg, a]) => `${d ? ` offset ${neg ? "-" : ""}${d}` : ""}${a ? ` ${a}` : ""}`);
// Without a metric name a selector needs a matcher that cannot match the empty value.
const selector = fc
  .tuple(fc.option(ident), fc.array(matcher, { maxLength: 3 }), modifiers)
  .map(([n, ms, mod]) => (n === null ? `{${[...ms, 'job="x"'].join(", ")}}${mod}` : `${n}${ms.length > 0 ? `{${ms.join(", ")}}` : ""}${mod}`));
const matrix = fc.tuple(ident, fc.array(matcher, { maxLength: 2 }), dur, modifiers).map(([n, ms, r, mod]) => `${n}{${ms.join(",")}}[${r}]${mod}`);

const { vector } = fc.letrec<{ vector: string; scalar: string }>((tie) => ({
  vector: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    selector,
    fc.tuple(fc.constantFrom("rate", "irate", "increase", "delta", "deriv", "count_over_time", "absent_over_time", "max_over_time", "changes", "resets"), matrix).map(([f, m]) => `${f}(${m})`),
    fc.tuple(tie("vector"), dur, fc.option(dur), modifiers).map(([v, r, s, mod]) => `max_over_time((${v})[${r}:${s ?? ""}]${mod})`),
    fc.tuple(tie("scalar"), matrix).map(([s, m]) => `quantile_over_time(${s}, ${m})`),
    fc.tuple(matrix, tie("scalar")).map(([m, s]) => `predict_linear(${m}, ${s})`),
    fc.tuple(fc.constantFrom("sum", "avg", "count", "min", "max", "stddev", "stdvar", "group"), fc.option(fc.tuple(fc.boolean(), fc.array(label, { maxLength: 2 }))), tie("vector")).map(
      ([op, g, v]) => (g ? `${op} ${g[0] ? "without" : "by"} (${g[1].join(", ")}) (${v})` : `${op}(${v})`),
    ),
    fc.tuple(fc.constantFrom("topk", "bottomk", "quantile"), tie("scalar"), tie("vector")).map(([op, p, v]) => `${op}(${p}, ${v})`),
    fc.tuple(strValue.filter((s) => /^[a-z_]+$/.test(s)), tie("vector")).map(([l, v]) => `count_values(${JSON.stringify(l)}, ${v})`),
    fc.tuple(tie("vector"), fc.constantFrom("+", "-", "*", "/", "%", "^", "atan2", "== bool", "!= bool", ">", "<=", "and", "or", "unless"), fc.option(fc.constantFrom("on(job)", "ignoring(le)", "on() group_left(x)", "ignoring(a_b) group_right()")), tie("vector")).map(
      ([l, op, m, r]) => (m && !(m.includes("group") && ["and", "or", "unless"].includes(op)) ? `(${l}) ${op} ${m} (${r})` : `(${l}) ${op} (${r})`),
    ),
    fc.tuple(tie("vector"), fc.constantFrom("+", "*", "<", "^", "> bool"), tie("scalar")).map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie("vector").map((v) => `-(${v})`),
    tie("vector").map((v) => `+(${v})`),
    fc.tuple(fc.constantFrom("abs", "ceil", "floor", "exp", "sqrt", "ln", "sort", "sort_desc", "timestamp", "absent", "sgn", "log2"), tie("vector")).map(([f, v]) => `${f}(${v})`),
    fc.tuple(tie("vector"), tie("scalar"), tie("scalar")).map(([v, a, b]) => `clamp(${v}, ${a}, ${b})`),
    fc.tuple(tie("scalar"), tie("vector")).map(([s, v]) => `histogram_quantile(${s}, ${v})`),
    fc.tuple(tie("vector"), label, strValue, label, regexValue).map(([v, d, r, s, re]) => `label_replace(${v}, ${JSON.stringify(d)}, ${JSON.stringify(r)}, ${JSON.stringify(s)}, ${JSON.stringify(re)})`),
    fc.tuple(tie("vector"), label, strValue, fc.array(label, { maxLength: 3 })).map(([v, d, sep, ls]) => `label_join(${v}, ${JSON.stringify(d)}, ${JSON.stringify(sep)}${ls.map((l) => `, ${JSON.stringify(l)}`).join("")})`),
    tie("scalar").map((s) => `vector(${s})`),
    tie("vector").map((v) => `((${v}))`),
  ),
  scalar: fc.oneof(
    { depthSize: "small" },
    num,
    fc.constant("time()"),
    fc.constant("pi()"),
    tie("vector").map((v) => `scalar(${v})`),
    fc.tuple(tie("scalar"), fc.constantFrom("+", "-", "*", "/", "%", "^", "== bool", "< bool", "atan2"), tie("scalar")).map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie("scalar").map((s) => `-(${s})`),
    tie("scalar").map((s) => `(${s})`),
  ),
}));

describe("grammar-built expressions", () => {
  test(
    "parse, and print back to text that parses to the same tree",
    () => {
      fc.assert(
        fc.property(fc.oneof(vector, fc.letrec<{ s: string }>(() => ({ s: vector.map((v) => `scalar(${v})`) })).s), (q) => {
          const e = parseBounded(q);
          if (e === null) throw new Error(`generated query does not parse: ${q}\n${(() => { try { parseExpr(q); } catch (err) { return String(err); } return ""; })()}`);
          const printed = formatExpr(e);
          const again = parseBounded(printed);
          if (again === null) throw new Error(`printed query does not parse: ${printed} (from ${q})`);
          expect(normalize(again)).toBe(normalize(e));
          expect(formatExpr(again)).toBe(printed);
        }),
        fuzzParams(1500),
      );
    },
    fuzzTimeout(1500, 5),
  );

  test("found by fuzzing: `offset -0s` and `@ -0` are zero, so they print and re-parse to the same tree", () => {
    for (const q of ["up offset -0s", "up[5m] offset -0s", "rate(up[5m:1m] offset -0s)", "up @ -0", "up @ -0.0001"]) {
      const e = parseExpr(q);
      expect(normalize(parseExpr(formatExpr(e)))).toBe(normalize(e));
    }
  });

  test(
    "mutations of grammar-built expressions: a tree (that prints back) or a ParseError",
    () => {
      const mutation = fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...TOKENS));
      fc.assert(
        fc.property(vector, fc.array(mutation, { minLength: 1, maxLength: 4 }), (q, muts) => {
          let s = q;
          for (const [p, kind, piece] of muts) {
            const i = p % (s.length + 1);
            s = kind === 0 ? s.slice(0, i) + s.slice(i + 1) : kind === 1 ? s.slice(0, i) + piece + s.slice(i) : s.slice(0, i) + piece + s.slice(i + 1);
          }
          const e = parseBounded(s);
          if (e !== null) {
            const again = parseBounded(formatExpr(e));
            if (again === null) throw new Error(`printed query does not parse: ${formatExpr(e)} (from ${s})`);
            expect(normalize(again)).toBe(normalize(e));
          }
        }),
        fuzzParams(2000),
      );
    },
    fuzzTimeout(2000, 5),
  );
});
