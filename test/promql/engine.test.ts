/** The Engine's API over the real storage: results, errors, annotations, limits and stats. */
import { describe, expect, test } from "bun:test";
import { labelsFromRecord } from "../../src/model/index.ts";
import { Engine } from "../../src/promql/index.ts";
import { fileTSDB, queryFailure, withSelect } from "./tsdb-fixture.ts";

const fixture = fileTSDB("shoal-engine-", (app) => {
  for (let i = 0; i < 200; i++) {
    const ls = labelsFromRecord({ __name__: "http_requests_total", job: `job${i % 4}`, instance: `i${i}` });
    for (let s = 0; s <= 60; s++) app.append(ls, s * 15_000, s * (i + 1));
  }
  const gauge = labelsFromRecord({ __name__: "http_requests", job: "api" });
  const twin = labelsFromRecord({ __name__: "http_requests_twin", job: "api" });
  for (let s = 0; s <= 60; s++) {
    app.append(gauge, s * 15_000, s);
    app.append(twin, s * 15_000, s);
  }
});

describe("Engine", () => {
  test("instant query returns a vector with the evaluation time", async () => {
    const res = await new Engine().instantQuery(fixture.db, 'http_requests_total{instance="i3"}', 600_000);
    expect(res.value.resultType).toBe("vector");
    if (res.value.resultType !== "vector") return;
    expect(res.value.result).toHaveLength(1);
    expect(res.value.result[0]!.t).toBe(600_000);
    expect(res.value.result[0]!.v).toBe(40 * 4);
    expect(res.stats.totalQueryableSamples).toBe(1);
  });

  test("range query returns a matrix sorted by labels, with the name dropped by rate", async () => {
    const res = await new Engine().rangeQuery(fixture.db, "sum by (job) (rate(http_requests_total[1m]))", 300_000, 900_000, 60_000);
    expect(res.value.resultType).toBe("matrix");
    if (res.value.resultType !== "matrix") return;
    expect(res.value.result.map((s) => s.labels.map((l) => `${l.name}=${l.value}`).join(","))).toEqual(["job=job0", "job=job1", "job=job2", "job=job3"]);
    const s = res.value.result[0]!;
    expect(Array.from(s.timestamps)).toEqual([300_000, 360_000, 420_000, 480_000, 540_000, 600_000, 660_000, 720_000, 780_000, 840_000, 900_000]);
    // Instances 1, 5, 9, … (i+1 = 1, 5, …) grow by (i+1) per 15s.
    let expected = 0;
    for (let i = 0; i < 200; i += 4) expected += (i + 1) / 15;
    expect(s.values[0]!).toBeCloseTo(expected, 9);
    expect(res.stats.peakSamples).toBeGreaterThan(0);
    expect(res.stats.execTotalTime).toBeGreaterThan(0);
  });

  test("a scalar range query is one series without labels", async () => {
    const res = await new Engine().rangeQuery(fixture.db, "time() * 2", 0, 120_000, 60_000);
    expect(res.value).toEqual({ resultType: "matrix", result: [{ labels: [], timestamps: new Float64Array([0, 60_000, 120_000]), values: new Float64Array([0, 120, 240]) }] });
  });

  test("parse errors are bad_data with Prometheus's position and text", async () => {
    const e = await queryFailure(new Engine().instantQuery(fixture.db, "sum(rate(x[5m])", 0));
    expect(e.type).toBe("bad_data");
    expect(e.message).toMatch(/^1:\d+: parse error: /);
  });

  test("a range query over a range vector is refused before evaluation", async () => {
    const e = await queryFailure(new Engine().rangeQuery(fixture.db, "http_requests[5m]", 0, 600_000, 60_000));
    expect(e.type).toBe("bad_data");
    expect(e.message).toBe('invalid expression type "range vector" for range query, must be Scalar or instant Vector');
  });

  test("rate on a non-counter carries Prometheus's info annotation", async () => {
    const res = await new Engine().instantQuery(fixture.db, "rate(http_requests[5m])", 600_000);
    expect(res.infos).toEqual([
      'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "http_requests" (1:6)',
    ]);
    expect(res.warnings).toEqual([]);
  });

  test("duplicate label sets after dropping the name are an execution error", async () => {
    const e = await queryFailure(new Engine().instantQuery(fixture.db, '-{job="api"}', 600_000));
    expect(e.type).toBe("execution");
    expect(e.message).toBe("vector cannot contain metrics with the same labelset");
  });

  test("many-to-many matching is refused with Prometheus's wording", async () => {
    const e = await queryFailure(new Engine().instantQuery(fixture.db, "http_requests + on() http_requests_total", 600_000));
    expect(e.type).toBe("execution");
    expect(e.message).toStartWith("found duplicate series for the match group {} on the right hand-side of the operation: [");
    expect(e.message).toEndWith(";many-to-many matching not allowed: matching labels must be unique on one side");
  });

  test("too many samples fails the query and only that query", async () => {
    const ng = new Engine({ maxSamples: 100 });
    const e = await queryFailure(ng.rangeQuery(fixture.db, "http_requests_total", 0, 900_000, 15_000));
    expect(e.type).toBe("execution");
    expect(e.message).toBe("query processing would load too many samples into memory in query execution");
    const ok = await ng.instantQuery(fixture.db, "http_requests", 600_000);
    expect(ok.value.resultType).toBe("vector");
  });

  test("a query past its timeout fails with the timeout error", async () => {
    const e = await queryFailure(new Engine({ timeout: 1 }).rangeQuery(fixture.db, "max_over_time(sum by (job) (rate(http_requests_total[1m]))[10m:1s])", 0, 900_000, 1000));
    expect(e.type).toBe("timeout");
    expect(e.message).toBe("query timed out in expression evaluation");
  });

  test("a per-query timeout of 0 means the engine's default", async () => {
    const res = await new Engine().instantQuery(fixture.db, "http_requests", 600_000, { timeout: 0, lookbackDelta: 0 });
    expect(res.value.resultType === "vector" && res.value.result.length).toBe(1);
  });

  test("an aborted query is canceled", async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await queryFailure(new Engine().instantQuery(fixture.db, "http_requests_total", 600_000, { signal: ac.signal }));
    expect(e.type).toBe("canceled");
  });

  test("queries beyond max concurrency wait their turn instead of failing", async () => {
    const ng = new Engine({ maxConcurrency: 1 });
    const all = await Promise.all(Array.from({ length: 5 }, (_, i) => ng.instantQuery(fixture.db, `count(http_requests_total) + ${i}`, 600_000)));
    expect(all.map((r) => (r.value.resultType === "vector" ? r.value.result[0]!.v : NaN))).toEqual([200, 201, 202, 203, 204]);
  });

  test("a query that waits in the queue past its timeout fails with the queue timeout", async () => {
    const ng = new Engine({ maxConcurrency: 1 });
    // The first query holds the only slot for certain: its storage answers only after 300 ms.
    const held = withSelect(fixture.db, async (q, m, h) => (await Bun.sleep(300), q.select(m, h)));
    const slow = ng.instantQuery(held, "http_requests_total", 600_000);
    const e = await queryFailure(ng.instantQuery(fixture.db, "http_requests", 600_000, { timeout: 1 }));
    expect(e.type).toBe("timeout");
    expect(e.message).toBe("query timed out in query queue");
    await slow;
  });

  test("the lookback delta is configurable per query", async () => {
    // The last sample is at 900s; at 1000s it is visible with the default 5m lookback, not with 1m.
    const a = await new Engine().instantQuery(fixture.db, "http_requests", 1_000_000);
    const b = await new Engine().instantQuery(fixture.db, "http_requests", 1_000_000, { lookbackDelta: 60_000 });
    expect(a.value.resultType === "vector" && a.value.result.length).toBe(1);
    expect(b.value.resultType === "vector" && b.value.result.length).toBe(0);
  });
});
