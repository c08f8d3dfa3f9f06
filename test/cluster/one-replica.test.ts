/**
 * Reads from one replica per range, through the HTTP API of real nodes: a query over samples
 * older than the writes in flight gets each series from exactly one member (stats=all says who
 * sent what), complete and without a warning; a paused member is passed over and its ranges are
 * served by the other owners; and once it is back, the answer stays complete while the batches
 * hinted for it are replayed.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { clusterArgs, clusterPort, clusterStatus, dumpLogs, kill, removeDirs, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { diff, GroundTruth, writeContinuously, type QueriedSeries } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface MemberRead {
  member: string;
  series: number;
  samples: number;
}

/** `metric[range]` at `endMs` through `node`, with what each member sent. */
async function queryWithStats(node: TestNode, metric: string, startMs: number, endMs: number): Promise<QueriedSeries & { members: MemberRead[] }> {
  const rangeS = Math.ceil((endMs - startMs) / 1000) + 1;
  const url = `${node.url}/api/v1/query?query=${encodeURIComponent(`${metric}[${rangeS}s]`)}&time=${(endMs / 1000).toFixed(3)}&stats=all`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(20_000) })).json()) as {
    status: string;
    error?: string;
    warnings?: string[];
    data: { result: { metric: Record<string, string>; values: [number, string][] }[]; stats?: { cluster?: { members: MemberRead[] } } };
  };
  if (body.status !== "success") throw new Error(`query on ${node.name} failed: ${body.error}`);
  const samples = new Map<string, Map<number, number>>();
  for (const r of body.data.result) samples.set(r.metric.series!, new Map(r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)])));
  return { samples, warnings: body.warnings ?? [], members: body.data.stats?.cluster?.members ?? [] };
}

const sentSeries = (members: readonly MemberRead[]) => members.reduce((n, m) => n + m.series, 0);

test("older samples are read from one replica per range: each series sent by one member, complete, also with a member paused", async () => {
  const name = uniqueClusterName("onereplica");
  const timing = ["--cluster.read-one-replica.quiet-period=3s", "--cluster.replication-factor=3", "--cluster.heartbeat-interval=200ms", "--cluster.suspect-timeout=800ms", "--cluster.dead-timeout=6s", "--cluster.write-timeout=2s"];
  const a = await startNode("a", clusterArgs(name, timing));
  const join = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const nodes = [a, await startNode("b", clusterArgs(name, [...timing, join])), await startNode("c", clusterArgs(name, [...timing, join])), await startNode("d", clusterArgs(name, [...timing, join]))];
  const [, b] = nodes;
  try {
    const activeAlive = async (n: number) => (await clusterStatus(a)).members.filter((m) => m.state === "active" && m.health === "alive").length === n;
    await waitFor("4 active members", () => activeAlive(4), { timeoutMs: 30_000 });
    // Writes are read from every member until they settled: until every member has published a
    // heartbeat after the write could have failed (two write timeouts and a heartbeat before the
    // oldest heartbeat heard), counted in whole seconds of the applied log; and so are those
    // stored while the members were still learning of each other.
    const settle = () => Bun.sleep(2 * 2000 + 200 + 1000 + 1800);
    await settle();
    const noHints = async () => (await clusterStatus(a)).members.every((m) => m.hintedHandoff.pendingBatches === 0);
    const truth = new GroundTruth();
    const SERIES = 60;
    // Ten minutes ago: far older than the writes that may still be in flight.
    const startMs = Date.now() - 600_000;
    let rounds = 0;
    await writeContinuously({ metric: "one_replica_test", seriesCount: SERIES, targets: () => nodes, until: () => rounds++ >= 20, truth, startMs });
    await waitFor("no hinted batches", noHints, { timeoutMs: 10_000 });
    await settle();

    // R=3 on four members: each series has three copies, but one member sends it.
    const got = await queryWithStats(a, "one_replica_test", startMs, truth.maxT());
    expect(got.warnings).toEqual([]);
    expect(diff(truth, got)).toEqual([]);
    expect(sentSeries(got.members)).toBe(SERIES);
    expect(got.members.map((m) => m.member).sort()).toEqual(["a", "b", "c", "d"]);

    // b paused: suspect, passed over; the co-owners of its ranges serve them.
    kill(b!, "SIGSTOP");
    await waitFor("b suspect on a", async () => (await clusterStatus(a)).members.find((m) => m.name === "b")?.health === "suspect", { timeoutMs: 10_000 });
    const writers = nodes.filter((n) => n !== b);
    rounds = 0;
    await writeContinuously({ metric: "one_replica_test", seriesCount: SERIES, targets: () => writers, until: () => rounds++ >= 10, truth, startMs: truth.maxT() });
    const paused = await queryWithStats(a, "one_replica_test", startMs, truth.maxT());
    expect(paused.warnings).toEqual([]);
    expect(diff(truth, paused)).toEqual([]);
    // The membership changed (b suspect): every live replica is read until the cluster has been
    // quiet for the quiet period again.
    expect(sentSeries(paused.members)).toBeGreaterThan(SERIES);
    expect(paused.members.map((m) => m.member)).not.toContain("b");

    // Back: b lacks the rounds written meanwhile until the hinted batches are replayed. Every
    // answer from now on is complete, whoever is chosen.
    kill(b!, "SIGCONT");
    const until = Date.now() + 3000;
    let queries = 0;
    while (Date.now() < until) {
      const r = await queryWithStats(a, "one_replica_test", startMs, truth.maxT());
      expect(r.warnings).toEqual([]);
      expect(diff(truth, r)).toEqual([]);
      queries++;
    }
    await waitFor("no hinted batches after b is back", noHints, { timeoutMs: 15_000 });
    await waitFor("b alive", () => activeAlive(4), { timeoutMs: 15_000 });
    await settle();
    const back = await queryWithStats(a, "one_replica_test", startMs, truth.maxT());
    expect(diff(truth, back)).toEqual([]);
    expect(sentSeries(back.members)).toBe(SERIES);
    console.log(`one replica per range: ${queries} complete answers while b caught up; members after: ${JSON.stringify(back.members.map((m) => [m.member, m.series]))}`);
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 120_000);

test("samples newer than the writes in flight are read from every live member", async () => {
  const name = uniqueClusterName("onereplica-new");
  const timing = ["--cluster.read-one-replica.quiet-period=3s", "--cluster.replication-factor=2", "--cluster.heartbeat-interval=200ms", "--cluster.suspect-timeout=800ms", "--cluster.dead-timeout=6s", "--cluster.write-timeout=10s"];
  const a = await startNode("a", clusterArgs(name, timing));
  const join = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const nodes = [a, await startNode("b", clusterArgs(name, [...timing, join])), await startNode("c", clusterArgs(name, [...timing, join]))];
  try {
    await waitFor("3 active members", async () => (await clusterStatus(a)).members.filter((m) => m.state === "active" && m.health === "alive").length === 3, { timeoutMs: 30_000 });
    const truth = new GroundTruth();
    const SERIES = 30;
    let rounds = 0;
    // Wall-clock timestamps: every sample is within the write timeout plus two heartbeats.
    await writeContinuously({ metric: "recent_test", seriesCount: SERIES, targets: () => nodes, until: () => rounds++ >= 10, truth, startMs: Date.now(), wallClock: true });
    const got = await queryWithStats(a, "recent_test", truth.maxT() - 5000, truth.maxT());
    expect(got.warnings).toEqual([]);
    expect(diff(truth, got)).toEqual([]);
    // Every copy is read: two per series.
    expect(sentSeries(got.members)).toBe(2 * SERIES);
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
