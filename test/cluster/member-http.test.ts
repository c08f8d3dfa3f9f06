/**
 * A member that listens on a wildcard address (`--web.listen-address=0.0.0.0:PORT`) announces
 * where it listens, not where it is reached: the others show (and call) it at the address their
 * cluster connection reaches it at, so that pages and APIs gathering every member's answer work
 * across machines, not only on one. With a cluster secret, members read each other over HTTP
 * with a token derived from it, and a caller without it is refused.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { freePort, tempDir, waitFor } from "../support/index.ts";
import { clusterArgs, clusterPort, clusterStatus, dumpLogs, removeDirs, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";

afterEach(stopAll);
afterAll(removeDirs);

test("a member announcing a wildcard HTTP address is shown and called at the address it is reached at", async () => {
  const nodes: TestNode[] = [];
  try {
    const name = uniqueClusterName("httpaddr");
    const a = await startNode("a", clusterArgs(name));
    nodes.push(a);
    const port = freePort();
    const b = await startNode("b", clusterArgs(name, [`--cluster.join=127.0.0.1:${await clusterPort(a)}`, `--web.listen-address=0.0.0.0:${port}`]), { port });
    nodes.push(b);
    const seen = await waitFor(
      "a to see b alive",
      async () => (await clusterStatus(a)).members.find((m) => m.name === "b" && m.health === "alive") as { httpAddress?: string } | undefined,
      { timeoutMs: 20_000 },
    );
    // b itself says where it listens; a, where its connection to b goes.
    const self = (await clusterStatus(b)).members.find((m) => m.self) as { httpAddress?: string } | undefined;
    expect(self?.httpAddress).toBe(`0.0.0.0:${port}`);
    expect(seen.httpAddress).toBe(`http://127.0.0.1:${port}`);
    // The rules API gathers b's groups at that address without a warning.
    const rules = (await (await fetch(`${a.url}/api/v1/rules`)).json()) as { status: string; warnings?: string[] };
    expect(rules.status).toBe("success");
    expect(rules.warnings ?? []).toEqual([]);
  } catch (err) {
    console.error(dumpLogs(nodes));
    throw err;
  }
}, 60_000);

test("with a cluster secret, members read each other over HTTP with its token, and a caller without it is refused", async () => {
  const nodes: TestNode[] = [];
  try {
    const dir = tempDir("httprpc-secret");
    const secret = join(dir, "secret");
    writeFileSync(secret, "a long random cluster secret\n");
    const name = uniqueClusterName("httprpc-secret");
    const flags = [`--cluster.secret-file=${secret}`, "--cluster.replication-factor=1"];
    const a = await startNode("a", clusterArgs(name, flags));
    nodes.push(a);
    const b = await startNode("b", clusterArgs(name, [...flags, `--cluster.join=127.0.0.1:${await clusterPort(a)}`]));
    nodes.push(b);
    await waitFor("a and b to see each other active", async () => {
      for (const n of [a, b]) if ((await clusterStatus(n)).members.filter((m) => m.state === "active" && m.health === "alive").length !== 2) return false;
      return true;
    }, { timeoutMs: 20_000 });
    const now = Date.now();
    const series = Array.from({ length: 20 }, (_, i) => ({ labels: { __name__: "secret_read_test", i: String(i) }, samples: [[now - 30_000, i]] as [number, number][] }));
    expect((await remoteWrite(a.url, writeRequestBody(series))).status).toBe(204);
    const selectsOverHttp = async (n: TestNode): Promise<number> =>
      (await (await fetch(`${n.url}/metrics`)).text())
        .split("\n")
        .filter((l) => l.startsWith('shoal_cluster_rpc_requests_total{protocol="/shoal/select/') && l.includes('transport="http"'))
        .reduce((x, l) => x + Number(l.split(" ").at(-1)), 0);
    // R=1: b holds only some of the series; the rest come from a, over HTTP once b's probe found it.
    await waitFor("b to read a's series over HTTP", async () => {
      const r = (await (await fetch(`${b.url}/api/v1/query?query=count(secret_read_test)`)).json()) as { data: { result: { value: [number, string] }[] } };
      return r.data.result[0]?.value[1] === "20" && (await selectsOverHttp(b)) > 0;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    const raw = await fetch(`${a.url}/api/v1/cluster/rpc`, { method: "POST", body: "x", headers: { "x-shoal-protocol": "/shoal/select/2" } });
    expect(raw.status).toBe(403);
    expect(await raw.text()).toContain("cluster secret");
  } catch (err) {
    console.error(dumpLogs(nodes));
    throw err;
  }
}, 60_000);
