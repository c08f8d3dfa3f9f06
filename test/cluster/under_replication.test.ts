/**
 * Under-replication through every door of real processes: three nodes at R=3, one SIGKILLed.
 * The two survivors place two copies of everything — fewer than configured — and /metrics,
 * /api/v1/status/cluster and `shoal cluster status` all say so; once the node is back on its
 * data directory, all three say every range has its three copies again.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { waitFor } from "../support/index.ts";
import { dumpLogs, getJSON, kill, removeDirs, runCli, startCluster, startNode, stopAll, type TestNode } from "./harness.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface Replication {
  healthy: boolean;
  targetReplicas: number;
  minLiveReplicas: number;
  underReplicatedRanges: number;
  underReplicatedFraction: number;
}

async function replication(n: TestNode): Promise<Replication> {
  return (await getJSON<{ data: { replication: Replication } }>(n, "/api/v1/status/cluster")).data.replication;
}

/** The value of an unlabelled gauge on the node's /metrics. */
async function gauge(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} not on ${n.name}'s /metrics`);
  return Number(line.split(" ")[1]);
}

test("a dead member of three at R=3 leaves the cluster under-replicated on the metrics, the status API and `shoal cluster status`, until it is back", async () => {
  const nodes: TestNode[] = [];
  try {
    await startCluster("underrep", 3, ["--cluster.replication-factor=3"], nodes);
    const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    await waitFor("every member sees all copies live", async () => {
      for (const n of nodes) if (!(await replication(n)).healthy) return false;
      return true;
    }, { timeoutMs: 30_000 });
    expect(await gauge(n1, "shoal_cluster_ranges_under_replicated")).toBe(0);
    expect(await gauge(n1, "shoal_cluster_replication_factor")).toBe(3);

    kill(n3);
    await waitFor("the survivors hold n3 dead", async () => {
      for (const n of [n1, n2]) {
        const s = await getJSON<{ data: { members: { name: string; health: string }[] } }>(n, "/api/v1/status/cluster");
        if (s.data.members.find((m) => m.name === "n3")?.health !== "dead") return false;
      }
      return true;
    }, { timeoutMs: 15_000 });
    for (const n of [n1, n2]) {
      const r = await replication(n);
      expect({ node: n.name, healthy: r.healthy, target: r.targetReplicas, fewest: r.minLiveReplicas }).toEqual({ node: n.name, healthy: false, target: 3, fewest: 2 });
      expect(r.underReplicatedFraction).toBeCloseTo(1, 6);
      expect(r.underReplicatedRanges).toBeGreaterThan(0);
      expect(await gauge(n, "shoal_cluster_ranges_under_replicated")).toBe(r.underReplicatedRanges);
      expect(await gauge(n, "shoal_cluster_replication_factor")).toBe(3);
      expect(await gauge(n, "shoal_cluster_effective_replication_factor")).toBe(2);
    }
    const cli = await runCli(["cluster", "status", `--url=${n1.url}`]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("replication: UNDER-REPLICATED");
    expect(cli.stdout).toContain("fewer than 3 live replicas (fewest: 2)");
    expect(cli.stdout).not.toContain("every range has all its");

    const back = await startNode("n3", n3.args, { dataDir: n3.dataDir, port: n3.port });
    nodes[2] = back;
    await waitFor("every member sees all copies live again", async () => {
      for (const n of nodes) if (!(await replication(n)).healthy) return false;
      return true;
    }, { timeoutMs: 60_000 });
    for (const n of nodes) expect(await gauge(n, "shoal_cluster_ranges_under_replicated")).toBe(0);
    const again = await runCli(["cluster", "status", `--url=${n1.url}`]);
    expect(again.stdout).toContain("replication: every range has all its 3 replicas");
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 180_000);
