/**
 * --cluster.join with DNS names, against a real DNS server (Debian's dnsmasq, through
 * --dns.server): three nodes that started before their SRV record existed find each other once
 * it appears (the name is resolved again every --cluster.join.refresh-interval); a fourth node
 * joins when the record lists it too; dns+NAME:PORT (A records) works alike, and bad values are
 * refused at start.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { freePort, startDnsmasq, waitFor, type Dnsmasq, type DnsRecords } from "../support/index.ts";
import { aliveMembers, clusterArgs, dumpLogs, removeDirs, runCli, startNode, stopAll, uniqueClusterName, type TestNode } from "./harness.ts";

let dns: Dnsmasq | null = null;
const nodes: TestNode[] = [];

afterEach(async () => {
  await stopAll();
  await dns?.stop();
  dns = null;
  nodes.length = 0;
});
afterAll(removeDirs);

const HOSTS: [string, string][] = [1, 2, 3, 4].map((i) => ["127.0.0.1", `n${i}.test`]);

function srvRecords(ports: number[]): DnsRecords {
  return { hosts: HOSTS, srv: ports.map((p, i) => ["_shoal._tcp.test", `n${i + 1}.test`, p]) };
}

test("3 nodes form a cluster from one SRV record that appears after they started; a 4th joins when the record lists it", async () => {
  const name = uniqueClusterName("dnssrv");
  const ports = [freePort(), freePort(), freePort(), freePort()];
  dns = await startDnsmasq({ hosts: HOSTS });
  const args = (i: number) =>
    clusterArgs(name, [
      `--cluster.listen-address=127.0.0.1:${ports[i]}`,
      "--cluster.join=dnssrv+_shoal._tcp.test.",
      "--cluster.join.refresh-interval=1s",
      `--dns.server=${dns!.address}`,
    ]);
  try {
    const started = [0, 1, 2].map((i) => startNode(`n${i + 1}`, args(i)).then((n) => (nodes.push(n), n)));
    const three = await Promise.all(started);
    // No record yet: each node is alone.
    await Bun.sleep(1500);
    for (const n of three) expect(await aliveMembers(n)).toEqual([n.name]);

    await dns.setRecords(srvRecords(ports.slice(0, 3)));
    for (const n of three) await waitFor(`${n.name} sees 3 members`, async () => (await aliveMembers(n)).join() === "n1,n2,n3", { timeoutMs: 20_000 });

    await dns.setRecords(srvRecords(ports));
    const n4 = await startNode("n4", args(3));
    nodes.push(n4);
    for (const n of [...three, n4]) await waitFor(`${n.name} sees 4 members`, async () => (await aliveMembers(n)).join() === "n1,n2,n3,n4", { timeoutMs: 20_000 });
    const status = await waitFor("all 4 active", async () => {
      const r = await runCli(["cluster", "status", "--url", n4.url]);
      return r.stdout.includes("4 members, replication factor 3,") ? r.stdout : undefined;
    });
    expect(status).toContain(`cluster ${name}: 4 members`);
    expect(n4.output()).toContain("cluster join name resolved");
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${dumpLogs(nodes)}`);
  }
}, 120_000);

test("dns+NAME:PORT joins every address of an A record; the host:port form keeps working beside it", async () => {
  const name = uniqueClusterName("dnsa");
  const [p1, p2, p3] = [freePort(), freePort(), freePort()];
  dns = await startDnsmasq({ hosts: [["127.0.0.1", "seed.test"]] });
  const a = await startNode("a", clusterArgs(name, [`--cluster.listen-address=127.0.0.1:${p1}`]));
  nodes.push(a);
  const b = await startNode("b", clusterArgs(name, [`--cluster.listen-address=127.0.0.1:${p2}`, `--cluster.join=dns+seed.test:${p1}`, `--dns.server=${dns.address}`]));
  nodes.push(b);
  const c = await startNode("c", clusterArgs(name, [`--cluster.listen-address=127.0.0.1:${p3}`, `--cluster.join=127.0.0.1:${p2}`]));
  nodes.push(c);
  for (const n of [a, b, c]) await waitFor(`${n.name} sees 3 members`, async () => (await aliveMembers(n)).join() === "a,b,c", { timeoutMs: 20_000 });
}, 60_000);

test.each([
  ["dnssrv+", "expected dnssrv+NAME"],
  ["dns+seed.test", "expected dns+NAME:PORT"],
  ["dnssrvnoa+_x._tcp.test", 'unknown lookup "dnssrvnoa"'],
  ["seed.test", "expected HOST:PORT"],
])("--cluster.join=%s is refused at start", async (value, message) => {
  const r = await runCli([`--cluster.join=${value}`, "--cluster.mdns=false", "--web.listen-address=127.0.0.1:0"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr + r.stdout).toContain(message);
}, 30_000);
