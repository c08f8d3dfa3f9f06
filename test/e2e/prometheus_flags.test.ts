/**
 * Prometheus flags that systemd units and Helm charts pass, through the real process: accepted
 * (never exit 2), shown in --help and /api/v1/status/flags, acted on where Shoal can (route
 * prefix with the UI in a real browser, external URL, block durations, CORS origin, page
 * title) and logged where they have no effect.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser } from "../ui/harness.ts";
import { BUN, waitFor, freePort, REPO_ROOT, run, startShoal, waitHttpOk, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "./remote_write_client.ts";

const started: ShoalNode[] = [];
afterAll(async () => {
  await Promise.all(started.map((n) => n.stop("SIGKILL")));
});

/** Flags seen in Prometheus units and charts, with the values they pass. */
const CHART_FLAGS = [
  "--web.enable-lifecycle",
  "--enable-feature=promql-at-modifier,exemplar-storage",
  "--enable-feature=no-such-feature",
  "--storage.tsdb.wal-compression",
  "--storage.tsdb.min-block-duration=2h",
  "--storage.tsdb.max-block-duration=1d",
  "--storage.tsdb.no-lockfile",
  "--web.console.templates=/etc/prometheus/consoles",
  "--web.console.libraries=/etc/prometheus/console_libraries",
  "--web.page-title=Team Metrics",
  "--web.cors.origin=https?://grafana\\.example\\.com",
  "--web.max-connections=1024",
  "--web.read-timeout=30s",
  "--log.format=logfmt",
  "--query.max-samples=50000000",
];

async function flagsOf(url: string): Promise<Record<string, string>> {
  return ((await (await fetch(`${url}/api/v1/status/flags`)).json()) as { data: Record<string, string> }).data;
}

describe("flags from Prometheus units and charts", () => {
  test("are accepted, listed in --help and /api/v1/status/flags, and the ones without effect are logged", async () => {
    const help = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "--help"]);
    expect(help.code).toBe(0);
    for (const name of ["web.external-url", "web.route-prefix", "web.enable-lifecycle", "enable-feature", "storage.tsdb.wal-compression", "storage.tsdb.min-block-duration", "storage.tsdb.max-block-duration", "web.console.templates", "web.console.libraries", "web.page-title", "web.cors.origin", "web.max-connections", "web.read-timeout", "storage.tsdb.no-lockfile"]) {
      expect(help.stdout).toContain(`--${name}`);
    }

    const n = await startShoal({ args: CHART_FLAGS });
    started.push(n);
    const flags = await flagsOf(n.url);
    expect(flags["web.enable-lifecycle"]).toBe("true");
    expect(flags["enable-feature"]).toBe("promql-at-modifier,exemplar-storage,no-such-feature");
    expect(flags["storage.tsdb.max-block-duration"]).toBe("1d");
    expect(flags["web.console.templates"]).toBe("/etc/prometheus/consoles");
    expect(flags["web.page-title"]).toBe("Team Metrics");
    expect(flags["web.external-url"]).toBe("");
    const log = n.output();
    expect(log).toContain('msg="Unknown option for --enable-feature" option=no-such-feature');
    expect(log).toContain("Feature exemplar-storage has no effect: Shoal does not store exemplars");
    expect(log).toContain("Feature promql-at-modifier has no effect");
    expect(log).toContain("Flag --storage.tsdb.wal-compression has no effect: Shoal's WAL records are not compressed");
    expect(log).toContain("Flag --storage.tsdb.no-lockfile has no effect");
    expect(log).toContain("Flag --web.console.templates has no effect: Shoal has no console templates");
    expect(log).toContain("Flag --web.console.libraries has no effect");
    expect(log).toContain("Flag --web.max-connections has no effect");
    // --web.page-title reaches the UI.
    expect(await (await fetch(`${n.url}/`)).text()).toContain("<title>Team Metrics</title>");
    // --web.cors.origin: only matching origins get CORS headers.
    const allowed = await fetch(`${n.url}/api/v1/query?query=1`, { headers: { Origin: "https://grafana.example.com" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://grafana.example.com");
    const other = await fetch(`${n.url}/api/v1/query?query=1`, { headers: { Origin: "https://grafana.example.com.evil.net" } });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    // Both answers depend on the Origin header: a cache must not hand one to the other origin.
    expect(allowed.headers.get("vary") ?? "").toMatch(/\bOrigin\b/);
    expect(other.headers.get("vary") ?? "").toMatch(/\bOrigin\b/);
  }, 60_000);

  test("bad values are refused with the flag's name, not a crash", async () => {
    const cli = join(REPO_ROOT, "src/cli.ts");
    // Exit 2 for a value the flag's type refuses (as Prometheus's flag parser), 1 for one the node refuses at start.
    const cases: [string[], number, RegExp][] = [
      [["--web.external-url=ftp://example.com/x"], 1, /invalid --web\.external-url "ftp:\/\/example\.com\/x": the scheme must be http or https/],
      [["--web.external-url=\"http://example.com\""], 1, /must not begin or end with quotes/],
      [["--web.cors.origin=(unclosed"], 1, /invalid --web\.cors\.origin "\(unclosed"/],
      // Compiling it would take minutes: refused at once, as any regex whose program is too costly.
      [[`--web.cors.origin=${"(?:.?){1000}".repeat(600)}`], 1, /invalid --web\.cors\.origin .*error parsing regexp: expression too large/],
      [["--storage.tsdb.min-block-duration=banana"], 2, /invalid value "banana" for flag --storage\.tsdb\.min-block-duration/],
      [["--storage.tsdb.min-block-duration=0"], 1, /--storage\.tsdb\.min-block-duration must be longer than 0/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await run([BUN, cli, "--web.listen-address=127.0.0.1:0", "--cluster.mdns=false", "--cluster.listen-address=127.0.0.1:0", `--storage.tsdb.path=/tmp/shoal-never-${process.pid}`, ...args], { timeoutMs: 30_000 });
      expect(`${args[0]} ${r.code}`).toBe(`${args[0]} ${code}`);
      expect(r.stderr).toMatch(msg);
    }
  }, 60_000);
});

describe("serving under a route prefix", () => {
  test("the external URL's path prefixes every endpoint; / redirects there", async () => {
    const port = freePort();
    const n = await startShoal({ port, waitReady: false, args: [`--web.external-url=http://proxy.example:8080/monitoring/shoal/`] });
    started.push(n);
    const base = `http://127.0.0.1:${port}`;
    await waitHttpOk(`${base}/monitoring/shoal/-/ready`, { timeoutMs: 30_000, process: n });

    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/monitoring/shoal");
    expect((await fetch(`${base}/-/healthy`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/query?query=1`)).status).toBe(404);
    expect((await fetch(`${base}/monitoring/shoal/-/healthy`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/monitoring/shoal/metrics`)).text();
    expect(metrics).toContain("prometheus_http_requests_total");
    const q = (await (await fetch(`${base}/monitoring/shoal/api/v1/query?query=1%2B1`)).json()) as { data: { result: [number, string] } };
    expect(q.data.result[1]).toBe("2");
    const flags = await flagsOf(`${base}/monitoring/shoal`);
    expect(flags["web.external-url"]).toBe("http://proxy.example:8080/monitoring/shoal/");
    expect(n.output()).toContain("externalUrl=http://proxy.example:8080/monitoring/shoal routePrefix=/monitoring/shoal");

    // The UI: its page, assets and on-demand chunks are all under the prefix.
    for (const page of ["/monitoring/shoal", "/monitoring/shoal/", "/monitoring/shoal/targets", "/monitoring/shoal/targets/"]) {
      expect(`${page} ${(await fetch(base + page)).status}`).toBe(`${page} 200`);
    }
    const html = await (await fetch(`${base}/monitoring/shoal/`)).text();
    expect(html).toContain('<meta name="shoal-route-prefix" content="/monitoring/shoal" />');
    const assets = [...html.matchAll(/(?:src|href)="([^"]*assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      expect(a.startsWith("/monitoring/shoal/assets/")).toBe(true);
      expect((await fetch(base + a)).status).toBe(200);
    }
    const entry = assets.find((a) => a.endsWith(".js"))!;
    const chunks = [...(await (await fetch(base + entry)).text()).matchAll(/"(\.\/[\w.-]+\.js)"/g)].map((m) => new URL(m[1]!, base + entry).pathname);
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    for (const c of chunks) expect(`${c} ${(await fetch(base + c)).status}`).toBe(`${c} 200`);
  }, 60_000);

  test("the UI works under the prefix in a real browser: pages, navigation and API calls stay under it", async () => {
    const port = freePort();
    const n = await startShoal({ port, waitReady: false, args: ["--web.route-prefix=/shoal/", "--web.external-url=http://ignored.example/other"] });
    started.push(n);
    const base = `http://127.0.0.1:${port}`;
    await waitHttpOk(`${base}/shoal/-/ready`, { timeoutMs: 30_000, process: n });
    // The default config scrapes the node itself (under its prefix).
    await waitFor("self-scrape", async () => {
      const r = (await (await fetch(`${base}/shoal/api/v1/query?query=up`)).json()) as { data: { result: { value: [number, string] }[] } };
      return r.data.result[0]?.value[1] === "1";
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      const failed: string[] = [];
      page.on("request", (r) => requested.push(new URL(r.url()).pathname));
      page.on("response", (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${base}/shoal/targets`);
      await page.waitForSelector("text=up", { timeout: 20_000 });
      // Client-side navigation to the query page loads its chunk and queries under the prefix.
      await page.click("nav >> text=Query");
      await page.waitForURL(`${base}/shoal/query`);
      await page.locator(".cm-content").first().click();
      await page.keyboard.type("up");
      await page.keyboard.press("Enter");
      await page.waitForSelector("text=instance", { timeout: 20_000 });
      await page.click("nav >> text=Status");
      await page.waitForSelector("text=web.route-prefix", { timeout: 20_000 });
      expect(failed).toEqual([]);
      expect(requested.filter((p) => !p.startsWith("/shoal"))).toEqual([]);
      expect(requested.some((p) => p.startsWith("/shoal/api/v1/query"))).toBe(true);
      expect(requested.some((p) => p === "/shoal/api/v1/status/flags")).toBe(true);
      expect(await page.title()).toContain("Shoal");
    } finally {
      await browser.close();
    }
  }, 90_000);
});

describe("block durations", () => {
  /** Spans (ms) of the blocks in a data directory. */
  function blockMetas(dir: string): { minTime: number; maxTime: number }[] {
    const metas: { minTime: number; maxTime: number }[] = [];
    for (const name of readdirSync(dir)) {
      if (!/^[0-9A-Z]{26}$/.test(name)) continue;
      metas.push(JSON.parse(readFileSync(join(dir, name, "meta.json"), "utf8")) as { minTime: number; maxTime: number });
    }
    return metas;
  }

  function blockSpans(dir: string): number[] {
    return blockMetas(dir).map((m) => m.maxTime - m.minTime).sort((a, b) => a - b);
  }

  async function writeMinutes(n: ShoalNode): Promise<void> {
    // Two minutes of samples, one per second, ending now.
    const now = Date.now();
    const samples: [number, number][] = [];
    for (let t = now - 120_000; t <= now; t += 1000) samples.push([t, t]);
    const r = await remoteWrite(n.url, writeRequestBody([{ labels: { __name__: "block_test", job: "t" }, samples }]));
    expect(r.status).toBeLessThan(300);
  }

  test("--storage.tsdb.min-block-duration cuts blocks of that span, --storage.tsdb.max-block-duration caps compaction", async () => {
    const [small, capped] = await Promise.all([
      startShoal({ args: ["--storage.tsdb.min-block-duration=10s"] }),
      startShoal({ args: ["--storage.tsdb.min-block-duration=10s", "--storage.tsdb.max-block-duration=10s"] }),
    ]);
    started.push(small, capped);
    await Promise.all([writeMinutes(small), writeMinutes(capped)]);
    // Without a cap, 10 s blocks are compacted into 30 s (and 90 s) ones; with the cap they stay.
    await waitFor("compacted blocks", async () => blockSpans(small.dataDir).some((s) => s > 10_000), { timeoutMs: 40_000 });
    await waitFor("cut blocks", async () => blockSpans(capped.dataDir).length >= 5, { timeoutMs: 40_000 });
    await Bun.sleep(11_000); // one more maintenance round for the capped node
    const spans = blockSpans(capped.dataDir);
    expect(spans.every((s) => s <= 10_000)).toBe(true);
    expect(spans.length).toBeGreaterThanOrEqual(5);
    // Uncapped, a block may grow to any range 10 s × 3^k, but always within one aligned window of it.
    const aligned = (b: { minTime: number; maxTime: number }) => [10_000, 30_000, 90_000, 270_000, 810_000].some((r) => Math.floor(b.minTime / r) === Math.floor((b.maxTime - 1) / r));
    expect(blockMetas(small.dataDir).every(aligned)).toBe(true);
  }, 90_000);
});
