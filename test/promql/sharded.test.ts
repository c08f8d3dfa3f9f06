/**
 * Aggregation pushdown in the engine (Queryable.evalSharded): over randomized data and
 * randomized queries, an engine that gets per-shard aggregates from the storage and merges them
 * gives the answer it gives reading every raw series itself. Shards here are one TSDB's series
 * split by their ring hash (what a cluster member serves), each evaluated by the engine's
 * evalShard; the storage may also answer only the first steps (the rest then come raw).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fuzzParams } from "../fuzz/budget.ts";
import { labelsHash32, type Queryable, type SelectHints, type ShardedEvalAnswer, type ShardVectors } from "../../src/model/index.ts";
import { Engine } from "../../src/promql/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { expectSameAnswer, fill, MIN, queryArb } from "./sharded-cases.ts";

/** `db` split into `shards` by series hash, each shard evaluated by `engine`; answers `answerSteps` of the steps (all when ≥ the count). */
function sharded(db: TSDB, engine: Engine, shards: number, answerSteps: number, asked: string[]): Queryable {
  const shardOf = (i: number): Queryable => ({
    querier(mint, maxt) {
      const q = db.querier(mint, maxt);
      return {
        select: async (ms, hints?: SelectHints) => {
          const set = await q.select(ms, hints);
          return { series: set.series.filter((s) => labelsHash32(s.labels) % shards === i), warnings: set.warnings };
        },
        labelNames: (ms) => q.labelNames(ms),
        labelValues: (n, ms) => q.labelValues(n, ms),
        close: () => q.close(),
      };
    },
  });
  return {
    querier: (mint, maxt) => db.querier(mint, maxt),
    async evalSharded(req): Promise<ShardedEvalAnswer | null> {
      asked.push(...req.exprs);
      const n = req.step > 0 ? Math.floor((req.end - req.start) / req.step) + 1 : 1;
      const k = Math.min(n, answerSteps);
      const end = req.step > 0 ? req.start + (k - 1) * req.step : req.start;
      const parts: ShardVectors[] = [];
      for (let i = 0; i < shards; i++) parts.push(await engine.evalShard(shardOf(i), { ...req, end }));
      return { steps: k, shards: parts, warnings: [], members: [] };
    },
  };
}

describe("aggregation pushdown in the engine", () => {
  test("per-shard aggregates merged equal the single-node answer (randomized data and queries)", async () => {
    const engine = new Engine();
    let pushed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 4, max: 30 }),
        fc.integer({ min: 2, max: 4 }),
        fc.array(queryArb, { minLength: 4, maxLength: 4 }),
        fc.record({
          start: fc.integer({ min: 5, max: 38 }),
          len: fc.integer({ min: 0, max: 20 }),
          step: fc.constantFrom(15_000, 30_000, 60_000, 47_000),
          instant: fc.boolean(),
          answerSteps: fc.constantFrom(1, 2, 5, 1000),
        }),
        async (seed, seriesCount, shards, queries, when) => {
          const dir = tempDir("sharded-prop");
          const db = await openTSDB({ dir });
          try {
            await fill(db, seed, seriesCount);
            const start = when.start * MIN;
            for (const q of queries) {
              const asked: string[] = [];
              const viaShards = sharded(db, engine, shards, when.answerSteps, asked);
              const run = (qb: Queryable) =>
                when.instant ? engine.instantQuery(qb, q.query, start) : engine.rangeQuery(qb, q.query, start, start + when.len * MIN, when.step);
              const want = await run(db);
              const got = await run(viaShards);
              expectSameAnswer(got, want, q.op === "topk" || q.op === "bottomk", q.query);
              // A shardable aggregation went through the shards; the others never did.
              expect(asked.length > 0).toBe(q.shardable);
              expect((got.stats.pushdown?.length ?? 0) > 0).toBe(q.shardable);
              if (q.shardable) pushed++;
            }
          } finally {
            await db.close();
            removeTempDir(dir);
          }
        },
      ),
      fuzzParams(150),
    );
    expect(pushed).toBeGreaterThan(300);
  }, 120_000);

  test("a storage that declines gets raw selects, and the answer is the same", async () => {
    const dir = tempDir("sharded-decline");
    const db = await openTSDB({ dir });
    try {
      await fill(db, 7, 10);
      const engine = new Engine();
      let selects = 0;
      const declining: Queryable = {
        querier: (mint, maxt) => {
          const q = db.querier(mint, maxt);
          return { ...q, select: (ms, h) => (selects++, q.select(ms, h)), labelNames: (m) => q.labelNames(m), labelValues: (n, m) => q.labelValues(n, m), close: () => q.close() };
        },
        evalSharded: async () => null,
      };
      const query = "sum by (job) (rate(req_total[5m]))";
      const got = await engine.rangeQuery(declining, query, 10 * MIN, 30 * MIN, MIN);
      expect(selects).toBe(1);
      expect(got.stats.pushdown).toBeUndefined();
      expectSameAnswer(got, await engine.rangeQuery(db, query, 10 * MIN, 30 * MIN, MIN), false, query);
    } finally {
      await db.close();
      removeTempDir(dir);
    }
  });
});
