/**
 * The seeded chaos test of issue 6: 5 real nodes at R=3 under continuous remote write, a random
 * schedule of joins, graceful leaves, SIGKILLs, restarts and SIGSTOP/SIGCONT pauses (never more
 * than R−1 nodes down at once), queries on random live nodes that must be complete or carry a
 * warning, and at the end every acknowledged sample exactly once in every node's query results
 * and on exactly R nodes' own data.
 *
 *   CHAOS_SEED=n      replays a run (the seed is printed first)
 *   CHAOS_SECONDS=s   length of the chaos phase (default 110: the test takes about 3 minutes)
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { removeDirs, stopAll, uniqueClusterName } from "./harness.ts";
import { randomSeed } from "./chaos/prng.ts";
import { runChaos } from "./chaos/run.ts";

afterEach(stopAll);
afterAll(removeDirs);

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomSeed();
const seconds = Number(process.env.CHAOS_SECONDS ?? 110);
const settleMs = 120_000;

test(`chaos: seed ${seed}, ${seconds} s`, async () => {
  console.log(`chaos seed ${seed} (replay: CHAOS_SEED=${seed} CHAOS_SECONDS=${seconds} bun test test/cluster/chaos.test.ts)`);
  const result = await runChaos({
    seed,
    seconds,
    clusterName: uniqueClusterName("chaos"),
    settleTimeoutMs: settleMs,
  });
  for (const s of result.stats) console.log(`[chaos ${seed}] ${s}`);
  if (result.failures.length) console.log(`[chaos ${seed}] failures:\n${result.failures.join("\n")}`);
  expect(result.failures).toEqual([]);
}, seconds * 1000 + settleMs + 180_000);
