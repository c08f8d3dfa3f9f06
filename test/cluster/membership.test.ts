/**
 * Membership with real node processes: forming by --cluster.join and by mDNS, failure detection
 * of a hung (SIGSTOPped) member, isolation by secret and by cluster name, redial after restart.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aliveMembers, clusterArgs, clusterPort, clusterStatus, kill, removeDirs, runCli, startNode, stopAll, stopNode, uniqueClusterName } from "./harness.ts";
import { tempDir, waitFor } from "../support/index.ts";

afterEach(stopAll);
afterAll(removeDirs);

test("3 then 5 nodes form one cluster with --cluster.join only", async () => {
  const name = uniqueClusterName("join");
  const a = await startNode("a", clusterArgs(name));
  const pa = await clusterPort(a);
  const b = await startNode("b", clusterArgs(name, [`--cluster.join=127.0.0.1:${pa}`]));
  const pb = await clusterPort(b);
  // c joins through b only: it must still learn about a and dial it.
  const c = await startNode("c", clusterArgs(name, [`--cluster.join=127.0.0.1:${pb}`]));
  for (const n of [a, b, c]) await waitFor(`${n.name} sees 3 members`, async () => (await aliveMembers(n)).join() === "a,b,c");

  // Joining nodes turn active once they heard the others: then R=3.
  const cli = await waitFor("all active", async () => {
    const r = await runCli(["cluster", "status", "--url", c.url]);
    return r.stdout.includes("replication factor 3,") ? r : undefined;
  });
  expect(cli.code).toBe(0);
  expect(cli.stdout).toContain(`cluster ${name}: 3 members, replication factor 3, write quorum 2`);
  for (const n of ["a ", "b ", "c *"]) expect(cli.stdout).toMatch(new RegExp(`^${n.replace("*", "\\*")}\\s+active\\s+alive`, "m"));

  const pc = await clusterPort(c);
  const d = await startNode("d", clusterArgs(name, [`--cluster.join=127.0.0.1:${pc}`]));
  const e = await startNode("e", clusterArgs(name, [`--cluster.join=127.0.0.1:${pa}`]));
  const all = [a, b, c, d, e];
  for (const n of all) await waitFor(`${n.name} sees 5 members`, async () => (await aliveMembers(n)).join() === "a,b,c,d,e");
  // Every member is directly connected to every other: losing the one it joined through does
  // not cut d off.
  kill(c);
  await waitFor("d sees c dead", async () => (await clusterStatus(d)).members.find((m) => m.name === "c")!.health === "dead", { timeoutMs: 10_000 });
  expect(await aliveMembers(d)).toEqual(["a", "b", "d", "e"]);
  const s = await clusterStatus(d);
  // Ring shares of the live members add up to the whole ring.
  const shares = s.members.filter((m) => m.health !== "dead").reduce((x, m) => x + m.ringShare, 0);
  expect(shares).toBeCloseTo(1, 6);
}, 60_000);

test("2 nodes form a cluster through mDNS alone", async () => {
  const name = uniqueClusterName("mdns");
  const args = clusterArgs(name).filter((a) => a !== "--cluster.mdns=false");
  const a = await startNode("a", args);
  const b = await startNode("b", args);
  for (const n of [a, b]) await waitFor(`${n.name} sees 2 members`, async () => (await aliveMembers(n)).join() === "a,b", { timeoutMs: 20_000 });
  // Once both are active, each series has a copy on each.
  await waitFor("R=2", async () => (await clusterStatus(a)).replicationFactor === 2, { timeoutMs: 5000 });
}, 40_000);

test("a hung member is suspect, then dead within the dead timeout, and alive again after SIGCONT", async () => {
  const name = uniqueClusterName("stop");
  const a = await startNode("a", clusterArgs(name));
  const b = await startNode("b", clusterArgs(name, [`--cluster.join=127.0.0.1:${await clusterPort(a)}`]));
  await waitFor("formed", async () => (await aliveMembers(a)).join() === "a,b");
  const t0 = Date.now();
  kill(b, "SIGSTOP");
  try {
    await waitFor("b suspect", async () => (await clusterStatus(a)).members.find((m) => m.name === "b")!.health === "suspect", { timeoutMs: 5000, intervalMs: 50 });
    await waitFor("b dead", async () => (await clusterStatus(a)).members.find((m) => m.name === "b")!.health === "dead", { timeoutMs: 5000, intervalMs: 50 });
    const detected = Date.now() - t0;
    // --cluster.dead-timeout=2s (harness), checked every 50 ms, polled every 50 ms.
    expect(detected).toBeGreaterThanOrEqual(1900);
    expect(detected).toBeLessThan(2800);
    const s = await clusterStatus(a);
    expect(s.replicationFactor).toBe(1);
  } finally {
    kill(b, "SIGCONT");
  }
  await waitFor("b alive again", async () => (await aliveMembers(a)).join() === "a,b", { timeoutMs: 5000 });
}, 30_000);

test("a node with the wrong secret or another cluster name never joins", async () => {
  const dir = tempDir("secret");
  const good = join(dir, "good.key");
  const bad = join(dir, "bad.key");
  writeFileSync(good, "correct horse battery staple\n");
  writeFileSync(bad, "wrong secret\n");
  const name = uniqueClusterName("secret");
  const a = await startNode("a", clusterArgs(name, [`--cluster.secret-file=${good}`]));
  const pa = await clusterPort(a);
  const b = await startNode("b", clusterArgs(name, [`--cluster.secret-file=${good}`, `--cluster.join=127.0.0.1:${pa}`]));
  const intruder = await startNode("x", clusterArgs(name, [`--cluster.secret-file=${bad}`, `--cluster.join=127.0.0.1:${pa}`]));
  const open = await startNode("y", clusterArgs(name, [`--cluster.join=127.0.0.1:${pa}`]));
  const stranger = await startNode("z", clusterArgs(uniqueClusterName("other"), [`--cluster.join=127.0.0.1:${await clusterPort(b)}`, `--cluster.secret-file=${good}`]));
  await waitFor("a and b formed", async () => (await aliveMembers(a)).join() === "a,b");
  expect((await clusterStatus(a)).members.length).toBe(2);
  // Give the outsiders time to have retried their joins several times.
  await Bun.sleep(3000);
  for (const n of [a, b]) expect((await clusterStatus(n)).members.map((m) => m.name).sort()).toEqual(["a", "b"]);
  expect(await aliveMembers(intruder)).toEqual(["x"]);
  expect(await aliveMembers(open)).toEqual(["y"]);
  expect(await aliveMembers(stranger)).toEqual(["z"]);
}, 40_000);

test("a restarted node redials the members it remembers, without --cluster.join", async () => {
  const name = uniqueClusterName("restart");
  const a = await startNode("a", clusterArgs(name));
  const b = await startNode("b", clusterArgs(name, [`--cluster.join=127.0.0.1:${await clusterPort(a)}`]));
  await waitFor("formed", async () => (await aliveMembers(b)).join() === "a,b");
  const idBefore = (await clusterStatus(b)).self;
  const idOfA = (await clusterStatus(a)).self;
  const peersFile = join(b.dataDir, "cluster", "peers.json");
  await waitFor("b remembers a in peers.json", () => existsSync(peersFile) && readFileSync(peersFile, "utf8").includes(idOfA), { timeoutMs: 10_000 });
  expect(await stopNode(b)).toBe(0);
  const b2 = await startNode("b", clusterArgs(name), { dataDir: b.dataDir });
  await waitFor("b rejoined from peers.json", async () => (await aliveMembers(b2)).join() === "a,b", { timeoutMs: 10_000 });
  expect((await clusterStatus(b2)).self).toBe(idBefore);
}, 30_000);
