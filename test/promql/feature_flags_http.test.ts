/**
 * Prometheus's experimental PromQL syntax through a real node's HTTP API: a node started with
 * `--enable-feature=promql-extended-range-selectors` answers `anchored`/`smoothed` selectors and
 * one with `--enable-feature=promql-binop-fill-modifiers` answers `fill*()` modifiers, with the
 * values Prometheus gives; a node without the flag refuses the same query with Prometheus's
 * parse error, as a stock Prometheus does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startShoal, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";

/** A recent whole minute, so the samples land in the head. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;

const SERIES: TestSeries[] = [
  // A counter every 15 s: 0 10 20 30 40.
  { labels: { __name__: "ff_counter", job: "a" }, samples: [0, 1, 2, 3, 4].map((i) => [T0 + i * 15_000, i * 10] as [number, number]) },
  { labels: { __name__: "ff_left", k: "1" }, samples: [[T0, 1]] },
  { labels: { __name__: "ff_left", k: "2" }, samples: [[T0, 2]] },
  { labels: { __name__: "ff_right", k: "1" }, samples: [[T0, 10]] },
];

let plain: ShoalNode;
let extended: ShoalNode;
let fill: ShoalNode;

beforeAll(async () => {
  [plain, extended, fill] = await Promise.all([
    startShoal({ name: "no-features" }),
    startShoal({ name: "extended", args: ["--enable-feature=promql-extended-range-selectors"] }),
    startShoal({ name: "fill", args: ["--enable-feature=promql-binop-fill-modifiers"] }),
  ]);
  for (const n of [plain, extended, fill]) {
    const r = await remoteWrite(n.url, writeRequestBody(SERIES));
    expect(r.status).toBe(204);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([plain, extended, fill].filter(Boolean).map((n) => n.stop()));
});

interface QueryAnswer {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(n: ShoalNode, q: string, timeMs: number): Promise<{ code: number; body: QueryAnswer }> {
  const res = await fetch(`${n.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${timeMs / 1000}`);
  return { code: res.status, body: (await res.json()) as QueryAnswer };
}

/** The answer's samples as `{labels} value`, sorted. */
function samples(body: QueryAnswer): string[] {
  return (body.data?.result ?? [])
    .map((r) => `${JSON.stringify(r.metric)} ${Number(r.value[1]).toFixed(3)}`)
    .sort();
}

describe("--enable-feature=promql-extended-range-selectors", () => {
  test("anchored increase takes the last sample before the range as its start, where a plain one extrapolates", async () => {
    const at = T0 + 60_000;
    const anchored = await query(extended, "increase(ff_counter[50s] anchored)", at);
    expect(anchored.code).toBe(200);
    expect(samples(anchored.body)).toEqual(['{"job":"a"} 40.000']);
    const normal = await query(extended, "increase(ff_counter[50s])", at);
    expect(samples(normal.body)).toEqual(['{"job":"a"} 33.333']);
  });

  test("a smoothed selector interpolates between the samples around the evaluation time", async () => {
    const r = await query(extended, "ff_counter smoothed", T0 + 7_500);
    expect(r.code).toBe(200);
    expect(samples(r.body)).toEqual(['{"__name__":"ff_counter","job":"a"} 5.000']);
  });

  test("a function that cannot use the samples outside the range is refused with Prometheus's message", async () => {
    const r = await query(extended, "max_over_time(ff_counter[1m] anchored)", T0 + 60_000);
    expect(r.code).toBe(422);
    expect(r.body.errorType).toBe("execution");
    expect(r.body.error).toBe("anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time");
  });

  test("is logged as enabled", () => {
    expect(extended.output()).toContain("Experimental feature promql-extended-range-selectors enabled");
  });

  test("without it, anchored and smoothed are a parse error, as in Prometheus", async () => {
    // The message and position (the selector the modifier follows) are Prometheus's.
    for (const [q, msg] of [
      ["increase(ff_counter[50s] anchored)", '1:10: parse error: anchored modifier is experimental and not enabled'],
      ["ff_counter smoothed", "1:1: parse error: smoothed modifier is experimental and not enabled"],
    ] as const) {
      for (const n of [plain, fill]) {
        const r = await query(n, q, T0 + 60_000);
        expect(r.code).toBe(400);
        expect(r.body.errorType).toBe("bad_data");
        expect(r.body.error).toBe(`invalid parameter "query": ${msg}`);
      }
    }
  });
});

describe("--enable-feature=promql-binop-fill-modifiers", () => {
  test("fill_right stands in for the missing right-hand series", async () => {
    const r = await query(fill, "ff_left + fill_right(100) ff_right", T0);
    expect(r.code).toBe(200);
    expect(samples(r.body)).toEqual(['{"k":"1"} 11.000', '{"k":"2"} 102.000']);
  });

  test("fill_left stands in for the missing left-hand series", async () => {
    const r = await query(fill, "ff_right - fill_left(5) ff_left", T0);
    expect(samples(r.body)).toEqual(['{"k":"1"} 9.000', '{"k":"2"} 3.000']);
  });

  test("is logged as enabled", () => {
    expect(fill.output()).toContain("Experimental feature promql-binop-fill-modifiers enabled");
  });

  test("without it, a fill modifier is a parse error, as in Prometheus", async () => {
    for (const n of [plain, extended]) {
      const r = await query(n, "ff_left + fill_right(100) ff_right", T0);
      expect(r.code).toBe(400);
      expect(r.body.errorType).toBe("bad_data");
      expect(r.body.error).toBe('invalid parameter "query": 1:1: parse error: binop fill modifiers are experimental and not enabled');
    }
  });
});
