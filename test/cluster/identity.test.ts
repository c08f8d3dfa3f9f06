/**
 * Cluster identity and the cluster secret with real node processes: two clusters formed apart
 * (same cluster name) never merge — a member of one pointed at the other is refused, with a
 * warning naming it and both ids, and none of its data shows in the other; a fresh node adopts
 * the id of the cluster it joins; a wrong or missing secret is a warning naming the peer; and the
 * status API, `shoal cluster status` and the UI say when the cluster runs without a secret.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { launchBrowser } from "../ui/harness.ts";
import { tempDir, waitFor } from "../support/index.ts";
import { clusterArgs, clusterPort, clusterStatus, dumpLogs, kill, removeDirs, runCli, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";

afterEach(stopAll);
afterAll(removeDirs);

function clusterIdOnDisk(node: TestNode): string | undefined {
  const file = join(node.dataDir, "cluster", "cluster.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { id: string }).id : undefined;
}

async function memberNames(node: TestNode): Promise<string[]> {
  return (await clusterStatus(node)).members.filter((m) => m.health !== "dead").map((m) => m.name).sort();
}

/** Starts x1, then x2 joining it; resolves once both hold the same settled id on disk. */
async function formPair(prefix: string, name: string, nodes: TestNode[]): Promise<{ id: string; join: string }> {
  const first = await startNode(`${prefix}1`, clusterArgs(name));
  nodes.push(first);
  const join = `--cluster.join=127.0.0.1:${await clusterPort(first)}`;
  const second = await startNode(`${prefix}2`, clusterArgs(name, [join]));
  nodes.push(second);
  const id = await waitFor(
    `${prefix}1 and ${prefix}2 settle on one cluster id`,
    async () => {
      const [a, b] = [clusterIdOnDisk(first), clusterIdOnDisk(second)];
      return a !== undefined && a === b && (await memberNames(first)).join() === `${prefix}1,${prefix}2` ? a : undefined;
    },
    { timeoutMs: 20_000 },
  );
  return { id, join };
}

test("two clusters formed apart never merge: a member of one pointed at the other is refused, naming it and both ids", async () => {
  const nodes: TestNode[] = [];
  // One cluster name for both: only the identity keeps them apart (as two default-named
  // clusters on one LAN).
  const name = uniqueClusterName("ident");
  try {
    const a = await formPair("a", name, nodes);
    const b = await formPair("b", name, nodes);
    expect(a.id).not.toBe(b.id);
    const [a1, a2, b1, b2] = nodes as [TestNode, TestNode, TestNode, TestNode];
    expect((await clusterStatus(a1)) as unknown).toMatchObject({ clusterId: a.id, clusterIdSettled: true });

    // Data that only cluster B holds.
    const now = Date.now();
    const body = writeRequestBody([{ labels: { __name__: "b_only_series", site: "b" }, samples: [[now - 1000, 1], [now, 2]] }]);
    expect((await remoteWrite(b1.url, body)).status).toBe(204);

    // b2 restarts on its data directory, now told to join cluster A.
    kill(b2);
    await b2.proc.exited;
    const b2again = await startNode("b2", clusterArgs(name, [a.join]), { dataDir: b2.dataDir });
    nodes.push(b2again);
    const a1Port = await clusterPort(a1);
    const warned = await waitFor("b2 refuses a1", async () => b2again.log.find((l) => l.includes("refusing node a1 of another cluster")));
    expect(warned).toContain(`its cluster id ${a.id}, ours ${b.id}`);
    const a1warned = await waitFor("a1 refuses b2", async () => a1.log.find((l) => l.includes("refusing node b2 of another cluster")));
    expect(a1warned).toContain(`its cluster id ${b.id}, ours ${a.id}`);
    expect(a1warned).toContain((await clusterStatus(b2again)).self);
    expect(b2again.log.join("\n")).not.toContain("adopted the cluster identity");

    // Give a merge every chance to happen, then look: A is still a1+a2, B is b1+b2.
    await Bun.sleep(3000);
    for (const n of [a1, a2]) expect(await memberNames(n)).toEqual(["a1", "a2"]);
    expect(await memberNames(b2again)).toEqual(["b1", "b2"]);
    expect(clusterIdOnDisk(b2again)).toBe(b.id);
    const refused = (await clusterStatus(a1)) as unknown as { refusedPeers: { name: string; clusterId: string }[] };
    expect(refused.refusedPeers).toContainEqual(expect.objectContaining({ name: "b2", clusterId: b.id }));
    for (const n of [a1, a2]) {
      const q = (await (await fetch(`${n.url}/api/v1/query?query=b_only_series`)).json()) as { data: { result: unknown[] } };
      expect(q.data.result).toEqual([]);
    }
    const inB = (await (await fetch(`${b2again.url}/api/v1/query?query=b_only_series`)).json()) as { data: { result: unknown[] } };
    expect(inB.data.result.length).toBe(1);
    // Warnings about one peer are rate-limited: one per minute.
    expect(b2again.log.filter((l) => l.includes("refusing node a1 ")).length).toBe(1);

    // A fresh node (empty data directory) joining A adopts A's id and keeps it on disk.
    const a3 = await startNode("a3", clusterArgs(name, [`--cluster.join=127.0.0.1:${a1Port}`]));
    nodes.push(a3);
    await waitFor("a3 holds A's id on disk", async () => clusterIdOnDisk(a3) === a.id);
    await waitFor("a1 sees a3", async () => (await memberNames(a1)).join() === "a1,a2,a3");
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${dumpLogs(nodes)}`);
  }
}, 90_000);

test("a wrong or missing cluster secret is a warning naming the peer, on both sides", async () => {
  const nodes: TestNode[] = [];
  const name = uniqueClusterName("secret");
  const dir = tempDir("secrets");
  const [one, other] = [join(dir, "one"), join(dir, "other")];
  writeFileSync(one, "correct horse battery staple\n");
  writeFileSync(other, "another secret\n");
  try {
    const open = await startNode("open", clusterArgs(name));
    nodes.push(open);
    const openPort = await clusterPort(open);
    // A node with a secret dials a node without one.
    const locked = await startNode("locked", clusterArgs(name, [`--cluster.secret-file=${one}`, `--cluster.join=127.0.0.1:${openPort}`]));
    nodes.push(locked);
    const lockedSide = await waitFor(
      "the node with a secret warns",
      async () => locked.log.find((l) => l.includes(`cluster handshake with 127.0.0.1:${openPort} failed`)),
      { timeoutMs: 30_000 },
    );
    expect(lockedSide).toContain("another cluster secret, or none");
    const openSide = await waitFor("the node without a secret warns", async () => open.log.find((l) => l.includes("cluster handshake with 127.0.0.1 failed")));
    expect(openSide).toContain("this node has none");

    // Two nodes with different secrets.
    const lockedPort = await clusterPort(locked);
    const wrong = await startNode("wrong", clusterArgs(name, [`--cluster.secret-file=${other}`, `--cluster.join=127.0.0.1:${lockedPort}`]));
    nodes.push(wrong);
    // A side that only sees the connection cut warns when it happens again (a peer killed
    // mid-handshake cuts it once): on its next join attempt.
    await waitFor("the node with the other secret warns", async () => wrong.log.find((l) => l.includes(`cluster handshake with 127.0.0.1:${lockedPort} failed`)), { timeoutMs: 30_000 });
    await waitFor("the node with the first secret warns about an inbound peer", async () =>
      locked.log.find((l) => l.includes("cluster handshake with 127.0.0.1 failed") && l.includes("inbound")),
    );
    for (const n of nodes) expect((await memberNames(n)).length).toBe(1);
    // Each keeps retrying its join target; the warnings about one peer stay at one a minute.
    await Bun.sleep(3000);
    expect(wrong.log.filter((l) => l.includes("cluster handshake with")).length).toBe(1);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${dumpLogs(nodes)}`);
  }
}, 60_000);

test("the status API, shoal cluster status and the UI warn when the cluster runs without a secret", async () => {
  const nodes: TestNode[] = [];
  const name = uniqueClusterName("nosecret");
  const dir = tempDir("secret");
  const secret = join(dir, "secret");
  writeFileSync(secret, "s3cret\n");
  const open = await startNode("open", clusterArgs(name));
  nodes.push(open);
  const locked = await startNode("locked", clusterArgs(uniqueClusterName("locked"), [`--cluster.secret-file=${secret}`]));
  nodes.push(locked);
  try {
    const s = (await clusterStatus(open)) as unknown as { warnings: string[] };
    expect(s.warnings.join("\n")).toContain("without a secret");
    expect(((await clusterStatus(locked)) as unknown as { warnings: string[] }).warnings).toEqual([]);
    expect(open.log.some((l) => l.includes("the cluster runs without a secret"))).toBe(true);

    const cli = await runCli(["cluster", "status", "--url", open.url]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("WARNING: the cluster runs without a secret");
    expect((await runCli(["cluster", "status", "--url", locked.url])).stdout).not.toContain("WARNING");

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${open.url}/cluster`);
      const warning = page.locator(".cluster-warning");
      await warning.first().waitFor({ timeout: 20_000 });
      expect(await warning.first().innerText()).toContain("without a secret");
      await page.goto(`${locked.url}/cluster`);
      await page.locator("table").first().waitFor({ timeout: 20_000 });
      expect(await page.locator(".cluster-warning").count()).toBe(0);
    } finally {
      await browser.close();
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${dumpLogs(nodes)}`);
  }
}, 60_000);
