import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, isStaleAt } from "../../src/model/index.ts";
import { openTSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir, waitFor } from "../support/index.ts";
import { L, selectAll } from "./helpers.ts";

let cleanup = () => {};
afterEach(() => cleanup());

async function fill(dir: string, batches: number, perBatch = 50) {
  const db = await openTSDB({ dir });
  for (let b = 0; b < batches; b++) {
    const app = db.appender();
    for (let i = 0; i < perBatch; i++) app.append(L({ __name__: "m", i: String(i) }), 1000 * (b + 1), b * 1000 + i, b === 3 && i === 0);
    await app.commit();
  }
  return db;
}

/**
 * Fills the WAL in a child process that then exits without closing the TSDB — a crash, so the
 * data stays in segments (a clean close would checkpoint it).
 */
function fillAndCrash(dir: string, batches: number): void {
  const code = `
    const { openTSDB } = await import(${JSON.stringify(join(import.meta.dir, "../../src/storage/index.ts"))});
    const { labelsFromRecord } = await import(${JSON.stringify(join(import.meta.dir, "../../src/model/index.ts"))});
    const db = await openTSDB({ dir: ${JSON.stringify(dir)} });
    for (let b = 0; b < ${batches}; b++) {
      const app = db.appender();
      for (let i = 0; i < 50; i++) app.append(labelsFromRecord({ __name__: "m", i: String(i) }), 1000 * (b + 1), b * 1000 + i, b === 3 && i === 0);
      await app.commit();
    }
    process.exit(0);`;
  const r = Bun.spawnSync([process.execPath, "-e", code], { stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("fill child failed");
}

function lastSegment(dir: string): string {
  const segs = readdirSync(join(dir, "wal")).filter((f) => /^\d{8}$/.test(f)).sort();
  // The newest segment is the empty one opened at start; data lives in the one before when reopened.
  for (let i = segs.length - 1; i >= 0; i--) if (statSync(join(dir, "wal", segs[i]!)).size > 0) return join(dir, "wal", segs[i]!);
  throw new Error("no non-empty segment");
}

describe("WAL", () => {
  test("a clean close leaves a checkpoint that the next start loads", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await fill(t, 200);
    await db.close();
    const files = readdirSync(join(t, "wal"));
    expect(files.some((f) => f.startsWith("checkpoint."))).toBe(true);
    for (const f of files.filter((f) => /^\d{8}$/.test(f))) expect(statSync(join(t, "wal", f)).size).toBe(0);
    const db2 = await openTSDB({ dir: t });
    const series = await selectAll(db2);
    expect(series.length).toBe(50);
    for (const s of series) expect(s.timestamps.length).toBe(200);
    expect(isStaleAt(series[0]!.values, 3)).toBe(true);
    await db2.close();
  });

  test("replay restores committed samples, stale markers included", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await fill(t, 10);
    await db.close();
    const db2 = await openTSDB({ dir: t });
    const series = await selectAll(db2);
    expect(series.length).toBe(50);
    const s0 = series.find((s) => s.labels.some((l) => l.name === "i" && l.value === "0"))!;
    expect(s0.timestamps.length).toBe(10);
    expect(isStaleAt(s0.values, 3)).toBe(true);
    expect(s0.values[4]).toBe(4000);
    // Appending continues after replay with ordering enforced.
    const app = db2.appender();
    expect(() => app.append(L({ __name__: "m", i: "0" }), 5000, 1)).toThrow();
    app.append(L({ __name__: "m", i: "0" }), 11000, 1);
    await app.commit();
    await db2.close();
    const db3 = await openTSDB({ dir: t });
    expect((await selectAll(db3)).find((s) => s.labels[1]!.value === "0")!.timestamps.length).toBe(11);
    await db3.close();
  });

  test("a truncated last segment keeps every earlier record and logs a warning", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    fillAndCrash(t, 10);
    const seg = lastSegment(t);
    truncateSync(seg, statSync(seg).size - 100);
    const lines: string[] = [];
    const db2 = await openTSDB({ dir: t, logger: createLogger({ write: (l) => lines.push(l) }) });
    const series = await selectAll(db2);
    expect(series.length).toBe(50);
    for (const s of series) expect(s.timestamps.length).toBe(9);
    expect(lines.some((l) => l.includes("level=warn") && l.includes("torn"))).toBe(true);
    expect(db2.stats().walCorruptions).toBe(1);
    await db2.close();
  });

  test("a garbled last record and trailing garbage are cut off", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    fillAndCrash(t, 10);
    const seg = lastSegment(t);
    const buf = readFileSync(seg);
    buf[buf.length - 30] = buf[buf.length - 30]! ^ 0xff;
    writeFileSync(seg, buf);
    appendFileSync(seg, new Uint8Array([1, 2, 3]));
    const db2 = await openTSDB({ dir: t });
    const series = await selectAll(db2);
    for (const s of series) expect(s.timestamps.length).toBe(9);
    await db2.close();
    // The repaired WAL opens cleanly again.
    const db3 = await openTSDB({ dir: t });
    expect(db3.stats().walCorruptions).toBe(0);
    expect((await selectAll(db3))[0]!.timestamps.length).toBe(9);
    await db3.close();
  });

  test("tombstones in the head survive a restart", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await fill(t, 10);
    const { Matcher } = await import("../../src/model/index.ts");
    await db.deleteSeries([new Matcher("=", "i", "7")], 2000, 5000);
    expect((await selectAll(db)).find((s) => s.labels[1]!.value === "7")!.timestamps.length).toBe(6);
    await db.close();
    const db2 = await openTSDB({ dir: t });
    const s7 = (await selectAll(db2)).find((s) => s.labels[1]!.value === "7")!;
    expect([...s7.timestamps]).toEqual([1000, 6000, 7000, 8000, 9000, 10000]);
    await db2.close();
  });

  test("a second process cannot open a directory in use; a dead owner's lock is taken over", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await openTSDB({ dir: t });
    const code = `
      const { openTSDB } = await import(${JSON.stringify(join(import.meta.dir, "../../src/storage/index.ts"))});
      try { await openTSDB({ dir: ${JSON.stringify(t)} }); console.log("opened"); } catch (e) { console.log(e.message); }
      process.exit(0);`;
    const other = Bun.spawnSync([process.execPath, "-e", code]);
    expect(other.stdout.toString()).toContain("is in use by process " + process.pid);
    await db.close();
    writeFileSync(join(t, "lock"), "999999999");
    const db2 = await openTSDB({ dir: t });
    await db2.close();
  });

  test("records spread over many small segments replay in order; a bad middle segment drops what follows", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const { WAL } = await import("../../src/storage/wal.ts");
    const { nopLogger } = await import("../../src/model/index.ts");
    const wal = new WAL(t, { fsyncIntervalMs: 60_000, logger: nopLogger, segmentBytes: 4096 });
    const seen: number[] = [];
    const handler = {
      series: () => {},
      samples: (_r: Int32Array, ts: Float64Array) => {
        for (const x of ts) seen.push(x);
      },
      tombstone: () => {},
      chunk: () => {},
    };
    wal.open(handler);
    for (let k = 0; k < 500; k++) {
      const ts = Float64Array.from({ length: 10 }, (_, i) => k * 10 + i);
      wal.logCommit([], new Int32Array(10), ts, new Float64Array(10), 10);
    }
    wal.close();
    const segs = readdirSync(join(t, "wal")).filter((f) => /^\d{8}$/.test(f)).sort();
    expect(segs.length).toBeGreaterThan(10);
    const again = new WAL(t, { fsyncIntervalMs: 60_000, logger: nopLogger, segmentBytes: 4096 });
    again.open(handler);
    again.close();
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    // Garble a segment in the middle: records before it survive, later segments are removed.
    const mid = join(t, "wal", segs[5]!);
    const buf = readFileSync(mid);
    buf[20] = buf[20]! ^ 0xff;
    writeFileSync(mid, buf);
    seen.length = 0;
    const third = new WAL(t, { fsyncIntervalMs: 60_000, logger: nopLogger, segmentBytes: 4096 });
    third.open(handler);
    third.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
    expect(seen.length).toBeLessThan(5000);
    expect(third.stats.corruptions).toBe(1);
  });

  test("walFsyncIntervalMs 0 fsyncs before each commit resolves; otherwise on the schedule and on close", async () => {
    const t = tempDir("storage");
    cleanup = () => removeTempDir(t);
    const db = await openTSDB({ dir: t, walFsyncIntervalMs: 0 });
    for (let k = 1; k <= 3; k++) {
      const app = db.appender();
      app.append(L({ __name__: "m" }), k, k);
      await app.commit();
      expect(db.stats().walFsyncs).toBe(k);
    }
    await db.close();
    const db2 = await openTSDB({ dir: t, walFsyncIntervalMs: 20 });
    const app = db2.appender();
    app.append(L({ __name__: "m" }), 10, 1);
    await app.commit();
    const before = db2.stats().walFsyncs;
    await waitFor("a background WAL fsync", () => db2.stats().walFsyncs > before, { timeoutMs: 5000, intervalMs: 10 });
    expect(db2.stats().walFsyncSeconds).toBeGreaterThan(0);
    await db2.close();
  });
});
