/**
 * `stats=all` on a real 3-node cluster explains a query per member: how many series and samples
 * each sent, the bytes that crossed the wire, the time, and whether it evaluated part of the
 * query itself. R=1, so that every member holds (and must send) its own share.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import { waitFor } from "../support/index.ts";
import { clusterStatus, dumpLogs, getJSON, removeDirs, startCluster, stopAll, type TestNode } from "./harness.ts";

afterEach(stopAll);
afterAll(removeDirs);

interface MemberFigures {
  member: string;
  series: number;
  samples: number;
  bytes: number;
  seconds: number;
  pushdown: boolean;
}

interface RangeAnswer {
  status: string;
  error?: string;
  data: { result: unknown[]; stats?: { samples: unknown; cluster?: { members: MemberFigures[] } } };
}

test("stats=all shows per member the series, samples, bytes and time it sent for a query", async () => {
  const nodes: TestNode[] = [];
  try {
    await startCluster("qstats", 3, ["--cluster.replication-factor=1"], nodes);
    for (const n of nodes) {
      await waitFor(`${n.name} sees 3 active`, async () => {
        const s = await clusterStatus(n);
        return s.members.length === 3 && s.members.every((m) => m.state === "active" && m.health === "alive");
      });
    }
    // Samples well in the past: no part of the query is young enough to be read from a quorum.
    const SERIES = 60;
    const SAMPLES = 20;
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
    const series: TestSeries[] = [];
    for (let i = 0; i < SERIES; i++) {
      const samples: [number, number][] = [];
      for (let k = 0; k < SAMPLES; k++) samples.push([t0 + k * 15_000, i * 100 + k]);
      series.push({ labels: { __name__: "qs_test", series: `s${i}` }, samples });
    }
    const res = await remoteWrite(nodes[0]!.url, writeRequestBody(series));
    expect(res.status).toBe(204);

    // What each node holds itself, as the member figures must report it.
    const held = new Map<string, { series: number; samples: number }>();
    for (const n of nodes) {
      const r = await getJSON<{ data: { series: { values: unknown[] }[] } }>(n, `/api/v1/cluster/local/series?match[]=qs_test`);
      held.set(n.name, { series: r.data.series.length, samples: r.data.series.reduce((x, s) => x + s.values.length, 0) });
    }
    expect([...held.values()].reduce((x, h) => x + h.series, 0)).toBe(SERIES);

    const params = new URLSearchParams({ query: "qs_test", start: String(t0 / 1000), end: String((t0 + (SAMPLES - 1) * 15_000) / 1000), step: "15", stats: "all" });
    const ask = async (): Promise<RangeAnswer> => (await (await fetch(`${nodes[0]!.url}/api/v1/query_range?${params}`)).json()) as RangeAnswer;
    // While a write is fresh a member may also be asked for what it stored lately (it may not
    // have reached every replica yet), and then sends some series twice: wait for the steady
    // state, where each member sends what it holds once.
    let body = await ask();
    await waitFor(
      "each member's figures to be what it holds",
      async () => {
        body = await ask();
        const members = body.data.stats?.cluster?.members ?? [];
        return members.length === 3 && members.every((m) => held.get(m.member)?.series === m.series);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch(() => {}); // the figures below say what differs
    expect(body.status).toBe("success");
    expect(body.data.result.length).toBe(SERIES);
    const members = body.data.stats?.cluster?.members ?? [];
    expect(members.map((m) => m.member).sort()).toEqual(["n1", "n2", "n3"]);
    for (const m of members) {
      const h = held.get(m.member)!;
      expect({ member: m.member, series: m.series, samples: m.samples }).toEqual({ member: m.member, ...h });
      expect(m.pushdown).toBe(false);
      expect(m.seconds).toBeGreaterThan(0);
      // This node's own share is read in-process; the others' crossed the wire.
      if (m.member === "n1") expect(m.bytes).toBe(0);
      else if (h.series > 0) expect(m.bytes).toBeGreaterThan(0);
    }

    // Without `all`, Prometheus's shape only.
    params.set("stats", "1");
    const plain = (await (await fetch(`${nodes[0]!.url}/api/v1/query_range?${params}`)).json()) as RangeAnswer;
    expect(plain.data.stats?.samples).toBeDefined();
    expect(plain.data.stats?.cluster).toBeUndefined();
  } catch (err) {
    console.error(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
