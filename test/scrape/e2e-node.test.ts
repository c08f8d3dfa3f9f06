/**
 * Through the door a user uses: a `shoal` process started with --config.file scrapes a real
 * prometheus-node-exporter; the HTTP API shows the target up and answers queries on node_*
 * series; the config's file_sd target list is followed while the node runs.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./helpers.ts";

const exporter = Bun.which("prometheus-node-exporter");
const root = join(import.meta.dir, "../..");
let dir = "";
let exporterProc: ReturnType<typeof Bun.spawn> | null = null;
let shoal: ReturnType<typeof Bun.spawn> | null = null;
let exporterAddr = "";
let api = "";
let extra: ReturnType<typeof Bun.serve> | null = null;

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const p = s.port!;
  s.stop(true);
  return p;
}

async function startWithRetry(make: (port: number) => ReturnType<typeof Bun.spawn>, ready: (port: number) => Promise<boolean>): Promise<[ReturnType<typeof Bun.spawn>, number]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const proc = make(port);
    try {
      await waitFor("process ready", async () => (await ready(port).catch(() => false)) || undefined, 20_000);
      return [proc, port];
    } catch {
      proc.kill();
      await proc.exited;
    }
  }
  throw new Error("could not start process");
}

function writeTargets(targets: string[]): void {
  writeFileSync(join(dir, "extra.json.tmp"), JSON.stringify([{ targets, labels: { source: "file" } }]));
  renameSync(join(dir, "extra.json.tmp"), join(dir, "extra.json"));
}

beforeAll(async () => {
  if (!exporter) return;
  dir = mkdtempSync(join(tmpdir(), "shoal-e2e-scrape-"));
  const [ep, eport] = await startWithRetry(
    (port) => Bun.spawn([exporter, `--web.listen-address=127.0.0.1:${port}`], { stdout: "ignore", stderr: "ignore" }),
    async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).ok,
  );
  exporterProc = ep;
  exporterAddr = `127.0.0.1:${eport}`;
  extra = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("extra_metric 42\n", { headers: { "content-type": "text/plain" } }) });
  writeTargets([]);
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["${exporterAddr}"]\n  - job_name: files\n    file_sd_configs:\n      - files: ["extra.json"]\n        refresh_interval: 1s\n`,
  );
  const [sp, sport] = await startWithRetry(
    (port) =>
      Bun.spawn(
        [process.execPath, join(root, "src/cli.ts"), `--config.file=${join(dir, "shoal.yml")}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, "data")}`, `--cluster.listen-address=127.0.0.1:${freePort()}`, "--cluster.mdns=false"],
        { stdout: "ignore", stderr: "ignore" },
      ),
    async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok,
  );
  shoal = sp;
  api = `http://127.0.0.1:${sport}`;
}, 90_000);

afterAll(async () => {
  for (const p of [shoal, exporterProc]) {
    if (p) {
      p.kill();
      await p.exited;
    }
  }
  extra?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
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
  }, 30_000);
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
  }, 30_000);
  const extraUp = await get<Vector>(`/api/v1/query?query=${encodeURIComponent('up{job="files"}')}`);
  expect(extraUp.result[0]!.metric).toEqual({ __name__: "up", instance: `127.0.0.1:${extra!.port}`, job: "files", source: "file" });
}, 90_000);

test.skipIf(!exporter)("SIGHUP reload: a new job starts, the unchanged job keeps scraping, a bad file is refused", async () => {
  const before = (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "node")!;
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["${exporterAddr}"]\n  - job_name: added\n    static_configs:\n      - targets: ["127.0.0.1:${extra!.port}"]\n`,
  );
  shoal!.kill("SIGHUP");
  await waitFor("new job scraped", async () => (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "added" && t.health === "up"), 20_000);
  const pools = (await get<Targets>("/api/v1/targets")).activeTargets.map((t) => t.scrapePool).sort();
  expect(pools).toEqual(["added", "node"]);
  const node = (await get<Targets>("/api/v1/targets")).activeTargets.find((t) => t.scrapePool === "node")!;
  expect(node.health).toBe("up");
  expect(node.labels).toEqual(before.labels);

  writeFileSync(join(dir, "shoal.yml"), "scrape_configs:\n  - job_name: broken\n    scrape_interval: 15x\n");
  shoal!.kill("SIGHUP");
  await Bun.sleep(1500);
  const after = (await get<Targets>("/api/v1/targets")).activeTargets.map((t) => t.scrapePool).sort();
  expect(after).toEqual(["added", "node"]);
  const own = await (await fetch(`${api}/metrics`)).text();
  expect(own).toMatch(/^prometheus_config_last_reload_successful 0$/m);
}, 60_000);
