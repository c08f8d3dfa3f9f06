/**
 * The query timeout reaches into the storage: a select that decodes many series yields to the
 * event loop and stops once the engine's signal fires, instead of finishing a lost query.
 */
import { expect, test } from "bun:test";
import { labelsFromRecord, Matcher, type Queryable, type SelectHints } from "../../src/model/index.ts";
import { Engine } from "../../src/promql/index.ts";
import { fileTSDB, queryFailure, withSelect } from "./tsdb-fixture.ts";

const fixture = fileTSDB(
  "shoal-query-timeout-",
  (app) => {
    for (let i = 0; i < 4000; i++) {
      const ls = labelsFromRecord({ __name__: "wide_total", instance: `i${i}` });
      for (let s = 0; s < 480; s++) app.append(ls, s * 15_000, s * ((i % 7) + 1));
    }
  },
  60_000,
);

/**
 * The real storage, recording how each select ended and what hints it got; `before` runs first
 * (to let a deadline pass or cancel the query before the storage starts, deterministically).
 */
function observed(before: () => Promise<void> = async () => {}): { q: Queryable; outcomes: string[]; hints: (SelectHints | undefined)[] } {
  const outcomes: string[] = [];
  const hints: (SelectHints | undefined)[] = [];
  const q = withSelect(fixture.db, async (inner, ms, h) => {
    hints.push(h);
    await before();
    try {
      const set = await inner.select(ms, h);
      outcomes.push(`resolved with ${set.series.length} series`);
      return set;
    } catch (e) {
      outcomes.push(`rejected: ${(e as Error).message}`);
      throw e;
    }
  });
  return { q, outcomes, hints };
}

test("the engine hands the storage a signal that is not serialized with the hints", async () => {
  const { q, outcomes, hints } = observed();
  await new Engine().instantQuery(q, "count(wide_total)", 7_200_000);
  expect(outcomes).toEqual(["resolved with 4000 series"]);
  expect(hints[0]?.signal).toBeInstanceOf(AbortSignal);
  // A cluster forwards hints to its peers: the signal must not travel with them.
  expect(Object.keys(hints[0]!)).not.toContain("signal");
  expect(JSON.stringify(hints[0])).not.toContain("signal");
});

test("a select stops with the timeout error once the query's deadline has passed", async () => {
  const { q, outcomes } = observed(() => Bun.sleep(30));
  const e = await queryFailure(new Engine({ timeout: 5 }).instantQuery(q, "count(wide_total)", 7_200_000));
  expect(e.type).toBe("timeout");
  expect(e.message).toBe("query timed out in expression evaluation");
  // The storage gave up too rather than decoding 4000 series for nobody.
  await Bun.sleep(50);
  expect(outcomes).toEqual(["rejected: query timed out in expression evaluation"]);
});

test("cancelling a query stops its select too", async () => {
  const ctl = new AbortController();
  const { q, outcomes } = observed(async () => ctl.abort());
  const e = await queryFailure(new Engine().instantQuery(q, "count(wide_total)", 7_200_000, { signal: ctl.signal }));
  expect(e.type).toBe("canceled");
  await Bun.sleep(50);
  expect(outcomes).toEqual(["rejected: query was canceled in expression evaluation"]);
});

test("a long select gives the event loop turns (timers run, so a deadline can fire during it)", async () => {
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 2);
  const began = performance.now();
  const querier = fixture.db.querier(0, 7_200_000);
  let done = 0;
  try {
    const set = await querier.select([new Matcher("=~", "__name__", "wide_.*")], { start: 0, end: 7_200_000 });
    done = performance.now();
    expect(set.series.length).toBe(4000);
  } finally {
    querier.close();
    clearInterval(timer);
  }
  const during = ticks.filter((t) => t > began && t < done).length;
  expect(during).toBeGreaterThanOrEqual(Math.floor((done - began) / 100));
});
