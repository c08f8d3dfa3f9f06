/**
 * Hand-off with real processes (issue 6): scale 1 → 3 → 5 under continuous remote write, then
 * 5 → 3 by graceful leaves (one through POST /api/v1/cluster/leave, one through `shoal cluster
 * leave`). At every step, queries on every node equal the acknowledged ground truth and carry no
 * warning; after the drop grace every series is held (each node's own storage, read through
 * /api/v1/cluster/local/series) by exactly its R owners on the ring, with every sample.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { Ring, nodeTokens } from "../../src/cluster/ring.ts";
import { labelsFromRecord, labelsHash32 } from "../../src/model/index.ts";
import { clusterArgs, clusterPort, dumpLogs, getJSON, kill, removeDirs, runCli, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import { diff, GroundTruth, queryRaw, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

const METRIC = "ho_test";
const SERIES = 60;
const R = 3;

interface HandoffStatus {
  state: string;
  underReplicatedRanges: number;
  transfers: { direction: string; reason: string; state: string; done: { series: number; samples: number; bytes: number } }[];
  recent: { direction: string; reason: string; state: string; peerName: string; done: { series: number; samples: number; bytes: number }; total: { series: number; samples: number } }[];
  totals: { bytes: { in: number; out: number }; samples: { in: number; out: number } };
  drop: { droppedSeries: number; lastDropAt: string | null; holdsForeignSeries: boolean | null };
}

interface Status {
  members: { id: string; name: string; state: string; health: string; self: boolean; tokens: number }[];
  handoff: HandoffStatus;
}

async function status(n: TestNode): Promise<Status> {
  return (await getJSON<{ data: Status }>(n, "/api/v1/status/cluster")).data;
}

/** Every node sees exactly `names`, all alive and active. */
async function settled(nodes: TestNode[]): Promise<boolean> {
  const names = nodes.map((n) => n.name).sort().join();
  for (const n of nodes) {
    const s = await status(n);
    if (s.members.map((m) => m.name).sort().join() !== names) return false;
    if (!s.members.every((m) => m.state === "active" && m.health === "alive")) return false;
  }
  return true;
}

/** The node's own copy of every series: series id → timestamps. */
async function localCopy(n: TestNode): Promise<Map<string, Set<number>>> {
  const r = await getJSON<{ data: { series: { metric: Record<string, string>; values: [number, string][] }[] } }>(n, `/api/v1/cluster/local/series?match[]=${METRIC}`);
  const out = new Map<string, Set<number>>();
  for (const s of r.data.series) out.set(s.metric.series!, new Set(s.values.map(([t]) => Math.round(t * 1000))));
  return out;
}

test("scale 1 → 3 → 5 → 3 under writes: queries complete at every step; each series on exactly its R owners", async () => {
  const name = uniqueClusterName("handoff");
  // Failure detection relaxed from the harness's fast timing: the 2-core test machine is shared,
  // and a member taken for dead now and then only slows the test down.
  const extra = [
    "--cluster.handoff.drop-grace=1s",
    `--cluster.replication-factor=${R}`,
    "--cluster.suspect-timeout=3s",
    "--cluster.dead-timeout=6s",
  ];
  const all: TestNode[] = [];
  const truth = new GroundTruth();
  const startMs = Date.now() - 600_000;
  let targets: TestNode[] = [];
  let stop = false;
  let writer: Promise<void> | null = null;
  const checkQueries = async (nodes: TestNode[], step: string) => {
    for (const n of nodes) {
      const snap = truth.snapshot();
      const got = await queryRaw(n, METRIC, startMs, snap.maxT() + 60_000);
      expect({ step, node: n.name, warnings: got.warnings }).toEqual({ step, node: n.name, warnings: [] });
      const d = diff(snap, got, snap.maxT());
      if (d.length > 0) {
        // Where the missing samples are: each live node's own copy of the first differing series.
        const id = /series (s\d+)/.exec(d[0]!)?.[1] ?? "";
        const want = [...(snap.samples.get(id)?.keys() ?? [])];
        const have = got.samples.get(id) ?? new Map<number, number>();
        const lost = want.filter((t) => !have.has(t));
        for (const m of all.filter((x) => x.proc.exitCode === null)) {
          const copy = (await localCopy(m)).get(id);
          const ooo = (await (await fetch(`${m.url}/metrics`)).text()).split("\n").filter((l) => l.startsWith("prometheus_tsdb_out_of_order_samples_total"));
          console.log(`${step}: ${m.name} holds ${id}: ${copy ? copy.size : "no"} samples; lost ${lost.slice(0, 3).join(",")} held: ${lost.map((t) => copy?.has(t)).join(",")}; ${ooo.join(" ")}`);
        }
      }
      expect({ step, node: n.name, diff: d.slice(0, 5) }).toEqual({ step, node: n.name, diff: [] });
    }
  };
  /** Checks queries on every node repeatedly until `until` resolves (joins and leaves in progress). */
  const checkWhile = async <T>(nodes: () => TestNode[], step: string, until: Promise<T>): Promise<{ value: T; checks: number }> => {
    let done = false;
    let value!: T;
    const p = until.then((v) => {
      value = v;
      done = true;
    });
    let checks = 0;
    while (!done) {
      await checkQueries(nodes(), step);
      checks++;
      await Promise.race([p, Bun.sleep(200)]);
    }
    await p;
    return { value, checks };
  };
  try {
    const n1 = await startNode("n1", clusterArgs(name, extra));
    all.push(n1);
    const join = `--cluster.join=127.0.0.1:${await clusterPort(n1)}`;
    targets = [n1];
    writer = writeContinuously({ metric: METRIC, seriesCount: SERIES, targets: () => targets, until: () => stop, truth, startMs, stepMs: 1000 });
    await Bun.sleep(1500);
    await checkQueries([n1], "1 node");

    // 1 → 3: both join at once; queries stay complete on n1 while they pull.
    const [n2, n3] = await Promise.all([startNode("n2", clusterArgs(name, [...extra, join])), startNode("n3", clusterArgs(name, [...extra, join]))]);
    all.push(n2!, n3!);
    const three = [n1, n2!, n3!];
    const j1 = await checkWhile(() => [n1], "joining 1→3", waitFor("3 nodes active", () => settled(three), { timeoutMs: 30_000, intervalMs: 200 }));
    targets = three;
    await Bun.sleep(1000);
    await checkQueries(three, "3 nodes");
    const pulled = (await status(n2!)).handoff.recent.filter((t) => t.direction === "in" && t.reason === "join" && t.state === "done");
    expect(pulled.length).toBeGreaterThan(0);
    expect(pulled.reduce((s, t) => s + t.done.samples, 0)).toBeGreaterThan(0);

    // 3 → 5 while writes go on.
    const [n4, n5] = await Promise.all([startNode("n4", clusterArgs(name, [...extra, join])), startNode("n5", clusterArgs(name, [...extra, join]))]);
    all.push(n4!, n5!);
    const five = [...three, n4!, n5!];
    const j2 = await checkWhile(() => three, "joining 3→5", waitFor("5 nodes active", () => settled(five), { timeoutMs: 30_000, intervalMs: 200 }));
    targets = five;
    await Bun.sleep(1000);
    await checkQueries(five, "5 nodes");

    // Placement at 5 nodes: after the drop grace every series is on exactly its R owners, whole.
    const placementProblems = async (nodes: TestNode[]): Promise<string[]> => {
      const s = await status(nodes[0]!);
      const ring = new Ring(s.members.map((m) => ({ id: m.id, tokens: nodeTokens(m.id, m.tokens) })), R);
      const nameOf = new Map(s.members.map((m) => [m.id, m.name]));
      const snap = truth.snapshot();
      // The newest rounds may still be on their way to their third owner (a quorum acknowledged them).
      const upTo = snap.maxT() - 100_000;
      const copies = new Map<string, Map<string, Set<number>>>();
      for (const n of nodes) copies.set(n.name, await localCopy(n));
      const problems: string[] = [];
      for (const [id, want] of snap.samples) {
        const owners = ring.owners(labelsHash32(labelsFromRecord({ __name__: METRIC, series: id }))).map((o) => nameOf.get(o)!).sort();
        const holders = nodes.filter((n) => copies.get(n.name)!.has(id)).map((n) => n.name).sort();
        if (holders.join() !== owners.join()) problems.push(`${id}: held by ${holders.join(",")}, owners ${owners.join(",")}`);
        for (const o of owners) {
          const have = copies.get(o)?.get(id) ?? new Set<number>();
          let missing = 0;
          for (const t of want.keys()) if (t <= upTo && !have.has(t)) missing++;
          if (missing > 0) problems.push(`${id}: owner ${o} lacks ${missing} of ${want.size} samples`);
        }
      }
      return problems;
    };
    const checkPlacement = async (nodes: TestNode[], step: string) => {
      // Old owners drop what they no longer own after the grace (1 s) and a digest check.
      let problems: string[] = [];
      await waitFor(
        `${step}: each series on exactly its owners`,
        async () => (problems = await placementProblems(nodes)).length === 0,
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch(() => {});
      expect({ step, problems: problems.slice(0, 10) }).toEqual({ step, problems: [] });
    };
    await checkPlacement(five, "5 nodes");
    // Each node says so itself in its status (what a settle wait can watch).
    await waitFor(
      "no node holds series it does not own",
      async () => (await Promise.all(five.map(status))).every((x) => x.handoff.drop.holdsForeignSeries === false),
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const dropped = (await Promise.all(five.map(status))).reduce((s, x) => s + x.handoff.drop.droppedSeries, 0);
    expect(dropped).toBeGreaterThan(0);

    // 5 → 4: graceful leave through the HTTP API; the node exits 0 once its ranges are handed over.
    targets = five.filter((n) => n !== n5);
    await Bun.sleep(300); // writes in flight to n5 finish
    const res = await fetch(`${n5!.url}/api/v1/cluster/leave`, { method: "POST" });
    expect(res.status).toBe(202);
    const four = five.filter((n) => n !== n5);
    const l1 = await checkWhile(() => four, "leaving 5→4", n5!.proc.exited);
    expect(l1.value).toBe(0);
    expect(n5!.log.join("\n")).toContain("left the cluster; every range was handed over");

    // 4 → 3: `shoal cluster leave` follows the hand-off until the node is gone.
    targets = four.filter((n) => n !== n4);
    await Bun.sleep(300);
    const cli = runCli(["cluster", "leave", `--url=${n4!.url}`]);
    const l2 = await checkWhile(() => three, "leaving 4→3", Promise.all([cli, n4!.proc.exited]));
    expect(l2.value[0].code).toBe(0);
    expect(l2.value[0].stdout).toContain("is leaving the cluster");
    expect(l2.value[1]).toBe(0);
    await waitFor("3 nodes settled", () => settled(three), { timeoutMs: 15_000, intervalMs: 200 });
    await Bun.sleep(1000);
    stop = true;
    await writer;
    await checkQueries(three, "3 nodes after leaves");
    await checkPlacement(three, "3 nodes after leaves");
    expect(truth.serverErrors).toEqual([]);
    const leaves = (await Promise.all(three.map(status))).flatMap((s) => s.handoff.recent.filter((t) => t.direction === "in" && t.reason === "leave" && t.state === "done"));
    expect(leaves.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${n1.url}/metrics`)).text();
    expect(metrics).toMatch(/shoal_cluster_handoff_samples_total\{direction="out",reason="join"\} [1-9]/);
    console.log(
      `hand-off: ${truth.acknowledged} samples acknowledged; ${j1.checks + j2.checks + l1.checks + l2.checks} query checks during joins/leaves; ` +
        `${dropped} series dropped after the grace; ${leaves.length} leave transfers received`,
    );
  } catch (err) {
    stop = true;
    console.log(dumpLogs(all));
    console.log(all.map((n) => `${n.name}: exit ${n.proc.exitCode} signal ${n.proc.signalCode}`).join("\n"));
    throw err;
  } finally {
    stop = true;
    await writer?.catch(() => {});
  }
}, 150_000);

test("anti-entropy repairs a replica that missed writes (hints dropped); a SIGKILLed member's ranges get back to R copies", async () => {
  const name = uniqueClusterName("repair");
  const extra = [
    `--cluster.replication-factor=${R}`,
    "--cluster.suspect-timeout=3s",
    "--cluster.dead-timeout=6s",
    // Hinted batches are dropped at once: a replica that misses writes keeps a hole until
    // anti-entropy finds it.
    "--cluster.hinted-handoff.max-bytes=1B",
    "--cluster.handoff.anti-entropy-interval=3s",
    "--cluster.handoff.drop-grace=1h",
  ];
  const nodes: TestNode[] = [];
  const truth = new GroundTruth();
  // Samples well in the past (anti-entropy leaves the newest minute alone: writes in flight).
  const startMs = Date.now() - 1800_000;
  let targets: TestNode[] = [];
  let stop = false;
  let writer: Promise<void> | null = null;
  /** Samples up to `upTo` of the series `n` owns (on the live ring) that its own storage lacks. */
  const holes = async (n: TestNode, upTo: number): Promise<number> => {
    const s = await status(n);
    const live = s.members.filter((m) => m.health !== "dead");
    const ring = new Ring(live.map((m) => ({ id: m.id, tokens: nodeTokens(m.id, m.tokens) })), R);
    const self = s.members.find((m) => m.self)!.id;
    const copy = await localCopy(n);
    let missing = 0;
    for (const [id, want] of truth.samples) {
      if (!ring.owners(labelsHash32(labelsFromRecord({ __name__: METRIC, series: id }))).includes(self)) continue;
      for (const t of want.keys()) if (t <= upTo && !copy.get(id)?.has(t)) missing++;
    }
    return missing;
  };
  try {
    const n1 = await startNode("n1", clusterArgs(name, extra));
    nodes.push(n1);
    const join = `--cluster.join=127.0.0.1:${await clusterPort(n1)}`;
    nodes.push(...(await Promise.all(["n2", "n3", "n4"].map((x) => startNode(x, clusterArgs(name, [...extra, join]))))));
    await waitFor("4 nodes active", () => settled(nodes), { timeoutMs: 30_000, intervalMs: 200 });
    const [, n2, n3, n4] = nodes as [TestNode, TestNode, TestNode, TestNode];
    targets = [n1, n2, n4];
    writer = writeContinuously({ metric: METRIC, seriesCount: SERIES, targets: () => targets, until: () => stop, truth, startMs, stepMs: 10 });
    await Bun.sleep(1000);
    // n3 hangs past the write timeout (2 s) and the suspect timeout (3 s) but not past the dead
    // timeout (6 s): writes to it fail or go straight to hinted handoff, whose batches are
    // dropped, so it misses them.
    kill(n3, "SIGSTOP");
    await Bun.sleep(4000);
    const pausedUpTo = truth.maxT();
    kill(n3, "SIGCONT");
    // The hole, as seen right after the pause (anti-entropy may already be at work).
    const holeAfterPause = await holes(n3, pausedUpTo);
    await Bun.sleep(500);
    stop = true;
    await writer;
    const upTo = truth.maxT();
    await waitFor("n3 repaired by anti-entropy", async () => (await holes(n3, upTo)) === 0, { timeoutMs: 40_000, intervalMs: 500 });
    let repairs = 0;
    for (const n of nodes) repairs += (await status(n)).handoff.recent.filter((t) => t.reason === "repair" && t.direction === "in" && t.done.samples > 0).length;
    const metric = async (n: TestNode) => {
      const line = (await (await fetch(`${n.url}/metrics`)).text()).split("\n").find((l) => l.startsWith("shoal_cluster_antientropy_repairs_total "));
      return Number(line?.split(" ")[1] ?? 0);
    };
    let repairedSeries = 0;
    for (const n of nodes) repairedSeries += await metric(n);
    // n3 missed writes during its pause: a hole seen right after it, or one anti-entropy had
    // already repaired into n3 by the time it was looked at.
    const repairedIntoN3 = (await status(n3)).handoff.recent.filter((t) => t.reason === "repair" && t.direction === "in" && t.done.samples > 0).length;
    expect(holeAfterPause > 0 || repairedIntoN3 > 0).toBe(true);
    expect(repairs).toBeGreaterThan(0);
    expect(repairedSeries).toBeGreaterThan(0);

    // SIGKILL n4: the ranges it held are streamed by their first surviving owner to the members
    // that now own them; with 3 members left at R=3 each holds every series, every sample.
    kill(n4);
    const survivors = [n1, n2, n3];
    for (const n of survivors) await waitFor(`${n.name} sees n4 dead`, async () => (await status(n)).members.find((m) => m.name === "n4")?.health === "dead", { timeoutMs: 15_000, intervalMs: 200 });
    // Each survivor starts its pushes the moment it sees the death; wait until all are done.
    await waitFor(
      "re-replication done",
      async () => {
        for (const n of survivors) {
          const h = (await status(n)).handoff;
          if (h.underReplicatedRanges > 0 || h.transfers.length > 0) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    let deaths = 0;
    for (const n of survivors) deaths += (await status(n)).handoff.recent.filter((t) => t.reason === "death" && t.direction === "out" && t.state === "done").length;
    expect(deaths).toBeGreaterThan(0);
    for (const n of survivors) expect({ node: n.name, missing: await holes(n, upTo) }).toEqual({ node: n.name, missing: 0 });
    console.log(`anti-entropy: n3 lacked ${holeAfterPause} samples after its pause; ${repairedSeries} series repaired; re-replication after n4's death complete`);
  } catch (err) {
    for (const n of nodes) console.log(`--- ${n.name}\n${n.log.filter((l) => !l.includes("queue full")).slice(-60).join("\n")}`);
    for (const n of nodes) if (n.proc.exitCode === null) console.log(n.name, JSON.stringify((await status(n).catch(() => null))?.handoff));
    throw err;
  } finally {
    stop = true;
    await writer?.catch(() => {});
  }
}, 120_000);

test("a slow graceful leave ends at --cluster.handoff.leave-timeout, or at once on a second SIGTERM", async () => {
  const name = uniqueClusterName("leavetimeout");
  // R=1 and 1 KB/s: each node holds a third of the series, and handing them over takes long.
  const extra = ["--cluster.replication-factor=1", "--cluster.handoff.max-bytes-per-second=1KB", "--cluster.suspect-timeout=3s", "--cluster.dead-timeout=6s"];
  const nodes: TestNode[] = [];
  try {
    const n1 = await startNode("n1", clusterArgs(name, extra));
    nodes.push(n1);
    const join = `--cluster.join=127.0.0.1:${await clusterPort(n1)}`;
    nodes.push(await startNode("n2", clusterArgs(name, [...extra, join, "--cluster.handoff.leave-timeout=2s"])));
    nodes.push(await startNode("n3", clusterArgs(name, [...extra, join])));
    await waitFor("3 nodes active", () => settled(nodes), { timeoutMs: 30_000, intervalMs: 200 });
    const [, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    const t0 = Date.now() - 3600_000;
    const series: TestSeries[] = Array.from({ length: 90 }, (_, i) => ({
      labels: { __name__: "lt_test", series: `s${i}` },
      samples: Array.from({ length: 300 }, (_, k) => [t0 + k * 1000, Math.random()] as [number, number]),
    }));
    const res = await remoteWrite(n1.url, writeRequestBody(series));
    expect(res.status).toBe(204);
    // The node-local read names what is wrong with its parameters.
    const bad = await fetch(`${n1.url}/api/v1/cluster/local/series`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("no match[] parameter provided");
    const badSel = await fetch(`${n1.url}/api/v1/cluster/local/series?match[]=${encodeURIComponent("lt_test{")}`);
    expect(badSel.status).toBe(400);
    const badTime = await fetch(`${n1.url}/api/v1/cluster/local/series?match[]=lt_test&start=yesterday`);
    expect(badTime.status).toBe(400);
    expect(((await badTime.json()) as { error: string }).error).toContain('invalid parameter "start"');

    // Second SIGTERM while n3 hands its ranges over: it exits at once, with status 1.
    n3.proc.kill("SIGTERM");
    await waitFor("n3 pushing", async () => n3.log.some((l) => l.includes("leaving: handing ranges over")), { timeoutMs: 10_000, intervalMs: 50 });
    const forcedAt = Date.now();
    n3.proc.kill("SIGTERM");
    expect(await n3.proc.exited).toBe(1);
    expect(Date.now() - forcedAt).toBeLessThan(3000);
    expect(n3.log.join("\n")).toContain("second shutdown signal");

    // n2's leave gives up after its 2 s timeout; it still exits, and says the hand-off is incomplete.
    const stoppedAt = Date.now();
    n2.proc.kill("SIGTERM");
    expect(await n2.proc.exited).toBe(0);
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThan(1500);
    expect(took).toBeLessThan(15_000);
    expect(n2.log.join("\n")).toContain("graceful leave incomplete");
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
