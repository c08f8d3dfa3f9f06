/**
 * Aggregation pushdown through real cluster members (in process, talking libp2p): a 3-member
 * cluster at R=2, so the member a query comes through serves about two thirds of the ring and
 * another member the rest. Over randomized data written through the distributor and randomized
 * queries, answers through a member equal the single-node engine's over the same data, with
 * every replica holding the samples and none of them counted twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Engine } from "../../src/promql/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { startInProcessCluster, type InProcessCluster } from "../contract/cluster-members.ts";
import { expectSameAnswer, fill, MIN, queryArb } from "../promql/sharded-cases.ts";

/** The query restricted to one data set (label `ds`), so that runs share the cluster. */
function forDataset(query: string, ds: string): string {
  return query.replace(/\b(req_total|temp)\b/g, `$1{ds="${ds}"}`).replace('{job=~".+"}', `{job=~".+",ds="${ds}"}`);
}

describe("aggregation pushdown across cluster members", () => {
  let cluster: InProcessCluster;
  let single: TSDB;
  let dir = "";
  const engine = new Engine();
  beforeAll(async () => {
    cluster = await startInProcessCluster(3, 2, { shardEvaluator: (q, req, signal) => engine.evalShard(q, req, signal) });
    dir = tempDir("pushdown-single");
    single = await openTSDB({ dir });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await single?.close();
    removeTempDir(dir);
  });

  test("answers through a member equal the single-node answer (randomized data and queries)", async () => {
    // Samples an hour old: older than any write still in flight, so every step can be pushed.
    const base = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    const coordinator = cluster.members[1]!.cluster;
    let run = 0;
    let pushedAcross = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 6, max: 30 }),
        fc.array(queryArb, { minLength: 4, maxLength: 4 }),
        fc.record({ start: fc.integer({ min: 5, max: 38 }), len: fc.integer({ min: 0, max: 20 }), step: fc.constantFrom(15_000, 60_000, 47_000), instant: fc.boolean() }),
        async (seed, seriesCount, queries, when) => {
          const ds = `r${run++}`;
          await fill(cluster.members[0]!.cluster.appendable, seed, seriesCount, { ds }, base);
          await fill(single, seed, seriesCount, { ds }, base);
          const start = base + when.start * MIN;
          for (const q of queries) {
            const query = forDataset(q.query, ds);
            const ask = (on: typeof single | typeof coordinator.queryable) =>
              when.instant ? engine.instantQuery(on, query, start) : engine.rangeQuery(on, query, start, start + when.len * MIN, when.step);
            const want = await ask(single);
            const got = await ask(coordinator.queryable);
            expectSameAnswer(got, want, q.op === "topk" || q.op === "bottomk", query);
            expect(got.warnings.filter((w) => w.startsWith("cluster:"))).toEqual([]);
            if (!q.shardable) expect(got.stats.pushdown).toBeUndefined();
            else {
              // This member evaluated its share and at least one other member the rest.
              const members = got.stats.pushdown?.[0]?.members.map((m) => m.member) ?? [];
              expect(members).toContain("m1");
              expect(members.length).toBeGreaterThanOrEqual(2);
              pushedAcross++;
            }
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(pushedAcross).toBeGreaterThan(40);
  }, 240_000);
});
