/**
 * Block reads through the decoded-chunk cache: a second select answers from the cache with the
 * same bits (staleness markers included) over any range, whether a series' range lies in one
 * chunk or spans several; tombstones still apply; deleting a block's cache entries works.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { labelsFromRecord, Matcher, setStaleAt } from "../../src/model/index.ts";
import { Block, writeBlock } from "../../src/storage/block.ts";
import { decodedCacheStats } from "../../src/storage/decoded-cache.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { bitsOf } from "./helpers.ts";

const N = 1000; // samples per series: several block chunks each
const STEP = 15_000;
let dir: string;
let block: Block;
let blockDir: string;
const expected = new Map<string, { ts: Float64Array; vs: Float64Array }>();

beforeAll(async () => {
  dir = tempDir("decoded-cache");
  const series = [];
  for (let k = 0; k < 20; k++) {
    const ts = new Float64Array(N);
    const vs = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      ts[i] = i * STEP;
      vs[i] = k % 2 === 0 ? i * 1.5 : Math.sin(i + k) * 1e6;
    }
    // A stale marker and a NaN in some series: the cache must keep their exact bits.
    setStaleAt(vs, 300 + k);
    vs[700] = NaN;
    const labels = labelsFromRecord({ __name__: "cached", k: String(k).padStart(2, "0") });
    series.push({ labels, timestamps: ts, values: vs });
    expected.set(String(k).padStart(2, "0"), { ts, vs });
  }
  const meta = await writeBlock(dir, "01HZZZZZZZZZZZZZZZZZZZZZZZ", 0, N * STEP, series, { level: 1, sources: ["01HZZZZZZZZZZZZZZZZZZZZZZZ"] });
  blockDir = join(dir, meta.ulid);
  block = new Block(blockDir);
});

afterAll(() => removeTempDir(dir));

function check(mint: number, maxt: number): void {
  const got = block.select([new Matcher("=", "__name__", "cached")], mint, maxt);
  const a = Math.max(0, Math.ceil(mint / STEP));
  const b = Math.min(N, Math.floor(maxt / STEP) + 1);
  // Every series has a sample at every step: all or none are in the range.
  expect(got.length).toBe(a < b ? 20 : 0);
  for (const s of got) {
    const k = s.labels.find((l) => l.name === "k")!.value;
    const e = expected.get(k)!;
    expect([...s.timestamps]).toEqual([...e.ts.subarray(a, b)]);
    expect(bitsOf(s.values)).toEqual(bitsOf(e.vs.subarray(a, b)));
  }
}

test("a repeated select answers from the cache with the same bits, over any range", () => {
  const before = decodedCacheStats().chunks;
  check(0, N * STEP);
  const after = decodedCacheStats().chunks;
  expect(after).toBeGreaterThan(before);
  // Again: served from the cache (nothing new decoded), same answer.
  check(0, N * STEP);
  expect(decodedCacheStats().chunks).toBe(after);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: 0, max: N }), (i, len) => {
      const mint = i * STEP - (i % 3) * 1000;
      check(mint, mint + len * STEP);
    }),
    { numRuns: 60 },
  );
});

test("answers are views nothing else writes: two selects share no mutable state", () => {
  const m = [new Matcher("=", "k", "04")];
  const one = block.select(m, 0, 100 * STEP)[0]!;
  const two = block.select(m, 0, 100 * STEP)[0]!;
  expect(bitsOf(one.values)).toEqual(bitsOf(two.values));
  expect(one.timestamps.length).toBe(101);
});

test("tombstones apply to cached chunks", () => {
  block.addTombstones([3], 100 * STEP, 199 * STEP);
  try {
    const s = block.select([new Matcher("=", "k", "03")], 0, N * STEP)[0]!;
    expect(s.timestamps.length).toBe(N - 100);
    expect(s.timestamps.includes(150 * STEP)).toBe(false);
  } finally {
    rmSync(join(blockDir, "tombstones"), { force: true });
    block.tombstones = new Map();
  }
});

test("dropping a block's cache entries frees them", () => {
  check(0, N * STEP);
  const before = decodedCacheStats();
  block.dropFromCache();
  const after = decodedCacheStats();
  expect(after.chunks).toBeLessThan(before.chunks);
  expect(after.bytes).toBeLessThan(before.bytes);
  check(0, N * STEP);
});
