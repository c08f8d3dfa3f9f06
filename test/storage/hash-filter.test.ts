/**
 * A select restricted to ranges of the cluster's hash ring (SelectHints.hashRanges) returns
 * exactly the series whose labelsHash32 lies in them, from the head, from blocks and from
 * backfilled data alike, and never reads the samples of the others.
 */
import { afterEach, expect, test } from "bun:test";
import { HashRanges } from "../../src/cluster/ring.ts";
import { labelsHash32, Matcher, type HashFilter, type Series } from "../../src/model/index.ts";
import { LocalTSDB, openTSDB } from "../../src/storage/db.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { L } from "./helpers.ts";

let cleanup = () => {};
afterEach(() => cleanup());

const RANGE = 60_000;
const SERIES = 200;

async function select(db: LocalTSDB, hashRanges?: HashFilter): Promise<Series[]> {
  const q = db.querier(-1e15, 1e15);
  try {
    return (await q.select([new Matcher("=", "__name__", "m")], hashRanges ? { start: -1e15, end: 1e15, hashRanges } : undefined)).series;
  } finally {
    q.close();
  }
}

/** A filter that counts how often it is asked, to show each series is judged once per source. */
class CountingRanges implements HashFilter {
  asked = 0;
  constructor(private readonly inner: HashRanges) {}
  has(hash: number): boolean {
    this.asked++;
    return this.inner.has(hash);
  }
}

test("a hash-filtered select returns exactly the series in the ranges, from head, blocks and backfill", async () => {
  const dir = tempDir("hash-filter");
  cleanup = () => removeTempDir(dir);
  const db = (await openTSDB({ dir, blockDurationMs: RANGE })) as LocalTSDB;
  try {
    // Five minutes of samples (blocks once cut), then late samples of every series before them
    // (backfill), then the head's newest.
    for (let k = 0; k < 300; k++) {
      const app = db.appender();
      for (let i = 0; i < SERIES; i++) app.append(L({ __name__: "m", i: String(i) }), 1_000_000 + k * 1000, k + i);
      await app.commit();
    }
    await db.maintain();
    expect(db.stats().blocks).toBeGreaterThan(0);
    await db.backfill(Array.from({ length: SERIES }, (_, i) => ({ labels: L({ __name__: "m", i: String(i) }), timestamps: Float64Array.of(1000), values: Float64Array.of(-i) })));

    const all = await select(db);
    expect(all.length).toBe(SERIES);
    // Two ranges, about a third of the ring.
    const ranges = new HashRanges([
      [0, 0x2fffffff],
      [0xc0000000, 0xcfffffff],
    ]);
    const counting = new CountingRanges(ranges);
    const some = await select(db, counting);
    const want = all.filter((s) => ranges.has(labelsHash32(s.labels)));
    expect(want.length).toBeGreaterThan(SERIES / 5);
    expect(want.length).toBeLessThan(SERIES / 2);
    expect(some.map((s) => s.labels)).toEqual(want.map((s) => s.labels));
    // The series kept are whole: head, block and backfilled samples alike.
    for (let k = 0; k < some.length; k++) expect(Array.from(some[k]!.timestamps)).toEqual(Array.from(want[k]!.timestamps));
    expect(some[0]!.timestamps[0]).toBe(1000);
    // Judged once per series per source (head, blocks, backfill), not per sample.
    expect(counting.asked).toBeLessThanOrEqual(SERIES * (db.stats().blocks + 2));
    // The complement: every other series.
    const rest = await select(db, new HashRanges([
      [0x30000000, 0xbfffffff],
      [0xd0000000, 0xffffffff],
    ]));
    expect(rest.length + some.length).toBe(SERIES);
  } finally {
    await db.close();
  }
});
