/**
 * The write quorum while a member joins (real processes). Owners readers use now: n1, n2, n3
 * (R=3); n4 is joining and will take over part of every owner set. With n1 and n2 paused, a
 * write reaches n3 (a current owner) and n4 (a future one): two acknowledgements, which used to
 * count as a quorum of the four — yet if n3 then died, the only copy would be on a node readers
 * do not ask yet. A write needs a quorum of the current owners and one of the future owners, so
 * it is refused with 503 (the client retries), as it would be with no join going on.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { clusterArgs, dumpLogs, getJSON, removeDirs, startCluster, startNode, stopAll, type TestNode } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface Members {
  members: { name: string; state: string; health: string }[];
}

async function memberState(n: TestNode, name: string): Promise<string | undefined> {
  const s = (await getJSON<{ data: Members }>(n, "/api/v1/status/cluster")).data;
  const m = s.members.find((x) => x.name === name);
  return m && `${m.state}/${m.health}`;
}

/** One single-series write per series, all at once; the HTTP status of each. */
async function writeEach(n: TestNode, prefix: string, count: number): Promise<number[]> {
  const now = Date.now();
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const s: TestSeries = { labels: { __name__: "cq_test", series: `${prefix}${i}` }, samples: [[now, i]] };
      const res = await remoteWrite(n.url, writeRequestBody([s]));
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

test("while a member joins, a write acknowledged by one current and one joining owner is refused", async () => {
  // Death only after a minute: the paused members stay owners (suspect), as in a short pause.
  // 1 KB/s keeps n4 joining for the whole test.
  const extra = ["--cluster.replication-factor=3", "--cluster.dead-timeout=60s", "--cluster.handoff.max-bytes-per-second=1KB"];
  const nodes: TestNode[] = [];
  try {
    const { name, join } = await startCluster("churnq", 3, extra, nodes);
    const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    for (const other of ["n1", "n2"]) await waitFor(`n3 sees ${other} active`, async () => (await memberState(n3, other)) === "active/alive", { timeoutMs: 20_000, intervalMs: 100 });
    // Data for n4 to pull: a few hundred KB, minutes at 1 KB/s per source.
    const t0 = Date.now() - 3600_000;
    const old: TestSeries[] = Array.from({ length: 200 }, (_, i) => ({
      labels: { __name__: "cq_old", series: `o${i}` },
      samples: Array.from({ length: 720 }, (_, k) => [t0 + k * 5000, Math.random()] as [number, number]),
    }));
    // In slices, retried: one 144k-sample request can outlast the 2 s write timeout on a busy machine.
    for (let i = 0; i < old.length; i += 20) {
      const body = writeRequestBody(old.slice(i, i + 20));
      for (let attempt = 0; ; attempt++) {
        const res = await remoteWrite(n1.url, body);
        await res.arrayBuffer();
        if (res.status === 204) break;
        if (attempt > 10) throw new Error(`history write refused: ${res.status}`);
        await Bun.sleep(200);
      }
    }

    const n4 = await startNode("n4", clusterArgs(name, [...extra, join]));
    nodes.push(n4);
    await waitFor("n3 sees n4 joining", async () => (await memberState(n3, "n4")) === "joining/alive", { timeoutMs: 20_000, intervalMs: 100 });
    // All members up: writes during the join are acknowledged.
    expect(await writeEach(n3, "a", 20)).toEqual(Array(20).fill(204));

    n1.proc.kill("SIGSTOP");
    n2.proc.kill("SIGSTOP");
    try {
      await waitFor("n3 suspects n1 and n2", async () => (await memberState(n3, "n1"))?.endsWith("suspect") && (await memberState(n3, "n2"))?.endsWith("suspect"), { timeoutMs: 10_000, intervalMs: 100 });
      expect(await memberState(n3, "n4")).toBe("joining/alive");
      expect(await writeEach(n3, "b", 20)).toEqual(Array(20).fill(503));
    } finally {
      n1.proc.kill("SIGCONT");
      n2.proc.kill("SIGCONT");
    }
    await waitFor("n3 sees n1 and n2 again", async () => (await memberState(n3, "n1")) === "active/alive" && (await memberState(n3, "n2")) === "active/alive", { timeoutMs: 20_000, intervalMs: 100 });
    expect(await writeEach(n3, "c", 20)).toEqual(Array(20).fill(204));
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
