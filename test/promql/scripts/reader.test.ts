/** The test-script reader: series value notation and eval/expect syntax. */
import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../../src/model/index.ts";
import { readScript } from "./reader.ts";
import { parseSeriesDesc } from "../../../src/promql/index.ts";

const vals = (s: string) => parseSeriesDesc(s).values.map((v) => (v.omitted ? "_" : v.stale ? "stale" : v.histogram ?? v.value));

describe("series notation", () => {
  test("expanding sequences", () => {
    expect(vals("m 1+2x3")).toEqual([1, 3, 5, 7]);
    expect(vals("m -2-1x2")).toEqual([-2, -3, -4]);
    expect(vals("m 5x2")).toEqual([5, 5, 5]);
    expect(vals("m 0x59 60")).toHaveLength(61);
    expect(vals("m 3+0x10")).toHaveLength(11);
    expect(vals("m 1e+100 -9.9e+307 Inf -Inf")).toEqual([1e100, -9.9e307, Infinity, -Infinity]);
    expect(Number.isNaN(vals("m NaN")[0] as number)).toBe(true);
  });

  test("gaps, staleness and histograms", () => {
    expect(vals("m 1 _ stale _x2 2")).toEqual([1, "_", "stale", "_", "_", 2]);
    expect(vals("m {{schema:1 sum:3 count:22 buckets:[5 10 7]}}x1")).toEqual([
      "{{schema:1 sum:3 count:22 buckets:[5 10 7]}}",
      "{{schema:1 sum:3 count:22 buckets:[5 10 7]}}",
    ]);
  });

  test("label sets", () => {
    expect(parseSeriesDesc('http_requests{job="api", path="/a\\"b"} 1').labels).toEqual([
      { name: "__name__", value: "http_requests" },
      { name: "job", value: "api" },
      { name: "path", value: '/a"b' },
    ]);
    expect(parseSeriesDesc('{"my.metric", "a.b"="x"} 1').labels).toEqual([
      { name: "__name__", value: "my.metric" },
      { name: "a.b", value: "x" },
    ]);
    expect(parseSeriesDesc("{} 1").labels).toEqual([]);
  });
});

describe("commands", () => {
  test("durations as Prometheus parses them", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("0")).toBe(0);
    expect(() => parseDuration("1.5m")).toThrow();
  });

  test("load, eval with expect lines, clear", () => {
    const cmds = readScript(`
# comment
load 1m
  a{x="1"} 1+1x3

eval instant at 2m a
  expect ordered
  expect warn msg: PromQL warning: something (1:1)
  expect info regex: some.*thing
  a{x="1"} 3

eval range from 0 to 2m step 1m a * 2
  {x="1"} 2 4 _

eval_fail instant at 0 foo(
  expected_fail_message some error

clear
eval instant at 0 1
  1
`);
    expect(cmds.map((c) => c.kind)).toEqual(["load", "eval", "eval", "eval", "clear", "eval"]);
    const inst = cmds[1]!;
    if (inst.kind !== "eval") throw new Error("not eval");
    expect(inst.evalMs).toBe(120_000);
    expect(inst.expects.map((e) => e.type)).toEqual(["ordered", "warn", "info"]);
    expect(inst.expects[1]!.message).toBe("PromQL warning: something (1:1)");
    expect(inst.expects[2]!.regex!.test("some other thing")).toBe(true);
    const rng = cmds[2]!;
    if (rng.kind !== "eval") throw new Error("not eval");
    expect([rng.isRange, rng.startMs, rng.endMs, rng.stepMs]).toEqual([true, 0, 120_000, 60_000]);
    const fail = cmds[3]!;
    if (fail.kind !== "eval") throw new Error("not eval");
    expect(fail.legacy).toBe("fail");
    expect(fail.expectedFailMessage).toBe("some error");
    const scalar = cmds[5]!;
    if (scalar.kind !== "eval") throw new Error("not eval");
    expect(scalar.expectScalar).toBe(true);
  });
});
