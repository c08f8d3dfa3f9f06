/**
 * The web UI end to end: the compiled binary, three nodes joined into a cluster, one scrape
 * target with known values, and a headless Chromium that uses every page like a person would.
 * Screenshots of each page land in test-output/ui/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { checkClusterPage, checkClusterShowsJoinHandoff, checkClusterShowsLostMember, checkQueryPage, checkStatusPages, checkTargetsPage, measureColdLoad } from "./checks.ts";
import { freePort, removeTempDir, spawnProcess, tempDir, waitFor, type RunningProcess } from "../support/index.ts";
import { getJson, launchBrowser, shoalBinary } from "./harness.ts";

const METRIC = "ui_test_temperature_celsius";
const VALUES = { kitchen: "21.5", hall: "18", cellar: "12.25" };
const NODES = ["ui-a", "ui-b", "ui-c"];

let dir = "";
let binCleanup = () => {};
let target: ReturnType<typeof Bun.serve> | null = null;
const nodes: { name: string; url: string; proc: RunningProcess }[] = [];
let browser: Browser | null = null;
let page: Page | null = null;
let config = "";
let clusterName = "";
let seed = "";
let binPath = "";

async function startNode(name: string): Promise<{ name: string; url: string; proc: RunningProcess }> {
  const [http, p2p] = [freePort(), freePort()];
  const args = [
    binPath,
    `--web.listen-address=127.0.0.1:${http}`,
    `--storage.tsdb.path=${join(dir, name)}`,
    `--config.file=${config}`,
    `--cluster.listen-address=127.0.0.1:${p2p}`,
    `--cluster.node-name=${name}`,
    `--cluster.name=${clusterName}`,
    "--cluster.mdns=false",
    "--log.level=warn",
  ];
  if (seed) args.push(`--cluster.join=${seed}`);
  else seed = `127.0.0.1:${p2p}`;
  const n = { name, url: `http://127.0.0.1:${http}`, proc: spawnProcess(name, args, { cwd: dir }) };
  nodes.push(n);
  return n;
}

function exposition(): string {
  const lines = [`# HELP ${METRIC} Temperature per room.`, `# TYPE ${METRIC} gauge`];
  for (const [room, v] of Object.entries(VALUES)) lines.push(`${METRIC}{room="${room}"} ${v}`);
  return lines.join("\n") + "\n";
}

beforeAll(async () => {
  dir = tempDir("ui");
  const bin = await shoalBinary();
  binCleanup = bin.cleanup;
  target = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(exposition(), { headers: { "Content-Type": "text/plain; version=0.0.4" } }) });
  binPath = bin.path;
  config = join(dir, "shoal.yml");
  await Bun.write(
    config,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: rooms\n    static_configs:\n      - targets: ["127.0.0.1:${target.port}"]\n`,
  );
  clusterName = `ui-test-${process.pid}-${Date.now()}`;
  for (const name of NODES) await startNode(name);
  const procs = nodes.map((n) => n.proc);
  for (const n of nodes) {
    await waitFor(
      `${n.name} to see 3 active members`,
      async () => {
        const s = await getJson<{ data: { members: { state: string }[] } }>(`${n.url}/api/v1/status/cluster`);
        return s.data.members.length === NODES.length && s.data.members.every((m) => m.state === "active");
      },
      { timeoutMs: 60_000, processes: procs },
    );
  }
  await waitFor(
    "the target's series to be queryable",
    async () => {
      const r = await getJson<{ data: { result: unknown[] } }>(`${nodes[0]!.url}/api/v1/query?query=${METRIC}`);
      return r.data.result.length === Object.keys(VALUES).length;
    },
    { timeoutMs: 60_000, processes: procs },
  );
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  page.setDefaultTimeout(20_000);
}, 240_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await Promise.all(nodes.map((n) => n.proc.stop("SIGTERM", 5000)));
  target?.stop(true);
  binCleanup();
  if (dir) removeTempDir(dir);
});

describe("web UI in a browser, against a 3-node cluster (and a fourth that joins)", () => {
  test("the binary serves the embedded UI: index revalidated, hashed assets cached for a year", async () => {
    const base = nodes[0]!.url;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      expect(a).toMatch(/-[a-z0-9]{6,}\.(js|css)$/);
      const res = await fetch(`${base}${a}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    for (const route of ["/query", "/graph", "/targets", "/cluster", "/status", "/alerts", "/rules"]) {
      expect((await fetch(`${base}${route}`)).headers.get("content-type")).toContain("text/html");
    }
  });

  test("loads well under a second", async () => {
    const t = await measureColdLoad(browser!, nodes[0]!.url);
    console.log(
      `ui cold load (5 runs): editor ready best ${t.bestReadyMs}ms / median ${t.medianReadyMs}ms, ` +
        `load event best ${t.bestLoadEventMs}ms / median ${t.medianLoadEventMs}ms`,
    );
    expect(t.bestReadyMs).toBeLessThan(1000);
    expect(t.bestLoadEventMs).toBeLessThan(1000);
  }, 60_000);

  test("query page: autocomplete, table values, graph series, legend, URL state, errors", async () => {
    await checkQueryPage(page!, nodes[0]!.url, { metric: METRIC, labelName: "room", values: VALUES });
  }, 90_000);

  test("targets page: the target, its health and the node that scrapes it", async () => {
    // Targets are sharded: exactly one member scrapes it, and every node's page names that member.
    const scrapers = await Promise.all(
      nodes.map(async (n) => ((await getJson<{ data: { activeTargets: unknown[] } }>(`${n.url}/api/v1/targets`)).data.activeTargets.length > 0 ? n.name : null)),
    );
    const owners = scrapers.filter((s): s is string => s !== null);
    expect(owners).toHaveLength(1);
    // Opened on a node that does not scrape it: the page lists the whole cluster's targets.
    const other = nodes.find((n) => n.name !== owners[0])!;
    await checkTargetsPage(page!, other.url, `http://127.0.0.1:${target!.port}/metrics`, owners[0]!);
  }, 60_000);

  test("cluster page: all three members with their ring share", async () => {
    await checkClusterPage(page!, nodes[0]!.url, NODES);
  }, 60_000);

  test("status, alerts and rules pages", async () => {
    // The rule endpoints gather every member's own view: each member answered (no warnings).
    for (const path of ["/api/v1/rules", "/api/v1/alerts"]) {
      const res = await getJson<{ status: string; warnings?: string[] }>(`${nodes[1]!.url}${path}`);
      expect(res).toMatchObject({ status: "success" });
      expect(res.warnings).toBeUndefined();
    }
    await checkStatusPages(page!, nodes[0]!.url);
  }, 60_000);

  test("cluster page shows the hand-off to a joining member", async () => {
    const joined = await startNode("ui-d");
    await checkClusterShowsJoinHandoff(page!, nodes[0]!.url, [...NODES, joined.name], joined.name);
  }, 90_000);

  test("cluster page follows a member going away", async () => {
    await checkClusterPage(page!, nodes[0]!.url, nodes.map((n) => n.name));
    const lost = nodes[2]!;
    lost.proc.proc.kill("SIGKILL");
    await lost.proc.proc.exited;
    await checkClusterShowsLostMember(page!, lost.name);
  }, 60_000);
});
