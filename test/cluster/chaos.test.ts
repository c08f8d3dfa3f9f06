/**
 * The seeded chaos test of issue 6: 5 real nodes at R=3 under continuous remote write, a random
 * schedule of joins, graceful leaves, SIGKILLs, restarts and SIGSTOP/SIGCONT pauses (never more
 * than R−1 nodes down at once), queries on random live nodes that must be complete or carry a
 * warning, and at the end every acknowledged sample exactly once in every node's query results
 * and on exactly R nodes' own data.
 *
 *   CHAOS_SEED=n      replays a run (the seed is printed first; the whole plan comes from it);
 *                     unset: the pinned seed below; CHAOS_SEED=random: a new seed
 *   CHAOS_SECONDS=s   length of the chaos phase (default 180: with start-up, settling and anti-entropy
 *                     catching up with the last writes the test takes about 5 minutes)
 *
 * A longer run: CHAOS_SEED=random CHAOS_SECONDS=600 bun test test/cluster/chaos.test.ts -t "chaos: seed". On
 * failure the schedule, the failures and every node's log are kept in $TMPDIR/shoal-chaos-SEED-*.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { aliveMembers, clusterArgs, clusterPort, removeDirs, startNode, stopAll, uniqueClusterName } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { planSchedule } from "./chaos/plan.ts";
import { randomSeed } from "./chaos/prng.ts";
import { runChaos } from "./chaos/run.ts";
import { diff, GroundTruth, queryRaw, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

// `npm test` (and so CI) replays one reviewed seed, so that a red run points at a change, not
// at the dice; soak runs take a new seed each time with CHAOS_SEED=random.
const PINNED_SEED = 450316010;
const seedEnv = process.env.CHAOS_SEED;
const seed = seedEnv === "random" ? randomSeed() : seedEnv ? Number(seedEnv) : PINNED_SEED;
const seconds = Number(process.env.CHAOS_SECONDS ?? 180);
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
}, seconds * 2000 + settleMs + 240_000);

// Found by the chaos test (seed 11): a node that has just started joining knows no member that
// holds data yet, and answered queries with nothing and no warning.
test("a node queried as soon as it is ready answers completely or with a warning", async () => {
  const name = uniqueClusterName("early");
  const a = await startNode("n1", clusterArgs(name));
  const join = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const b = await startNode("n2", clusterArgs(name, [join]));
  await waitFor("two members", async () => (await aliveMembers(a)).length === 2);
  const truth = new GroundTruth();
  const startMs = Date.now() - 60_000;
  let rounds = 0;
  await writeContinuously({ metric: "early_test", seriesCount: 20, targets: () => [a, b], until: () => rounds++ >= 10, truth, startMs });
  const c = await startNode("n3", clusterArgs(name, [join]));
  let warned = 0;
  let complete = 0;
  for (let i = 0; i < 15; i++) {
    const got = await queryRaw(c, "early_test", startMs, startMs + 5000);
    if (got.warnings.length) warned++;
    else {
      expect(diff(truth, got)).toEqual([]);
      complete++;
    }
    await Bun.sleep(50);
  }
  expect(complete).toBeGreaterThan(0);
  console.log(`queried at once after ready: ${warned} answers with a warning, then ${complete} complete`);
}, 60_000);

test("chaos plans: never more than R−1 nodes down, never fewer than 4 members staying, same seed same plan", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const plan = planSchedule({ seed, seconds: 300, startNodes: 5, replication: 3, membershipChanges: true });
    expect(planSchedule({ seed, seconds: 300, startNodes: 5, replication: 3, membershipChanges: true })).toEqual(plan);
    const state = new Map<string, string>(["c1", "c2", "c3", "c4", "c5"].map((n) => [n, "up"]));
    let last = 0;
    for (const e of plan) {
      expect(e.at).toBeGreaterThanOrEqual(last);
      last = e.at;
      const before = state.get(e.node);
      if (e.kind === "kill" || e.kind === "pause" || e.kind === "leave") expect(before).toBe("up");
      if (e.kind === "restart") expect(before).toBe("killed");
      if (e.kind === "resume") expect(before).toBe("paused");
      if (e.kind === "join") expect(before).toBeUndefined();
      state.set(e.node, { kill: "killed", pause: "paused", leave: "leaving", gone: "left", resume: "up", restart: "up", join: "up" }[e.kind]);
      const v = [...state.values()];
      expect(v.filter((x) => x === "killed" || x === "paused" || x === "leaving").length).toBeLessThanOrEqual(2);
      expect(v.filter((x) => x !== "left" && x !== "leaving").length).toBeGreaterThanOrEqual(4);
    }
    // The plan ends with everyone up.
    expect([...state.values()].every((x) => x === "up" || x === "left")).toBe(true);
  }
});
