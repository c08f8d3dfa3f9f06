/**
 * Through the door a user uses: a `shoal` process started with --config.file scrapes a real
 * prometheus-node-exporter; the HTTP API shows the target up and answers queries on node_*
 * series; the config's file_sd target list is followed while the node runs.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startNodeExporter, startShoal, tempDir, waitFor, type NodeExporter, type ShoalNode } from "../support/index.ts";

const exporter = Bun.which("prometheus-node-exporter");
let dir = "";
let exporterProc: NodeExporter | null = null;
let shoal: ShoalNode | null = null;
let exporterAddr = "";
let api = "";
let extra: ReturnType<typeof Bun.serve> | null = null;

function writeTargets(targets: string[]): void {
  writeFileSync(join(dir, "extra.json.tmp"), JSON.stringify([{ targets, labels: { source: "file" } }]));
  renameSync(join(dir, "extra.json.tmp"), join(dir, "extra.json"));
}

beforeAll(async () => {
  if (!exporter) return;
  dir = tempDir("e2e-scrape");
  exporterProc = await startNodeExporter();
  exporterAddr = exporterProc.address;
  extra = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("extra_metric 42\n", { headers: { "content-type": "text/plain" } }) });
  writeTargets([]);
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["${exporterAddr}"]\n  - job_name: files\n    file_sd_configs:\n      - files: ["extra.json"]\n        refresh_interval: 1s\n`,
  );
  shoal = await startShoal({ dataDir: join(dir, "data"), args: [`--config.file=${join(dir, "shoal.yml")}`] });
  api = shoal.url;
}, 90_000);

afterAll(async () => {
  await shoal?.stop();
  await exporterProc?.stop();
  extra?.stop(true);
  if (dir) removeTempDir(dir);
});

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${api}${path}`);
  return ((await res.json()) as { data: T }).data;
}

type Targets = { activeTargets: { scrapePool: string; health: string; lastError: string; labels: Record<string, string>; scrapeUrl: string }[] };
type Vector = { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };

test.skipIf(!exporter)("shoal scrapes node exporter and follows file_sd while running", async () => {
  const node = await waitFor("node exporter target up", async () => {
    const d = await get<Targets>("/api/v1/targets");
    return d.activeTargets.find((t) => t.scrapePool === "node" && t.health === "up");
  }, { timeoutMs: 30_000 });
  expect(node.lastError).toBe("");
  expect(node.scrapeUrl).toBe(`http://${exporterAddr}/metrics`);
  const up = await get<Vector>(`/api/v1/query?query=${encodeURIComponent('up{job="node"}')}`);
  expect(up.result.map((r) => r.value[1])).toEqual(["1"]);
  const cpus = await get<Vector>(`/api/v1/query?query=${encodeURIComponent('count(node_cpu_seconds_total{mode="idle"})')}`);
  expect(Number(cpus.result[0]!.value[1])).toBeGreaterThan(0);
  const names = await get<string[]>(`/api/v1/label/__name__/values?${new URLSearchParams({ "match[]": '{job="node"}' })}`);
  expect(names.filter((n) => n.startsWith("node_")).length).toBeGreaterThan(50);

  writeTargets([`127.0.0.1:${extra!.port}`]);
  await waitFor("file_sd target scraped", async () => {
    const v = await get<Vector>(`/api/v1/query?query=extra_metric`);
    return v.result.length === 1 ? v : undefined;
  }, { timeoutMs: 30_000 });
  const extraUp = await get<Vector>(`/api/v1/query?query=${encodeURIComponent('up{job="files"}')}`);
  expect(extraUp.result[0]!.metric).toEqual({ __name__: "up", instance: `127.0.0.1:${extra!.port}`, job: "files", source: "file" });
}, 90_000);

test.skipIf(!exporter)("SIGHUP reload: a new job starts, the unchanged job keeps scraping, a bad file is refused", async () => {
  const before = (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "node")!;
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["${exporterAddr}"]\n  - job_name: added\n    static_configs:\n      - targets: ["127.0.0.1:${extra!.port}"]\n`,
  );
  shoal!.proc.kill("SIGHUP");
  await waitFor("new job scraped", async () => (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "added" && t.health === "up"), { timeoutMs: 20_000 });
  const pools = (await get<Targets>("/api/v1/targets")).activeTargets.map((t) => t.scrapePool).sort();
  expect(pools).toEqual(["added", "node"]);
  const node = (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "node")!;
  expect(node.health).toBe("up");
  expect(node.labels).toEqual(before.labels);

  writeFileSync(join(dir, "shoal.yml"), "scrape_configs:\n  - job_name: broken\n    scrape_interval: 15x\n");
  shoal!.proc.kill("SIGHUP");
  await waitFor("the bad file refused", async () => /^prometheus_config_last_reload_successful 0$/m.test(await (await fetch(`${api}/metrics`)).text()), { timeoutMs: 10_000 });
  const after = (await get<Targets>("/api/v1/targets")).activeTargets.map((t) => t.scrapePool).sort();
  expect(after).toEqual(["added", "node"]);
}, 60_000);
