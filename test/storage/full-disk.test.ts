/**
 * A real full filesystem (a 2 MiB tmpfs) under a real node receiving remote writes: writes made
 * while the disk is full are refused (5xx), writes made after space is freed are acknowledged,
 * and after a SIGKILL every acknowledged sample is back — none lost behind a torn record that
 * the full disk left in the WAL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, fstatSync, mkdirSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { nopLogger } from "../../src/model/index.ts";
import { openLocalTSDB } from "../../src/storage/db.ts";
import { LogWriteError, WAL } from "../../src/storage/wal.ts";
import { waitFor, freePort, startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { L, selectAll } from "./helpers.ts";

const SAMPLES_PER_WRITE = 2000;

let mnt = "";
let mounted = false;
let mountError = "";

beforeAll(() => {
  mnt = tempDir("enospc");
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stderr: "pipe" });
  mounted = r.exitCode === 0;
  if (!mounted) mountError = r.stderr.toString().trim() || `mount exited with ${r.exitCode}`;
});

afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", "-l", mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

function skipped(): boolean {
  if (mounted) return false;
  console.warn(`SKIPPED: cannot mount a tmpfs to make a real full disk (${mountError}); run as root`);
  return true;
}

/** Every name under `dir` (recursively) that a failed write could have left behind. */
function leftovers(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".tmp"));
}

/** Fills the filesystem with `path` until write(2) fails with ENOSPC; returns the descriptor. */
function fillDisk(path: string): number {
  const fd = openSync(path, "w");
  const block = new Uint8Array(64 * 1024).fill(0x5a);
  let size = block.length;
  for (;;) {
    try {
      writeSync(fd, block, 0, size);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
      if (size === 1) return fd;
      size = Math.max(1, size >> 1);
    }
  }
}

/** One remote write: series `enospc{batch="<k>"}` with SAMPLES_PER_WRITE samples (one large WAL record). */
function batchBody(k: number, base: number): Uint8Array {
  const samples: [number, number][] = [];
  for (let i = 0; i < SAMPLES_PER_WRITE; i++) samples.push([base + i * 10, k * 1e6 + i + 0.25]);
  return writeRequestBody([{ labels: { __name__: "enospc", batch: String(k) }, samples }]);
}

interface Target {
  health: string;
  lastError: string;
}

async function selfTarget(node: ShoalNode): Promise<Target> {
  const r = await fetch(`${node.url}/api/v1/targets`);
  const body = (await r.json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets[0]!;
}

async function metricValue(node: ShoalNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function sampleCounts(node: ShoalNode, at: number): Promise<Map<string, number>> {
  const q = new URLSearchParams({ query: "count_over_time(enospc[1h])", time: String(at / 1000) });
  const r = await fetch(`${node.url}/api/v1/query?${q}`);
  expect(r.status).toBe(200);
  const body = (await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return new Map(body.data.result.map((s) => [s.metric["batch"]!, Number(s.value[1])]));
}

describe("full disk", () => {
  test("writes during ENOSPC are refused; writes after space is freed survive a SIGKILL", async () => {
    if (skipped()) return;
    const dataDir = join(mnt, "data");
    mkdirSync(dataDir);
    const base = Date.now() - 30 * 60_000;
    const acked: number[] = [];
    const refused: number[] = [];
    let k = 0;
    const send = async (): Promise<number> => {
      const batch = k++;
      const r = await remoteWrite(node.url, batchBody(batch, base + batch * SAMPLES_PER_WRITE * 10));
      await r.arrayBuffer();
      if (r.status >= 200 && r.status < 300) acked.push(batch);
      else refused.push(batch);
      return r.status;
    };

    // The node scrapes itself every second: a scrape whose samples cannot be stored fails too.
    const port = freePort();
    const confDir = tempDir("enospc-config");
    const config = join(confDir, "shoal.yml");
    await Bun.write(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`);
    const start = () => startShoal({ dataDir, port, args: [`--config.file=${config}`] });
    let node = await start();
    try {
      for (let i = 0; i < 5; i++) expect(await send()).toBe(204);
      // Leave a few pages free: the next large record fits only in part (a short write, then ENOSPC).
      const fillerPath = join(mnt, "filler");
      const filler = fillDisk(fillerPath);
      ftruncateSync(filler, Math.max(0, fstatSync(filler).size - 3 * 4096));
      closeSync(filler);

      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push(await send());
      // The disk filled up: writes were refused with a server error the sender retries.
      const failed = statuses.filter((s) => s >= 300);
      expect(failed.length).toBeGreaterThan(0);
      for (const s of failed) expect(s).toBeGreaterThanOrEqual(500);
      // Once full, it stays refused while the disk is full.
      expect(statuses[statuses.length - 1]).toBeGreaterThanOrEqual(500);
      // The scrape reports it, the WAL counts it, the log says so.
      const down = await waitFor("a scrape failing on the full disk", async () => {
        const t = await selfTarget(node);
        return t.health === "down" ? t : null;
      });
      expect(down.lastError).toContain("ENOSPC");
      expect(await metricValue(node, "prometheus_tsdb_wal_writes_failed_total")).toBeGreaterThan(0);
      expect(node.output()).toContain("WAL write failed");

      unlinkSync(fillerPath);
      for (let i = 0; i < 20; i++) expect(await send()).toBe(204);
      await waitFor("the scrape to succeed again", async () => (await selfTarget(node)).health === "up");
      const before = await sampleCounts(node, base + k * SAMPLES_PER_WRITE * 10);
      for (const b of acked) expect(before.get(String(b))).toBe(SAMPLES_PER_WRITE);
      // A refused write was not applied either.
      for (const b of refused) expect(before.has(String(b))).toBe(false);

      await node.stop("SIGKILL");
      node = await start();
      const after = await sampleCounts(node, base + k * SAMPLES_PER_WRITE * 10);
      const lost = acked.filter((b) => after.get(String(b)) !== SAMPLES_PER_WRITE);
      expect(lost).toEqual([]);
      for (const b of refused) expect(after.has(String(b))).toBe(false);
    } finally {
      await node.stop("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(confDir, { recursive: true, force: true });
    }
  }, 120_000);

  test("a failed WAL append leaves the segment at its last whole record", () => {
    if (skipped()) return;
    const dir = join(mnt, "wal-unit");
    mkdirSync(dir);
    const fillerPath = join(mnt, "filler");
    try {
      const wal = new WAL(dir, { fsyncIntervalMs: 0, logger: nopLogger });
      const replayed: number[] = [];
      const handler = {
        series: () => {},
        samples: (_r: Int32Array, ts: Float64Array) => {
          for (const t of ts) replayed.push(t);
        },
        tombstone: () => {},
        chunk: () => {},
      };
      wal.open(handler);
      const n = 3000;
      const commit = (k: number) => wal.logCommit([], new Int32Array(n), Float64Array.from({ length: n }, (_, i) => k * n + i), new Float64Array(n).fill(k), n);
      commit(0);
      const segment = readdirSync(join(dir, "wal")).filter((f) => /^\d{8}$/.test(f)).sort().at(-1)!;
      const before = statSync(join(dir, "wal", segment)).size;
      const filler = fillDisk(fillerPath);
      ftruncateSync(filler, fstatSync(filler).size - 2 * 4096);
      closeSync(filler);
      let err: unknown = null;
      try {
        commit(1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LogWriteError);
      expect((err as LogWriteError).code).toBe("ENOSPC");
      expect((err as Error).message).toContain("nothing of it was stored");
      expect(statSync(join(dir, "wal", segment)).size).toBe(before);
      expect(wal.stats.writesFailed).toBe(1);
      unlinkSync(fillerPath);
      commit(2);
      wal.close();
      new WAL(dir, { fsyncIntervalMs: 0, logger: nopLogger }).open(handler, true);
      expect(replayed.length).toBe(2 * n);
      expect(replayed[n]).toBe(2 * n);
    } finally {
      rmSync(fillerPath, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("head cut, block write and WAL checkpoint on a full disk fail cleanly and succeed once space is back", async () => {
    if (skipped()) return;
    const dir = join(mnt, "db");
    const fillerPath = join(mnt, "filler");
    const opts = { dir, blockDurationMs: 60_000, retentionMs: 1e12, logger: nopLogger };
    try {
      const db = await openLocalTSDB(opts);
      const SERIES = 20;
      const POINTS = 300; // 5 minutes at 1 s: more than 1.5 block ranges, so the head is cut
      for (let k = 0; k < POINTS; k++) {
        const app = db.appender();
        for (let i = 0; i < SERIES; i++) app.append(L({ __name__: "m", i: String(i) }), k * 1000, k + i);
        await app.commit();
      }
      const filler = fillDisk(fillerPath);
      closeSync(filler);
      await db.maintain();
      const st = db.stats();
      expect(st.compactionsFailed).toBe(1);
      expect(st.blocks).toBe(0);
      // Nothing half-written is left to hold the space, and nothing was lost.
      expect(leftovers(dir)).toEqual([]);
      let series = await selectAll(db);
      expect(series.length).toBe(SERIES);
      for (const s of series) expect(s.timestamps.length).toBe(POINTS);

      unlinkSync(fillerPath);
      await db.maintain();
      expect(db.stats().compactionsFailed).toBe(1);
      expect(db.stats().blocks).toBeGreaterThan(0);
      expect(readdirSync(join(dir, "wal")).some((f) => f.startsWith("checkpoint."))).toBe(true);
      await db.close();

      const db2 = await openLocalTSDB(opts);
      series = await selectAll(db2);
      expect(series.length).toBe(SERIES);
      for (const s of series) expect(s.timestamps.length).toBe(POINTS);
      await db2.close();
    } finally {
      rmSync(fillerPath, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
