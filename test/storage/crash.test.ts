import { afterEach, describe, expect, test } from "bun:test";
import { isStaleAt } from "../../src/model/index.ts";
import { openTSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { runChildUntil, selectAll } from "./helpers.ts";

let cleanup = () => {};
afterEach(() => cleanup());

/** Runs the appender child until it has acknowledged `minAcks` batches, then SIGKILLs it. */
async function runAndKill(dir: string, minAcks: number, startT = 0): Promise<number[]> {
  const acked: number[] = [];
  await runChildUntil("crash-appender.ts", [dir, String(startT)], (l) => {
    if (l.startsWith("ack ")) acked.push(Number(l.slice(4)));
    return acked.length >= minAcks;
  });
  // Acks that were already in the pipe count too: the commit resolved before they were printed.
  return acked;
}

describe("crash safety", () => {
  test("every acknowledged sample survives SIGKILL, across head cuts and checkpoints", async () => {
    const t = tempDir("crash");
    cleanup = () => removeTempDir(t);
    const acked = await runAndKill(t, 600);
    expect(acked.length).toBeGreaterThanOrEqual(600);
    const last = acked[acked.length - 1]!;

    const db = await openTSDB({ dir: t, blockDurationMs: 2000, retentionMs: 1e12 });
    const series = await selectAll(db);
    expect(series.length).toBe(50);
    for (const s of series) {
      const i = Number(s.labels.find((l) => l.name === "i")!.value);
      const have = new Map<number, number>();
      for (let k = 0; k < s.timestamps.length; k++) have.set(s.timestamps[k]!, k);
      for (const at of acked) {
        const k = have.get(at);
        expect(k).toBeDefined();
        if (i === 0 && at % 1000 === 0) expect(isStaleAt(s.values, k!)).toBe(true);
        else expect(s.values[k!]).toBe(at * 0.5 + i);
      }
      // Only appended timestamps, strictly increasing.
      for (let k = 1; k < s.timestamps.length; k++) expect(s.timestamps[k]!).toBeGreaterThan(s.timestamps[k - 1]!);
      for (const x of s.timestamps) expect(x % 100).toBe(0);
    }
    const st = db.stats();
    expect(st.blocks).toBeGreaterThan(0); // head cuts happened before the kill
    await db.close();

    // A second life, killed again, keeps both lives' data.
    const acked2 = await runAndKill(t, 200, last + 1000);
    const db2 = await openTSDB({ dir: t, blockDurationMs: 2000, retentionMs: 1e12 });
    const s0 = (await selectAll(db2)).find((s) => s.labels.some((l) => l.name === "i" && l.value === "7"))!;
    const have = new Set(s0.timestamps);
    for (const at of [...acked, ...acked2]) expect(have.has(at)).toBe(true);
    await db2.close();
  }, 60_000);
});
