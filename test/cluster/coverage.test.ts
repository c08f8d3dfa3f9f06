/**
 * Query coverage after membership turned over (found by the chaos test, seed 2026): a member
 * that died, whose ranges the survivors re-replicated, must stop counting for query coverage.
 * Otherwise, once every member that saw it die has left, the members created after the death
 * are all excluded from the coverage ring (they cannot hold data written before they existed)
 * and every query warns that 100% of the ring is unavailable, although the data is complete.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { clusterArgs, clusterPort, clusterStatus, dumpLogs, getJSON, kill, removeDirs, startNode, stopAll, stopNode, uniqueClusterName } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { diff, GroundTruth, queryRaw, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface Replication {
  unavailableFraction: number;
  underReplicatedFraction: number;
}

async function replication(node: Parameters<typeof clusterStatus>[0]): Promise<Replication> {
  return (await getJSON<{ data: { replication: Replication } }>(node, "/api/v1/status/cluster")).data.replication;
}

test("a dead member whose ranges were re-replicated stops counting for coverage, also on members created after its death", async () => {
  const name = uniqueClusterName("coverage");
  const r2 = "--cluster.replication-factor=2";
  const a = await startNode("a", clusterArgs(name, [r2]));
  const join = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const b = await startNode("b", clusterArgs(name, [r2, join]));
  const c = await startNode("c", clusterArgs(name, [r2, join]));
  const nodes = [a, b, c];
  try {
    await waitFor("3 active members", async () => (await clusterStatus(a)).members.filter((m) => m.state === "active" && m.health === "alive").length === 3, { timeoutMs: 30_000 });
    const truth = new GroundTruth();
    const startMs = Date.now() - 60_000;
    let rounds = 0;
    await writeContinuously({ metric: "coverage_test", seriesCount: 20, targets: () => [a, b, c], until: () => rounds++ >= 20, truth, startMs });

    kill(c);
    // The survivors see c die, re-replicate its ranges, then no longer count it.
    await waitFor("c dead on a", async () => (await clusterStatus(a)).members.find((m) => m.name === "c")?.health === "dead", { timeoutMs: 15_000 });
    await waitFor("a no longer counts c for coverage", async () => a.log.some((l) => l.includes("no longer counts for query coverage")), { timeoutMs: 30_000 });

    // Members created after c's death join; then every member that saw c die leaves.
    const d = await startNode("d", clusterArgs(name, [r2, join]));
    const e = await startNode("e", clusterArgs(name, [r2, join]));
    nodes.push(d, e);
    const allActive = async () => {
      const s = await clusterStatus(a);
      return ["d", "e"].every((n) => s.members.some((m) => m.name === n && m.state === "active" && m.health === "alive"));
    };
    await waitFor("d and e active", allActive, { timeoutMs: 60_000 });
    expect(await stopNode(a)).toBe(0);
    expect(await stopNode(b)).toBe(0);

    await waitFor("d and e see a and b gone", async () => (await clusterStatus(d)).members.filter((m) => m.health === "alive").length === 2, { timeoutMs: 30_000 });
    for (const n of [d, e]) {
      await waitFor(`${n.name}: no unavailable ranges`, async () => (await replication(n)).unavailableFraction === 0, { timeoutMs: 20_000 });
      const got = await queryRaw(n, "coverage_test", startMs, truth.maxT());
      expect(got.warnings).toEqual([]);
      expect(diff(truth, got)).toEqual([]);
    }
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 150_000);

