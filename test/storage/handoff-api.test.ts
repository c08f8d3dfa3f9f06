/**
 * The storage side of hand-off (issue 6): backfill, exportSeries, summarizeSeries, dropSeries —
 * in process, across a SIGKILLed child, and through a real node's HTTP API.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AppendError, compareLabels, labelsHash32, labelsKey, Matcher, type Labels, type Series } from "../../src/model/index.ts";
import { openLocalTSDB, type LocalTSDB } from "../../src/storage/db.ts";
import { openTSDB, type SeriesData, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, startShoal, tempDir } from "../support/index.ts";
import { L, bitsOf, runChildUntil, selectAll } from "./helpers.ts";

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const H = 3600_000;
const B = 100 * H; // an aligned base far from zero
const M = (i: number) => L({ __name__: "bf", i: String(i) });

async function open(dir: string, extra: Partial<Parameters<typeof openLocalTSDB>[0]> = {}): Promise<LocalTSDB> {
  const db = await openLocalTSDB({ dir, blockDurationMs: H, retentionMs: 1e12, ...extra });
  cleanups.push(() => db.close());
  return db;
}

function data(labels: Labels, ts: number[], vs: number[] | ((t: number) => number)): SeriesData {
  const values = typeof vs === "function" ? ts.map(vs) : vs;
  return { labels, timestamps: Float64Array.from(ts), values: Float64Array.from(values) };
}

const range = (a: number, b: number, step: number) => {
  const out: number[] = [];
  for (let t = a; t < b; t += step) out.push(t);
  return out;
};

async function append(db: TSDB, labels: Labels, ts: number[], f: (t: number) => number): Promise<void> {
  const app = db.appender();
  for (const t of ts) app.append(labels, t, f(t));
  await app.commit();
}

/** Series → "t=value" strings, for exact comparisons. */
function pairs(s: Series): string[] {
  const bits = bitsOf(s.values);
  return Array.from(s.timestamps, (t, k) => `${t}=${bits[k]}`);
}

async function snapshot(db: TSDB): Promise<Map<string, string[]>> {
  return new Map((await selectAll(db)).map((s) => [labelsKey(s.labels), pairs(s)]));
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe("backfill", () => {
  test("old, in-block, in-head and newer samples merge with held data; identical ones are held once; held data wins", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    const head = (x: number) => x / 1000;
    // 3h of minutely samples; maintenance cuts [B, B+2h) into blocks, the head keeps the rest.
    await append(db, M(1), range(B, B + 3 * H, 60_000), head);
    await db.maintain();
    expect(db.blocks.length).toBeGreaterThan(0);
    expect(db.head.minValidTime).toBe(B + 2 * H);

    const older = range(B - 5 * H, B - 4 * H, 60_000); // older than any block
    const inBlocks = range(B + 30_000, B + 2 * H, 60_000); // between the blocks' samples
    const inHead = range(B + 2 * H + 30_000, B + 3 * H, 60_000);
    const newer = range(B + 4 * H, B + 5 * H, 60_000); // ahead of the head
    const dupBlock = range(B, B + 10 * 60_000, 60_000); // identical to block samples
    const dupHead = range(B + 2 * H, B + 2 * H + 10 * 60_000, 60_000);
    const bf = (x: number) => -x / 1000;
    const all = [...older, ...inBlocks, ...inHead, ...newer];
    // A conflicting value for a block sample and for a head sample: the held ones must win.
    const res = await db.backfill([
      data(M(1), [...all, ...dupBlock, ...dupHead, B + 20 * 60_000, B + 2 * H + 20 * 60_000], [...all.map(bf), ...dupBlock.map(head), ...dupHead.map(head), 42, 43]),
    ]);
    expect(res).toEqual({ series: 1, samples: all.length, duplicates: 20, conflicts: 2 });
    const again = await db.backfill([data(M(1), all, bf)]);
    expect(again).toMatchObject({ samples: 0, duplicates: all.length, conflicts: 0 });

    // New writes keep arriving at the head: never refused because of backfilled data.
    const live = range(B + 3 * H, B + 3 * H + 30 * 60_000, 60_000);
    await append(db, M(1), live, head);

    const expected = new Map<number, number>();
    for (const x of range(B, B + 3 * H, 60_000)) expected.set(x, head(x));
    for (const x of all) expected.set(x, bf(x));
    for (const x of live) expected.set(x, head(x));
    const want = [...expected].sort((a, b) => a[0] - b[0]);
    const check = async () => {
      const [s] = await selectAll(db);
      expect(Array.from(s!.timestamps)).toEqual(want.map((p) => p[0]));
      expect(Array.from(s!.values)).toEqual(want.map((p) => p[1]));
    };
    await check();
    const st = db.stats();
    expect(st.samplesBackfilled).toBe(all.length);
    expect(st.backfillDuplicates).toBe(20 + all.length);
    expect(st.backfillConflicts).toBe(2);
    expect(st.backfillInMemorySamples).toBe(all.length);

    // Written out as blocks (one per hour touched), then compacted with the overlapping ones.
    await db.backfiller.flush();
    expect(db.stats().backfillInMemorySamples).toBe(0);
    // One block per compaction window touched (at most one per hour touched), none in the
    // head's range wider than a block.
    const hinted = db.blocks.filter((b) => b.meta.compaction.hints?.includes("from-out-of-order"));
    expect(hinted.length).toBeGreaterThan(0);
    expect(hinted.length).toBeLessThanOrEqual(5);
    for (const b of hinted) if (b.meta.maxTime > B + 2 * H) expect(b.meta.maxTime - b.meta.minTime).toBe(H);
    await check();
    await db.maintain();
    const sorted = [...db.blocks].sort((a, b) => a.meta.minTime - b.meta.minTime);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.meta.minTime).toBeGreaterThanOrEqual(sorted[i - 1]!.meta.maxTime);
    await check();

    // A restart keeps everything: the backfilled blocks inside the head's range must not make
    // the head drop its samples there.
    await db.close();
    const db2 = await open(t);
    expect(db2.head.minValidTime).toBe(B + 2 * H);
    const [s2] = await selectAll(db2);
    expect(Array.from(s2!.timestamps)).toEqual(want.map((p) => p[0]));
    expect(Array.from(s2!.values)).toEqual(want.map((p) => p[1]));
  });

  test("weeks of old data go out as a few wide blocks, not one per block range", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    // 2h blocks, 30d retention: compaction ranges up to 54h.
    const db = await open(t, { blockDurationMs: 2 * H, retentionMs: 30 * 24 * H });
    const end = Math.floor(Date.now() / H) * H - 24 * H;
    const ts = range(end - 14 * 24 * H, end, 5 * 60_000);
    await db.backfill(Array.from({ length: 20 }, (_, i) => data(M(i), ts, (x) => i + x / 1e9)));
    await db.backfiller.flush();
    // 14 days in 54h windows, then 18h and 6h ones up to the head's range: about a dozen
    // blocks (2h blocks would make 168), none overlapping.
    expect(db.blocks.length).toBeLessThanOrEqual(14);
    expect(db.blocks.filter((b) => b.meta.maxTime - b.meta.minTime === 54 * H).length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < db.blocks.length; i++) expect(db.blocks[i]!.meta.minTime).toBeGreaterThanOrEqual(db.blocks[i - 1]!.meta.maxTime);
    const got = await selectAll(db);
    expect(got.length).toBe(20);
    for (const s of got) expect(Array.from(s.timestamps)).toEqual(ts);
    // Head data near now still goes to the head and is served with it.
    await append(db, M(0), [Date.now()], () => 1);
    expect((await selectAll(db, Date.now() - H, Date.now() + H)).length).toBe(1);
  });

  test("unsorted input and repeated series are sorted and merged; the first sample of a repeated timestamp wins; bits are kept", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    const stale = new Float64Array([0]);
    new Uint32Array(stale.buffer).set([2, 0x7ff00000]);
    const a = data(M(2), [B + 3000, B + 1000, B + 2000, B + 1000], [3, 1, 2, 99]);
    const b = { labels: M(2), timestamps: Float64Array.from([B + 4000, B + 2000]), values: Float64Array.from([stale[0]!, 77]) };
    new Uint32Array(b.values.buffer).set([2, 0x7ff00000], 0); // the staleness marker's exact bits
    const res = await db.backfill([a, b]);
    expect(res).toMatchObject({ series: 1, samples: 4 });
    const [s] = await selectAll(db);
    expect(Array.from(s!.timestamps)).toEqual([B + 1000, B + 2000, B + 3000, B + 4000]);
    expect(bitsOf(s!.values).slice(0, 3)).toEqual(bitsOf(Float64Array.from([1, 2, 3])));
    expect(bitsOf(s!.values)[3]).toBe("7ff00000:2");
    // Export carries the exact bits too, from memory and from a block.
    const exported = async () => (await collect(db.exportSeries({ filter: () => true }))).flat()[0]!;
    expect(bitsOf((await exported()).values)).toEqual(bitsOf(s!.values));
    await db.backfiller.flush();
    expect(bitsOf((await exported()).values)).toEqual(bitsOf(s!.values));
  });

  test("concurrent calls all resolve durable and visible, sharing fsyncs", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    const calls = Array.from({ length: 40 }, (_, k) => db.backfill([data(M(k), range(B, B + 600_000, 10_000), (x) => k + x)]));
    const res = await Promise.all(calls);
    expect(res.every((r) => r.samples === 60)).toBe(true);
    expect((await selectAll(db)).length).toBe(40);
    const st = db.stats();
    expect(st.samplesBackfilled).toBe(40 * 60);
    expect(st.backfillLogFsyncs).toBeGreaterThan(0);
    expect(st.backfillLogFsyncs).toBeLessThan(40);
  });

  test("bad input is refused with a clear error and stores nothing", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    const good = data(M(3), [B], [1]);
    const cases: [SeriesData, RegExp][] = [
      [data([{ name: "b", value: "1" }, { name: "a", value: "2" }], [B], [1]), /series 1: labels not sorted/],
      [data(L({ a: "" }), [B], [1]), /series 1: empty label set|empty value/],
      [data(M(3), [B + 0.5], [1]), /series 1: timestamp .* not an integer/],
      [{ labels: M(3), timestamps: Float64Array.from([B]), values: new Float64Array(2) }, /series 1: 1 timestamps but 2 values/],
    ];
    for (const [bad, msg] of cases) {
      const err = await db.backfill([good, bad]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppendError);
      expect((err as AppendError).reason).toBe("invalid");
      expect((err as Error).message).toMatch(msg);
    }
    expect(await selectAll(db)).toEqual([]);
    expect(db.stats().samplesBackfilled).toBe(0);
  });
});

describe("deleteSeries (the admin API's delete) reaches backfilled samples", () => {
  test("in memory or in blocks, across a restart", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    await db.backfill([data(M(1), range(B, B + 60_000 * 10, 60_000), (x) => x), data(M(2), range(B, B + 60_000 * 10, 60_000), (x) => x)]);
    await db.deleteSeries([new Matcher("=", "i", "1")], B + 2 * 60_000, B + 5 * 60_000);
    const check = async (d: TSDB) => {
      const got = await selectAll(d);
      expect(Array.from(got[0]!.timestamps)).toEqual(range(B, B + 60_000 * 10, 60_000).filter((x) => x < B + 2 * 60_000 || x > B + 5 * 60_000));
      expect(got[1]!.timestamps.length).toBe(10);
    };
    await check(db);
    await db.close();
    await check(await open(t));
  });
});

describe("durability", () => {
  test("every resolved backfill survives SIGKILL (log replay and flushed blocks); a node serves it merged with head data over HTTP", async () => {
    const t = tempDir("bfcrash");
    cleanups.push(() => removeTempDir(t));
    const T0 = Math.floor((Date.now() - 15 * 60_000) / 10_000) * 10_000;
    let acked = -1;
    await runChildUntil("backfill-child.ts", [t, String(T0)], (l) => {
      if (l.startsWith("ack ")) acked = Number(l.slice(4));
      return acked >= 60;
    });
    expect(acked).toBeGreaterThanOrEqual(60);
    // Some samples went out to blocks before the kill, the rest is replayed from the log.
    const hinted = readdirSync(t).filter((d) => existsSync(join(t, d, "meta.json")) && readFileSync(join(t, d, "meta.json"), "utf8").includes("from-out-of-order"));
    expect(hinted.length).toBeGreaterThan(0);

    const value = (i: number, x: number) => i * 1000 + x / 1000;
    const expectAll = (series: Series[], headToo: boolean) => {
      expect(series.length).toBe(20);
      for (const s of series) {
        const i = Number(s.labels.find((l) => l.name === "i")!.value);
        const at = new Map<number, number>();
        for (let k = 0; k < s.timestamps.length; k++) at.set(s.timestamps[k]!, s.values[k]!);
        for (let c = 0; c <= acked; c++) {
          for (let j = 0; j < 6; j++) {
            const x = T0 - (c + 1) * 60_000 + j * 10_000;
            expect(at.get(x)).toBe(value(i, x));
          }
        }
        if (headToo) for (let k = 0; k < 60; k++) expect(at.get(T0 + k * 10_000)).toBe(value(i, T0 + k * 10_000));
      }
    };
    // `shoal tsdb dump` (read-only: the log is replayed, not repaired) prints them all too.
    const dumped = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../src/cli.ts"), "tsdb", "dump", `--storage.tsdb.path=${t}`, '--match=handoff_test{i="3"}']);
    expect(dumped.exitCode).toBe(0);
    const lines = dumped.stdout.toString().trim().split("\n");
    const dumpedTs = new Set(lines.map((l) => Number(l.split(" ").pop())));
    for (let c = 0; c <= acked; c++) for (let j = 0; j < 6; j++) expect(dumpedTs.has(T0 - (c + 1) * 60_000 + j * 10_000)).toBe(true);
    expect(lines.length).toBe(dumpedTs.size);
    expect(lines[0]).toStartWith('{__name__="handoff_test", i="3"} ');

    // The node process replays the log: a range query returns backfilled and head samples as
    // one series each.
    const node = await startShoal({ dataDir: t });
    let stopped = false;
    cleanups.push(() => (stopped ? 0 : node.stop("SIGKILL")));
    const start = (T0 - (acked + 1) * 60_000) / 1000;
    const end = (T0 + 590_000) / 1000;
    const r = await fetch(`${node.url}/api/v1/query_range?query=${encodeURIComponent("handoff_test")}&start=${start}&end=${end}&step=10`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
    const got = body.data.result;
    expect(got.length).toBe(20);
    for (const s of got) {
      const i = Number(s.metric.i);
      // Every 10 s step from the oldest backfilled sample to the newest head sample is present.
      expect(s.values.length).toBe((end - start) / 10 + 1);
      for (const [ts, v] of s.values) expect(Number(v)).toBe(value(i, ts * 1000));
    }
    // The backfill store restored from the log shows in the node's metrics.
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    const held = /^shoal_tsdb_backfill_memory_samples (\d+)$/m.exec(metrics);
    expect(Number(held?.[1])).toBeGreaterThan(0);
    // After the node's stop (a clean one writes the store out as blocks) everything is still
    // there, read in process.
    stopped = true;
    await node.stop("SIGTERM", 10_000);
    const db = await openTSDB({ dir: t });
    cleanups.push(() => db.close());
    expectAll(await selectAll(db), true);
  }, 60_000);

  test("dropSeries survives SIGKILL right after it resolves; the other series keep every sample", async () => {
    const t = tempDir("bfdrop");
    cleanups.push(() => removeTempDir(t));
    const T0 = B;
    await runChildUntil("backfill-child.ts", [t, String(T0)], (l) => l === "ack 30");
    const db = await openTSDB({ dir: t });
    const before = await snapshot(db);
    await db.close();
    expect(before.size).toBe(20);
    let dropped = -1;
    await runChildUntil("backfill-child.ts", [t, "drop"], (l) => {
      if (l.startsWith("dropped ")) dropped = Number(l.slice(8));
      return dropped >= 0;
    });
    expect(dropped).toBe(10);
    const db2 = await openTSDB({ dir: t });
    cleanups.push(() => db2.close());
    const after = await snapshot(db2);
    expect([...after.keys()].sort()).toEqual([...before.keys()].filter((k) => Number(k.split("\xff")[3]) % 2 === 1).sort());
    for (const [k, p] of after) expect(p).toEqual(before.get(k)!);
  }, 60_000);
});

describe("durability of a big call", () => {
  test("a call logged as several records comes back whole after SIGKILL", async () => {
    const t = tempDir("bfbig");
    cleanups.push(() => removeTempDir(t));
    await runChildUntil("backfill-child.ts", [t, "big"], (l) => l === "ack big");
    // Bigger than one record (4 MiB): the call went out as several.
    const logBytes = readdirSync(join(t, "wbl")).reduce((n, f) => n + statSync(join(t, "wbl", f)).size, 0);
    expect(logBytes).toBeGreaterThan(4 * 1024 * 1024);
    const db = await openTSDB({ dir: t });
    cleanups.push(() => db.close());
    expect(db.stats().backfillInMemorySamples).toBe(900_000);
    const got = await selectAll(db);
    expect(got.length).toBe(3000);
    for (const s of got) {
      const i = Number(s.labels.find((l) => l.name === "i")!.value);
      expect(s.timestamps.length).toBe(300);
      expect(s.values[299]).toBe(i * 1000 + (1_000_000 + 299_000) / 1000);
    }
  }, 60_000);
});

describe("export", () => {
  /** 30 series: 10 only in the head, 10 in blocks and head, 10 only backfilled (partly flushed). */
  async function fixture(dir: string): Promise<LocalTSDB> {
    const db = await open(dir, { backfillFlushSamples: 1_000_000 });
    const f = (i: number) => (x: number) => i + x / 60_000;
    for (let i = 0; i < 10; i++) await append(db, M(i), range(B + 2 * H, B + 2 * H + 40 * 60_000, 60_000), f(i));
    for (let i = 10; i < 20; i++) await append(db, M(i), range(B, B + 2 * H + 20 * 60_000, 120_000), f(i));
    await db.maintain();
    expect(db.blocks.length).toBeGreaterThan(0);
    await db.backfill(Array.from({ length: 5 }, (_, k) => data(M(20 + k), range(B - 3 * H, B - 2 * H, 60_000), f(20 + k))));
    await db.backfiller.flush();
    await db.backfill(Array.from({ length: 5 }, (_, k) => data(M(25 + k), range(B + H, B + H + 30 * 60_000, 60_000), f(25 + k))));
    return db;
  }

  test("batches in label order hold every series with its merged samples; resume after a series; hash filter; time range", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await fixture(t);
    const truth = await selectAll(db);
    expect(truth.length).toBe(30);

    const batches = await collect(db.exportSeries({ filter: () => true, batchSamples: 100 }));
    const flat = batches.flat();
    expect(flat.map((s) => labelsKey(s.labels))).toEqual(truth.map((s) => labelsKey(s.labels)));
    flat.forEach((s, k) => expect(pairs(s)).toEqual(pairs(truth[k]!)));
    for (let k = 0; k < batches.length; k++) {
      const n = batches[k]!.reduce((a, s) => a + s.timestamps.length, 0);
      const lastLen = batches[k]![batches[k]!.length - 1]!.timestamps.length;
      if (k < batches.length - 1) expect(n).toBeGreaterThanOrEqual(100);
      expect(n - lastLen).toBeLessThan(100); // the batch closes with the series that filled it
    }
    expect(batches.length).toBeGreaterThan(5);

    // Resume strictly after the last series of the third batch.
    const after = batches[2]![batches[2]!.length - 1]!.labels;
    const resumed = (await collect(db.exportSeries({ filter: () => true, batchSamples: 100, after }))).flat();
    const cut = flat.findIndex((s) => compareLabels(s.labels, after) === 0) + 1;
    expect(resumed.map((s) => labelsKey(s.labels))).toEqual(flat.slice(cut).map((s) => labelsKey(s.labels)));

    // The filter sees labelsHash32 (the ring's hash) and decides alone.
    const seen: [string, number][] = [];
    const odd = (await collect(db.exportSeries({ filter: (l, h) => (seen.push([labelsKey(l), h]), h % 2 === 1) }))).flat();
    for (const [k, h] of seen) expect(h).toBe(labelsHash32(truth.find((s) => labelsKey(s.labels) === k)!.labels));
    expect(odd.map((s) => labelsKey(s.labels))).toEqual(truth.filter((s) => labelsHash32(s.labels) % 2 === 1).map((s) => labelsKey(s.labels)));

    // A time range: only samples inside, only series with samples there.
    const mint = B + H;
    const maxt = B + H + 10 * 60_000;
    const ranged = (await collect(db.exportSeries({ filter: () => true, mint, maxt }))).flat();
    const want = await selectAll(db, mint, maxt);
    expect(ranged.map(pairs)).toEqual(want.map(pairs));
  });

  test("a filter that passes few of many series: the walk goes in steps and finds them all", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t);
    const app = db.appender();
    for (let i = 0; i < 50_000; i++) app.append(L({ __name__: "many", i: String(i) }), B, i);
    await app.commit();
    const want = (l: Labels) => Number(l[1]!.value) % 9999 === 0;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const t0 = ticks;
    const got = (await collect(db.exportSeries({ filter: want }))).flat();
    const sums = (await collect(db.summarizeSeries({ filter: want, mint: B, maxt: B }))).flat();
    clearInterval(timer);
    expect(got.map((s) => Number(s.labels[1]!.value)).sort((a, b) => a - b)).toEqual([0, 9999, 19998, 29997, 39996, 49995]);
    expect(sums.map((s) => s.count)).toEqual([1, 1, 1, 1, 1, 1]);
    // Other work ran while the database was scanned.
    expect(ticks).toBeGreaterThan(t0);
  });

  test("a head cut, a flush and a compaction between batches neither lose nor repeat a series", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await fixture(t);
    const truth = await snapshot(db);
    const got: SeriesData[] = [];
    let k = 0;
    for await (const batch of db.exportSeries({ filter: () => true, batchSamples: 50 })) {
      got.push(...batch);
      if (k++ === 1) {
        // Move the head on by 2h and let maintenance cut it; flush the backfill store.
        for (let i = 0; i < 10; i++) await append(db, M(i), [B + 5 * H], () => i);
        await db.backfiller.flush();
        await db.maintain();
      }
    }
    const keys = got.map((s) => labelsKey(s.labels));
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...truth.keys()].sort());
    for (const s of got) {
      const p = pairs(s as Series);
      // Series exported after the append may carry the new sample as well.
      expect(p.slice(0, truth.get(labelsKey(s.labels))!.length)).toEqual(truth.get(labelsKey(s.labels))!);
    }
  });
});

describe("summaries", () => {
  test("equal data gives equal summaries whatever the path it came by; one changed sample changes one checksum", async () => {
    const ta = tempDir("storage");
    const tb = tempDir("storage");
    const tc = tempDir("storage");
    cleanups.push(() => removeTempDir(ta), () => removeTempDir(tb), () => removeTempDir(tc));
    const a = await open(ta);
    const b = await open(tb, { backfillFlushSamples: 500 });
    const c = await open(tc);
    const f = (i: number) => (x: number) => Math.sin(i + x / 1e6);
    const ts = range(B, B + 3 * H, 30_000);
    // a: appended to the head, then cut into blocks; b: backfilled (and flushed to blocks);
    // c: backfilled, with one value off by one bit.
    for (let i = 0; i < 12; i++) await append(a, M(i), ts, f(i));
    await a.maintain();
    await b.backfill(Array.from({ length: 12 }, (_, i) => data(M(i), ts, f(i))));
    const changed = Array.from({ length: 12 }, (_, i) => data(M(i), ts, f(i)));
    const bits = new Uint32Array(changed[7]!.values.buffer);
    bits[2 * 100] = bits[2 * 100]! ^ 1;
    await c.backfill(changed);
    const sum = async (db: TSDB, mint = B, maxt = B + 3 * H) =>
      (await collect(db.summarizeSeries({ filter: () => true, mint, maxt, batchSeries: 5 }))).flat();
    const sa = await sum(a);
    const sb = await sum(b);
    const sc = await sum(c);
    expect(sa.length).toBe(12);
    expect((await collect(a.summarizeSeries({ filter: () => true, mint: B, maxt: B + 3 * H, batchSeries: 5 }))).map((x) => x.length)).toEqual([5, 5, 2]);
    expect(sb).toEqual(sa);
    for (const s of sa) {
      expect(s.count).toBe(ts.length);
      expect(s.hash).toBe(labelsHash32(s.labels));
    }
    const differ = sc.filter((s, k) => s.checksum !== sa[k]!.checksum).map((s) => s.labels.find((l) => l.name === "i")!.value);
    expect(differ).toEqual(["7"]);
    // Counts only: the same series and counts, no checksum.
    const counts = (await collect(c.summarizeSeries({ filter: () => true, mint: B, maxt: B + 3 * H, countOnly: true }))).flat();
    expect(counts.map((s) => [s.labels, s.count, s.checksum])).toEqual(sc.map((s) => [s.labels, s.count, 0]));
    // Outside the changed sample's window the checksums agree again.
    const late = ts[101]!;
    expect((await sum(c, late, B + 3 * H)).map((s) => s.checksum)).toEqual((await sum(a, late, B + 3 * H)).map((s) => s.checksum));
  });
});

describe("dropSeries", () => {
  test("drops whole series from head, backfill store and blocks; a restart keeps them gone; others untouched", async () => {
    const t = tempDir("storage");
    cleanups.push(() => removeTempDir(t));
    const db = await open(t, { backfillFlushSamples: 1_000_000 });
    const f = (i: number) => (x: number) => i * 10 + x / 60_000;
    for (let i = 0; i < 12; i++) await append(db, M(i), range(B, B + 3 * H, 60_000), f(i));
    await db.maintain();
    await db.backfill(Array.from({ length: 12 }, (_, i) => data(M(i), range(B - 2 * H, B - H, 60_000), f(i))));
    await db.backfiller.flush();
    await db.backfill(Array.from({ length: 12 }, (_, i) => data(M(i), range(B - 4 * H, B - 3 * H, 60_000), f(i))));
    const before = await snapshot(db);
    const even = (l: Labels) => Number(l.find((x) => x.name === "i")!.value) % 2 === 0;

    expect(await db.dropSeries((l) => even(l))).toBe(6);
    const check = async (d: TSDB) => {
      const now = await snapshot(d);
      expect(now.size).toBe(6);
      for (const [k, p] of now) expect(p).toEqual(before.get(k)!);
      const q = d.querier(-1e15, 1e15);
      try {
        expect((await q.labelValues("i")).values).toEqual(["1", "11", "3", "5", "7", "9"]);
        const series = await q.select([new Matcher("=", "__name__", "bf")], { start: -1e15, end: 1e15, func: "series" });
        expect(series.series.length).toBe(6);
      } finally {
        q.close();
      }
    };
    await check(db);
    expect(db.stats().seriesDropped).toBe(6);
    expect(await db.dropSeries((l) => even(l))).toBe(0);

    await db.close();
    const db2 = await open(t);
    await check(db2);
    await db2.close();
    const db3 = await open(t);
    await check(db3);
  });
});
