/**
 * The write and read paths with real nodes: continuous remote write to random nodes with a
 * ground truth of acknowledged samples; a SIGKILLed replica at R=3 (writes keep succeeding,
 * queries stay complete, its hinted-handoff backlog drains when it returns); a partial-result
 * warning when no replica of part of the ring is left (R=1).
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import {
  aliveMembers,
  clusterArgs,
  clusterPort,
  clusterStatus,
  dumpLogs,
  kill,
  removeDirs,
  runCli,
  startNode,
  stopAll,
  stopNode,
  uniqueClusterName,
  waitFor,
  type TestNode,
} from "./harness.ts";
import { diff, GroundTruth, queryRaw, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

async function startCluster(n: number, name: string, extra: string[] = []): Promise<TestNode[]> {
  const first = await startNode("n1", clusterArgs(name, extra));
  const port = await clusterPort(first);
  const rest = await Promise.all(
    Array.from({ length: n - 1 }, (_, i) => startNode(`n${i + 2}`, clusterArgs(name, [...extra, `--cluster.join=127.0.0.1:${port}`]))),
  );
  const nodes = [first, ...rest];
  const names = nodes.map((x) => x.name).sort().join();
  for (const node of nodes) await waitFor(`${node.name} sees all`, async () => (await aliveMembers(node)).join() === names);
  // Let every node turn active (joining nodes do not own scrape targets, writes are fine).
  await Bun.sleep(500);
  return nodes;
}

async function metricValue(node: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name + " ") || line.startsWith(name + "{")) sum += Number(line.split(" ").pop());
  return sum;
}

test("R=3: a SIGKILLed node does not stop writes nor make queries incomplete; its hints drain when it returns", async () => {
  const name = uniqueClusterName("kill");
  const nodes = await startCluster(3, name);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const truth = new GroundTruth();
  const startMs = Date.now() - 60_000;
  let killed = false;
  let stop = false;
  const writer = writeContinuously({
    metric: "ht_test",
    seriesCount: 50,
    targets: () => (killed ? [a, b] : nodes),
    until: () => stop,
    truth,
    startMs,
  });
  try {
    await Bun.sleep(1500);
    const beforeKill = truth.acknowledged;
    killed = true;
    kill(c);
    const killedAt = Date.now();
    await waitFor("c dead", async () => (await clusterStatus(a)).members.find((m) => m.name === "n3")?.health === "dead", 10_000);
    const deadAfterMs = Date.now() - killedAt;
    await Bun.sleep(1000);
    stop = true;
    await writer;
    expect(truth.acknowledged).toBeGreaterThan(beforeKill + 200);
    // Live nodes never refused a write: the two remaining replicas are a quorum.
    expect(truth.serverErrors).toEqual([]);
    const endMs = startMs + 100 * (truth.acknowledged / 50 + 1);
    for (const n of [a, b]) {
      const got = await queryRaw(n, "ht_test", startMs, endMs);
      expect(got.warnings).toEqual([]);
      expect(diff(truth, got)).toEqual([]);
    }
    // Batches for c while it was not yet known dead are waiting in hinted handoff.
    const pending = async () => {
      let sum = 0;
      for (const n of [a, b]) for (const m of (await clusterStatus(n)).members) sum += m.hintedHandoff.pendingBatches;
      return sum;
    };
    expect(await pending()).toBeGreaterThan(0);

    const c2 = await startNode("n3", clusterArgs(name), { dir: c.dir });
    await waitFor("c back", async () => (await aliveMembers(a)).join() === "n1,n2,n3", 10_000);
    await waitFor("hinted handoff drained", async () => (await pending()) === 0, 15_000);
    expect((await metricValue(a, "shoal_cluster_hinted_handoff_replayed_batches_total")) + (await metricValue(b, "shoal_cluster_hinted_handoff_replayed_batches_total"))).toBeGreaterThan(0);
    for (const n of [a, b, c2]) {
      const got = await queryRaw(n, "ht_test", startMs, endMs);
      expect(got.warnings).toEqual([]);
      expect(diff(truth, got)).toEqual([]);
    }
    const status = await clusterStatus(c2);
    expect(status.members.find((m) => m.self)!.ringShare).toBeGreaterThan(0.2);

    // c's own storage holds what it had before it died plus what the hints brought it.
    expect(await stopNode(c2)).toBe(0);
    const dump = await runCli(["tsdb", "dump", `--storage.tsdb.path=${c.dir}`, "--match=ht_test"]);
    expect(dump.code).toBe(0);
    const ts = dump.stdout
      .split("\n")
      .filter((l) => l.includes("ht_test"))
      .map((l) => Number(l.split(" ").pop()));
    const lastBeforeKill = startMs + 100 * Math.floor(beforeKill / 50);
    expect(ts.filter((t) => t <= lastBeforeKill).length).toBe(truth.count((t) => t <= lastBeforeKill));
    expect(ts.some((t) => t > lastBeforeKill + 200)).toBe(true);
    console.log(`SIGKILL → dead after ${deadAfterMs} ms; ${truth.acknowledged} samples acknowledged, ${truth.connectionErrors} connection errors retried`);
  } catch (err) {
    stop = true;
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 60_000);

test("R=1: with a member dead, queries carry a partial-result warning naming it", async () => {
  const name = uniqueClusterName("partial");
  const nodes = await startCluster(3, name, ["--cluster.replication-factor=1"]);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const truth = new GroundTruth();
  const startMs = Date.now() - 60_000;
  let rounds = 0;
  await writeContinuously({ metric: "pr_test", seriesCount: 60, targets: () => nodes, until: () => rounds++ >= 5, truth, startMs });
  const endMs = startMs + 1000;
  const full = await queryRaw(a, "pr_test", startMs, endMs);
  expect(full.warnings).toEqual([]);
  expect(diff(truth, full)).toEqual([]);
  kill(c);
  await waitFor("c dead", async () => (await clusterStatus(a)).members.find((m) => m.name === "n3")?.health === "dead", 10_000);
  for (const n of [a, b]) {
    const got = await queryRaw(n, "pr_test", startMs, endMs);
    expect(got.warnings.length).toBe(1);
    expect(got.warnings[0]).toMatch(/^cluster: partial result: no replica answered for \d+\.\d% of the series hash ring \(unavailable members: n3\)/);
    // The series that lived on c alone are the ones missing; nothing else is.
    expect(got.samples.size).toBeLessThan(60);
    expect(got.samples.size).toBeGreaterThan(20);
  }
  // Writes still succeed: the ring re-formed among the live members.
  rounds = 0;
  await writeContinuously({ metric: "pr_test2", seriesCount: 20, targets: () => [a, b], until: () => rounds++ >= 3, truth: new GroundTruth(), startMs });
}, 40_000);
