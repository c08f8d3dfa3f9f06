import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, NumberLiteral, SubqueryExpr, UnaryExpr, VectorSelector } from "../../src/promql/ast.ts";
import { resolveDurationExprs } from "../../src/promql/duration_expr.ts";
import { ParseError, parseExpr } from "../../src/promql/parser.ts";
import { formatExpr } from "../../src/promql/printer.ts";
import { FUNCTIONS, returnTypeOf } from "../../src/promql/signatures.ts";

const TESTDATA = join(import.meta.dir, "../../../shared/promql-testdata");

/** The error a query fails with; fails the test when it parses. */
function parseErr(q: string): ParseError {
  try {
    parseExpr(q);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(q)} to fail`);
}

function matcherStrings(vs: VectorSelector): string[] {
  return vs.matchers.map((m) => `${m.name}${m.type}${m.value}`);
}

describe("valid queries", () => {
  test("number literals: integers, floats, hex, octal, exponents, Inf/NaN in any case, underscores", () => {
    const cases: [string, number][] = [
      ["1", 1],
      ["12.34e6", 12340000],
      ["12.34e+6", 12340000],
      ["12.34e-6", 0.00001234],
      [".2", 0.2],
      ["2.", 2],
      ["0x1f", 31],
      ["0X1F", 31],
      ["010", 8], // Go's ParseInt with base 0: a leading 0 means octal
      ["08", 8],
      ["1e3", 1000],
      ["1_000", 1000],
      ["+Inf", Infinity],
      ["inF", Infinity],
      ["-inf", -Infinity],
      ["-0.2e-6", -0.0000002],
    ];
    for (const [q, v] of cases) {
      const e = parseExpr(q) as NumberLiteral;
      expect(e.type).toBe("NumberLiteral");
      expect(e.value).toBe(v);
    }
    expect(Number.isNaN((parseExpr("NaN") as NumberLiteral).value)).toBe(true);
    expect(Number.isNaN((parseExpr("nan") as NumberLiteral).value)).toBe(true);
  });

  test("durations as numbers of seconds in expressions", () => {
    const e = parseExpr("1h30m") as NumberLiteral;
    expect(e).toMatchObject({ type: "NumberLiteral", value: 5400, duration: true });
    expect((parseExpr("500ms") as NumberLiteral).value).toBe(0.5);
    expect((parseExpr("2w") as NumberLiteral).value).toBe(14 * 86400);
    expect((parseExpr("1y") as NumberLiteral).value).toBe(365 * 86400);
  });

  test("unary minus on a number folds into the literal, and binds looser than ^", () => {
    const n = parseExpr("-1") as NumberLiteral;
    expect(n).toMatchObject({ type: "NumberLiteral", value: -1, pos: { start: 0, end: 2 } });
    const e = parseExpr("-2^2") as UnaryExpr;
    expect(e.type).toBe("UnaryExpr");
    expect(e.op).toBe("-");
    expect((e.expr as BinaryExpr).op).toBe("^");
    const m = parseExpr("-a * b") as BinaryExpr;
    expect(m.op).toBe("*");
    expect(m.lhs.type).toBe("UnaryExpr");
    expect((parseExpr("1 - -1") as BinaryExpr).rhs).toMatchObject({ type: "NumberLiteral", value: -1 });
  });

  test("precedence and associativity", () => {
    const shape = (e: Expr): string => {
      if (e.type === "BinaryExpr") return `(${shape(e.lhs)} ${e.op} ${shape(e.rhs)})`;
      if (e.type === "NumberLiteral") return String(e.value);
      if (e.type === "VectorSelector") return e.name;
      if (e.type === "UnaryExpr") return `${e.op}${shape(e.expr)}`;
      if (e.type === "ParenExpr") return shape(e.expr);
      return e.type;
    };
    expect(shape(parseExpr("1 - 2 - 3"))).toBe("((1 - 2) - 3)");
    expect(shape(parseExpr("2 ^ 3 ^ 2"))).toBe("(2 ^ (3 ^ 2))");
    expect(shape(parseExpr("a + b * c"))).toBe("(a + (b * c))");
    expect(shape(parseExpr("a * b + c"))).toBe("((a * b) + c)");
    expect(shape(parseExpr("a or b and c unless d"))).toBe("(a or ((b and c) unless d))");
    expect(shape(parseExpr("a > b + c"))).toBe("(a > (b + c))");
    expect(shape(parseExpr("a atan2 b ^ c"))).toBe("(a atan2 (b ^ c))");
    expect(shape(parseExpr("a % b / c"))).toBe("((a % b) / c)");
    expect(shape(parseExpr("a == b or c != d"))).toBe("((a == b) or (c != d))");
    expect(shape(parseExpr("2 ^ -1 ^ 2"))).toBe("(2 ^ -(1 ^ 2))");
  });

  test("selectors with every matcher kind, quoted names and trailing commas", () => {
    const vs = parseExpr(`foo{a="b", c!="d", e=~"f.*", g!~'h', }`) as VectorSelector;
    expect(vs.name).toBe("foo");
    expect(matcherStrings(vs)).toEqual(["a=b", "c!=d", "e=~f.*", "g!~h", "__name__=foo"]);
    expect(vs.pos).toEqual({ start: 0, end: 38 });
    const q = parseExpr(`{"utf8.metric", "a.b"="c"}`) as VectorSelector;
    expect(q.name).toBe("");
    expect(matcherStrings(q)).toEqual(["__name__=utf8.metric", "a.b=c"]);
    const r = parseExpr(`{__name__=~"foo|bar"}`) as VectorSelector;
    expect(matcherStrings(r)).toEqual(["__name__=~foo|bar"]);
    // Keywords are metric names where an aggregation or function cannot be.
    expect((parseExpr("sum") as VectorSelector).name).toBe("sum");
    expect((parseExpr("rate(avg[5m])") as Call).args[0]!.type).toBe("MatrixSelector");
    expect((parseExpr("foo:bar:rate5m") as VectorSelector).name).toBe("foo:bar:rate5m");
  });

  test("strings with Go escapes in double, single and back quotes", () => {
    const s = (q: string) => (parseExpr(q) as { value: string }).value;
    expect(s(`"a\\tb\\n\\"c\\u00e9\\x41\\101"`)).toBe('a\tb\n"céAA');
    expect(s(`'it\\'s'`)).toBe("it's");
    expect(s("`raw\\n`")).toBe("raw\\n");
    expect(s(`"\\U0001F600"`)).toBe("😀");
    // An invalid UTF-8 byte is kept as a lone surrogate so it can be reported as \xc5.
    expect(s(`"a\\xc5z"`)).toBe("a\udcc5z");
  });

  test("offset (negative too) and @ in either order, with start() and end()", () => {
    const a = parseExpr("foo offset -5m @ 10") as VectorSelector;
    expect(a).toMatchObject({ offset: -300000, timestamp: 10000, startOrEnd: null, pos: { start: 0, end: 19 } });
    const b = parseExpr("foo @ 10.5 offset 1h30m") as VectorSelector;
    expect(b).toMatchObject({ offset: 5400000, timestamp: 10500 });
    expect(parseExpr("foo @ start()")).toMatchObject({ startOrEnd: "start", timestamp: null });
    expect(parseExpr("foo @ end()")).toMatchObject({ startOrEnd: "end" });
    expect(parseExpr("foo @ -100")).toMatchObject({ timestamp: -100000 });
    expect(parseExpr("metric offset -50 @ 0")).toMatchObject({ offset: -50000, timestamp: 0 });
    const m = parseExpr("foo[5m] offset 1m @ 100") as MatrixSelector;
    expect(m.type).toBe("MatrixSelector");
    expect(m.range).toBe(300000);
    expect(m.vectorSelector).toMatchObject({ offset: 60000, timestamp: 100000 });
    expect(m.pos).toEqual({ start: 0, end: 23 });
  });

  test("ranges and subqueries; numbers in ranges are seconds", () => {
    expect((parseExpr("foo[100]") as MatrixSelector).range).toBe(100000);
    expect((parseExpr("foo[1.5]") as MatrixSelector).range).toBe(1500);
    // Seconds become ns rounded, then whole ms, as in Prometheus: 4.018 s is 4018 ms.
    expect((parseExpr("foo[4.018]") as MatrixSelector).range).toBe(4018);
    expect((parseExpr("foo offset -4.018") as VectorSelector).offset).toBe(-4018);
    expect((parseExpr("foo @ 3.3335") as VectorSelector).timestamp).toBe(3334);
    expect((parseExpr("some_metric[5m] @ 1m") as MatrixSelector).vectorSelector.timestamp).toBe(60000);
    const s = parseExpr("rate(foo[5m])[30m:1m] offset 5m") as SubqueryExpr;
    expect(s).toMatchObject({ type: "SubqueryExpr", range: 1800000, step: 60000, offset: 300000 });
    expect(s.pos).toEqual({ start: 0, end: 31 });
    expect(parseExpr("foo[5m:]")).toMatchObject({ type: "SubqueryExpr", range: 300000, step: 0 });
    expect(parseExpr("(foo)[5m:] @ end()")).toMatchObject({ type: "SubqueryExpr", startOrEnd: "end" });
  });

  test("duration arithmetic in ranges and offsets", () => {
    const m = parseExpr("foo[5m+1m]") as MatrixSelector;
    expect(m.range).toBe(360000);
    expect(m.rangeExpr?.op).toBe("+");
    expect((parseExpr("foo[2 * 30s]") as MatrixSelector).range).toBe(60000);
    expect((parseExpr("foo offset -(1m + 30s)") as VectorSelector).offset).toBe(-90000);
    const st = parseExpr("foo[step() * 3]") as MatrixSelector;
    expect(st.range).toBe(0);
    resolveDurationExprs(st, 15000, 3600000);
    expect(st.range).toBe(45000);
    const sq = parseExpr("foo[min_of(range(), 1h):step()]") as SubqueryExpr;
    resolveDurationExprs(sq, 10000, 1800000);
    expect(sq.range).toBe(1800000);
    expect(sq.step).toBe(10000);
  });

  test("binary operators: bool, on/ignoring, group_left/right, set operators default to many-to-many", () => {
    const b = parseExpr("a > bool on(x, y) group_left(z) b") as BinaryExpr;
    expect(b.returnBool).toBe(true);
    expect(b.matching).toEqual({ card: "many-to-one", matchingLabels: ["x", "y"], on: true, include: ["z"] });
    const g = parseExpr("a * ignoring(x) group_right b") as BinaryExpr;
    expect(g.matching).toEqual({ card: "one-to-many", matchingLabels: ["x"], on: false, include: [] });
    expect((parseExpr("a and b") as BinaryExpr).matching?.card).toBe("many-to-many");
    expect((parseExpr("a unless on() b") as BinaryExpr).matching).toEqual({ card: "many-to-many", matchingLabels: [], on: true, include: [] });
    expect((parseExpr("a + 1") as BinaryExpr).matching).toBeNull();
    expect((parseExpr("1 == bool 1") as BinaryExpr).returnBool).toBe(true);
  });

  test("every aggregation, with by/without before or after the arguments", () => {
    for (const op of ["sum", "avg", "min", "max", "count", "stddev", "stdvar", "group"]) {
      expect(parseExpr(`${op}(foo)`)).toMatchObject({ type: "AggregateExpr", op, param: null });
    }
    for (const op of ["topk", "bottomk", "quantile", "limitk", "limit_ratio"]) {
      const a = parseExpr(`${op}(0.5, foo)`) as AggregateExpr;
      expect(a.op).toBe(op as AggregateExpr["op"]);
      expect(a.param).toMatchObject({ type: "NumberLiteral", value: 0.5 });
    }
    expect(parseExpr(`count_values("v", foo)`)).toMatchObject({ op: "count_values", param: { type: "StringLiteral", value: "v" } });
    const a = parseExpr("sum by (a, b) (foo)") as AggregateExpr;
    expect(a).toMatchObject({ grouping: ["a", "b"], without: false, pos: { start: 0, end: 19 } });
    const w = parseExpr("SUM(foo) WITHOUT (instance,)") as AggregateExpr;
    expect(w).toMatchObject({ op: "sum", grouping: ["instance"], without: true, pos: { start: 0, end: 28 } });
    expect(parseExpr('sum by ("a.b", on, sum) (foo)')).toMatchObject({ grouping: ["a.b", "on", "sum"] });
  });

  test("functions, including experimental ones and start()/end()/step()/range()", () => {
    for (const q of [
      "sort_by_label(foo, \"a\", \"b\")",
      "double_exponential_smoothing(foo[5m], 0.5, 0.5)",
      "mad_over_time(foo[5m])",
      "ts_of_max_over_time(foo[5m])",
      "first_over_time(foo[5m])",
      "histogram_quantiles(foo, \"q\", 0.5, 0.9)",
      "min_of(3, 5)",
      "step() + range() + start() + end()",
      "info(foo, {k=~\".+\"})",
      "label_join(foo, \"dst\", \",\", \"a\", \"b\", \"c\")",
      "round(foo)",
      "round(foo, 0.1)",
      "hour()",
      "pi()",
    ]) {
      expect(() => parseExpr(q)).not.toThrow();
    }
    expect(parseExpr("rate(foo[5m])")).toMatchObject({ type: "Call", func: "rate", pos: { start: 0, end: 13 } });
  });

  test("comments and newlines; positions are given per line", () => {
    expect(parseExpr("foo # a comment\n + bar")).toMatchObject({ type: "BinaryExpr", op: "+" });
    expect(parseErr("foo +\n  bar baz").message).toBe("2:7: parse error: unexpected identifier \"baz\"");
  });

  test("signature table", () => {
    expect(returnTypeOf("scalar")).toBe("scalar");
    expect(returnTypeOf("rate")).toBe("vector");
    expect(returnTypeOf("pi")).toBe("scalar");
    expect(returnTypeOf("nope")).toBe("none");
    expect(FUNCTIONS.label_join!.variadic).toBe(-1);
    expect(FUNCTIONS.sort_by_label!.experimental).toBe(true);
    expect(Object.keys(FUNCTIONS).length).toBeGreaterThanOrEqual(90);
  });

  test("parsing is fast", () => {
    const q = `sum by (job, instance) (rate(http_requests_total{job=~"api.*", code!="500"}[5m] offset 1m)) / on(job) group_left ignoring_x + histogram_quantile(0.9, sum by (le) (rate(b_bucket[5m])))`.replace(" ignoring_x", "(x) y");
    const n = 5000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) parseExpr(q);
    const per = (performance.now() - t0) / n;
    expect(per).toBeLessThan(0.5); // ms per query
  });
});

/** Invalid queries: the exact message Prometheus gives, with its position. */
const ERRORS: [string, string][] = [
  ["", "unknown position: parse error: no expression found in input"],
  ["# just a comment\n\n", "1:1: parse error: no expression found in input"],
  ["1+", "1:3: parse error: unexpected end of input"],
  [".", "1:1: parse error: unexpected character: '.'"],
  ["2.5.", '1:1: parse error: bad number or duration syntax: "2.5."'],
  ["100..4", '1:1: parse error: bad number or duration syntax: "100.."'],
  ["0deadbeef", '1:1: parse error: bad number or duration syntax: "0de"'],
  ["*1", "1:1: parse error: unexpected <op:*>"],
  ["(1))", "1:5: parse error: unexpected right parenthesis ')'"],
  ["((1)", "1:5: parse error: unclosed left parenthesis"],
  ["sum(rate(foo[5m])) by (job))", "1:29: parse error: unexpected right parenthesis ')'"],
  ["1 and 1", '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ["1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"],
  ["1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"],
  ["1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"],
  ['-"string"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
  ["-test[5m]", '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
  ["1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"],
  ["foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"],
  ["a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"],
  ["foo and on(bar) group_left(baz) bar", '1:1: parse error: no grouping allowed for "and" operation'],
  ['http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"}', '1:35: parse error: label "instance" must not occur in ON and GROUP clause at once'],
  ["foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"],
  ["1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"],
  ["foo{", "1:5: parse error: unexpected end of input inside braces"],
  ["some}", "1:5: parse error: unexpected character: '}'"],
  ["some_metric{a=b}", '1:15: parse error: unexpected identifier "b" in label matching, expected string'],
  ['some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"],
  ['foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"],
  ["foo{gibberish}", '1:14: parse error: unexpected "}" in label matching, expected label matching operator'],
  ["foo{1}", "1:5: parse error: unexpected character inside braces: '1'"],
  ["{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ['{x=~".*"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
  ["foo{__name__= =}", '1:15: parse error: unexpected "=" in label matching, expected string'],
  ["foo{,}", '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
  ['foo{__name__="bar" lol}', '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"'],
  ['foo{a=~"("}', "1:5: parse error: error parsing regexp: missing closing ): `^(?s:()$`"],
  ["foo[5mm]", '1:5: parse error: bad number or duration syntax: "5mm"'],
  ["foo[5m1]", '1:5: parse error: bad number or duration syntax: "5m1"'],
  ["foo[5m:1m1]", '1:8: parse error: bad number or duration syntax: "1m1"'],
  ["foo[5y1hs]", '1:5: parse error: unknown unit "hs" in duration "5y1hs"'],
  ["foo[5m1m]", '1:5: parse error: not a valid duration string: "5m1m"'],
  ["foo[5m1h]", '1:5: parse error: not a valid duration string: "5m1h"'],
  ["foo[0m]", "1:5: parse error: duration must be greater than 0"],
  ["foo[]", '1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
  ["foo[step]", '1:9: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
  ['foo["5m"]', `1:5: parse error: unexpected character in duration expression: '"'`],
  ["foo[-1]", "1:5: parse error: duration must be greater than 0"],
  ["foo[5s/0d]", "1:7: parse error: division by zero"],
  ["foo[step()/0d]", "1:11: parse error: division by zero"],
  ["foo[5s%0d]", "1:7: parse error: modulo by zero"],
  ["foo offset (4d/0)", "1:15: parse error: division by zero"],
  ["foo offset 9.5e10", "1:12: parse error: duration out of range"],
  ["foo[9.5e10]", "1:5: parse error: duration out of range"],
  ["foo[5s x 5s]", "1:8: parse error: unexpected character: 'x', expected ':'"],
  ["foo[5m", "1:7: parse error: unclosed left bracket"],
  ["foo[x]", "1:5: parse error: unexpected character in duration expression: 'x'"],
  ["foo[:5m]", "1:6: parse error: unexpected colon before duration in duration expression"],
  ["foo[5m::]", "1:8: parse error: unexpected colon ':'"],
  ["0x1e", '1:1: parse error: bad number or duration syntax: "0x1e"'],
  ["0x1.5", '1:1: parse error: bad number or duration syntax: "0x1."'],
  ["1e", '1:1: parse error: bad number or duration syntax: "1e"'],
  ["1__0", '1:1: parse error: bad number or duration syntax: "1__"'],
  ['foo{bar="baz"}[', "1:16: parse error: unexpected end of input in duration expression"],
  ["foo[5m 1m]", '1:8: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]"'],
  ["foo[5m:1m 2]", '1:11: parse error: unexpected number "2" in subquery selector, expected "]"'],
  ["some_metric[5m] OFFSET", "1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"],
  ["some_metric[5m] OFFSET 1mm", '1:24: parse error: bad number or duration syntax: "1mm"'],
  ["some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"],
  ["foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"],
  ["foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"],
  ["@@", "1:1: parse error: unexpected <op:@>"],
  ["foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"],
  ["foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"],
  ["foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"],
  ['foo{a>="b"}', "1:6: parse error: unexpected character inside braces: '>'"],
  ['foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'],
  ['sum by ("foo)(some_metric{})', "1:9: parse error: unterminated quoted string"],
  ["sum some_metric by (test)", '1:5: parse error: unexpected identifier "some_metric"'],
  ["MIN keep_common (some_metric)", '1:5: parse error: unexpected identifier "keep_common"'],
  ["sum(", "1:5: parse error: unclosed left parenthesis"],
  ["`\\``", "1:4: parse error: unterminated raw string"],
  ['"\\', "1:1: parse error: escape sequence not terminated"],
  ['"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"],
  ['info(foo, {a="b"} == 1)', "1:11: parse error: expected label selectors only"],
  ["some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"],
  ["some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"],
  ["foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"],
  ["foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"],
  ["foo[5m:bar]", "1:8: parse error: unexpected character: 'b', expected ':'"],
  ["foo[5m:-]", '1:9: parse error: unexpected "]" in subquery selector, expected number, duration, step(), range(), or "]"'],
  ["foo[5m:1m", "1:10: parse error: unclosed left bracket"],
  ["sum by (nan) (foo)", '1:9: parse error: unexpected number "nan" in grouping opts, expected label'],
  ["(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"],
  ["rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"],
  ["test[5d] OFFSET 10s [10m:5s]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"],
  ["rate(some_metric[5m]) @ 1234", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"],
  ["sum without(==)(some_metric)", "1:13: parse error: unexpected <op:==> in grouping opts, expected label"],
  ["sum without(foo,,)(some_metric)", '1:17: parse error: unexpected "," in grouping opts, expected label'],
  ["sum (some_metric) by test", '1:22: parse error: unexpected identifier "test" in grouping opts, expected "("'],
  ["sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"],
  ["sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"],
  ["sum(foo bar)", '1:9: parse error: unexpected identifier "bar" in aggregation'],
  ["topk(some_metric)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"],
  ["topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"],
  ["topk(some_metric, other_metric)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"],
  ["count_values(5, other_metric)", "1:14: parse error: expected type string in aggregation parameter, got scalar"],
  ["sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"],
  ["floor()", '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'],
  ["floor(some_metric, other_metric)", '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
  ["floor(1)", '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
  ["hour(some_metric, some_metric, some_metric)", '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
  ["label_join(foo, \"a\")", '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2'],
  ["time(some_metric)", '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
  ["non_existent_function_far_bar()", '1:1: parse error: unknown function with name "non_existent_function_far_bar"'],
  ["rate(some_metric)", '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ["foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"],
  ['1 + "a"', "1:5: parse error: binary expression must contain only scalar and instant vector types"],
  ["-=", '1:2: parse error: unexpected "="'],
  ["++-++-+-+-<", "1:11: parse error: unexpected <op:<>"],
  ["e-+=/(0)", '1:4: parse error: unexpected "="'],
  ["a>b()", '1:3: parse error: unknown function with name "b"'],
  ['"abc', "1:1: parse error: unterminated quoted string"],
  ["`abc", "1:1: parse error: unterminated raw string"],
  ['"\\q"', "1:1: parse error: unknown escape sequence U+0071 'q'"],
  ["foo bar", '1:5: parse error: unexpected identifier "bar"'],
  ["foo{a=\"b\"} 1", '1:12: parse error: unexpected number "1"'],
  ['foo "a very long string"', '1:5: parse error: unexpected string "\\"a very lo"...'],
  ["info(foo, bar)", "1:11: parse error: expected label selectors only, got vector selector instead"],
];

describe("invalid queries: Prometheus's messages and positions", () => {
  for (const [q, msg] of ERRORS) {
    test(JSON.stringify(q), () => {
      const e = parseErr(q);
      if (msg.endsWith(": ")) expect(e.message.startsWith(msg)).toBe(true);
      else expect(e.message).toBe(msg);
      expect(e).toBeInstanceOf(Error);
      expect(e.positionRange.start).toBeGreaterThanOrEqual(0);
      expect(e.positionRange.end).toBeGreaterThanOrEqual(e.positionRange.start);
    });
  }

  test("a very long query reports its first error quickly and without exhausting the stack", () => {
    const q = "(" + "-{}-1".repeat(10000) + ")" + "[1m:]".repeat(1000);
    const t0 = performance.now();
    expect(parseErr(q).message).toBe("1:3: parse error: vector selector must contain at least one non-empty matcher");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(parseErr("(".repeat(200000) + "1" + ")".repeat(200000)).message).toBe("1:1: parse error: expression is nested too deeply");
  });

  test("positionRange covers the offending text", () => {
    expect(parseErr("rate(some_metric)").positionRange).toEqual({ start: 5, end: 16 });
    expect(parseErr("foo bar").positionRange).toEqual({ start: 4, end: 7 });
    expect(parseErr("1 == 1").positionRange).toEqual({ start: 2, end: 3 });
  });

  test("columns count UTF-8 bytes as Prometheus does", () => {
    expect(parseErr('foo{a="é"} bar').message).toBe('1:13: parse error: unexpected identifier "bar"');
  });

  test("anchored/smoothed selectors and fill modifiers: refused unless enabled, then checked", () => {
    const on = { extendedRangeSelectors: true, binopFillModifiers: true };
    const err = (q: string, o = {}) => {
      try {
        parseExpr(q, o);
      } catch (e) {
        return (e as Error).message;
      }
      return "parsed";
    };
    expect(err("foo anchored")).toBe("1:1: parse error: anchored modifier is experimental and not enabled");
    expect(err("rate(foo[5m] smoothed)")).toBe("1:6: parse error: smoothed modifier is experimental and not enabled");
    expect(err("a + fill(0) b")).toBe("1:1: parse error: binop fill modifiers are experimental and not enabled");
    expect(err("foo[5m:1m] anchored", on)).toBe("1:1: parse error: anchored modifier is not supported for subqueries");
    expect(err("(foo + bar) smoothed", on)).toBe("1:1: parse error: smoothed modifier not implemented");
    expect(err("foo anchored smoothed", on)).toBe("1:1: parse error: anchored and smoothed modifiers cannot be used together");
    expect((parseExpr("rate(foo[5m] anchored)", on) as Call).args[0]).toMatchObject({ vectorSelector: { anchored: true } });
    expect((parseExpr("a + on(x) fill_left(1) fill_right(-2) b", on) as BinaryExpr).matching?.fillValues).toEqual({ lhs: 1, rhs: -2 });
    expect((parseExpr("a + fill(0) b", on) as BinaryExpr).matching?.fillValues).toEqual({ lhs: 0, rhs: 0 });
    // The words stay usable as metric and label names.
    expect((parseExpr("fill + anchored") as BinaryExpr).rhs).toMatchObject({ type: "VectorSelector", name: "anchored" });
    expect(parseExpr("sum by (smoothed, fill) (x)")).toMatchObject({ grouping: ["smoothed", "fill"] });
  });

  test("experimental functions can be turned off", () => {
    expect(() => parseExpr("mad_over_time(foo[5m])", { experimentalFunctions: false })).toThrow('function "mad_over_time" is not enabled');
    expect(() => parseExpr("limitk(1, foo)", { experimentalFunctions: false })).toThrow(
      "1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
    );
    expect(() => parseExpr("foo[5m+1m]", { durationExpressions: false })).toThrow(
      "1:5: parse error: experimental duration expression is not enabled",
    );
    expect(() => parseExpr("foo offset step()", { durationExpressions: false })).toThrow("experimental duration expression is not enabled");
    expect((parseExpr("foo offset -5m", { durationExpressions: false }) as VectorSelector).offset).toBe(-300000);
  });
});

describe("robustness", () => {
  test("mutated queries from the test scripts fail only with ParseError, and what parses prints back parseable", () => {
    const queries: string[] = [];
    for (const f of readdirSync(TESTDATA).filter((f) => f.endsWith(".test"))) {
      for (const l of readFileSync(join(TESTDATA, f), "utf8").split("\n")) {
        const m = /^\s*eval(?:_\w+)?\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(l);
        if (m) queries.push(m[1]!);
      }
    }
    expect(queries.length).toBeGreaterThan(1000);
    const pieces = [..."abcxyz_:{}[]()\"'`,=!~<>+-*/%^@#.0123456789 \nsmhdwy\\"].concat(["offset", "by", "on", "group_left", "bool", "and", "sum", "rate", "step()", "5m", "Inf"]);
    const mutation = fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...pieces));
    fc.assert(
      fc.property(fc.constantFrom(...queries), fc.array(mutation, { maxLength: 4 }), (q, muts) => {
        let s = q;
        for (const [p, kind, piece] of muts) {
          const i = p % (s.length + 1);
          s = kind === 0 ? s.slice(0, i) + s.slice(i + 1) : kind === 1 ? s.slice(0, i) + piece + s.slice(i) : s.slice(0, i) + piece + s.slice(i + 1);
        }
        try {
          parseExpr(formatExpr(parseExpr(s)));
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          expect(e.message).toMatch(/^(\d+:\d+|unknown position): parse error: ./);
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
