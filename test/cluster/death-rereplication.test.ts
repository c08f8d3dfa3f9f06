/**
 * Re-replication after a death copies what every survivor holds (real processes). Owners of a
 * series: A, C, B (R=3 of 4 members); D owns it once A is gone. C is paused, a write through A
 * is acknowledged by A and B (C's copy waits in A's hinted-handoff queue), then A is SIGKILLed —
 * its queue with it — and C resumes. The one write is now on B only. D must get it: copying the
 * range from one survivor (C, the first in ring order) is not enough.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { Ring, nodeTokens } from "../../src/cluster/ring.ts";
import { labelsFromRecord } from "../../src/model/index.ts";
import { dumpLogs, getJSON, kill, removeDirs, startCluster, stopAll, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface Status {
  members: { id: string; name: string; state: string; health: string; self: boolean }[];
  handoff: { underReplicatedRanges: number; transfers: unknown[] };
}

async function status(n: TestNode): Promise<Status> {
  return (await getJSON<{ data: Status }>(n, "/api/v1/status/cluster")).data;
}

async function localTimestamps(n: TestNode, series: string): Promise<number[]> {
  const r = await getJSON<{ data: { series: { values: [number, string][] }[] } }>(n, `/api/v1/cluster/local/series?match[]=${encodeURIComponent(`dr_test{series="${series}"}`)}`);
  return r.data.series.flatMap((s) => s.values.map(([t]) => Math.round(t * 1000)));
}

test("after a death, the member taking over a range gets writes that only one of the survivors holds", async () => {
  const extra = ["--cluster.replication-factor=3"];
  const nodes: TestNode[] = [];
  try {
    await startCluster("deathrr", 4, extra, nodes);
    const first = nodes[0]!;
    await waitFor("4 active members everywhere", async () => {
      for (const n of nodes) if ((await status(n)).members.filter((m) => m.state === "active" && m.health === "alive").length !== 4) return false;
      return true;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const members = (await status(first)).members;
    const ring = new Ring(members.map((m) => ({ id: m.id, tokens: nodeTokens(m.id, 128) })), 3);
    const byId = new Map(members.map((m) => [m.id, nodes.find((n) => n.name === m.name)!]));
    const owners = ring.ownersOfLabels(labelsFromRecord({ __name__: "dr_test", series: "x" })).map((id) => byId.get(id)!);
    const [a, c, b] = owners as [TestNode, TestNode, TestNode];
    const d = nodes.find((n) => !owners.includes(n))!;

    // A history every owner holds, so the copy to D has something to move.
    const t0 = Date.now() - 600_000;
    const history = { labels: { __name__: "dr_test", series: "x" }, samples: Array.from({ length: 100 }, (_, k) => [t0 + k * 1000, k] as [number, number]) };
    expect((await remoteWrite(a.url, writeRequestBody([history]))).status).toBe(204);

    c.proc.kill("SIGSTOP");
    let tLonely = 0;
    try {
      await waitFor(`${a.name} suspects ${c.name}`, async () => (await status(a)).members.find((m) => m.name === c.name)?.health === "suspect", { timeoutMs: 5000, intervalMs: 50 });
      tLonely = Date.now();
      expect((await remoteWrite(a.url, writeRequestBody([{ labels: history.labels, samples: [[tLonely, 1]] }]))).status).toBe(204);
      kill(a);
    } finally {
      c.proc.kill("SIGCONT");
    }
    const survivors = nodes.filter((n) => n !== a);
    await waitFor(`${a.name} dead and its ranges re-replicated`, async () => {
      for (const n of survivors) {
        const s = await status(n);
        if (s.members.find((m) => m.name === a.name)?.health !== "dead") return false;
        if (s.handoff.underReplicatedRanges > 0 || s.handoff.transfers.length > 0) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    expect(await localTimestamps(b, "x")).toContain(tLonely);
    const onD = await localTimestamps(d, "x");
    expect(onD.length).toBeGreaterThanOrEqual(100);
    expect({ node: d.name, has: onD.includes(tLonely) }).toEqual({ node: d.name, has: true });
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
