/**
 * A block whose chunk data is damaged (one flipped byte) is found without a query reading it:
 * by the check right after a real node opens its data directory, and by compaction. It is
 * quarantined (`<ULID>.corrupted`), counted at /metrics, named in the log, and the node goes on
 * serving the rest.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, openSync, readdirSync, readSync, closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { nopLogger } from "../../src/model/index.ts";
import { openLocalTSDB, type LocalTSDB } from "../../src/storage/db.ts";
import { waitFor, startShoal, type ShoalNode, tempDir, removeTempDir } from "../support/index.ts";
import { L, selectAll } from "./helpers.ts";

let cleanup = () => {};
afterEach(() => cleanup());

const HOUR = 3600_000;
const STEP = 15_000;
const SERIES = 10;

/** Appends series `name{i=…}` every STEP over [from, to). */
async function fill(db: LocalTSDB, name: string, from: number, to: number): Promise<void> {
  for (let t = from; t < to; t += STEP) {
    const app = db.appender();
    for (let i = 0; i < SERIES; i++) app.append(L({ __name__: name, i: String(i) }), t, t / 1000 + i);
    await app.commit();
  }
}

function blockDirs(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(f)).sort();
}

/** Flips one byte in the middle of the first chunk frame's compressed data of block `ulid`. */
function flipChunkByte(dir: string, ulid: string): void {
  const file = join(dir, ulid, "chunks", "000001");
  const fd = openSync(file, "r+");
  try {
    const hdr = new Uint8Array(12);
    readSync(fd, hdr, 0, 12, 0);
    const clen = new DataView(hdr.buffer).getUint32(0, true);
    const at = 12 + Math.floor(clen / 2);
    const b = new Uint8Array(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0x40;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

async function instant(node: ShoalNode, query: string, at: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${node.url}/api/v1/query?${new URLSearchParams({ query, time: String(at / 1000) })}`);
  const body = (await r.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (r.status !== 200) throw new Error(`${query}: HTTP ${r.status} ${body.error}`);
  return body.data.result;
}

describe("chunk checksums", () => {
  test("a real node quarantines a block with a damaged chunk at start, counts and logs it, and serves the rest", async () => {
    const t = tempDir("corrupt-chunks");
    cleanup = () => removeTempDir(t);
    // Two 2h blocks well inside the default retention: `early` in the first, `late` in the second.
    const t0 = Math.floor((Date.now() - 8 * HOUR) / (2 * HOUR)) * 2 * HOUR;
    const db = await openLocalTSDB({ dir: t, logger: nopLogger });
    await fill(db, "early", t0, t0 + 2 * HOUR);
    await fill(db, "late", t0 + 2 * HOUR, t0 + 4 * HOUR);
    await db.persistHeadRange(t0, t0 + 2 * HOUR);
    await db.persistHeadRange(t0 + 2 * HOUR, t0 + 4 * HOUR);
    await db.close();
    const [bad, good] = blockDirs(t);
    expect(good).toBeDefined();
    flipChunkByte(t, bad!);

    const node = await startShoal({ dataDir: t });
    try {
      const metric = await waitFor("the corrupt block counter at /metrics", async () => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        const m = /^shoal_tsdb_corrupt_blocks_total (\S+)$/m.exec(text);
        return m !== null && Number(m[1]) > 0 ? Number(m[1]) : null;
      });
      expect(metric).toBe(1);
      const log = node.output().split("\n").find((l) => l.includes("corrupt block moved aside"));
      expect(log).toBeDefined();
      expect(log).toContain(bad!);
      expect(log).toContain("checksum mismatch");
      await waitFor("the block moved aside", async () => existsSync(join(t, `${bad}.corrupted`)) && !existsSync(join(t, bad!)));
      // The other block is still served in full; the damaged one's series are gone, not an error.
      const late = await instant(node, "count_over_time(late[3h])", t0 + 4 * HOUR - 1);
      expect(late.length).toBe(SERIES);
      for (const s of late) expect(Number(s.value[1])).toBe((2 * HOUR) / STEP);
      expect(await instant(node, "count_over_time(early[3h])", t0 + 2 * HOUR - 1)).toEqual([]);
      expect(await (await fetch(`${node.url}/-/healthy`)).status).toBe(200);
    } finally {
      await node.stop("SIGKILL");
    }
  }, 60_000);

  test("compaction quarantines a block whose chunk fails its checksum and compacts the rest later", async () => {
    const t = tempDir("corrupt-compact");
    cleanup = () => removeTempDir(t);
    const RANGE = 60_000;
    const opts = { dir: t, blockDurationMs: RANGE, retentionMs: 1e12, logger: nopLogger };
    const db = await openLocalTSDB(opts);
    await db.chunksVerified;
    await fill(db, "m", 0, 4 * RANGE);
    for (let k = 0; k < 4; k++) await db.persistHeadRange(k * RANGE, (k + 1) * RANGE);
    const blocks = blockDirs(t);
    expect(blocks.length).toBe(4);
    // Damaged after the check at open: only the compaction's reads can find it.
    flipChunkByte(t, blocks[1]!);
    await db.compactBlocksNow().catch(() => {});
    expect(db.stats().blocksCorrupted).toBe(1);
    expect(existsSync(join(t, `${blocks[1]}.corrupted`))).toBe(true);
    // The blocks left keep their data and are still served.
    const series = await selectAll(db);
    expect(series.length).toBe(SERIES);
    for (const s of series) expect(s.timestamps.length).toBe((3 * RANGE) / STEP);
    await db.compactBlocksNow();
    expect(blockDirs(t).length).toBe(2);
    expect((await selectAll(db)).map((s) => s.timestamps.length)).toEqual(series.map(() => (3 * RANGE) / STEP));
    await db.close();
  });
});
