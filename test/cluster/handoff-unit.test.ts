/**
 * The hand-off's parts without a cluster: ring comparison and union rings, hash-range filters,
 * the batch receiver on a real TSDB (valid and corrupt frames), the bandwidth throttle, and the
 * late-sample tolerant replica appender.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { encodeBatch } from "../../src/cluster/batch.ts";
import { encodeCbor } from "../../src/cluster/codec.ts";
import { LateTolerantAppendable } from "../../src/cluster/late.ts";
import { compareRings, HashRanges, nodeTokens, Ring, type HashInterval } from "../../src/cluster/ring.ts";
import { Throttle, Transfers } from "../../src/cluster/transfer.ts";
import type { Rpc } from "../../src/cluster/rpc.ts";
import { isStaleAt, labelsFromRecord, Matcher, nopLogger, setStaleAt } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { tempDir } from "../support/index.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function tempDB(): Promise<TSDB> {
  const dir = tempDir("handoff-unit");
  dirs.push(dir);
  return openTSDB({ dir, logger: nopLogger });
}

function ringOf(ids: string[], r: number): Ring {
  return new Ring(ids.map((id) => ({ id, tokens: nodeTokens(id, 64) })), r);
}

function randomHashes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Bun.hash.xxHash32(`h${i}`) >>> 0).concat([0, 2 ** 32 - 1]);
}

describe("rings", () => {
  test("compareRings covers the hash space once, with both rings' owners", () => {
    const a = ringOf(["a", "b", "c"], 2);
    const b = ringOf(["a", "b", "c", "d"], 2);
    const pieces: { iv: HashInterval; ao: readonly string[]; bo: readonly string[] }[] = [];
    compareRings(a, b, (iv, ao, bo) => pieces.push({ iv, ao, bo }));
    pieces.sort((x, y) => x.iv[0] - y.iv[0]);
    expect(pieces[0]!.iv[0]).toBe(0);
    expect(pieces[pieces.length - 1]!.iv[1]).toBe(2 ** 32 - 1);
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.iv[0]).toBe(pieces[i - 1]!.iv[1] + 1);
    for (const h of randomHashes(3000)) {
      const p = pieces.find((x) => x.iv[0] <= h && h <= x.iv[1])!;
      expect(p.ao).toEqual(a.owners(h));
      expect(p.bo).toEqual(b.owners(h));
    }
  });

  test("the union ring's owners are the read ring's then the future ring's new ones", () => {
    const read = ringOf(["a", "b", "c"], 3);
    const future = ringOf(["a", "b", "c", "d", "e"], 3);
    const u = new Ring([], 0, [read, future]);
    for (const h of randomHashes(3000)) {
      const want = [...read.owners(h)];
      for (const id of future.owners(h)) if (!want.includes(id)) want.push(id);
      expect(u.owners(h)).toEqual(want);
    }
    expect(u.replicationFactor).toBe(3);
  });

  test("a union ring's writes need a quorum of the read owners and of the future owners", () => {
    const read = ringOf(["a", "b", "c", "d"], 3);
    const future = ringOf(["a", "b", "c", "e"], 3);
    const u = new Ring([], 0, [read, future]);
    let splits = 0;
    for (const h of randomHashes(3000)) {
      const set = u.ownerSetOf(h);
      expect(u.quorumGroups(set)).toEqual([read.owners(h), future.owners(h)]);
      if (read.owners(h).join() !== future.owners(h).join()) splits++;
    }
    expect(splits).toBeGreaterThan(0);
    // A plain ring's only group is the owner set.
    for (const h of randomHashes(100)) expect(read.quorumGroups(read.ownerSetOf(h))).toEqual([read.owners(h)]);
  });

  test("hash ranges: membership, merging, wire form and its validation", () => {
    const r = new HashRanges([
      [10, 20],
      [21, 30],
      [100, 100],
      [2 ** 32 - 5, 2 ** 32 - 1],
    ]);
    expect(r.count).toBe(3);
    for (const [h, want] of [
      [9, false],
      [10, true],
      [25, true],
      [31, false],
      [100, true],
      [101, false],
      [2 ** 32 - 1, true],
    ] as const)
      expect(r.has(h)).toBe(want);
    expect(r.covers(12, 30)).toBe(true);
    expect(r.covers(12, 31)).toBe(false);
    expect(r.covers(99, 100)).toBe(false);
    expect(r.covers(2 ** 32 - 2, 2 ** 32 - 1)).toBe(true);
    expect(HashRanges.fromWire(r.toWire()).toWire()).toEqual(r.toWire());
    expect(() => HashRanges.fromWire([5])).toThrow(/malformed hash ranges/);
    expect(() => HashRanges.fromWire([9, 3])).toThrow(/malformed hash range \[9, 3\]/);
    expect(() => HashRanges.fromWire([0, 2 ** 32])).toThrow(/malformed hash range/);
  });
});

describe("transfers", () => {
  test("the batch receiver backfills valid batches and refuses corrupt ones with a clear error", async () => {
    const db = await tempDB();
    try {
      const transfers = new Transfers(null as unknown as Rpc, db, new Throttle(0), nopLogger);
      const handle = transfers.handler(() => "peer-x");
      const labels = labelsFromRecord({ __name__: "moved", k: "v" });
      const values = new Float64Array([1, 2, 3]);
      setStaleAt(values, 2);
      const z = Bun.zstdCompressSync(encodeCbor(encodeBatch([{ labels, timestamps: new Float64Array([1000, 2000, 3000]), values }], { xor: true })));
      const reply = await handle({ id: "t1", reason: "join", seq: 0, z, tot: [1, 3] }, { from: "peer" });
      expect(reply).toEqual({ series: 1, samples: 3 });
      expect(transfers.book.active.get("t1")!.done.samples).toBe(3);
      await handle({ id: "t1", reason: "join", seq: 1, done: true }, { from: "peer" });
      expect(transfers.book.recent[0]!.state).toBe("done");
      const q = db.querier(0, 10_000);
      const got = await q.select([new Matcher("=", "__name__", "moved")]);
      q.close();
      expect(Array.from(got.series[0]!.timestamps)).toEqual([1000, 2000, 3000]);
      expect(isStaleAt(got.series[0]!.values, 2)).toBe(true);

      const corrupt = z.slice();
      corrupt.fill(7, 4, 20);
      await expect(handle({ id: "t2", reason: "leave", seq: 0, z: corrupt }, { from: "peer" })).rejects.toThrow(/corrupt hand-off batch 0 of transfer t2 from peer-x/);
      await expect(handle({ id: "t3", reason: "leave", seq: 0 }, { from: "peer" })).rejects.toThrow(/no payload/);
      await expect(handle({ nonsense: true }, { from: "peer" })).rejects.toThrow(/malformed hand-off batch/);
    } finally {
      await db.close();
    }
  });

  test("the throttle holds transfers to the configured bytes per second (after a one-second burst)", async () => {
    const t = new Throttle(20_000);
    const start = performance.now();
    for (let i = 0; i < 20; i++) await t.take(2000); // 40 kB: 20 kB burst, then 1 s
    const s = (performance.now() - start) / 1000;
    expect(s).toBeGreaterThan(0.85);
    expect(s).toBeLessThan(3); // a loaded machine oversleeps
  });
});

test("a replica backfills a forwarded sample that a newer one overtook, instead of refusing it", async () => {
  const db = await tempDB();
  try {
    const late = new LateTolerantAppendable(db);
    const labels = labelsFromRecord({ __name__: "overtaken" });
    let app = late.appender();
    app.append(labels, 5000, 5);
    await app.commit();
    app = late.appender();
    app.append(labels, 4000, 4); // arrived after 5000 from another distributor
    app.append(labels, 6000, 6);
    await app.commit();
    expect(late.lateSamples).toBe(1);
    const q = db.querier(0, 10_000);
    const got = await q.select([new Matcher("=", "__name__", "overtaken")]);
    q.close();
    expect(Array.from(got.series[0]!.timestamps)).toEqual([4000, 5000, 6000]);
    expect(Array.from(got.series[0]!.values)).toEqual([4, 5, 6]);
  } finally {
    await db.close();
  }
});
