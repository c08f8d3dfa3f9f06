/**
 * What a user does on each page, as playwright steps with assertions. The browser test runs them
 * against a running Shoal cluster; every step waits on what is visible, never on timers.
 */
import { expect } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { waitFor } from "../support/index.ts";
import { SCREENSHOT_DIR } from "./harness.ts";

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

/** The series the test target exposes, with their values. */
export interface ExpectedSeries {
  metric: string;
  /** label value of `labelName` → sample value as the API prints it. */
  values: Record<string, string>;
  labelName: string;
}

/**
 * Cold loads of the UI (fresh browser context, empty cache), timed by the browser from the
 * navigation's start: until the query page with its editor is rendered (the UI's own
 * performance mark) and until the load event. The best of `runs` is what the UI costs; the
 * median shows how much a busy machine adds.
 */
export async function measureColdLoad(
  browser: Browser,
  base: string,
  runs = 5,
): Promise<{ bestReadyMs: number; bestLoadEventMs: number; medianReadyMs: number; medianLoadEventMs: number }> {
  const ready: number[] = [];
  const loads: number[] = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/query`);
    await page.locator(".panel .cm-content").first().waitFor();
    const t = await page.evaluate(() => ({
      ready: performance.getEntriesByName("shoal-ui-ready")[0]?.startTime ?? Infinity,
      load: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd,
    }));
    ready.push(Math.round(t.ready));
    loads.push(Math.round(t.load));
    await context.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { bestReadyMs: Math.min(...ready), bestLoadEventMs: Math.min(...loads), medianReadyMs: median(ready), medianLoadEventMs: median(loads) };
}

/** Opens the query page, measures the load, types a query with autocomplete, checks table and graph. */
export async function checkQueryPage(page: Page, base: string, exp: ExpectedSeries): Promise<{ loadMs: number }> {
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.locator(".panel .cm-content").first().waitFor();
  const loadMs = Date.now() - started;
  await expect(page.title()).resolves.toBe("Query · Shoal");

  // Autocomplete: a prefix of the metric name offers the full name from /api/v1/label/__name__/values.
  const editor = page.locator(".panel .cm-content").first();
  await editor.click();
  const prefix = exp.metric.slice(0, Math.max(4, exp.metric.length - 6));
  await page.keyboard.type(prefix, { delay: 15 });
  const option = page.locator(".cm-tooltip-autocomplete li", { hasText: exp.metric }).first();
  await option.waitFor({ timeout: 15_000 });
  await screenshot(page, "query-autocomplete", false);
  // The metric is the first exact match; accept it with Enter (completion has precedence over run).
  const options = await page.locator(".cm-tooltip-autocomplete li").allTextContents();
  const index = options.findIndex((o) => o.startsWith(exp.metric) && !o.startsWith(exp.metric + "_"));
  expect(index).toBeGreaterThanOrEqual(0);
  for (let i = 0; i < index; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(editor.textContent()).resolves.toBe(exp.metric);
  // The editor highlights PromQL: a number literal gets the number color.
  await page.keyboard.type(" > 42");
  const numberColor = await page
    .locator(".panel .cm-line span", { hasText: /^42$/ })
    .first()
    .evaluate((el) => getComputedStyle(el).color);
  expect(numberColor).toBe("rgb(9, 136, 90)");
  for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
  await expect(editor.textContent()).resolves.toBe(exp.metric);

  // Table: Enter runs the query (Escape first closes a completion list, as a user would).
  await page.keyboard.press("Escape");
  await page.keyboard.press("Enter");
  const rows = page.locator(".panel .result-table tr");
  await waitUntil(async () => (await rows.count()) === Object.keys(exp.values).length, "table rows");
  const table = await page.locator(".panel .result-table").first().evaluate((t) =>
    Array.from(t.querySelectorAll("tr")).map((tr): [string, string] => [tr.querySelector(".series")!.textContent!, tr.querySelector(".value")!.textContent!]),
  );
  const got: Record<string, string> = {};
  for (const [series, value] of table) {
    expect(series.startsWith(`${exp.metric}{`)).toBe(true);
    const m = new RegExp(`${exp.labelName}="([^"]*)"`).exec(series);
    expect(m).not.toBeNull();
    got[m![1]!] = value;
  }
  expect(got).toEqual(exp.values);
  expect(page.url()).toContain(`g0.expr=${exp.metric}`);
  await screenshot(page, "query-table");

  // Graph: a range query, drawn with one uPlot series per result series.
  await page.locator(".panel .tab", { hasText: "Graph" }).first().click();
  const graph = page.locator(".panel .graph").first();
  await graph.locator("canvas").waitFor();
  await waitUntil(async () => (await graph.getAttribute("data-series")) === String(Object.keys(exp.values).length), "graph series");
  await expect(page.locator(".panel .legend-item").count()).resolves.toBe(Object.keys(exp.values).length);
  // The canvas really has ink on it (not a blank chart).
  const inked = await graph.locator("canvas").first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
  expect(inked).toBeGreaterThan(500);
  // The legend toggles series.
  await page.locator(".panel .legend-item").first().click();
  await expect(graph.getAttribute("data-visible-series")).resolves.toBe(String(Object.keys(exp.values).length - 1));
  await page.locator(".panel .legend-item").first().click();
  await expect(graph.getAttribute("data-visible-series")).resolves.toBe(String(Object.keys(exp.values).length));
  // Range and stacked controls go to the URL.
  await page.locator(".panel .range-input").first().fill("2m");
  await page.locator(".panel .range-input").first().press("Enter");
  await page.locator(".panel .seg", { hasText: "Stacked" }).first().click();
  await waitUntil(async () => page.url().includes("g0.range_input=2m") && page.url().includes("g0.display_mode=stacked"), "URL state");
  expect(page.url()).toContain("g0.tab=graph");
  await graph.locator("canvas").waitFor();
  await screenshot(page, "query-graph");

  // A shared link restores the panel: same expression, tab, range.
  const link = page.url();
  await page.goto(link);
  await page.locator(".panel .graph canvas").first().waitFor();
  await expect(page.locator(".panel .cm-content").first().textContent()).resolves.toBe(exp.metric);
  await expect(page.locator(".panel .tab.active").first().textContent()).resolves.toBe("Graph");
  await expect(page.locator(".panel .range-input").first().inputValue()).resolves.toBe("2m");

  // A second panel, with a query error shown plainly.
  await page.locator(".add-panel").click();
  await expect(page.locator(".panel").count()).resolves.toBe(2);
  const second = page.locator(".panel").nth(1);
  await second.locator(".cm-content").click();
  // Completion of functions, label names and label values, all from this node's API.
  const completions = page.locator(".cm-tooltip-autocomplete li");
  const offers = async (text: string) => {
    await page.locator(".cm-tooltip-autocomplete li", { hasText: text }).first().waitFor({ timeout: 15_000 });
    return completions.allTextContents();
  };
  await page.keyboard.type("histogram_qu", { delay: 15 });
  expect((await offers("histogram_quantile")).some((o) => o.startsWith("histogram_quantile"))).toBe(true);
  await second.locator(".cm-content").press("Control+a");
  await page.keyboard.type(`${exp.metric}{${exp.labelName.slice(0, 2)}`, { delay: 15 });
  expect((await offers(exp.labelName)).some((o) => o.startsWith(exp.labelName))).toBe(true);
  await page.keyboard.press("Escape");
  await page.keyboard.type(`${exp.labelName.slice(2)}="`, { delay: 15 });
  const firstValue = Object.keys(exp.values)[0]!;
  const valueOptions = await offers(firstValue);
  for (const v of Object.keys(exp.values)) expect(valueOptions.some((o) => o.startsWith(v))).toBe(true);
  await page.keyboard.press("Escape");
  await second.locator(".cm-content").press("Control+a");
  await page.keyboard.press("Backspace");
  // The metrics explorer lists the metric names and inserts the one picked.
  await second.locator(".explorer-btn").click();
  await page.locator(".explorer-filter").fill(exp.metric.slice(3, 12));
  await page.locator(".explorer-list li.metric", { hasText: exp.metric }).first().waitFor();
  await screenshot(page, "query-metrics-explorer", false);
  await page.locator(".explorer-list li.metric", { hasText: exp.metric }).first().click();
  await expect(page.locator(".overlay").count()).resolves.toBe(0);
  await expect(second.locator(".cm-content").textContent()).resolves.toBe(exp.metric);
  await second.locator(".cm-content").press("Control+a");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("sum(rate(");
  await second.locator(".execute").click();
  const error = second.locator(".notice.error");
  await error.waitFor();
  expect(await error.textContent()).toContain("Error executing query");
  expect(page.url()).toContain("g1.expr=");
  await screenshot(page, "query-error");

  // Warnings and infos of a successful query are shown with its result.
  const runSecond = async (expr: string) => {
    await second.locator(".cm-content").press("Control+a");
    await page.keyboard.press("Backspace");
    await page.keyboard.type(expr);
    await page.keyboard.press("Escape");
    await second.locator(".execute").click();
  };
  await runSecond(`quantile(2, ${exp.metric})`);
  await second.locator(".notice.warning").waitFor();
  expect(await second.locator(".notice.warning").textContent()).toContain("quantile value should be between 0 and 1");
  expect(await second.locator(".notice.error").count()).toBe(0);
  await runSecond(`rate(${exp.metric}[1m])`);
  await second.locator(".notice.info").waitFor();
  expect(await second.locator(".notice.info").textContent()).toContain("might not be a counter");
  await screenshot(page, "query-annotations");
  return { loadMs };
}

export async function checkTargetsPage(page: Page, base: string, targetUrl: string, scraper: string): Promise<void> {
  await page.goto(`${base}/targets`);
  const row = page.locator("tr.target", { hasText: targetUrl });
  await row.waitFor();
  await waitUntil(async () => (await row.getAttribute("data-health")) === "up", "target up", async () => {
    await page.reload();
    await row.waitFor();
  });
  const text = await row.textContent();
  expect(text).toContain("UP");
  expect(text).toContain('job="');
  expect(text).toMatch(/ago/);
  expect(await row.locator(".scraped-by").textContent()).toBe(scraper);
  await screenshot(page, "targets");
}

export async function checkClusterPage(page: Page, base: string, members: string[]): Promise<void> {
  await page.goto(`${base}/cluster`);
  await waitUntil(async () => (await page.locator("tr.member").count()) === members.length, "cluster members");
  const names = await page.locator("tr.member").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-member")));
  expect(names.sort()).toEqual([...members].sort());
  await waitUntil(
    async () => (await page.locator('tr.member[data-state="active"]').count()) === members.length,
    "all members active",
  );
  await expect(page.locator("svg.ring path").count()).resolves.toBeGreaterThanOrEqual(members.length);
  await screenshot(page, "cluster");
}

/**
 * A member joins: the page (open on another node, refreshing itself) lists it, turns it active,
 * and shows the data pulled into it as join transfers from the previous owners.
 */
export async function checkClusterShowsJoinHandoff(page: Page, base: string, members: string[], joined: string): Promise<void> {
  await page.goto(`${base}/cluster`);
  await waitUntil(async () => (await page.locator('tr.member[data-state="active"]').count()) === members.length, `${joined} to join and turn active`, undefined, 60_000);
  const pulls = page.locator('tr.transfer[data-reason="join"]', { hasText: `→ ${joined}` });
  await waitUntil(async () => (await pulls.count()) > 0, `a join transfer into ${joined}`, undefined, 30_000);
  // Every pull ends; those that moved samples show them (a range may hold no series at all).
  const finished = pulls.filter({ hasText: /100% · \d/ });
  await waitUntil(async () => (await finished.count()) > 0, "a finished join transfer with its samples", undefined, 30_000);
  expect(await finished.first().getAttribute("data-state")).toBe("done");
  await screenshot(page, "cluster-join-handoff");
}

/**
 * With the cluster page open (no reload: it refreshes itself), a member that stopped shows as
 * not alive and the replication health turns bad.
 */
export async function checkClusterShowsLostMember(page: Page, member: string): Promise<void> {
  const row = page.locator(`tr.member[data-member="${member}"]`);
  await waitUntil(async () => ["suspect", "dead"].includes((await row.getAttribute("data-health")) ?? ""), `${member} to be shown as not alive`, undefined, 30_000);
  const health = page.locator('[data-card="replication-health"]');
  await waitUntil(async () => (await health.getAttribute("class"))?.includes("bad") ?? false, "replication health to turn bad", undefined, 30_000);
  await screenshot(page, "cluster-member-lost");
}

export async function checkStatusPages(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/status`);
  await page.locator("#build table").waitFor();
  await page.locator("#flags table").waitFor();
  expect(await page.locator("#flags").textContent()).toContain("storage.tsdb.path");
  await page.locator("#tsdb .card").first().waitFor();
  await screenshot(page, "status");
  for (const [path, title] of [
    ["/alerts", "Alerts"],
    ["/rules", "Rules"],
  ] as const) {
    await page.goto(`${base}${path}`);
    await page.locator(".page-body .empty-state, .page-body .rule-group").first().waitFor();
    await expect(page.title()).resolves.toBe(`${title} · Shoal`);
    await screenshot(page, path.slice(1));
  }
}

/** Waits on a condition in the page, with an optional action between tries (e.g. reload). */
export async function waitUntil(check: () => Promise<boolean>, what: string, between?: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (await check()) return true;
      await between?.();
      return false;
    },
    { timeoutMs, intervalMs: 150 },
  );
}
