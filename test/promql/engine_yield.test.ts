/**
 * A heavy evaluation must not hold the event loop: the engine yields every few milliseconds, so
 * timers (scrapes, heartbeats, other requests) keep running while it computes.
 */
import { expect, test } from "bun:test";
import { labelsFromRecord } from "../../src/model/index.ts";
import { Engine } from "../../src/promql/index.ts";
import { fileTSDB, withSelect } from "./tsdb-fixture.ts";

const fixture = fileTSDB("shoal-engine-yield-", (app) => {
  for (let i = 0; i < 1000; i++) {
    const ls = labelsFromRecord({ __name__: "work_total", job: `job${i % 10}`, instance: `i${i}` });
    for (let s = 0; s <= 240; s++) app.append(ls, s * 15_000, s * ((i % 7) + 1));
  }
});

test("timers keep firing while a heavy query evaluates", async () => {
  // Wraps the real storage to learn when the fetch phase ended and evaluation began.
  let fetched = 0;
  const q = withSelect(fixture.db, async (inner, ms, hints) => {
    const set = await inner.select(ms, hints);
    fetched = performance.now();
    return set;
  });
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 2);
  const res = await new Engine().rangeQuery(q, "sum by (job) (max_over_time(rate(work_total[1m])[10m:5s]))", 0, 3_600_000, 5_000);
  const done = performance.now();
  clearInterval(timer);
  expect(res.value.resultType).toBe("matrix");
  const evalMs = done - fetched;
  // The evaluation is long enough that a blocked loop would show: it must not run in one piece.
  expect(res.stats.innerEvalTime * 1000).toBeGreaterThan(50);
  const during = ticks.filter((t) => t > fetched && t < done).length;
  expect(during).toBeGreaterThanOrEqual(Math.max(1, Math.floor(evalMs / 100)));
}, 60_000);
