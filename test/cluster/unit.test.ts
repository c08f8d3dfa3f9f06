import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_FLAGS, clusterConfigFromFlagValues } from "../../src/cluster/config.ts";
import { FLAG_SPECS } from "../../src/flags.ts";
import { decodeBatch, encodeBatch, type WireBatch } from "../../src/cluster/batch.ts";
import { bytesF64, decodeFrame, encodeFrame, f64Bytes } from "../../src/cluster/codec.ts";
import { mergeReplicas } from "../../src/cluster/fanout.ts";
import { HintedHandoff } from "../../src/cluster/hints.ts";
import { nodeTokens, Ring } from "../../src/cluster/ring.ts";
import { FlagError, isStaleAt, labelsFromRecord, nopLogger, parseFlags, setStaleAt } from "../../src/model/index.ts";
import { tempDir } from "../support/index.ts";

function ringOf(ids: string[], r: number, tokens = 128): Ring {
  return new Ring(ids.map((id) => ({ id, tokens: nodeTokens(id, tokens) })), r);
}

describe("ring", () => {
  test("owners are R distinct members, deterministic, primary shares add up to 1", () => {
    const ring = ringOf(["a", "b", "c", "d", "e"], 3);
    const again = ringOf(["e", "d", "c", "b", "a"], 3);
    for (let i = 0; i < 2000; i++) {
      const h = Bun.hash.xxHash32(String(i)) >>> 0;
      const o = ring.owners(h);
      expect(o.length).toBe(3);
      expect(new Set(o).size).toBe(3);
      expect(again.owners(h)).toEqual(o);
    }
    let primary = 0;
    let replica = 0;
    for (const s of ring.shares().values()) {
      primary += s.primary;
      replica += s.replica;
      // 128 tokens per node keep shares within a reasonable band of 1/5.
      expect(s.primary).toBeGreaterThan(0.1);
      expect(s.primary).toBeLessThan(0.3);
    }
    expect(primary).toBeCloseTo(1, 9);
    expect(replica).toBeCloseTo(3, 9);
  });

  test("replication factor is capped by the member count", () => {
    const ring = ringOf(["a", "b"], 3);
    expect(ring.replicationFactor).toBe(2);
    expect(ring.owners(12345).length).toBe(2);
  });

  test("removing a member only moves the ranges it held", () => {
    const full = ringOf(["a", "b", "c", "d"], 1);
    const less = ringOf(["a", "b", "c"], 1);
    let moved = 0;
    for (let i = 0; i < 5000; i++) {
      const h = Bun.hash.xxHash32(`k${i}`) >>> 0;
      const before = full.primaryOf(h);
      const after = less.primaryOf(h);
      if (before !== "d") expect(after).toBe(before!);
      else moved++;
    }
    expect(moved).toBeGreaterThan(500);
  });

  test("uncovered reports the ranges with no available owner", () => {
    const ring = ringOf(["a", "b", "c"], 2);
    expect(ring.uncovered(new Set(["a", "b", "c"])).fraction).toBe(0);
    // With R=2 any single member covers nothing alone only where it is not an owner.
    const oneDown = ring.uncovered(new Set(["a", "b"]));
    expect(oneDown.fraction).toBe(0);
    const twoDown = ring.uncovered(new Set(["a"]));
    expect(twoDown.fraction).toBeGreaterThan(0.2);
    expect(twoDown.missing).toEqual(["b", "c"]);
    const r1 = ringOf(["a", "b", "c"], 1).uncovered(new Set(["a", "b"]));
    expect(r1.missing).toEqual(["c"]);
    expect(r1.fraction).toBeGreaterThan(0.2);
  });
});

describe("flags", () => {
  // The node reads its flags and the cluster's with one table and one reader.
  const clusterConfigOf = (argv: string[]) => clusterConfigFromFlagValues(parseFlags(argv, [...FLAG_SPECS, ...CLUSTER_FLAGS]).values);

  test("cluster flags are ordinary rows of the node's flag table", () => {
    const config = clusterConfigOf([
      "--web.listen-address=:9090",
      "--cluster.join",
      "h1:7946",
      "--cluster.join=h2:7000",
      "--no-cluster.mdns",
      "--cluster.dead-timeout=10s",
      "--cluster.replication-factor=2",
      "--cluster.hinted-handoff.max-bytes=1GiB",
    ]);
    expect(config.join).toEqual(["h1:7946", "h2:7000"]);
    expect(config.mdns).toBe(false);
    expect(config.deadTimeoutMs).toBe(10_000);
    expect(config.replicationFactor).toBe(2);
    expect(config.hintedHandoffMaxBytes).toBe(2 ** 30);
  });

  test("bad values name the flag", () => {
    expect(() => clusterConfigOf(["--cluster.join=nohost"])).toThrow(/--cluster.join: expected HOST:PORT/);
    expect(() => clusterConfigOf(["--cluster.dead-timeout=soon"])).toThrow(FlagError);
    expect(() => clusterConfigOf(["--cluster.dead-timeout=soon"])).toThrow('invalid value "soon" for flag --cluster.dead-timeout');
    expect(() => clusterConfigOf(["--cluster.dead-timeout=0"])).toThrow('--cluster.dead-timeout: expected a duration such as 500ms, 5s or 1m, got "0"');
    expect(() => clusterConfigOf(["--cluster.tokens=0"])).toThrow('--cluster.tokens: expected a positive integer, got "0"');
    expect(() => clusterConfigOf(["--cluster.suspect-timeout=10s"])).toThrow(/dead-timeout must be longer/);
    expect(() => clusterConfigOf(["--cluster.bogus=1"])).toThrow(/unknown flag --cluster.bogus/);
  });

  test("config from src/flags.ts-style values", () => {
    const cfg = clusterConfigFromFlagValues(
      new Map([
        ["cluster.join", "a:1,b:2"],
        ["cluster.mdns", "false"],
        ["cluster.hinted-handoff.max-bytes", "1GB"],
      ]),
    );
    expect(cfg.join).toEqual(["a:1", "b:2"]);
    expect(cfg.mdns).toBe(false);
    expect(cfg.hintedHandoffMaxBytes).toBe(2 ** 30);
  });
});

describe("codec and merge", () => {
  test("stale markers survive a frame round trip, large frames are compressed", () => {
    const v = new Float64Array(10000).map((_, i) => i * 1.5);
    setStaleAt(v, 3);
    const frame = encodeFrame({ v: f64Bytes(v) });
    expect(frame[0]).toBe(1);
    expect(frame.length).toBeLessThan(80_000);
    const back = bytesF64(decodeFrame<{ v: Uint8Array }>(frame).v);
    expect(isStaleAt(back, 3)).toBe(true);
    expect(isStaleAt(back, 4)).toBe(false);
    expect(back[9999]).toBe(9999 * 1.5);
  });

  test("columnar batches round-trip labels, samples and stale markers", () => {
    const series = Array.from({ length: 300 }, (_, i) => {
      const values = new Float64Array([i, i + 0.5, -i]);
      if (i % 7 === 0) setStaleAt(values, 1);
      return {
        labels: labelsFromRecord({ __name__: "m", job: "j", i: String(i), ...(i % 2 ? { odd: "yes" } : {}) }),
        timestamps: new Float64Array([1000, 2000, 3000 + i]),
        values,
      };
    });
    for (const xor of [false, true]) {
      const back = decodeBatch(decodeFrame<WireBatch>(encodeFrame(encodeBatch(series, { xor }))));
      expect(back.length).toBe(300);
      back.forEach((s, i) => {
        expect(s.labels).toEqual(series[i]!.labels);
        expect([...s.timestamps]).toEqual([...series[i]!.timestamps]);
        expect(isStaleAt(s.values, 1)).toBe(i % 7 === 0);
        expect(s.values[0]).toBe(i);
        expect(s.values[2]).toBe(-i);
      });
    }
    // Long series span several chunks.
    const long = [{ labels: series[0]!.labels, timestamps: Float64Array.from({ length: 20000 }, (_, k) => k * 15000), values: Float64Array.from({ length: 20000 }, (_, k) => Math.sin(k)) }];
    const lb = decodeBatch(encodeBatch(long, { xor: true }));
    expect([...lb[0]!.values]).toEqual([...long[0]!.values]);
    expect(lb[0]!.timestamps[19999]).toBe(19999 * 15000);
    expect(() => decodeBatch({ ...encodeBatch(series), st: ["x"] })).toThrow(/bad string index/);
  });

  test("replicas merge by timestamp without duplicates, stale bits kept", () => {
    const labels = labelsFromRecord({ __name__: "m" });
    const av = new Float64Array([1, 0, 3]);
    setStaleAt(av, 1);
    const a = { labels, timestamps: new Float64Array([10, 20, 30]), values: av };
    const b = { labels, timestamps: new Float64Array([5, 20, 40]), values: new Float64Array([0.5, 2, 4]) };
    const m = mergeReplicas([a, b]);
    expect([...m.timestamps]).toEqual([5, 10, 20, 30, 40]);
    expect(isStaleAt(m.values, 2)).toBe(true);
    expect(m.values[0]).toBe(0.5);
    expect(m.values[4]).toBe(4);
    expect(mergeReplicas([a, a])).toBe(a);
  });
});

describe("hinted handoff", () => {
  test("queues survive a restart, replay in order, stay bounded", async () => {
    const dir = tempDir("hints");
    try {
      let h = new HintedHandoff(dir, 1 << 20, nopLogger);
      for (let i = 0; i < 100; i++) h.enqueue("peer1", new TextEncoder().encode(`batch-${i}`));
      expect(h.stats("peer1").records).toBe(100);
      h.close();
      h = new HintedHandoff(dir, 1 << 20, nopLogger);
      expect(h.stats("peer1").records).toBe(100);
      const got: string[] = [];
      let fail = true;
      // A failed send stops the replay; nothing is lost.
      await h.replay("peer1", async (p) => {
        if (got.length === 10 && fail) {
          fail = false;
          throw new Error("peer went away");
        }
        got.push(new TextDecoder().decode(p));
      });
      expect(h.stats("peer1").records).toBe(100);
      got.length = 0;
      await h.replay("peer1", async (p) => {
        got.push(new TextDecoder().decode(p));
      });
      expect(got.length).toBe(100);
      expect(got[0]).toBe("batch-0");
      expect(got[99]).toBe("batch-99");
      expect(h.stats("peer1").records).toBe(0);
      // Bounded: a small limit drops the oldest segments.
      const small = new HintedHandoff(join(dir, "small"), 1000, nopLogger);
      for (let i = 0; i < 100; i++) small.enqueue("p", new Uint8Array(100));
      expect(small.stats("p").bytes).toBeLessThanOrEqual(1000);
      expect(small.totals.droppedRecords).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
