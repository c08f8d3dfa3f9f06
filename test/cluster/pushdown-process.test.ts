/**
 * Aggregation pushdown on real processes: a 3-node cluster at R=2 (each member serves a part of
 * the ring, so the query's node merges what the others evaluated) and one node alone, the same
 * data remote-written into both. The dashboard queries give the same answer through the
 * cluster as from the single node, `stats=all` shows the members that evaluated their share,
 * and the answers stay the same while a member is SIGKILLed and declared dead, and while a new
 * member joins and pulls its ranges (through an old member, and through the new one after).
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import { waitFor } from "../support/index.ts";
import { clusterArgs, clusterStatus, dumpLogs, kill, removeDirs, startCluster, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";

afterEach(stopAll);
afterAll(removeDirs);

const QUERIES = [
  "sum by (job) (rate(http_requests_total[5m]))",
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  'count by (job) (count_over_time({job=~".+"}[10m]))',
  "avg by (job) (irate(http_requests_total[2m]))",
  "topk(3, max_over_time(http_requests_total[10m]))",
];

interface MemberFigures {
  member: string;
  pushdown: boolean;
  series: number;
}

interface RangeAnswer {
  status: string;
  error?: string;
  warnings?: string[];
  data: { result: { metric: Record<string, string>; values: [number, string][] }[]; stats?: { cluster?: { members: MemberFigures[] } } };
}

/** 120 counters over 4 jobs and a 10-bucket histogram per job, every 15 s for 40 minutes. */
function dataset(t0: number): TestSeries[] {
  const out: TestSeries[] = [];
  const span = 40 * 60_000;
  for (let i = 0; i < 120; i++) {
    const samples: [number, number][] = [];
    let v = 0;
    for (let t = 0; t < span; t += 15_000) samples.push([t0 + t, (v += ((i * 7919 + t / 15_000) % 13) + 1)]);
    out.push({ labels: { __name__: "http_requests_total", job: `job${i % 4}`, instance: `i${i}` }, samples });
  }
  const les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
  for (let j = 0; j < 4; j++) {
    les.forEach((le, b) => {
      const samples: [number, number][] = [];
      let v = 0;
      for (let t = 0; t < span; t += 15_000) samples.push([t0 + t, (v += (b + 1) * (j + 1) + ((t / 15_000) % 5))]);
      out.push({ labels: { __name__: "http_request_duration_seconds_bucket", job: `job${j}`, le }, samples });
    });
  }
  return out;
}

async function ask(node: TestNode, query: string, start: number, end: number): Promise<RangeAnswer> {
  const params = new URLSearchParams({ query, start: String(start / 1000), end: String(end / 1000), step: "60", stats: "all" });
  const res = await fetch(`${node.url}/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as RangeAnswer;
}

function expectSame(got: RangeAnswer, want: RangeAnswer, query: string): void {
  expect(got.status).toBe("success");
  expect(want.status).toBe("success");
  const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
  const g = new Map(got.data.result.map((s) => [key(s.metric), s.values]));
  const w = new Map(want.data.result.map((s) => [key(s.metric), s.values]));
  expect([...g.keys()].sort()).toEqual([...w.keys()].sort());
  expect(w.size).toBeGreaterThan(0);
  for (const [k, wv] of w) {
    const gv = g.get(k)!;
    expect(gv.map((p) => p[0])).toEqual(wv.map((p) => p[0]));
    for (let i = 0; i < wv.length; i++) {
      const a = Number(gv[i]![1]);
      const b = Number(wv[i]![1]);
      if (!(a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)))) throw new Error(`${query}: ${k} at ${wv[i]![0]}: ${a}, single node ${b}`);
    }
  }
}

test("the dashboard queries answer through a 3-node cluster as through one node, pushed down, also while a member is killed and while one joins", async () => {
  const nodes: TestNode[] = [];
  const flags = ["--cluster.replication-factor=2", "--cluster.read-one-replica.quiet-period=3s"];
  try {
    const { name, join } = await startCluster("pushdown", 3, flags, nodes);
    const single = await startNode("single", clusterArgs(uniqueClusterName("pushdown-single")));
    nodes.push(single);
    const [n1, , n3] = nodes as [TestNode, TestNode, TestNode];
    for (const n of nodes.slice(0, 3)) {
      await waitFor(`${n.name} sees 3 active`, async () => {
        const s = await clusterStatus(n);
        return s.members.length === 3 && s.members.every((m) => m.state === "active" && m.health === "alive");
      });
    }
    // Samples well in the past: every step is older than writes that may still be in flight.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 50 * 60_000;
    const series = dataset(t0);
    for (let i = 0; i < series.length; i += 40) {
      const body = writeRequestBody(series.slice(i, i + 40));
      expect((await remoteWrite(n1.url, body)).status).toBe(204);
      expect((await remoteWrite(single.url, body)).status).toBe(204);
    }
    const start = t0 + 10 * 60_000;
    const end = t0 + 39 * 60_000;

    /** Asks every query through `via` (n1), checks the answers; returns who evaluated a share, and who sent raw series. */
    const members = async (via: TestNode = n1): Promise<{ pushed: string; sent: string }> => {
      const pushed = new Set<string>();
      const sent = new Set<string>();
      for (const q of QUERIES) {
        const [got, want] = await Promise.all([ask(via, q, start, end), ask(single, q, start, end)]);
        expectSame(got, want, q);
        for (const m of got.data.stats?.cluster?.members ?? []) {
          if (m.pushdown) pushed.add(m.member);
          else if (m.series > 0) sent.add(m.member);
        }
      }
      return { pushed: [...pushed].sort().join(), sent: [...sent].sort().join() };
    };
    const pushedMembers = async (): Promise<string> => (await members()).pushed;
    // Each member evaluated its share, once the cluster has been quiet for the quiet period.
    await waitFor("every member to evaluate its share", async () => (await pushedMembers()) === "n1,n2,n3", { timeoutMs: 30_000, intervalMs: 500 });

    kill(n3);
    // While n3 is suspect, then dead: the same answers (from the raw series of the replicas
    // where n3 was chosen, or from n1 and n2 evaluating it all).
    const wrong: string[] = [];
    let rounds = 0;
    await waitFor(
      "n1 to declare n3 dead, answering right meanwhile",
      async () => {
        rounds++;
        await pushedMembers().catch((err: unknown) => wrong.push(String(err)));
        const s = await clusterStatus(n1);
        return s.members.find((m) => m.name === "n3")?.health === "dead";
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(wrong).toEqual([]);
    expect(rounds).toBeGreaterThan(1);
    // Once n3's ranges are on the replicas left and the cluster has been quiet again, n1 holds
    // every range (R=2 of two members) and answers these small aggregations alone: nothing is
    // pushed down and n2 sends no series (these samples are far older than writes in flight).
    await waitFor("n1 to answer alone", async () => {
      const m = await members();
      return m.pushed === "" && m.sent === "n1";
    }, { timeoutMs: 60_000, intervalMs: 500 });

    // A new member joins: while it pulls the ranges it takes over, the same answers through n1.
    const n4 = await startNode("n4", clusterArgs(name, [...flags, join]));
    nodes.push(n4);
    const wrongWhileJoining: string[] = [];
    let joinRounds = 0;
    await waitFor(
      "n4 to be active, answering right meanwhile",
      async () => {
        joinRounds++;
        await pushedMembers().catch((err: unknown) => wrongWhileJoining.push(String(err)));
        const m4 = (await clusterStatus(n1)).members.find((m) => m.name === "n4");
        return m4?.state === "active" && m4.health === "alive";
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(wrongWhileJoining).toEqual([]);
    expect(joinRounds).toBeGreaterThan(1);
    // Through the new member too, once the cluster has been quiet again: it holds only part of
    // the ring (R=2 of three), so the others evaluate the rest.
    await waitFor("n4 to answer as one node, pushed down", async () => (await members(n4)).pushed !== "", { timeoutMs: 60_000, intervalMs: 500 });
  } catch (err) {
    console.error(dumpLogs(nodes));
    throw err;
  }
}, 180_000);
