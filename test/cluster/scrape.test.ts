/**
 * Scrape sharding with real nodes: each target is scraped by exactly one node (its owner on the
 * ring), and when that node dies the next one takes its targets over within the dead timeout
 * plus one interval (checked through /api/v1/targets, `up` and the scraped samples).
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { aliveMembers, clusterArgs, clusterPort, clusterStatus, dumpLogs, kill, removeDirs, startNode, stopAll, stopNode, uniqueClusterName, type TestNode } from "./harness.ts";
import { tempDir, waitFor } from "../support/index.ts";

const servers: ReturnType<typeof Bun.serve>[] = [];
afterEach(async () => {
  await stopAll();
  for (const s of servers.splice(0)) s.stop(true);
});
afterAll(removeDirs);

async function activeInstances(node: TestNode): Promise<string[]> {
  const r = (await (await fetch(`${node.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: Record<string, string> }[] } };
  return r.data.activeTargets.map((t) => t.labels.instance!).sort();
}

/** Six tiny exporters and three nodes scraping them every second, sharded. */
async function setup(): Promise<{ nodes: TestNode[]; instances: string[]; hits: Map<string, number>; owners: string[][] }> {
  const hits = new Map<string, number>();
  const instances: string[] = [];
  for (let i = 0; i < 6; i++) {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        const inst = `127.0.0.1:${server.port}`;
        hits.set(inst, (hits.get(inst) ?? 0) + 1);
        return new Response(`# TYPE demo_value gauge\ndemo_value ${i}\n`, { headers: { "content-type": "text/plain; version=0.0.4" } });
      },
    });
    servers.push(server);
    instances.push(`127.0.0.1:${server.port}`);
  }
  instances.sort();
  const dir = tempDir("scrape");
  const cfg = join(dir, "shoal.yml");
  writeFileSync(
    cfg,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\nscrape_configs:\n  - job_name: sharded\n    static_configs:\n      - targets: [${instances.map((i) => `"${i}"`).join(", ")}]\n`,
  );
  const name = uniqueClusterName("scrape");
  const a = await startNode("a", clusterArgs(name, [`--config.file=${cfg}`]));
  const port = await clusterPort(a);
  const b = await startNode("b", clusterArgs(name, [`--config.file=${cfg}`, `--cluster.join=127.0.0.1:${port}`]));
  const c = await startNode("c", clusterArgs(name, [`--config.file=${cfg}`, `--cluster.join=127.0.0.1:${port}`]));
  const nodes = [a, b, c];
  for (const n of nodes) await waitFor(`${n.name} formed`, async () => (await aliveMembers(n)).join() === "a,b,c");
  // Exactly one owner per target.
  const owners = await waitFor("targets sharded", async () => {
    const lists = await Promise.all(nodes.map(activeInstances));
    const all = lists.flat().sort();
    return all.join() === instances.join() ? lists : undefined;
  });
  return { nodes, instances, hits, owners };
}

test("a gracefully stopped node hands its targets over at once", async () => {
  const { nodes, instances, owners } = await setup();
  const victimIdx = owners.findIndex((l) => l.length > 0);
  const victim = nodes[victimIdx]!;
  const survivors = nodes.filter((n) => n !== victim);
  const stoppedAt = Date.now();
  // The node exits once it has handed its data over; its targets move as soon as it announces
  // `leaving`, before that, with no need to wait for the dead timeout (2 s).
  const exited = stopNode(victim);
  await waitFor(
    "targets taken over",
    async () => (await Promise.all(survivors.map(activeInstances))).flat().sort().join() === instances.join(),
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  expect(Date.now() - stoppedAt).toBeLessThan(1500);
  expect(await exited).toBe(0);
}, 60_000);

test("every target has one scraper; a dead owner's targets move to the survivors", async () => {
  const { nodes, instances, hits, owners } = await setup();
  try {
    // Not scraped twice: about one scrape per second per target.
    hits.clear();
    await Bun.sleep(3000);
    for (const inst of instances) expect(hits.get(inst) ?? 0).toBeLessThanOrEqual(4);

    const victimIdx = owners.findIndex((l) => l.length > 0);
    const victim = nodes[victimIdx]!;
    const moved = owners[victimIdx]!;
    const survivors = nodes.filter((n) => n !== victim);
    const killedAt = Date.now();
    kill(victim);
    await waitFor(
      "targets taken over",
      async () => {
        const all = (await Promise.all(survivors.map(activeInstances))).flat().sort();
        return all.join() === instances.join();
      },
      { timeoutMs: 10_000 },
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(2000 + 1000 + 1500);
    // Scrapes go on on the survivors meanwhile (their `up` samples are checked below).
    await Bun.sleep(2500);
    const status = await clusterStatus(survivors[0]!);
    expect(status.members.find((m) => m.name === victim.name)!.health).toBe("dead");

    // `up` of every moved target continues on the survivors, with no gap longer than the dead
    // timeout (2 s) plus one interval plus scheduling slack.
    const end = Date.now() / 1000;
    for (const inst of moved) {
      const q = `up{job="sharded",instance="${inst}"}[30s]`;
      const r = (await (await fetch(`${survivors[0]!.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${end}`)).json()) as {
        data: { result: { values: [number, string][] }[] };
        warnings?: string[];
      };
      expect(r.data.result.length).toBe(1);
      const ts = r.data.result[0]!.values.map(([t]) => t * 1000);
      expect(r.data.result[0]!.values.every(([, v]) => v === "1")).toBe(true);
      expect(ts.some((t) => t > killedAt + takeoverMs)).toBe(true);
      let maxGap = 0;
      for (let i = 1; i < ts.length; i++) maxGap = Math.max(maxGap, ts[i]! - ts[i - 1]!);
      expect(maxGap).toBeLessThan(2000 + 1000 + 1500);
      const v = (await (await fetch(`${survivors[1]!.url}/api/v1/query?query=${encodeURIComponent(`demo_value{instance="${inst}"}`)}`)).json()) as {
        data: { result: unknown[] };
      };
      expect(v.data.result.length).toBe(1);
    }
    console.log(`targets of ${victim.name} (${moved.length}) taken over ${takeoverMs} ms after SIGKILL`);
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 60_000);
