import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, Matcher, setStaleAt } from "../../src/model/index.ts";
import { LocalTSDB, openTSDB } from "../../src/storage/db.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { bitsOf, L, selectAll } from "./helpers.ts";

let cleanup = () => {};
afterEach(() => cleanup());

const RANGE = 60_000; // one-minute blocks keep the test small
const SERIES = 20;
const STEP = 1000;

/** Expected data: series i has a sample every STEP ms in [0, n*STEP); some stale markers. */
async function fill(db: LocalTSDB, n: number, from = 0) {
  for (let k = from; k < n; k++) {
    const app = db.appender();
    for (let i = 0; i < SERIES; i++) app.append(L({ __name__: "m", i: String(i) }), k * STEP, Math.sin(k + i) * 1e3, (k + i) % 97 === 0);
    await app.commit();
  }
}

function expectedValues(i: number, n: number): string[] {
  const v = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    v[k] = Math.sin(k + i) * 1e3;
    if ((k + i) % 97 === 0) setStaleAt(v, k);
  }
  return bitsOf(v);
}

async function checkAll(db: { querier: LocalTSDB["querier"] }, n: number) {
  const series = await selectAll(db);
  expect(series.length).toBe(SERIES);
  for (const s of series) {
    const i = Number(s.labels.find((l) => l.name === "i")!.value);
    expect(s.timestamps.length).toBe(n);
    expect(s.timestamps[n - 1]).toBe((n - 1) * STEP);
    expect(bitsOf(s.values)).toEqual(expectedValues(i, n));
  }
}

const open = async (dir: string, extra: Partial<Parameters<typeof openTSDB>[0]> = {}) =>
  (await openTSDB({ dir, blockDurationMs: RANGE, ...extra })) as LocalTSDB;

describe("blocks", () => {
  test("head is cut into blocks, compacted, and everything reads back bit-exact across restarts", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const N = 600; // ten minutes = ten block ranges
    const db = await open(t);
    await fill(db, N);
    await db.maintain();
    const st = db.stats();
    expect(st.headCuts).toBeGreaterThanOrEqual(8);
    expect(st.compactions).toBeGreaterThan(0);
    expect(st.blocks).toBeLessThan(st.headCuts);
    expect(db.head.minTime()).toBeGreaterThanOrEqual(8 * RANGE);
    await checkAll(db, N);
    // The series hint: label sets only, judged by chunk ranges across blocks and head.
    const sq = db.querier(0, 1e9);
    const names = await sq.select([new Matcher("=", "__name__", "m")], { start: 0, end: 1e9, func: "series" });
    expect(names.series.length).toBe(SERIES);
    expect(names.series.every((x) => x.timestamps.length === 0)).toBe(true);
    const none = await sq.select([new Matcher("=", "__name__", "m")], { start: 1e8, end: 1e9, func: "series" });
    expect(none.series.length).toBe(0);
    const early = await sq.select([new Matcher("=", "i", "3")], { start: 0, end: 10, func: "series" });
    expect(early.series.map((x) => x.labels)).toEqual([L({ __name__: "m", i: "3" })]);
    sq.close();
    // The persisted range is closed to late samples.
    const late = db.appender();
    expect(() => late.append(L({ __name__: "m", i: "new" }), 1000, 1)).toThrow(/older than the head/);
    late.rollback();
    expect(db.stats().rejected.too_old).toBe(1);
    // WAL segments before the cut are replaced by a checkpoint.
    expect(readdirSync(join(t, "wal")).some((f) => f.startsWith("checkpoint."))).toBe(true);
    await db.close();

    const db2 = await open(t);
    await checkAll(db2, N);
    await fill(db2, N + 120, N);
    await db2.maintain();
    await checkAll(db2, N + 120);
    // Labels API spans blocks and head.
    const q = db2.querier(0, 1e9);
    expect((await q.labelValues("i")).values.length).toBe(SERIES);
    expect((await q.labelNames([new Matcher("=", "i", "3")])).values).toEqual(["__name__", "i"]);
    q.close();
    await db2.close();
  });

  test("retention by time and by size deletes whole blocks", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 4 * RANGE });
    await fill(db, 600);
    await db.maintain();
    const st = db.stats();
    expect(st.retentionDeletions).toBeGreaterThan(0);
    const series = await selectAll(db);
    expect(series[0]!.timestamps[0]).toBeGreaterThanOrEqual(600 * STEP - 7 * RANGE);
    await db.close();

    const t2 = tempDir("storage");
    const db2 = await open(t2, { retentionBytes: 1 });
    await fill(db2, 600);
    await db2.maintain();
    expect(db2.stats().blocks).toBe(0);
    expect(db2.stats().sizeRetentionDeletions).toBeGreaterThan(0);
    await db2.close();
    removeTempDir(t2);
  });

  test("a corrupt block is moved aside with a log line and the node still starts", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 1e12 });
    await fill(db, 300);
    await db.maintain();
    const blocks = db.blocks.map((b) => b.ulid);
    expect(blocks.length).toBeGreaterThan(0);
    await db.close();
    const victim = join(t, blocks[0]!, "index");
    const buf = readFileSync(victim);
    buf[buf.length >> 1] = buf[buf.length >> 1]! ^ 0x55;
    writeFileSync(victim, buf);
    const lines: string[] = [];
    const db2 = await open(t, { logger: createLogger({ write: (l) => lines.push(l) }) });
    expect(existsSync(join(t, blocks[0]! + ".corrupted"))).toBe(true);
    expect(lines.some((l) => l.includes("corrupt block moved aside") && l.includes(blocks[0]!))).toBe(true);
    expect(db2.stats().blocksCorrupted).toBe(1);
    expect((await selectAll(db2)).length).toBe(SERIES);
    await db2.close();
  });

  test("deleteSeries hides samples in blocks and head; cleanTombstones rewrites blocks", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 1e12 });
    await fill(db, 300);
    await db.maintain();
    await db.deleteSeries([new Matcher("=", "i", "5")], 10_000, 250_000);
    const check = async (d: LocalTSDB) => {
      const s5 = (await selectAll(d)).find((s) => s.labels[1]!.value === "5")!;
      expect(s5.timestamps.length).toBe(300 - 241);
      for (const x of s5.timestamps) expect(x < 10_000 || x > 250_000).toBe(true);
      const s6 = (await selectAll(d)).find((s) => s.labels[1]!.value === "6")!;
      expect(s6.timestamps.length).toBe(300);
    };
    await check(db);
    expect(db.stats().tombstones).toBeGreaterThan(0);
    await db.close();
    const db2 = await open(t, { retentionMs: 1e12 });
    await check(db2);
    await db2.cleanTombstones();
    expect(db2.stats().tombstones).toBe(0);
    await check(db2);
    await db2.close();
  });

  test("a sample stamped far in the future does not flush the present out of the head", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 1e12 });
    const now = Date.now();
    const s = L({ __name__: "m", i: "now" });
    for (let k = 600; k >= 0; k -= 10) {
      const app = db.appender();
      app.append(s, now - k * 1000, k);
      await app.commit();
    }
    const app = db.appender();
    app.append(L({ __name__: "m", i: "future" }), now + 365 * 86400e3, 1);
    await app.commit();
    await db.maintain();
    // Old ranges were persisted, the last ~1.5 ranges stay in the head and accept samples.
    expect(db.stats().headCuts).toBeGreaterThan(3);
    expect(db.head.minValidTime).toBeLessThanOrEqual(now);
    const app2 = db.appender();
    app2.append(s, now + 1000, 1);
    await app2.commit();
    expect(db.stats().rejected.too_old).toBe(0);
    await db.close();
  });

  test("appends and queries keep working while the head is being cut and compacted", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 1e12 });
    const labels = Array.from({ length: 2000 }, (_, i) => L({ __name__: "busy", i: String(i) }));
    const append = async (k: number) => {
      const app = db.appender();
      for (const l of labels) app.append(l, k * 1000, k);
      await app.commit();
    };
    for (let k = 0; k < 200; k++) await append(k);
    let done = false;
    const running = db.maintain().then(() => (done = true));
    let interleaved = 0;
    for (let k = 200; k < 230; k++) {
      await Bun.sleep(1); // let the maintenance task run a step
      if (!done) interleaved++;
      await append(k);
      const q = db.querier(0, 1e9);
      const res = await q.select([new Matcher("=", "i", "1999")]);
      q.close();
      expect(res.series[0]!.timestamps.length).toBe(k + 1);
    }
    await running;
    expect(interleaved).toBeGreaterThanOrEqual(2);
    expect(db.stats().headCuts).toBeGreaterThan(0);
    const all = await selectAll(db);
    expect(all.length).toBe(2000);
    for (const s of all) expect(s.timestamps.length).toBe(230);
    await db.close();
  }, 60_000);

  test("changing the block duration between restarts keeps every sample", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await open(t, { retentionMs: 1e12 });
    await fill(db, 300);
    await db.maintain();
    await db.close();
    for (const range of [45_000, 100_000, 60_000]) {
      const d = await open(t, { retentionMs: 1e12, blockDurationMs: range });
      await checkAll(d, 300);
      await d.maintain();
      await checkAll(d, 300);
      await d.close();
    }
    const last = await open(t, { retentionMs: 1e12 });
    await checkAll(last, 300);
    expect(last.stats().samplesAppended).toBe(0); // replay is not counted as ingestion
    await last.close();
  });
});
