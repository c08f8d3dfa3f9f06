/**
 * Aggregation pushdown through real cluster members (in process, talking libp2p): a 3-member
 * cluster at R=2, so the member a query comes through serves about two thirds of the ring and
 * another member the rest. Over randomized data written through the distributor and randomized
 * queries, answers through a member equal the single-node engine's over the same data, with
 * every replica holding the samples and none of them counted twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fuzzSeed } from "../fuzz/budget.ts";
import { Engine } from "../../src/promql/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir, waitFor } from "../support/index.ts";
import { startInProcessCluster, type InProcessCluster } from "../contract/cluster-members.ts";
import { expectSameAnswer, fill, MIN, queryArb } from "../promql/sharded-cases.ts";

/** The query restricted to one data set (label `ds`), so that runs share the cluster. */
function forDataset(query: string, ds: string): string {
  return query.replace(/\b(req_total|temp)\b/g, `$1{ds="${ds}"}`).replace('{job=~".+"}', `{job=~".+",ds="${ds}"}`);
}

/**
 * Three in-process members at replication factor R, beside one single-node TSDB that gets the same
 * data, for the tests of the enclosing describe; the engine evaluates the members' shards.
 */
function membersBesideOneNode(R: number): { cluster: InProcessCluster; single: TSDB; engine: Engine } {
  const t = { engine: new Engine() } as { cluster: InProcessCluster; single: TSDB; engine: Engine };
  let dir = "";
  beforeAll(async () => {
    t.cluster = await startInProcessCluster(3, R, { shardEvaluator: (q, req, signal) => t.engine.evalShard(q, req, signal) });
    dir = tempDir(`pushdown-single-r${R}`);
    t.single = await openTSDB({ dir });
  }, 90_000);
  afterAll(async () => {
    await t.cluster?.stop();
    await t.single?.close();
    removeTempDir(dir);
  });
  return t;
}

describe("aggregation pushdown across cluster members", () => {
  const t = membersBesideOneNode(2);

  test("answers through a member equal the single-node answer (randomized data and queries)", async () => {
    // Samples an hour old, written first: a write of old samples that some replica may still
    // lack is read from every replica, so the cases are filled at once and queried once every
    // member's writes have settled (one wait, not one per case). The cases come from a seeded
    // sample, printed for a replay with FUZZ_SEED.
    const base = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    const coordinator = t.cluster.members[1]!.cluster;
    const seed = fuzzSeed();
    console.log(`pushdown cases from seed ${seed} (replay: FUZZ_SEED=${seed})`);
    const cases = fc.sample(
      fc.tuple(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 6, max: 30 }),
        fc.array(queryArb, { minLength: 4, maxLength: 4 }),
        fc.record({ start: fc.integer({ min: 5, max: 38 }), len: fc.integer({ min: 0, max: 20 }), step: fc.constantFrom(15_000, 60_000, 47_000), instant: fc.boolean() }),
      ),
      { numRuns: 25, seed },
    );
    for (const [k, [dataSeed, seriesCount]] of cases.entries()) {
      await fill(t.cluster.members[0]!.cluster.appendable, dataSeed, seriesCount, { ds: `r${k}` }, base);
      await fill(t.single, dataSeed, seriesCount, { ds: `r${k}` }, base);
    }
    await waitFor("the writes to settle on every replica", async () => (await coordinator.fanout.unsettledSpan()).newest < base, { timeoutMs: 30_000 });
    let pushedAcross = 0;
    for (const [k, [, , queries, when]] of cases.entries()) {
      const start = base + when.start * MIN;
      for (const q of queries) {
        const query = forDataset(q.query, `r${k}`);
        const ask = (on: typeof t.single | typeof coordinator.queryable) =>
          when.instant ? t.engine.instantQuery(on, query, start) : t.engine.rangeQuery(on, query, start, start + when.len * MIN, when.step);
        const want = await ask(t.single);
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
    }
    expect(pushedAcross).toBeGreaterThan(40);
  }, 240_000);

  test("a write of old samples that is still settling keeps pushdown away from the steps it touches", async () => {
    const base = Math.floor(Date.now() / MIN) * MIN - 120 * MIN;
    const coordinator = t.cluster.members[1]!.cluster;
    await fill(t.cluster.members[0]!.cluster.appendable, 7, 12, { ds: "late" }, base);
    await fill(t.single, 7, 12, { ds: "late" }, base);
    const query = forDataset("sum by (job) (rate(req_total[5m]))", "late");
    const start = base + 10 * MIN;
    const want = await t.engine.rangeQuery(t.single, query, start, start + 20 * MIN, 60_000);
    const fresh = await t.engine.rangeQuery(coordinator.queryable, query, start, start + 20 * MIN, 60_000);
    expectSameAnswer(fresh, want, false, query);
    expect(fresh.stats.pushdown).toBeUndefined();
    await waitFor("the writes to settle on every replica", async () => (await coordinator.fanout.unsettledSpan()).newest < base, { timeoutMs: 30_000 });
    const settled = await t.engine.rangeQuery(coordinator.queryable, query, start, start + 20 * MIN, 60_000);
    expectSameAnswer(settled, want, false, query);
    expect(settled.stats.pushdown?.[0]?.members.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe("aggregation pushdown with as many members as replicas", () => {
  const t = membersBesideOneNode(3);

  test("this node answers a small aggregation alone and shares a large one among the members", async () => {
    const base = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    const coordinator = t.cluster.members[1]!.cluster;
    await fill(t.cluster.members[0]!.cluster.appendable, 11, 20, { ds: "small" }, base);
    await fill(t.single, 11, 20, { ds: "small" }, base);
    // In parts, so that no one write holds half a million samples.
    for (let part = 0; part < 6; part++) {
      await fill(t.cluster.members[0]!.cluster.appendable, 12 + part, 500, { ds: "large", part: `p${part}` }, base);
      await fill(t.single, 12 + part, 500, { ds: "large", part: `p${part}` }, base);
    }
    await waitFor("the writes to settle on every replica", async () => (await coordinator.fanout.unsettledSpan()).newest < base, { timeoutMs: 30_000 });
    // 20 series × 241 steps: below the work that pays for asking the members.
    const start = base + 5 * MIN;
    const small = forDataset("sum by (job) (rate(req_total[5m]))", "small");
    const gotSmall = await t.engine.rangeQuery(coordinator.queryable, small, start, start + 30 * MIN, 7_500);
    expectSameAnswer(gotSmall, await t.engine.rangeQuery(t.single, small, start, start + 30 * MIN, 7_500), false, small);
    expect(gotSmall.stats.pushdown).toBeUndefined();
    // About 1500 counters (half of 3000 series) × 601 steps: shared among the three members.
    const large = forDataset("sum by (job) (rate(req_total[5m]))", "large");
    const gotLarge = await t.engine.rangeQuery(coordinator.queryable, large, start, start + 30 * MIN, 3_000);
    expectSameAnswer(gotLarge, await t.engine.rangeQuery(t.single, large, start, start + 30 * MIN, 3_000), false, large);
    expect(gotLarge.stats.pushdown?.[0]?.members.map((m) => m.member).sort()).toEqual(["m0", "m1", "m2"]);
  }, 120_000);
});
