/**
 * The contract of `Appendable` and `Queryable` (src/model/storage.ts), as one suite that every
 * implementation runs: the local TSDB and the cluster's distributor + fan-out querier. The PromQL
 * engine, the scraper and remote write know only these interfaces, so whatever one
 * implementation does here the other must do too. Prometheus's storage semantics decide what is
 * right where the interface comments are silent.
 *
 *   runStorageContract("local TSDB", async () => { ...; return { appendable, queryable, close } });
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AppendError,
  compareLabels,
  formatLabels,
  isStaleAt,
  labelsFromRecord,
  Matcher,
  type Appendable,
  type Labels,
  type Queryable,
  type RejectReason,
  type Series,
} from "../../src/model/index.ts";

/** One implementation under test; `close` releases everything `make` opened. */
export interface StorageUnderTest {
  appendable: Appendable;
  queryable: Queryable;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Per-test timeout (default 30 s). */
  timeoutMs?: number;
  /** Timeout of the setup that makes the implementation (default 60 s). */
  setupTimeoutMs?: number;
}

const STALE = Symbol("stale");
type Point = [t: number, v: number | typeof STALE];

const L = (r: Record<string, string>): Labels => labelsFromRecord(r);

/** The refusals of one batch: the reasons, whether the implementation reports them at `append` or at `commit`. */
async function write(db: Appendable, rows: [Labels, number, number | typeof STALE][]): Promise<RejectReason[]> {
  const app = db.appender();
  const refused: RejectReason[] = [];
  for (const [labels, t, v] of rows) {
    try {
      if (v === STALE) app.append(labels, t, 0, true);
      else app.append(labels, t, v);
    } catch (err) {
      if (!(err instanceof AppendError)) throw err;
      refused.push(err.reason);
    }
  }
  try {
    await app.commit();
  } catch (err) {
    if (!(err instanceof AppendError)) throw err;
    refused.push(err.reason);
  }
  return refused;
}

async function select(db: Queryable, matchers: Matcher[], mint = 0, maxt = 1e13): Promise<Series[]> {
  const q = db.querier(mint, maxt);
  try {
    return (await q.select(matchers)).series;
  } finally {
    q.close();
  }
}

function points(s: Series): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < s.timestamps.length; i++) out.push([s.timestamps[i]!, isStaleAt(s.values, i) ? STALE : s.values[i]!]);
  return out;
}

/** Every selected series as `{labels} -> points`, in the order the storage returned them. */
async function contents(db: Queryable, matchers: Matcher[], mint = 0, maxt = 1e13): Promise<[string, Point[]][]> {
  return (await select(db, matchers, mint, maxt)).map((s) => [formatLabels(s.labels), points(s)]);
}

const eq = (name: string, value: string) => new Matcher("=", name, value);
const metric = (name: string) => eq("__name__", name);

export function runStorageContract(name: string, make: () => Promise<StorageUnderTest>, options: ContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 30_000;
  describe(`Appendable/Queryable contract: ${name}`, () => {
    let db: StorageUnderTest;
    beforeAll(async () => {
      db = await make();
    }, options.setupTimeoutMs ?? 60_000);
    afterAll(async () => {
      await db?.close();
    }, options.setupTimeoutMs ?? 60_000);

    // Each test writes its own metric names, so the tests share one storage.

    test(
      "committed samples are visible to a querier opened afterwards",
      async () => {
        const s = L({ __name__: "c_commit", job: "a" });
        expect(await write(db.appendable, [[s, 1000, 1], [s, 2000, 2]])).toEqual([]);
        expect(await contents(db.queryable, [metric("c_commit")])).toEqual([['c_commit{job="a"}', [[1000, 1], [2000, 2]]]]);
        // A complete answer carries no warnings (a cluster warns only when a part of the ring had no replica).
        const q = db.queryable.querier(0, 1e13);
        try {
          expect((await q.select([metric("c_commit")])).warnings).toEqual([]);
          expect((await q.labelValues("job", [metric("c_commit")])).warnings).toEqual([]);
        } finally {
          q.close();
        }
      },
      timeout,
    );

    test(
      "rolled back samples are never visible",
      async () => {
        const app = db.appendable.appender();
        app.append(L({ __name__: "c_rollback" }), 1000, 1);
        app.rollback();
        expect(await contents(db.queryable, [metric("c_rollback")])).toEqual([]);
        // The same series and timestamp can still be written after the rollback.
        expect(await write(db.appendable, [[L({ __name__: "c_rollback" }), 1000, 7]])).toEqual([]);
        expect(await contents(db.queryable, [metric("c_rollback")])).toEqual([["c_rollback", [[1000, 7]]]]);
      },
      timeout,
    );

    describe("selection by matchers", () => {
      // Four series; `env` is missing on one, empty values are never stored (Prometheus drops
      // empty labels), so `env=""` selects the series without it.
      const rows: Record<string, string>[] = [
        { __name__: "c_match", env: "prod", zone: "a" },
        { __name__: "c_match", env: "dev", zone: "b" },
        { __name__: "c_match", env: "prod-eu", zone: "c" },
        { __name__: "c_match", zone: "d" },
      ];
      // The zones of the selected series, as a sorted set (the series order has its own test).
      const zones = async (...ms: Matcher[]) =>
        (await select(db.queryable, [metric("c_match"), ...ms])).map((s) => s.labels.find((l) => l.name === "zone")!.value).sort();
      beforeAll(async () => {
        expect(await write(db.appendable, rows.map((r, i) => [L(r), 1000, i] as [Labels, number, number]))).toEqual([]);
      }, timeout);

      test("= and !=", async () => {
        expect(await zones(eq("env", "prod"))).toEqual(["a"]);
        expect(await zones(new Matcher("!=", "env", "prod"))).toEqual(["b", "c", "d"]);
      });
      test("=~ is anchored at both ends, !~ is its complement", async () => {
        expect(await zones(new Matcher("=~", "env", "prod"))).toEqual(["a"]);
        expect(await zones(new Matcher("=~", "env", "prod.*"))).toEqual(["a", "c"]);
        expect(await zones(new Matcher("=~", "env", "dev|prod"))).toEqual(["a", "b"]);
        expect(await zones(new Matcher("!~", "env", "prod.*"))).toEqual(["b", "d"]);
      });
      test("matchers that match the empty string also select series without the label", async () => {
        expect(await zones(eq("env", ""))).toEqual(["d"]);
        expect(await zones(new Matcher("=~", "env", "|dev"))).toEqual(["b", "d"]);
        expect(await zones(new Matcher("=~", "env", ".*"))).toEqual(["a", "b", "c", "d"]);
        expect(await zones(new Matcher("!=", "env", ""))).toEqual(["a", "b", "c"]);
        expect(await zones(new Matcher("=~", "env", ".+"))).toEqual(["a", "b", "c"]);
        expect(await zones(new Matcher("!~", "env", ".+"))).toEqual(["d"]);
        expect(await zones(eq("nosuchlabel", ""))).toEqual(["a", "b", "c", "d"]);
      });
      test("several matchers intersect; a name-only regex selects across metric names", async () => {
        expect(await zones(new Matcher("=~", "env", "prod.*"), new Matcher("!=", "zone", "a"))).toEqual(["c"]);
        const byName = await select(db.queryable, [new Matcher("=~", "__name__", "c_matc."), eq("zone", "b")]);
        expect(byName.map((s) => formatLabels(s.labels))).toEqual(['c_match{env="dev", zone="b"}']);
        expect(await zones(eq("env", "nope"))).toEqual([]);
      });
    });

    describe("label names and values", () => {
      beforeAll(async () => {
        expect(
          await write(db.appendable, [
            [L({ __name__: "c_labels", early: "x", shared: "one" }), 10_000, 1],
            [L({ __name__: "c_labels", late: "y", shared: "two" }), 50_000, 1],
          ]),
        ).toEqual([]);
      }, timeout);

      test("labelNames and labelValues are sorted and filtered by matchers", async () => {
        const q = db.queryable.querier(0, 1e13);
        try {
          expect((await q.labelNames([metric("c_labels")])).values).toEqual(["__name__", "early", "late", "shared"]);
          expect((await q.labelNames([metric("c_labels"), eq("shared", "two")])).values).toEqual(["__name__", "late", "shared"]);
          expect((await q.labelValues("shared", [metric("c_labels")])).values).toEqual(["one", "two"]);
          expect((await q.labelValues("shared", [metric("c_labels"), new Matcher("=~", "late", ".+")])).values).toEqual(["two"]);
          expect((await q.labelValues("nosuchlabel", [metric("c_labels")])).values).toEqual([]);
          const all = (await q.labelValues("__name__")).values;
          expect(all).toContain("c_labels");
          expect(all).toEqual([...all].sort());
        } finally {
          q.close();
        }
      });

      test("a querier whose time range holds no samples of the matched series knows no labels", async () => {
        // Prometheus answers label queries per block and from the whole head when the range
        // overlaps it; a range outside every sample of the matched series finds nothing.
        const q = db.queryable.querier(1e12, 1e12 + 1000);
        try {
          expect((await q.labelNames([metric("c_labels")])).values).toEqual([]);
          expect((await q.labelValues("shared", [metric("c_labels")])).values).toEqual([]);
        } finally {
          q.close();
        }
      });
    });

    test(
      "mint and maxt are both inclusive",
      async () => {
        const s = L({ __name__: "c_bounds" });
        expect(await write(db.appendable, [1000, 2000, 3000, 4000, 5000].map((t) => [s, t, t / 1000] as [Labels, number, number]))).toEqual([]);
        expect(await contents(db.queryable, [metric("c_bounds")], 2000, 4000)).toEqual([["c_bounds", [[2000, 2], [3000, 3], [4000, 4]]]]);
        expect(await contents(db.queryable, [metric("c_bounds")], 2001, 3999)).toEqual([["c_bounds", [[3000, 3]]]]);
        expect(await contents(db.queryable, [metric("c_bounds")], 5000, 5000)).toEqual([["c_bounds", [[5000, 5]]]]);
        // No sample in the range: the series is not selected at all.
        expect(await contents(db.queryable, [metric("c_bounds")], 5001, 9000)).toEqual([]);
      },
      timeout,
    );

    test(
      "a duplicate timestamp with the same value is accepted and kept once",
      async () => {
        const s = L({ __name__: "c_dup_same" });
        expect(await write(db.appendable, [[s, 1000, 1], [s, 2000, 2]])).toEqual([]);
        expect(await write(db.appendable, [[s, 2000, 2]])).toEqual([]);
        expect(await contents(db.queryable, [metric("c_dup_same")])).toEqual([["c_dup_same", [[1000, 1], [2000, 2]]]]);
      },
      timeout,
    );

    test(
      "a duplicate timestamp with another value is refused as `duplicate`; the rest of the batch is stored",
      async () => {
        const s = L({ __name__: "c_dup_other" });
        const other = L({ __name__: "c_dup_other", k: "ok" });
        expect(await write(db.appendable, [[s, 1000, 1]])).toEqual([]);
        expect(await write(db.appendable, [[s, 1000, 5], [other, 1000, 3]])).toEqual(["duplicate"]);
        expect(await contents(db.queryable, [metric("c_dup_other")])).toEqual([
          ["c_dup_other", [[1000, 1]]],
          ['c_dup_other{k="ok"}', [[1000, 3]]],
        ]);
      },
      timeout,
    );

    test(
      "a sample older than the series' newest is refused as `out_of_order` and not stored",
      async () => {
        const s = L({ __name__: "c_ooo" });
        expect(await write(db.appendable, [[s, 5000, 5]])).toEqual([]);
        expect(await write(db.appendable, [[s, 4000, 4]])).toEqual(["out_of_order"]);
        expect(await contents(db.queryable, [metric("c_ooo")])).toEqual([["c_ooo", [[5000, 5]]]]);
      },
      timeout,
    );

    test(
      "staleness markers round-trip as markers, distinct from a written NaN",
      async () => {
        const s = L({ __name__: "c_stale" });
        expect(await write(db.appendable, [[s, 1000, 1], [s, 2000, STALE], [s, 3000, Number.NaN], [s, 4000, 4]])).toEqual([]);
        const got = await contents(db.queryable, [metric("c_stale")]);
        expect(got).toHaveLength(1);
        const [, pts] = got[0]!;
        expect(pts.map(([t]) => t)).toEqual([1000, 2000, 3000, 4000]);
        expect(pts[1]![1]).toBe(STALE);
        expect(pts[2]![1]).not.toBe(STALE);
        expect(Number.isNaN(pts[2]![1])).toBe(true);
      },
      timeout,
    );

    test(
      "many series: every one returned once, sorted by labels, with its own samples",
      async () => {
        const N = 3000;
        const rows: [Labels, number, number][] = [];
        for (let i = 0; i < N; i++) {
          // Label values chosen so that string order differs from numeric order.
          const labels = L({ __name__: "c_many", instance: `host-${(i * 7919) % N}`, shard: String(i % 13) });
          rows.push([labels, 1000, i], [labels, 2000, i + 0.5]);
        }
        expect(await write(db.appendable, rows)).toEqual([]);
        const got = await select(db.queryable, [metric("c_many")]);
        expect(got).toHaveLength(N);
        for (let i = 1; i < got.length; i++) expect(compareLabels(got[i - 1]!.labels, got[i]!.labels)).toBeLessThan(0);
        const want = new Map(rows.filter((_, k) => k % 2 === 0).map(([l, , v]) => [formatLabels(l), v]));
        for (const s of got) {
          const v = want.get(formatLabels(s.labels));
          expect(points(s)).toEqual([[1000, v!], [2000, v! + 0.5]]);
        }
      },
      timeout,
    );

    test(
      "series from several metric names come back in label order",
      async () => {
        const names = ["c_sort_b", "c_sort_a", "c_sort_c"];
        expect(await write(db.appendable, names.flatMap((n) => [[L({ __name__: n, x: "2" }), 1000, 1], [L({ __name__: n, x: "10" }), 1000, 1]] as [Labels, number, number][]))).toEqual([]);
        const got = (await select(db.queryable, [new Matcher("=~", "__name__", "c_sort_.")])).map((s) => formatLabels(s.labels));
        expect(got).toEqual(['c_sort_a{x="10"}', 'c_sort_a{x="2"}', 'c_sort_b{x="10"}', 'c_sort_b{x="2"}', 'c_sort_c{x="10"}', 'c_sort_c{x="2"}']);
      },
      timeout,
    );
  });
}
