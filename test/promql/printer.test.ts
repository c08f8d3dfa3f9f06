import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Expr } from "../../src/promql/ast.ts";
import { parseExpr, typeOf } from "../../src/promql/parser.ts";
import { prettyExpr } from "../../src/promql/prettier.ts";
import { formatDuration } from "../../src/model/index.ts";
import { formatExpr, formatNumber } from "../../src/promql/printer.ts";

const TESTDATA = join(import.meta.dir, "../../../shared/promql-testdata");

/** Every eval query of Prometheus's test scripts that parses (those that must fail are checked by the engine's suite). */
function* scriptQueries(): Generator<{ file: string; query: string; e: Expr }> {
  for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith(".test"))) {
    for (const line of readFileSync(join(TESTDATA, file), "utf8").split("\n")) {
      const m = /^\s*eval(?:_\w+)?\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(line);
      if (!m) continue;
      let e: Expr;
      try {
        e = parseExpr(m[1]!);
      } catch {
        continue;
      }
      yield { file, query: m[1]!, e };
    }
  }
}

/** A tree without positions, with selector matchers as a sorted set (the printer sorts them). */
function normalize(e: Expr): string {
  return JSON.stringify(e, (k, v) => {
    if (k === "pos" || k === "re" || k === "opPos") return undefined;
    if (k === "matchers") return [...(v as { name: string; type: string; value: string }[])].map((m) => `${m.name}${m.type}${m.value}`).sort();
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    if (typeof v === "number" && Object.is(v, -0)) return "-0";
    return v;
  });
}

function roundTrip(q: string): string {
  const e = parseExpr(q);
  const s = formatExpr(e);
  const e2 = parseExpr(s);
  expect(normalize(e2)).toBe(normalize(e));
  expect(formatExpr(e2)).toBe(s);
  return s;
}

describe("formatExpr gives Prometheus's canonical text", () => {
  const cases: [string, string?][] = [
    ['sum by() (task:errors:rate10s{job="s"})', 'sum(task:errors:rate10s{job="s"})'],
    ['sum by(code) (task:errors:rate10s{job="s"})', 'sum by (code) (task:errors:rate10s{job="s"})'],
    ['sum without() (task:errors:rate10s{job="s"})', 'sum without () (task:errors:rate10s{job="s"})'],
    ['sum(task:errors:rate10s{job="s"}) without(instance)', 'sum without (instance) (task:errors:rate10s{job="s"})'],
    ['topk(5, task:errors:rate10s{job="s"})'],
    ['count_values("value", task:errors:rate10s{job="s"})'],
    ['sum by ("a.b", c) (x)', 'sum by ("a.b", c) (x)'],
    ["a - on() c", "a - on () c"],
    ["a - on(b) c", "a - on (b) c"],
    ["a - on(b) group_left(x) c", "a - on (b) group_left (x) c"],
    ["a - on(b) group_left(x, y) c", "a - on (b) group_left (x, y) c"],
    ["a - on(b) group_left c", "a - on (b) group_left () c"],
    ["a - on(b) group_left() (c)", "a - on (b) group_left () (c)"],
    ["a - ignoring(b) c", "a - ignoring (b) c"],
    ["a - ignoring() c", "a - c"],
    ["a - ignoring() group_right(x) c", "a - ignoring () group_right (x) c"],
    ["up > bool 0"],
    ["a and on(b) c", "a and on (b) c"],
    ["a offset 1m"],
    ["a offset -7m"],
    ['a{c="d"}[5m] offset 1m'],
    ["a[5m] offset 1m"],
    ["a[12m] offset -3m"],
    ["a[1h:5m] offset 1m"],
    ["a[1h:] offset 1m"],
    ['{__name__="a"}'],
    ['a{b!="c"}[1m]'],
    ['a{b=~"c"}[1m]'],
    ['a{b!~"c"}[1m]'],
    ["a @ 10", "a @ 10.000"],
    ["a[1m] @ 10", "a[1m] @ 10.000"],
    ["a offset 5m @ 1.5", "a @ 1.500 offset 5m"],
    ["a @ start()"],
    ["a @ end()"],
    ["a[1m] @ start()"],
    ["rate(a[5m])[10m:1m] @ end() offset 1m"],
    ["a[90s]", "a[1m30s]"],
    ["a[100]", "a[1m40s]"],
    ["a[7d]", "a[1w]"],
    ["a[90d]", "a[90d]"],
    ["a[365d]", "a[1y]"],
    ["a[1500ms]", "a[1s500ms]"],
    ['foo{z="1", a="2"}', 'foo{a="2",z="1"}'],
    ['{"utf8.metric", "a b"="c"}', '{"a b"="c",__name__="utf8.metric"}'],
    ['a{b="line\\nbreak \\"quoted\\" \\\\ é"}', 'a{b="line\\nbreak \\"quoted\\" \\\\ é"}'],
    ["'single'", '"single"'],
    ["`raw \\ string`", '"raw \\\\ string"'],
    ["1e6", "1000000"],
    ["123456", "123456"],
    ["1.5e-7", "0.00000015"],
    ["0.0001", "0.0001"],
    ["0.00001", "0.00001"],
    ["0x1f", "31"],
    ["-Inf", "-Inf"],
    ["+Inf", "+Inf"],
    ["NaN"],
    ["5m", "5m"],
    ["-1h30m", "-1h30m"],
    ["- - 1", "1"],
    ["-a", "-a"],
    ["+a", "+a"],
    ["-(a + b)"],
    ["-2 ^ 2"],
    ["(1 + 2) * 3"],
    ["2 ^ 3 ^ 2"],
    ['label_replace(a, "dst", "$1", "src", "(.*)")'],
    ["histogram_quantile(0.9, sum by (le) (rate(b_bucket[5m])))"],
    ["SUM(a) BY (b)", "sum by (b) (a)"],
    ["a[5m+1m]", "a[5m + 1m]"],
    ["a[(5m+1m)*2:step()]", "a[(5m + 1m) * 2:step()]"],
    ["a offset -(1m)", "a offset -(1m)"],
    ["a[min_of(range(), 1h)]", "a[min_of(range(), 1h)]"],
  ];
  for (const [input, out] of cases) {
    test(input, () => {
      expect(roundTrip(input)).toBe(out ?? input);
    });
  }

  test("anchored/smoothed and fill modifiers print back", () => {
    const on = { extendedRangeSelectors: true, binopFillModifiers: true };
    for (const [q, out] of [
      ["rate(foo[5m] anchored @ 10 offset 1m)", "rate(foo[5m] anchored @ 10.000 offset 1m)"],
      ["foo smoothed offset 5m", "foo smoothed offset 5m"],
      ["a + on(x) fill(0) b", "a + on (x) fill (0) b"],
      ["a * fill_right(-1.5) fill_left(2) b", "a * fill_left (2) fill_right (-1.5) b"],
    ] as const) {
      const e = parseExpr(q, on);
      expect(formatExpr(e)).toBe(out);
      expect(normalize(parseExpr(formatExpr(e), on))).toBe(normalize(e));
    }
  });

  test("number formatting (Go's strconv 'f', shortest)", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(-0)).toBe("-0");
    expect(formatNumber(1.5)).toBe("1.5");
    expect(formatNumber(-2.5e-7)).toBe("-0.00000025");
    expect(formatNumber(1e21)).toBe("1000000000000000000000");
    expect(formatNumber(123456789.25)).toBe("123456789.25");
    expect(formatNumber(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(formatNumber(Infinity)).toBe("+Inf");
    expect(formatNumber(NaN)).toBe("NaN");
  });

  test("Prometheus duration formatting", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(3600_000 + 1800_000)).toBe("1h30m");
    expect(formatDuration(14 * 86400_000)).toBe("2w");
    expect(formatDuration(15 * 86400_000)).toBe("15d");
    expect(formatDuration(1)).toBe("1ms");
    expect(formatDuration(365 * 86400_000 + 1000)).toBe("365d1s");
  });
});

describe("prettyExpr: the multi-line form of /api/v1/format_query", () => {
  test("short queries stay on one line", () => {
    expect(prettyExpr(parseExpr("foo/bar"))).toBe("foo / bar");
    expect(prettyExpr(parseExpr("sum(rate(x[5m])) by (job)"))).toBe("sum by (job) (rate(x[5m]))");
  });

  test("long binary expressions, aggregations and calls split with two-space indents", () => {
    const q =
      'sum by (job, instance) (rate(http_requests_total{job="api-server", handler=~"/api/v1/.*"}[5m])) / on (job) group_left () sum by (job) (rate(http_requests_total[5m]))';
    expect(prettyExpr(parseExpr(q))).toBe(
      [
        '  sum by (job, instance) (rate(http_requests_total{handler=~"/api/v1/.*",job="api-server"}[5m]))',
        "/ on (job) group_left ()",
        "  sum by (job) (rate(http_requests_total[5m]))",
      ].join("\n"),
    );
    const h = 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="api-server", handler="/api/v1/query_range"}[5m])))';
    expect(prettyExpr(parseExpr(h))).toBe(
      [
        "histogram_quantile(",
        "  0.9,",
        "  sum by (le) (",
        '    rate(http_request_duration_seconds_bucket{handler="/api/v1/query_range",job="api-server"}[5m])',
        "  )",
        ")",
      ].join("\n"),
    );
  });

  test("what it prints parses back to the same tree, for every query of the test scripts", () => {
    for (const { file, query, e } of scriptQueries()) {
      // Also as part of a long expression, so that it gets split over lines.
      const t = typeOf(e);
      const long = t === "vector" || t === "scalar" ? [parseExpr(`(${query}) + (${query}) + (${query})`)] : [];
      for (const x of [e, ...long]) {
        if (normalize(parseExpr(prettyExpr(x))) !== normalize(x)) throw new Error(`${file}: ${query} pretty-printed as ${prettyExpr(x)} parses differently`);
      }
    }
  });
});

describe("round trip: parseExpr(formatExpr(e)) equals e", () => {
  test("every eval query of Prometheus's test scripts", () => {
    let n = 0;
    for (const { file, query, e } of scriptQueries()) {
      const s = formatExpr(e);
      const e2 = parseExpr(s);
      if (normalize(e2) !== normalize(e)) throw new Error(`${file}: ${query} printed as ${s} parses differently`);
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  test("random well-typed queries", () => {
    const ident = fc.constantFrom("foo", "bar", "http_requests_total", "a:b", "sum", "offset", "x_1");
    const label = fc.constantFrom("job", "instance", "le", "a.b", "by");
    const str = fc.string({ maxLength: 6 });
    const dur = fc.constantFrom("5m", "1h30m", "30s", "1d", "2w", "100", "1.5", "500ms");
    const num = fc.oneof(
      fc.double({ noNaN: false, noDefaultInfinity: false }).map((d) => (Number.isNaN(d) ? "NaN" : d === Infinity ? "Inf" : d === -Infinity ? "-Inf" : String(d))),
      fc.constantFrom("0x1f", "1e3", "010", "5m"),
    );
    const matcher = fc.tuple(label, fc.constantFrom("=", "!=", "=~", "!~"), str).map(([l, op, v]) => {
      const name = /^[a-zA-Z_]\w*$/.test(l) ? l : JSON.stringify(l);
      const val = op.includes("~") ? v.replace(/[\\^$.|?*+()[\]{}]/g, "") : v;
      return `${name}${op}${JSON.stringify(val)}`;
    });
    const selector = fc
      .tuple(ident, fc.array(matcher, { maxLength: 3 }), fc.option(dur), fc.option(fc.constantFrom("@ 100", "@ start()", "@ -5.5")))
      .map(([n, ms, off, at]) => `${n}{${ms.join(", ")}}${off ? ` offset ${off}` : ""}${at ? ` ${at}` : ""}`);
    const matrix = fc.tuple(ident, fc.array(matcher, { maxLength: 2 }), dur, fc.option(dur)).map(([n, ms, r, off]) => `${n}{${ms.join(",")}}[${r}]${off ? ` offset -${off}` : ""}`);
    const { vector } = fc.letrec<{ vector: string; scalar: string }>((tie) => ({
      vector: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        selector,
        matrix.map((m) => `rate(${m})`),
        fc.tuple(tie("vector"), dur, fc.option(dur)).map(([v, r, s]) => `max_over_time((${v})[${r}:${s ?? ""}])`),
        fc.tuple(fc.constantFrom("sum", "avg", "count", "stddev", "group"), fc.option(fc.tuple(fc.boolean(), fc.array(label, { maxLength: 2 }))), tie("vector")).map(
          ([op, g, v]) => (g ? `${op} ${g[0] ? "without" : "by"} (${g[1].map((l) => (/^\w+$/.test(l) ? l : JSON.stringify(l))).join(", ")}) (${v})` : `${op}(${v})`),
        ),
        fc.tuple(fc.constantFrom("topk", "quantile", "limitk"), tie("scalar"), tie("vector")).map(([op, p, v]) => `${op}(${p}, ${v})`),
        fc.tuple(tie("vector"), fc.constantFrom("+", "-", "*", "/", "%", "^", "atan2", "== bool", ">", "and", "or", "unless"), fc.option(fc.constantFrom("on(job)", "ignoring(le)", "on() group_left(x)")), tie("vector")).map(
          ([l, op, m, r]) => (m && !(m.includes("group") && ["and", "or", "unless"].includes(op)) ? `(${l}) ${op} ${m} (${r})` : `(${l}) ${op} (${r})`),
        ),
        fc.tuple(tie("vector"), fc.constantFrom("+", "*", "<", "^"), tie("scalar")).map(([l, op, r]) => `(${l}) ${op} (${r})`),
        tie("vector").map((v) => `-(${v})`),
        tie("vector").map((v) => `abs(${v})`),
        tie("scalar").map((s) => `vector(${s})`),
      ),
      scalar: fc.oneof(
        { depthSize: "small" },
        num,
        fc.constant("time()"),
        tie("vector").map((v) => `scalar(${v})`),
        fc.tuple(tie("scalar"), fc.constantFrom("+", "-", "*", "/", "^", "== bool"), tie("scalar")).map(([l, op, r]) => `${l} ${op} (${r})`),
        tie("scalar").map((s) => `-${s}`),
        tie("scalar").map((s) => `(${s})`),
      ),
    }));
    fc.assert(
      fc.property(vector, (q) => {
        roundTrip(q);
        const e = parseExpr(q);
        expect(normalize(parseExpr(prettyExpr(e)))).toBe(normalize(e));
      }),
      { numRuns: 400, seed: 42 },
    );
  });
});
