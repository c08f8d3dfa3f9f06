/**
 * The write and read paths with real nodes: continuous remote write to random nodes with a
 * ground truth of acknowledged samples; a SIGKILLed replica at R=3 (writes keep succeeding,
 * queries stay complete, its hinted-handoff backlog drains when it returns); a partial-result
 * warning when no replica of part of the ring is left (R=1).
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { aliveMembers, clusterArgs, clusterPort, clusterStatus, dumpLogs, kill, removeDirs, runCli, startNode, stopAll, stopNode, uniqueClusterName, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
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
  // Every node active in every node's view: while one is joining, writes also go to the ranges'
  // previous owners (which keep them until the drop grace), and the placement tests below
  // count on each series being on its owners only.
  for (const node of nodes) {
    await waitFor(`${node.name} sees all active`, async () => (await clusterStatus(node)).members.every((m) => m.state === "active"), { timeoutMs: 15_000 });
  }
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
  // Any one node may die, the one the others joined through included.
  const victim = Math.floor(Math.random() * 3);
  const [a, b, c] = [...nodes.filter((_, i) => i !== victim), nodes[victim]] as [TestNode, TestNode, TestNode];
  const truth = new GroundTruth();
  const startMs = Date.now() - 60_000;
  let current: TestNode[] = [a, b, c];
  let stop = false;
  const writer = writeContinuously({
    metric: "ht_test",
    seriesCount: 50,
    targets: () => current,
    until: () => stop,
    truth,
    startMs,
  });
  try {
    await Bun.sleep(1500);
    const beforeKill = truth.acknowledged;
    current = [a, b];
    kill(c);
    const killedAt = Date.now();
    // Until c is declared dead (2 s) writes for it are kept as hints: remember where 1.5 s is.
    await Bun.sleep(1500);
    const roundsAtHintEnd = truth.acknowledged / 50;
    await waitFor("c dead", async () => (await clusterStatus(a)).members.find((m) => m.name === c.name)?.health === "dead", { timeoutMs: 10_000 });
    const deadAfterMs = Date.now() - killedAt;
    await Bun.sleep(1000);
    // Batches for c while it was not yet known dead are waiting in hinted handoff.
    const pending = async () => {
      let sum = 0;
      for (const n of [a, b]) for (const m of (await clusterStatus(n)).members) sum += m.hintedHandoff.pendingBatches;
      return sum;
    };
    expect(await pending()).toBeGreaterThan(0);
    // Live nodes never refused a write: the two remaining replicas are a quorum.
    expect(truth.serverErrors).toEqual([]);
    const check = async (n: TestNode) => {
      const snap = truth.snapshot();
      const got = await queryRaw(n, "ht_test", startMs, snap.maxT() + 60_000);
      expect(got.warnings).toEqual([]);
      expect(diff(snap, got, snap.maxT())).toEqual([]);
    };
    // Queries on the survivors are complete while c is down (writes still going on).
    for (const n of [a, b]) await check(n);

    // c comes back while writes go on: hinted batches and its join pull are backfilled.
    const c2 = await startNode(c.name, clusterArgs(name), { dataDir: c.dataDir });
    nodes.push(c2);
    await waitFor("c back", async () => (await aliveMembers(a)).join() === "n1,n2,n3" && (await aliveMembers(b)).join() === "n1,n2,n3", { timeoutMs: 10_000 });
    // It joins again: takes writes at once, pulls its ranges from the others, then is active.
    await waitFor("c active", async () => (await clusterStatus(c2)).members.find((m) => m.self)!.state === "active", { timeoutMs: 5000 });
    current = [a, b, c2];
    await waitFor("hinted handoff drained", async () => (await pending()) === 0, { timeoutMs: 15_000 });
    await waitFor("everyone sees c active", async () => {
      for (const n of [a, b]) if ((await clusterStatus(n)).members.find((m) => m.name === c.name)?.state !== "active") return false;
      return true;
    });
    const roundsAtReturn = truth.acknowledged / 50;
    await Bun.sleep(1000);
    stop = true;
    await writer;
    expect(truth.serverErrors).toEqual([]);
    expect((await metricValue(a, "shoal_cluster_hinted_handoff_replayed_batches_total")) + (await metricValue(b, "shoal_cluster_hinted_handoff_replayed_batches_total"))).toBeGreaterThan(0);
    for (const n of [a, b, c2]) await check(n);
    // Samples the head refused as out of order and that were not stored through backfill
    // instead: replicas backfill hinted batches and forwarded samples that a newer one overtook
    // between distributors, so none should be lost.
    const outOfOrder =
      (await metricValue(c2, "prometheus_tsdb_out_of_order_samples_total")) - (await metricValue(c2, "shoal_cluster_late_samples_backfilled_total"));
    expect(outOfOrder).toBeLessThanOrEqual(0);
    const status = await clusterStatus(c2);
    expect(status.members.find((m) => m.self)!.ringShare).toBeGreaterThan(0.2);

    // c's own storage: everything from before it died, the hinted batches, and every sample
    // written after it was back.
    expect(await stopNode(c2)).toBe(0);
    const dump = await runCli(["tsdb", "dump", `--storage.tsdb.path=${c.dataDir}`, "--match=ht_test"]);
    expect(dump.code).toBe(0);
    const ts = dump.stdout
      .split("\n")
      .filter((l) => l.includes("ht_test"))
      .map((l) => Number(l.split(" ").pop()));
    const lastBeforeKill = startMs + 100 * Math.floor(beforeKill / 50);
    const firstAfterReturn = startMs + 100 * (Math.ceil(roundsAtReturn) + 3);
    // (The last rounds before the kill may have been acknowledged by the other two replicas
    // while c, their distributor, had not yet stored its own copy.)
    const settledBeforeKill = (t: number) => t <= lastBeforeKill - 300;
    expect(ts.filter(settledBeforeKill).length).toBe(truth.count(settledBeforeKill));
    // Written after the kill and before c was known dead: c got these through hinted handoff.
    const hintedUntil = startMs + 100 * Math.floor(roundsAtHintEnd);
    const hinted = (t: number) => t > lastBeforeKill && t <= hintedUntil;
    expect(truth.count(hinted)).toBeGreaterThan(50);
    expect(ts.filter(hinted).length).toBeGreaterThanOrEqual(truth.count(hinted) - outOfOrder);
    expect(ts.filter(hinted).length).toBeGreaterThan(truth.count(hinted) * 0.8);
    expect(ts.filter((t) => t >= firstAfterReturn).length).toBe(truth.count((t) => t >= firstAfterReturn));
    console.log(
      `SIGKILL of ${c.name} → dead after ${deadAfterMs} ms; ${truth.acknowledged} samples acknowledged, ` +
        `${truth.connectionErrors} connection errors retried; ${truth.count(hinted)} hinted samples, ${outOfOrder} refused by c as out of order`,
    );
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
  // Each node holds about a third of the series (R=1): label values and series come from all.
  const values = async (n: TestNode) =>
    (await (await fetch(`${n.url}/api/v1/label/series/values?match[]=pr_test`)).json()) as { data: string[]; warnings?: string[] };
  const lv = await values(b);
  expect(lv.data.length).toBe(60);
  expect(lv.warnings ?? []).toEqual([]);
  const series = (await (await fetch(`${c.url}/api/v1/series?match[]=pr_test`)).json()) as { data: unknown[] };
  expect(series.data.length).toBe(60);
  kill(c);
  await waitFor("c dead", async () => (await clusterStatus(a)).members.find((m) => m.name === "n3")?.health === "dead", { timeoutMs: 10_000 });
  for (const n of [a, b]) {
    const got = await queryRaw(n, "pr_test", startMs, endMs);
    expect(got.warnings.length).toBe(1);
    expect(got.warnings[0]).toMatch(/^cluster: partial result: no replica answered for \d+\.\d% of the series hash ring \(unavailable members: n3\)/);
    // The series that lived on c alone are the ones missing; nothing else is.
    expect(got.samples.size).toBeLessThan(60);
    expect(got.samples.size).toBeGreaterThan(20);
  }
  const partial = await values(a);
  expect(partial.data.length).toBeLessThan(60);
  expect(partial.warnings?.[0]).toMatch(/^cluster: partial result:/);
  // A new member takes over part of n3's ranges on the ring, but it cannot hold n3's older
  // data: the warning for the old range stays the same.
  const before = (await queryRaw(a, "pr_test", startMs, endMs)).warnings[0]!;
  const d = await startNode("n4", clusterArgs(name, ["--cluster.replication-factor=1", `--cluster.join=127.0.0.1:${await clusterPort(a)}`]));
  await waitFor("n4 active", async () => (await clusterStatus(a)).members.find((m) => m.name === "n4")?.state === "active", { timeoutMs: 10_000 });
  const after = await queryRaw(d, "pr_test", startMs, endMs);
  expect(after.warnings).toEqual([before]);
  // Writes still succeed: the ring re-formed among the live members.
  rounds = 0;
  await writeContinuously({ metric: "pr_test2", seriesCount: 20, targets: () => [a, b], until: () => rounds++ >= 3, truth: new GroundTruth(), startMs });
}, 40_000);

test("R=3: a replica paused past the write timeout catches up in order when it resumes", async () => {
  const name = uniqueClusterName("pause");
  const nodes = await startCluster(3, name);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const truth = new GroundTruth();
  const startMs = Date.now() - 60_000;
  let stop = false;
  const writer = writeContinuously({ metric: "pz_test", seriesCount: 50, targets: () => [a, b], until: () => stop, truth, startMs });
  const roundT = (rounds: number) => startMs + 100 * Math.floor(rounds);
  try {
    await Bun.sleep(800);
    kill(c, "SIGSTOP");
    // 3 s: longer than the write timeout (2 s), so every write that waited in c's sockets is
    // stale when it resumes; the senders keep those for hinted handoff.
    await Bun.sleep(1500);
    // Written up to here (before c is declared dead at 2 s) c must get: stale requests refused,
    // kept and replayed by the senders, or hinted directly once c was suspect.
    const hintedUntil = truth.acknowledged / 50;
    await Bun.sleep(1500);
    kill(c, "SIGCONT");
    // c learns that a and b hold batches for it, takes no writes until it has them, then is active.
    await waitFor("c caught up", async () => {
      const s = await clusterStatus(a);
      const m = s.members.find((x) => x.name === "n3")!;
      return m.health === "alive" && m.state === "active" && s.members.every((x) => x.hintedHandoff.pendingBatches === 0);
    }, { timeoutMs: 15_000, intervalMs: 50 });
    await waitFor("b sees c active", async () => (await clusterStatus(b)).members.find((m) => m.name === "n3")?.state === "active", { timeoutMs: 5000, intervalMs: 50 });
    const activeAt = truth.acknowledged / 50;
    await Bun.sleep(800);
    stop = true;
    await writer;
    expect(truth.serverErrors).toEqual([]);
    const hinted = (await metricValue(a, "shoal_cluster_hinted_handoff_replayed_batches_total")) + (await metricValue(b, "shoal_cluster_hinted_handoff_replayed_batches_total"));
    expect(hinted).toBeGreaterThan(0);
    for (const n of [a, b, c]) {
      const snap = truth.snapshot();
      const got = await queryRaw(n, "pz_test", startMs, snap.maxT() + 60_000);
      expect(got.warnings).toEqual([]);
      expect(diff(snap, got, snap.maxT())).toEqual([]);
    }
    // c's own copy: everything written until it resumed (what it had, what waited in its
    // sockets, what a and b kept for it) and everything after it was active again. Writes while
    // it caught up went to a and b only.
    expect(await stopNode(c)).toBe(0);
    const dump = await runCli(["tsdb", "dump", `--storage.tsdb.path=${c.dataDir}`, "--match=pz_test"]);
    const have = new Set(dump.stdout.split("\n").filter((l) => l.includes("pz_test")).map((l) => l.replace(/ [^ ]+ ([^ ]+)$/, " $1")));
    const missing = (pred: (t: number) => boolean) => {
      let n = 0;
      for (const [id, m] of truth.samples) for (const t of m.keys()) if (pred(t) && !have.has(`{__name__="pz_test", series="${id}"} ${t}`)) n++;
      return n;
    };
    const untilResume = (t: number) => t <= roundT(hintedUntil);
    const afterActive = (t: number) => t >= roundT(activeAt + 3);
    expect(truth.count(untilResume)).toBeGreaterThan(500);
    const lost = missing(untilResume);
    expect(lost).toBe(0);
    expect(missing(afterActive)).toBe(0);
    console.log(`paused replica: ${hinted} hinted batches replayed; c lacks ${lost} of the ${truth.count(untilResume)} samples written before it was declared dead`);
  } catch (err) {
    stop = true;
    kill(c, "SIGCONT");
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 60_000);
