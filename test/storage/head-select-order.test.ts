/**
 * The head keeps each selector's label-sorted series list between queries: a series created or
 * collected in between must show (or vanish) at once, in label order.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { labelsFromRecord, Matcher, type Labels } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";

let db: TSDB;
const tmp = tempDir("head-order");

beforeAll(async () => {
  db = await openTSDB({ dir: tmp });
});
afterAll(async () => {
  await db.close();
  removeTempDir(tmp);
});

const L = (i: string): Labels => labelsFromRecord({ __name__: "ordered", i });

async function add(i: string, t: number): Promise<void> {
  const app = db.appender();
  app.append(L(i), t, 1);
  await app.commit();
}

async function names(): Promise<string[]> {
  const q = db.querier(0, 1e12);
  try {
    const set = await q.select([new Matcher("=", "__name__", "ordered")], { start: 0, end: 1e12 });
    return set.series.map((s) => s.labels.find((l) => l.name === "i")!.value);
  } finally {
    q.close();
  }
}

test("series created between two selects appear at once, in label order", async () => {
  for (const i of ["m", "c", "x"]) await add(i, 1000);
  expect(await names()).toEqual(["c", "m", "x"]);
  expect(await names()).toEqual(["c", "m", "x"]);
  await add("a", 2000);
  await add("n", 2000);
  expect(await names()).toEqual(["a", "c", "m", "n", "x"]);
  // A new sample for an existing series changes nothing in the list, but shows.
  await add("c", 3000);
  const q = db.querier(0, 1e12);
  const set = await q.select([new Matcher("=", "i", "c")], { start: 0, end: 1e12 });
  q.close();
  expect([...set.series[0]!.timestamps]).toEqual([1000, 3000]);
});

test("series dropped between two selects vanish at once", async () => {
  expect(await names()).toEqual(["a", "c", "m", "n", "x"]);
  await db.dropSeries((labels) => labels.some((l) => l.name === "i" && l.value === "m"));
  expect(await names()).toEqual(["a", "c", "n", "x"]);
});
