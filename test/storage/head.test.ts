import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { AppendError, Matcher, isStaleAt, labelsFromRecord, type Labels } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { hashLabels } from "../../src/storage/head.ts";
import { tempDir } from "../support/index.ts";

let dir: string;
let db: TSDB;
beforeEach(async () => {
  dir = tempDir("head");
  db = await openTSDB({ dir });
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const L = (r: Record<string, string>): Labels => labelsFromRecord(r);

function reason(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AppendError) return e.reason;
    throw e;
  }
  return "accepted";
}

async function names(matchers: Matcher[]): Promise<string[]> {
  const q = db.querier(0, 1e15);
  const res = await q.select(matchers);
  q.close();
  return res.series.map((s) => Object.values(s.labels.filter((l) => l.name === "id")).map((l) => l.value).join());
}

describe("head", () => {
  test("append, commit, select returns sorted series with time-ordered samples", async () => {
    const app = db.appender();
    app.append(L({ __name__: "m", id: "b" }), 1000, 1);
    app.append(L({ __name__: "m", id: "a" }), 1000, 2);
    app.append(L({ __name__: "m", id: "a" }), 2000, 3);
    app.append(L({ __name__: "m", id: "a" }), 3000, 0, true);
    // Not visible before commit.
    expect((await db.querier(0, 1e4).select([new Matcher("=", "__name__", "m")])).series.length).toBe(0);
    await app.commit();
    const q = db.querier(1500, 3000);
    const res = await q.select([new Matcher("=", "__name__", "m")]);
    expect(res.series.map((s) => s.labels.find((l) => l.name === "id")!.value)).toEqual(["a"]);
    const a = res.series[0]!;
    expect([...a.timestamps]).toEqual([2000, 3000]);
    expect(a.values[0]).toBe(3);
    expect(isStaleAt(a.values, 1)).toBe(true);
  });

  test("out-of-order and duplicate samples are rejected with reasons and counted", async () => {
    const s = L({ __name__: "m" });
    let app = db.appender();
    app.append(s, 1000, 1);
    expect(reason(() => app.append(s, 1000, 1))).toBe("accepted"); // identical duplicate
    expect(reason(() => app.append(s, 1000, 2))).toBe("duplicate");
    expect(reason(() => app.append(s, 500, 2))).toBe("out_of_order");
    await app.commit();
    app = db.appender();
    expect(reason(() => app.append(s, 999, 2))).toBe("out_of_order");
    expect(reason(() => app.append(s, 1000, 2))).toBe("duplicate");
    expect(reason(() => app.append(s, 1000, 1))).toBe("accepted");
    expect(reason(() => app.append(s, 1000.5, 1))).toBe("invalid");
    expect(reason(() => app.append([{ name: "b", value: "1" }, { name: "a", value: "1" }], 1, 1))).toBe("invalid");
    app.rollback();
    const st = db.stats();
    expect(st.rejected).toEqual({ out_of_order: 2, duplicate: 2, too_old: 0, invalid: 2 });
    expect(st.samplesAppended).toBe(1);
  });

  test("rollback discards the batch", async () => {
    const app = db.appender();
    app.append(L({ __name__: "m" }), 1000, 1);
    app.rollback();
    const res = await db.querier(0, 1e4).select([new Matcher("=", "__name__", "m")]);
    expect(res.series.length).toBe(0);
    const app2 = db.appender();
    app2.append(L({ __name__: "m" }), 500, 1); // nothing committed, so no ordering constraint
    await app2.commit();
  });

  test("matchers follow Prometheus semantics for empty values and anchored regexes", async () => {
    const app = db.appender();
    app.append(L({ __name__: "m", id: "1", env: "prod" }), 1, 1);
    app.append(L({ __name__: "m", id: "2", env: "dev" }), 1, 1);
    app.append(L({ __name__: "m", id: "3" }), 1, 1);
    app.append(L({ __name__: "m", id: "4", env: "production" }), 1, 1);
    await app.commit();
    const m = (t: "=" | "!=" | "=~" | "!~", n: string, v: string) => new Matcher(t, n, v);
    const name = m("=", "__name__", "m");
    expect(await names([name, m("=", "env", "prod")])).toEqual(["1"]);
    expect(await names([name, m("!=", "env", "prod")])).toEqual(["2", "4", "3"]);
    expect(await names([name, m("=", "env", "")])).toEqual(["3"]);
    expect(await names([name, m("!=", "env", "")])).toEqual(["2", "1", "4"]);
    expect(await names([name, m("=~", "env", "prod")])).toEqual(["1"]);
    expect(await names([name, m("=~", "env", "prod.*")])).toEqual(["1", "4"]);
    expect(await names([name, m("=~", "env", "prod|")])).toEqual(["1", "3"]);
    expect(await names([name, m("!~", "env", "prod.*")])).toEqual(["2", "3"]);
    expect(await names([name, m("!~", "env", ".+")])).toEqual(["3"]);
    expect(await names([m("=~", "env", ".*")])).toEqual(["2", "1", "4", "3"]);
    expect(await names([m("=", "nope", "")])).toEqual(["2", "1", "4", "3"]);
    const q = db.querier(0, 10);
    // Series come sorted by labels: those with env (dev < prod < production) before the one without.
    expect((await q.labelNames()).values).toEqual(["__name__", "env", "id"]);
    expect((await q.labelValues("env")).values).toEqual(["dev", "prod", "production"]);
    expect((await q.labelValues("id", [m("=~", "env", "prod.*")])).values).toEqual(["1", "4"]);
    expect((await q.labelNames([m("=", "id", "3")])).values).toEqual(["__name__", "id"]);
  });

  test("many samples cross chunk boundaries and read back exactly", async () => {
    const s = L({ __name__: "big" });
    const app = db.appender();
    for (let i = 0; i < 1000; i++) app.append(s, i * 15000 + (i % 7), i * 0.1);
    await app.commit();
    const res = await db.querier(0, 1e12).select([new Matcher("=", "__name__", "big")]);
    const got = res.series[0]!;
    expect(got.timestamps.length).toBe(1000);
    for (let i = 0; i < 1000; i++) {
      expect(got.timestamps[i]).toBe(i * 15000 + (i % 7));
      expect(got.values[i]).toBe(i * 0.1);
    }
    expect(db.stats().headChunks).toBeGreaterThanOrEqual(9);
    const st = db.status(10);
    expect(st.headStats.numSeries).toBe(1);
    expect(st.seriesCountByMetricName).toEqual([{ name: "big", value: 1 }]);
  });

  test("series whose label hashes collide stay distinct", async () => {
    // Found by brute force: both label sets have the same 32-bit series-table hash.
    const a = L({ __name__: "collide", i: "372018" });
    const b = L({ __name__: "collide", i: "1189620" });
    expect(hashLabels(a)).toBe(hashLabels(b));
    let app = db.appender();
    app.append(a, 1000, 1);
    app.append(b, 1000, 2);
    await app.commit();
    // Fresh label objects (no identity cache) must find the right series.
    app = db.appender();
    app.append(L({ __name__: "collide", i: "1189620" }), 2000, 20);
    app.append(L({ __name__: "collide", i: "372018" }), 2000, 10);
    await app.commit();
    const res = await db.querier(0, 1e4).select([new Matcher("=", "__name__", "collide")]);
    expect(res.series.map((s) => [s.labels[1]!.value, [...s.values]])).toEqual([
      ["1189620", [2, 20]],
      ["372018", [1, 10]],
    ]);
    expect(db.stats().headSeries).toBe(2);
    // And after a WAL replay.
    await db.close();
    db = await openTSDB({ dir });
    const again = await db.querier(0, 1e4).select([new Matcher("=", "__name__", "collide")]);
    expect(again.series.map((s) => [s.labels[1]!.value, [...s.values]])).toEqual([
      ["1189620", [2, 20]],
      ["372018", [1, 10]],
    ]);
  });

  test("property: any appended sequence reads back bit-exact across sealed and open chunks", async () => {
    const { Head } = await import("../../src/storage/head.ts");
    const fc = (await import("fast-check")).default;
    const { STALE_NAN_HI, STALE_NAN_LO } = await import("../../src/model/index.ts");
    const word = fc.integer({ min: 0, max: 0xffffffff });
    const value = fc.oneof(
      fc.tuple(word, word),
      fc.double().map((d) => {
        const w = new Uint32Array(new Float64Array([d]).buffer);
        return [w[1]!, w[0]!] as [number, number];
      }),
      fc.integer({ min: -5000, max: 5000 }).map((i) => {
        const w = new Uint32Array(new Float64Array([i / 10]).buffer);
        return [w[1]!, w[0]!] as [number, number];
      }),
      fc.constant([STALE_NAN_HI, STALE_NAN_LO] as [number, number]),
    );
    const step = fc.oneof(fc.integer({ min: 14_990, max: 15_010 }), fc.integer({ min: 1, max: 3_000_000 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(step, value), { minLength: 1, maxLength: 700, size: "max" }), (steps) => {
        const head = new Head({ chunkRange: 7_200_000 });
        const s = head.getOrCreate(L({ __name__: "p" }));
        let t = 1_700_000_000_000;
        const ts: number[] = [];
        for (const [d, [hi, lo]] of steps) {
          t += d;
          ts.push(t);
          head.appendCommitted(s, t, hi, lo);
        }
        const r = head.readSamples(s, -Infinity, Infinity)!;
        expect([...r.timestamps]).toEqual(ts);
        const w = new Uint32Array(r.values.buffer, r.values.byteOffset, r.values.length * 2);
        steps.forEach(([, [hi, lo]], i) => {
          expect(w[2 * i + 1]).toBe(hi);
          expect(w[2 * i]).toBe(lo);
        });
        // A window in the middle.
        const a = ts[Math.floor(ts.length / 3)]!;
        const b = ts[Math.floor((2 * ts.length) / 3)]!;
        const mid = head.readSamples(s, a, b)!;
        expect([...mid.timestamps]).toEqual(ts.filter((x) => x >= a && x <= b));
      }),
      { numRuns: 60 },
    );
  });
});
