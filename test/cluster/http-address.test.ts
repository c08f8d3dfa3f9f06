/**
 * A member that listens on a wildcard address (`--web.listen-address=0.0.0.0:PORT`) announces
 * where it listens, not where it is reached: the others show (and call) it at the address their
 * cluster connection reaches it at, so that pages and APIs gathering every member's answer work
 * across machines, not only on one.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { freePort, waitFor } from "../support/index.ts";
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
