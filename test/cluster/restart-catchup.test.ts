/**
 * A node restarted on its data directory (real processes, SIGKILL then restart) joins again by
 * comparing digests with the owners, not by pulling its whole share: it moves only what was
 * written while it was down, and ends up holding every acknowledged sample.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { dumpLogs, getJSON, kill, removeDirs, startCluster, startNode, stopAll, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import { GroundTruth, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface Status {
  members: { name: string; state: string; health: string; self: boolean }[];
  handoff: { recent: { direction: string; reason: string; state: string; done: { samples: number } }[] };
}

async function status(n: TestNode): Promise<Status> {
  return (await getJSON<{ data: Status }>(n, "/api/v1/status/cluster")).data;
}

/** Samples of `metric` in the node's own storage, per series label. */
async function localSamples(n: TestNode, metric: string): Promise<Map<string, Set<number>>> {
  const r = await getJSON<{ data: { series: { metric: Record<string, string>; values: [number, string][] }[] } }>(n, `/api/v1/cluster/local/series?match[]=${metric}`);
  return new Map(r.data.series.map((s) => [s.metric.series!, new Set(s.values.map(([t]) => Math.round(t * 1000)))]));
}

test("a restarted node catches up by digests: it moves what it missed, not its whole share", async () => {
  const extra = ["--cluster.replication-factor=3"];
  const nodes: TestNode[] = [];
  try {
    await startCluster("catchup", 3, extra, nodes);
    const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    await waitFor("3 active members", async () => (await status(n3)).members.filter((m) => m.state === "active" && m.health === "alive").length === 3, { timeoutMs: 20_000, intervalMs: 100 });

    // Two hours of history, older than the current digest window: every node holds all of it (R=3).
    const t0 = Date.now() - 5 * 3600_000;
    const history: TestSeries[] = Array.from({ length: 100 }, (_, i) => ({
      labels: { __name__: "cu_old", series: `o${i}` },
      samples: Array.from({ length: 720 }, (_, k) => [t0 + k * 10_000, k] as [number, number]),
    }));
    expect((await remoteWrite(n1.url, writeRequestBody(history))).status).toBe(204);
    await waitFor("n3 holds the history", async () => [...(await localSamples(n3, "cu_old")).values()].reduce((a, s) => a + s.size, 0) === 72_000, { timeoutMs: 10_000, intervalMs: 100 });

    // n3 crashes; writes go on to the others until it is back.
    kill(n3);
    await waitFor("n3 dead", async () => (await status(n1)).members.find((m) => m.name === "n3")?.health === "dead", { timeoutMs: 10_000, intervalMs: 100 });
    const truth = new GroundTruth();
    let rounds = 0;
    await writeContinuously({ metric: "cu_new", seriesCount: 50, targets: () => [n1, n2], until: () => rounds++ >= 40, truth, startMs: Date.now() });

    const again = await startNode("n3", n3.args, { dataDir: n3.dataDir, port: n3.port });
    nodes.push(again);
    await waitFor("n3 active again", async () => (await status(again)).members.find((m) => m.self)?.state === "active", { timeoutMs: 30_000, intervalMs: 100 });
    expect(again.log.join("\n")).toContain("joining again: comparing what this node holds with the owners");

    // Everything is there: the history it kept and the writes it missed.
    const old = await localSamples(again, "cu_old");
    expect([...old.values()].reduce((a, s) => a + s.size, 0)).toBe(72_000);
    const fresh = await localSamples(again, "cu_new");
    const missing: string[] = [];
    for (const [id, samples] of truth.samples) for (const t of samples.keys()) if (!fresh.get(id)?.has(t)) missing.push(`${id}@${t}`);
    expect(missing).toEqual([]);
    // ...and the join moved about the missed writes, not the 72 000 samples of history.
    const moved = (await status(again)).handoff.recent
      .filter((t) => t.direction === "in" && t.reason === "join")
      .reduce((a, t) => a + t.done.samples, 0);
    console.log(`restart catch-up: ${moved} samples moved; ${truth.acknowledged} written while down, 72000 of history kept`);
    expect(moved).toBeGreaterThanOrEqual(truth.acknowledged);
    expect(moved).toBeLessThan(10_000);
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
