/**
 * http_sd_configs through a real `shoal` process: an HTTP SD server of ours (Bun.serve) that asks
 * for basic auth hands out target lists; targets appear, change and disappear as its list does,
 * a failing server leaves the last list in place, and the failures are counted under
 * Prometheus's metric names. Alertmanagers are found the same way.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";

type Group = { targets: string[]; labels?: Record<string, string> };
let groups: Group[] = [];
let mode: "ok" | "error" | "html" = "ok";
const seenHeaders: Headers[] = [];
let sd: ReturnType<typeof Bun.serve>;
let exporterA: ReturnType<typeof Bun.serve>;
let exporterB: ReturnType<typeof Bun.serve>;
let shoal: ShoalNode;
let dir = "";

const AUTH = `Basic ${Buffer.from("sd:s3cret").toString("base64")}`;

beforeAll(async () => {
  dir = tempDir("http-sd");
  const metrics = (v: number) => () => new Response(`probe_value ${v}\n`, { headers: { "content-type": "text/plain" } });
  exporterA = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(1) });
  exporterB = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(2) });
  sd = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      if (req.headers.get("authorization") !== AUTH) return new Response("unauthorized\n", { status: 401 });
      seenHeaders.push(req.headers);
      const path = new URL(req.url).pathname;
      if (path === "/alertmanagers") return Response.json([{ targets: ["127.0.0.1:9093"] }]);
      if (mode === "error") return new Response("down for maintenance\n", { status: 503 });
      if (mode === "html") return new Response("<html></html>", { headers: { "content-type": "text/html" } });
      return Response.json(groups);
    },
  });
  groups = [{ targets: [`127.0.0.1:${exporterA.port}`], labels: { team: "a" } }];
  writeFileSync(join(dir, "sd-password"), "s3cret\n");
  const sdURL = `http://127.0.0.1:${sd.port}`;
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: from-http
    http_sd_configs:
      - url: ${sdURL}/targets
        refresh_interval: 1s
        basic_auth: { username: sd, password_file: sd-password }
  - job_name: no-credentials
    http_sd_configs:
      - url: ${sdURL}/targets
        refresh_interval: 1s
alerting:
  alertmanagers:
    - http_sd_configs:
        - url: ${sdURL}/alertmanagers
          refresh_interval: 1s
          basic_auth: { username: sd, password: s3cret }
`,
  );
  shoal = await startShoal({ name: "shoal-http-sd", args: [`--config.file=${join(dir, "shoal.yml")}`] });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
  sd?.stop(true);
  exporterA?.stop(true);
  exporterB?.stop(true);
  if (dir) removeTempDir(dir);
});

type Target = { scrapePool: string; health: string; scrapeUrl: string; labels: Record<string, string>; discoveredLabels: Record<string, string> };

async function targets(pool: string): Promise<Target[]> {
  const res = (await (await fetch(`${shoal.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return res.data.activeTargets.filter((t) => t.scrapePool === pool);
}

async function metric(name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${shoal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? NaN : Number(line.split(" ").at(-1));
}

const addresses = async (pool: string) => (await targets(pool)).map((t) => t.labels.instance).sort();

test("targets come from the SD server with __meta_url and the group's labels, and are scraped", async () => {
  const [t] = await waitFor("the SD server's target up", async () => {
    const ts = await targets("from-http");
    return ts.length === 1 && ts[0]!.health === "up" ? ts : undefined;
  });
  expect(t!.discoveredLabels).toMatchObject({ __address__: `127.0.0.1:${exporterA.port}`, __meta_url: `http://127.0.0.1:${sd.port}/targets`, team: "a", job: "from-http" });
  expect(t!.labels).toEqual({ instance: `127.0.0.1:${exporterA.port}`, job: "from-http", team: "a" });
  // As Prometheus asks: JSON, and how often it will come back.
  const h = seenHeaders.at(-1)!;
  expect(h.get("accept")).toBe("application/json");
  expect(h.get("x-prometheus-refresh-interval-seconds")).toBe("1");
}, 30_000);

test("a changed list adds and removes targets", async () => {
  groups = [{ targets: [`127.0.0.1:${exporterB.port}`], labels: { team: "b" } }];
  await waitFor("the new list", async () => JSON.stringify(await addresses("from-http")) === JSON.stringify([`127.0.0.1:${exporterB.port}`]));
  groups = [{ targets: [`127.0.0.1:${exporterA.port}`, `127.0.0.1:${exporterB.port}`] }];
  await waitFor("both targets", async () => (await addresses("from-http")).length === 2);
  groups = [];
  await waitFor("no targets", async () => (await targets("from-http")).length === 0);
  groups = [{ targets: [`127.0.0.1:${exporterA.port}`] }];
  await waitFor("one target again", async () => (await targets("from-http")).length === 1);
}, 30_000);

test("a failing SD server keeps the last list, and each failure is counted", async () => {
  const before = await addresses("from-http");
  expect(before).toEqual([`127.0.0.1:${exporterA.port}`]);
  const failures = async () => (await metric("prometheus_sd_refresh_failures_total", '{mechanism="http",config="from-http"}')) || 0;
  const httpFailures0 = await metric("prometheus_sd_http_failures_total");
  for (const m of ["error", "html"] as const) {
    mode = m;
    const start = await failures();
    await waitFor(`3 failed refreshes (${m})`, async () => (await failures()) >= start + 3, { timeoutMs: 15_000 });
    expect(await addresses("from-http")).toEqual(before);
  }
  expect(await metric("prometheus_sd_http_failures_total")).toBeGreaterThanOrEqual(httpFailures0 + 6);
  mode = "ok";
  groups = [{ targets: [`127.0.0.1:${exporterB.port}`] }];
  await waitFor("the list after the server recovered", async () => JSON.stringify(await addresses("from-http")) === JSON.stringify([`127.0.0.1:${exporterB.port}`]));
}, 60_000);

test("without the credentials the server asks for, no targets and failed refreshes", async () => {
  await waitFor("failed refreshes of the job without credentials", async () => (await metric("prometheus_sd_refresh_failures_total", '{mechanism="http",config="no-credentials"}')) >= 2);
  expect(await targets("no-credentials")).toEqual([]);
  expect(await metric("prometheus_sd_refresh_duration_seconds_count", '{mechanism="http",config="from-http"}')).toBeGreaterThan(3);
}, 30_000);

test("Alertmanagers are discovered through http_sd_configs too", async () => {
  const ams = await waitFor("an Alertmanager from the SD server", async () => {
    const res = (await (await fetch(`${shoal.url}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
    return res.data.activeAlertmanagers.length > 0 ? res.data.activeAlertmanagers : undefined;
  });
  expect(ams).toEqual([{ url: "http://127.0.0.1:9093/api/v2/alerts" }]);
  expect(await metric("prometheus_sd_refresh_duration_seconds_count", '{mechanism="http",config="config-0"}')).toBeGreaterThan(0);
}, 30_000);
