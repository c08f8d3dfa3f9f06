/**
 * The Service Discovery page in headless Chromium against a real `shoal` process whose targets
 * come from an HTTP SD server of ours: per scrape pool, each discovered target with its labels
 * before and after relabeling, and dropped targets with the rule that dropped them. The page is
 * reached from the top bar (it was a 404 before).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";
import { screenshot } from "./checks.ts";
import { launchBrowser } from "./harness.ts";

let sd: ReturnType<typeof Bun.serve>;
let exporter: ReturnType<typeof Bun.serve>;
let shoal: ShoalNode;
let browser: Browser | null = null;
let page: Page;
let dir = "";

beforeAll(async () => {
  dir = tempDir("sd-page");
  exporter = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("probe_value 1\n", { headers: { "content-type": "text/plain" } }) });
  sd = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () =>
      Response.json([
        { targets: [`127.0.0.1:${exporter.port}`], labels: { env: "prod" } },
        { targets: ["10.0.0.7:9100"], labels: { env: "dev" } },
      ]),
  });
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fleet
    http_sd_configs:
      - url: http://127.0.0.1:${sd.port}/targets
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [env]
        regex: prod
        action: keep
      - source_labels: [__meta_url]
        target_label: found_by
  - job_name: fixed
    static_configs:
      - targets: ["127.0.0.1:${exporter.port}"]
`,
  );
  shoal = await startShoal({ name: "shoal-sd-page", args: [`--config.file=${join(dir, "shoal.yml")}`] });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(20_000);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await shoal?.stop();
  sd?.stop(true);
  exporter?.stop(true);
  if (dir) removeTempDir(dir);
});

type Dropped = { discoveredLabels: Record<string, string>; scrapePool: string; reason?: string };

test("the UI's targets route lists dropped targets with the rule that dropped them; /api/v1/targets keeps Prometheus's shape", async () => {
  const ui = await waitFor("a dropped target", async () => {
    const r = (await (await fetch(`${shoal.url}/ui/api/targets`)).json()) as { data: { droppedTargets: Dropped[]; droppedTargetCounts: Record<string, number> } };
    return r.data.droppedTargets.length > 0 ? r.data : undefined;
  });
  expect(ui.droppedTargets).toEqual([
    {
      discoveredLabels: expect.objectContaining({ __address__: "10.0.0.7:9100", env: "dev", job: "fleet" }),
      scrapePool: "fleet",
      reason: 'relabel_configs[0]: action keep of [env], regex "prod"',
    },
  ]);
  expect(ui.droppedTargetCounts).toEqual({ fleet: 1, fixed: 0 });
  const api = (await (await fetch(`${shoal.url}/api/v1/targets?state=dropped`)).json()) as { data: { droppedTargets: Dropped[] } };
  expect(Object.keys(api.data.droppedTargets[0]!).sort()).toEqual(["discoveredLabels", "scrapePool"]);
}, 30_000);

test("the page shows every pool's targets before and after relabeling, and why a target was dropped", async () => {
  await page.goto(`${shoal.url}/targets`);
  await page.locator("nav.topnav a", { hasText: "Service Discovery" }).click();
  await page.waitForURL(/\/service-discovery$/);
  await page.locator("h1", { hasText: "Service Discovery" }).waitFor();
  const fleet = page.locator('section[data-pool="fleet"]');
  await fleet.locator('tr[data-state="dropped"]').waitFor();
  expect(await fleet.locator("h2").textContent()).toContain("1 / 2 active targets");

  const active = fleet.locator('tr[data-state="active"]');
  expect(await active.count()).toBe(1);
  const before = await active.locator("td").nth(0).textContent();
  const after = await active.locator("td").nth(1).textContent();
  expect(before).toContain(`__meta_url="http://127.0.0.1:${sd.port}/targets"`);
  expect(before).toContain(`__address__="127.0.0.1:${exporter.port}"`);
  expect(after).toContain(`found_by="http://127.0.0.1:${sd.port}/targets"`);
  expect(after).toContain(`instance="127.0.0.1:${exporter.port}"`);
  expect(after).not.toContain("__meta_url");

  const dropped = fleet.locator('tr[data-state="dropped"]');
  expect(await dropped.locator("td").nth(0).textContent()).toContain('env="dev"');
  expect(await dropped.locator("td").nth(1).textContent()).toContain('DROPPEDby relabel_configs[0]: action keep of [env], regex "prod"');

  expect(await page.locator('section[data-pool="fixed"] tr[data-state="active"]').count()).toBe(1);
  await screenshot(page, "service-discovery");

  // Only the dropped ones.
  await page.locator('button[data-show="dropped"]').click();
  expect(await page.locator('tr[data-state="active"]').count()).toBe(0);
  expect(await page.locator('tr[data-state="dropped"]').count()).toBe(1);
  expect(await page.locator('section[data-pool="fixed"]').count()).toBe(0);
  // The label filter.
  await page.locator('button[data-show="all"]').click();
  await page.locator("input.search").fill('env="prod"');
  expect(await page.locator("tr.sd-target").count()).toBe(1);
}, 60_000);

test("a direct load of /service-discovery serves the page, not a 404", async () => {
  const res = await fetch(`${shoal.url}/service-discovery`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("<html");
});
