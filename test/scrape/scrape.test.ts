/**
 * Scraping real HTTP endpoints (Bun.serve) into the real TSDB: staleness, failed scrapes,
 * negotiation, limits, honor_labels/timestamps, reload, file discovery, sharding.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, type ScrapeConfig } from "../../src/config/index.ts";
import { getLabel, labelsFromRecord } from "../../src/model/index.ts";
import { ScrapeManager } from "../../src/scrape/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, readSeries, type Point, type TempDB } from "./helpers.ts";
import { waitFor, tempDir } from "../support/index.ts";
import { nopLogger } from "../../src/model/index.ts";

type Handler = (req: Request) => Response | Promise<Response>;
let handler: Handler = () => new Response("");
let lastRequest: { headers: Headers; url: string } | null = null;
let server: ReturnType<typeof Bun.serve>;
let addr = "";
let t: TempDB;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      lastRequest = { headers: new Headers(req.headers), url: req.url };
      return handler(req);
    },
  });
  addr = `127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const text = (body: string, init: ResponseInit = {}) =>
  new Response(body, { ...init, headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", ...(init.headers ?? {}) } });

function jobConfig(extra = "", target = addr): string {
  return `scrape_configs:\n  - job_name: test\n    scrape_interval: 1m\n    static_configs:\n      - targets: ["${target}"]\n${extra
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => "    " + l + "\n")
    .join("")}`;
}

/** A loop for the first target of the job, scraped by hand (no timer) for exact control. */
function loopFor(yaml: string, db: TempDB): ScrapeLoop {
  const cfg: ScrapeConfig = parseConfig(yaml, "test.yml").scrapeConfigs[0]!;
  const groups = cfg.staticConfigs.map((s, i) => ({ source: `${i}`, targets: s.targets.map((a) => labelsFromRecord({ __address__: a })), labels: labelsFromRecord(s.labels) }));
  const spec = buildTargets(groups, cfg).active[0]!;
  return new ScrapeLoop({ target: spec, config: cfg, appendable: db.db, parser: new ExpositionParser(), logger: nopLogger, offset: 0 });
}

async function series(name: string, eq: Record<string, string> = {}): Promise<Point[][]> {
  return [...(await readSeries(t.db, name, eq)).values()];
}
async function one(name: string, eq: Record<string, string> = {}): Promise<Point[]> {
  const s = await series(name, eq);
  expect(s.length).toBe(1);
  return s[0]!;
}

describe("a scrape loop", () => {
  beforeAll(async () => {
    t = await openTempDB();
  });
  afterAll(async () => t.close());
  afterEach(async () => {
    handler = () => new Response("");
    await t.close();
    t = await openTempDB();
  });

  test("sends Prometheus's request headers and attaches target labels", async () => {
    handler = () => text('# HELP m A metric\n# TYPE m gauge\nm{x="1"} 3\n');
    const loop = loopFor(jobConfig("scrape_timeout: 7s\nparams: {module: [m1]}"), t);
    await loop.scrapeOnce();
    expect(loop.health).toBe("up");
    const h = lastRequest!.headers;
    expect(h.get("accept")).toStartWith("application/openmetrics-text;version=1.0.0,");
    expect(h.get("accept")).toContain("text/plain;version=0.0.4;q=0.5");
    expect(h.get("x-prometheus-scrape-timeout-seconds")).toBe("7");
    expect(h.get("accept-encoding")).toBe("gzip");
    expect(h.get("user-agent")).toStartWith("Shoal/");
    expect(new URL(lastRequest!.url).search).toBe("?module=m1");
    const m = await readSeries(t.db, "m");
    expect([...m.keys()]).toEqual([`m{instance="${addr}", job="test", x="1"}`]);
    expect(loop.metadata.get("m")).toMatchObject({ type: "gauge", help: "A metric", unit: "" });
    const up = await one("up");
    expect(up.map((p) => p.v)).toEqual([1]);
    expect((await one("scrape_samples_scraped"))[0]!.v).toBe(1);
    expect((await one("scrape_samples_post_metric_relabeling"))[0]!.v).toBe(1);
    expect((await one("scrape_series_added"))[0]!.v).toBe(1);
    expect((await one("scrape_duration_seconds"))[0]!.v).toBeGreaterThanOrEqual(0);
  });

  test("series that disappear get a staleness marker at the next scrape", async () => {
    let body = "a 1\nb 2\n";
    handler = () => text(body);
    const loop = loopFor(jobConfig(), t);
    await loop.scrapeOnce();
    body = "a 3\n";
    await Bun.sleep(2);
    await loop.scrapeOnce();
    body = "a 4\nb 5\n";
    await Bun.sleep(2);
    await loop.scrapeOnce();
    const a = await one("a");
    const b = await one("b");
    const up = await one("up");
    expect(a.map((p) => p.v)).toEqual([1, 3, 4]);
    expect(b.map((p) => p.stale)).toEqual([false, true, false]);
    expect(b[1]!.t).toBe(up[1]!.t);
    expect((await one("scrape_series_added")).map((p) => p.v)).toEqual([2, 0, 0]);
  });

  test("a malformed body fails the whole scrape: up 0, the parser's message, nothing stored", async () => {
    let body = "a 1\nb 2\n";
    handler = () => text(body);
    const loop = loopFor(jobConfig(), t);
    await loop.scrapeOnce();
    body = 'a 10\nc 11\nb{x="1" 12\n';
    await Bun.sleep(2);
    await loop.scrapeOnce();
    expect(loop.health).toBe("down");
    expect(loop.lastError).toBe('line 3, column 9: expected "," or "}" after label value, got "12"');
    const up = await one("up");
    expect(up.map((p) => p.v)).toEqual([1, 0]);
    const failedAt = up[1]!.t;
    // Nothing of the bad body: no `c` at all, `a` only goes stale (no value 10).
    expect(await series("c")).toEqual([]);
    const a = await one("a");
    expect(a.map((p) => [p.t === failedAt, p.stale])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect((await one("b"))[1]!.stale).toBe(true);
    body = "a 20\n";
    await Bun.sleep(2);
    await loop.scrapeOnce();
    expect(loop.health).toBe("up");
    expect(loop.lastError).toBe("");
    expect((await one("a")).at(-1)!.v).toBe(20);
  });

  test("a target that goes down: HTTP errors and timeouts", async () => {
    let mode = "ok";
    handler = async () => {
      if (mode === "500") return new Response("boom", { status: 500, statusText: "Internal Server Error" });
      if (mode === "slow") await Bun.sleep(3000);
      return text("a 1\n");
    };
    const loop = loopFor(jobConfig("scrape_timeout: 1s"), t);
    await loop.scrapeOnce();
    mode = "500";
    await loop.scrapeOnce();
    expect(loop.lastError).toBe("server returned HTTP status 500 Internal Server Error");
    expect((await one("a")).map((p) => p.stale)).toEqual([false, true]);
    mode = "slow";
    const start = Date.now();
    await loop.scrapeOnce();
    expect(Date.now() - start).toBeLessThan(2500);
    expect(loop.lastError).toBe(`Get "http://${addr}/metrics": context deadline exceeded`);
    expect((await one("up")).map((p) => p.v)).toEqual([1, 0, 0]);
    const conn = loopFor(jobConfig("", "127.0.0.1:1"), t);
    await conn.scrapeOnce();
    expect(conn.health).toBe("down");
    expect(conn.lastError).toStartWith('Get "http://127.0.0.1:1/metrics": ');
  });

  test("OpenMetrics responses are parsed as OpenMetrics (timestamps in seconds), gzip is decoded", async () => {
    handler = () =>
      new Response(Bun.gzipSync(new TextEncoder().encode("# TYPE c counter\n# HELP c Things.\nc_total 5 1700000000.5 # {id=\"x\"} 1\n# EOF\n")), {
        headers: { "content-type": "application/openmetrics-text; version=1.0.0; charset=utf-8", "content-encoding": "gzip" },
      });
    const loop = loopFor(jobConfig(), t);
    await loop.scrapeOnce();
    expect(loop.lastError).toBe("");
    expect(await one("c_total")).toEqual([{ t: 1700000000500, v: 5, stale: false }]);
    expect(loop.metadata.get("c")).toMatchObject({ type: "counter", help: "Things.", unit: "" });
    // The same body as text/plain is not valid text format (the exemplar), so negotiation matters.
    handler = () => text("c_total 5 1700000000.5 # {id=\"x\"} 1\n# EOF\n");
    await loop.scrapeOnce();
    expect(loop.lastError).toContain("line 1, column 11: invalid timestamp");
  });

  test("enable_compression: false asks for identity encoding", async () => {
    handler = () => text("a 1\n");
    await loopFor(jobConfig("enable_compression: false"), t).scrapeOnce();
    expect(lastRequest!.headers.get("accept-encoding")).toBe("identity");
  });

  test("honor_labels: conflicts get the exported_ prefix, or the scraped value wins", async () => {
    handler = () => text('a{job="j",instance="i",exported_job="e"} 1\n');
    await loopFor(jobConfig(), t).scrapeOnce();
    expect([...(await readSeries(t.db, "a")).keys()]).toEqual([
      `a{exported_exported_job="j", exported_instance="i", exported_job="e", instance="${addr}", job="test"}`,
    ]);
    await t.close();
    t = await openTempDB();
    await loopFor(jobConfig("honor_labels: true"), t).scrapeOnce();
    expect([...(await readSeries(t.db, "a")).keys()]).toEqual([`a{exported_job="e", instance="i", job="j"}`]);
  });

  test("honor_timestamps", async () => {
    handler = () => text("a 1 1700000000000\n");
    await loopFor(jobConfig(), t).scrapeOnce();
    expect((await one("a"))[0]!.t).toBe(1700000000000);
    await t.close();
    t = await openTempDB();
    await loopFor(jobConfig("honor_timestamps: false"), t).scrapeOnce();
    const [a, up] = [await one("a"), await one("up")];
    expect(a[0]!.t).toBe(up[0]!.t);
  });

  test("metric_relabel_configs drop and rewrite series", async () => {
    handler = () => text("go_x 1\nkeep_me{tmp=\"1\"} 2\n");
    await loopFor(jobConfig("metric_relabel_configs:\n  - {source_labels: [__name__], regex: 'go_.*', action: drop}\n  - {action: labeldrop, regex: tmp}"), t).scrapeOnce();
    expect(await series("go_x")).toEqual([]);
    expect([...(await readSeries(t.db, "keep_me")).keys()]).toEqual([`keep_me{instance="${addr}", job="test"}`]);
    expect((await one("scrape_samples_scraped"))[0]!.v).toBe(2);
    expect((await one("scrape_samples_post_metric_relabeling"))[0]!.v).toBe(1);
  });

  test("sample_limit and label limits fail the scrape and store none of it", async () => {
    handler = () => text('a 1\nb 2\nc{x="1",y="2",z="3"} 3\n');
    const limited = loopFor(jobConfig("sample_limit: 2"), t);
    await limited.scrapeOnce();
    expect(limited.lastError).toBe("sample limit exceeded");
    expect(await series("a")).toEqual([]);
    expect((await one("up"))[0]!.v).toBe(0);
    expect((await one("scrape_samples_scraped"))[0]!.v).toBe(3);
    for (const [cfg, msg] of [
      ["label_limit: 4", "label_limit exceeded (metric: c, number of labels: 6, limit: 4)"],
      ["label_name_length_limit: 3", "label_name_length_limit exceeded (metric: a, label name: __name__, length: 8, limit: 3)"],
      ["label_value_length_limit: 2", `label_value_length_limit exceeded (metric: a, label name: instance, value: "${addr}", length: ${addr.length}, limit: 2)`],
    ] as const) {
      const loop = loopFor(jobConfig(cfg), t);
      await loop.scrapeOnce();
      expect(loop.lastError).toBe(msg);
    }
    expect(await series("a")).toEqual([]);
  });

  test("redirects are followed unless follow_redirects is false", async () => {
    handler = (req) => (new URL(req.url).pathname === "/metrics" ? Response.redirect(`http://${addr}/real`, 302) : text("moved 1\n"));
    const follows = loopFor(jobConfig(), t);
    await follows.scrapeOnce();
    expect(follows.lastError).toBe("");
    const stays = loopFor(jobConfig("follow_redirects: false"), t);
    await stays.scrapeOnce();
    expect(stays.lastError).toBe("server returned HTTP status 302 Found");
  });

  test("body_size_limit", async () => {
    handler = () => text("a 1\n".repeat(1000));
    const loop = loopFor(jobConfig("body_size_limit: 1KB"), t);
    await loop.scrapeOnce();
    expect(loop.lastError).toBe("body size limit exceeded");
  });

  test("basic_auth (password_file) and authorization headers", async () => {
    const dir = tempDir("auth");
    writeFileSync(join(dir, "pw"), "s3cret\n");
    handler = (req) => (req.headers.get("authorization") === `Basic ${btoa("u:s3cret")}` || req.headers.get("authorization") === "Bearer tok" ? text("a 1\n") : new Response("no", { status: 401, statusText: "Unauthorized" }));
    const basic = loopFor(jobConfig(`basic_auth: {username: u, password_file: ${join(dir, "pw")}}`), t);
    await basic.scrapeOnce();
    expect(basic.lastError).toBe("");
    const bearer = loopFor(jobConfig("authorization: {credentials: tok}"), t);
    await bearer.scrapeOnce();
    expect(bearer.lastError).toBe("");
    const none = loopFor(jobConfig(), t);
    await none.scrapeOnce();
    expect(none.lastError).toBe("server returned HTTP status 401 Unauthorized");
    rmSync(dir, { recursive: true });
  });

  test("invalid UTF-8 and duplicate label names fail with their line", async () => {
    handler = () => new Response(new Uint8Array([...new TextEncoder().encode("a 1\nb{x=\""), 0xff, ...new TextEncoder().encode("\"} 1\n")]), { headers: { "content-type": "text/plain" } });
    const loop = loopFor(jobConfig(), t);
    await loop.scrapeOnce();
    expect(loop.lastError).toBe("invalid UTF-8 in response body at line 2");
    handler = () => text('a 1\nb{x="1",x="2"} 1\n');
    await loop.scrapeOnce();
    expect(loop.lastError).toBe('line 2: label name "x" is not unique in b{x="1",x="2"}');
    expect(await series("a")).toEqual([]);
  });
});

describe("the scrape manager", () => {
  let mgr: ScrapeManager;
  let dir = "";
  beforeAll(async () => {
    t = await openTempDB();
    dir = tempDir("sd");
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await mgr?.stop();
    handler = () => new Response("");
  });

  const fast = (job: string, targets: string[], extra = "") =>
    `  - job_name: ${job}\n    scrape_interval: 100ms\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n${extra}`;

  test("targets API shapes, reload keeps unchanged jobs and marks removed targets stale", async () => {
    let n = 0;
    handler = (req) => text(`hits ${++n}\npath{p="${new URL(req.url).pathname}"} 1\n`);
    mgr = new ScrapeManager({ appendable: t.db });
    const addr2 = `localhost:${server.port}`;
    await mgr.applyConfig(parseConfig(`scrape_configs:\n${fast("keep", [addr])}${fast("gone", [addr2], "    metrics_path: /other\n    relabel_configs:\n      - {source_labels: [__address__], regex: 'nomatch.*', action: drop}\n")}`, "m.yml"));
    await waitFor("both targets scraped", () => mgr.activeTargets().every((a) => a.health === "up") && mgr.activeTargets().length === 2);
    const active = mgr.activeTargets().sort((a, b) => a.scrapePool.localeCompare(b.scrapePool));
    expect(active[0]).toEqual({
      discoveredLabels: { __address__: addr2, __metrics_path__: "/other", __scheme__: "http", __scrape_interval__: "100ms", __scrape_timeout__: "100ms", job: "gone" },
      labels: { instance: addr2, job: "gone" },
      scrapePool: "gone",
      scrapeUrl: `http://${addr2}/other`,
      globalUrl: expect.stringMatching(/^http:\/\/.+\/other$/),
      lastError: "",
      lastScrape: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastScrapeDuration: expect.any(Number),
      health: "up",
      scrapeInterval: "100ms",
      scrapeTimeout: "100ms",
    });
    expect(mgr.scrapePools()).toEqual(["gone", "keep"]);
    expect(mgr.droppedTargets()).toEqual([]);
    expect(mgr.metadata().length).toBe(0);

    const keepBefore = mgr.activeTargets().find((a) => a.scrapePool === "keep")!;
    await mgr.applyConfig(parseConfig(`scrape_configs:\n${fast("keep", [addr])}`, "m.yml"));
    expect(mgr.activeTargets().map((a) => a.scrapePool)).toEqual(["keep"]);
    // The unchanged job's loop kept running (same last scrape or later, no restart).
    expect(mgr.activeTargets()[0]!.lastScrape >= keepBefore.lastScrape).toBe(true);
    const gonePath = await one("path", { job: "gone" });
    expect(gonePath.at(-1)!.stale).toBe(true);
    expect((await one("up", { job: "gone" })).at(-1)!.stale).toBe(true);
    await Bun.sleep(300);
    const keepUp = await one("up", { job: "keep" });
    expect(keepUp.some((p) => p.stale)).toBe(false);
    expect(keepUp.length).toBeGreaterThanOrEqual(4);
  });

  test("a changed job restarts its loops without losing staleness tracking", async () => {
    let body = "x 1\ny 1\n";
    handler = () => text(body);
    mgr = new ScrapeManager({ appendable: t.db });
    // Generous timeouts: a timed-out scrape on a busy machine would (rightly) mark x stale.
    const job = (interval: string) =>
      `scrape_configs:\n  - job_name: chg\n    scrape_interval: ${interval}\n    scrape_timeout: ${interval}\n    static_configs:\n      - targets: ["${addr}"]\n`;
    await mgr.applyConfig(parseConfig(job("300ms"), "m.yml"));
    await waitFor("scraped", () => mgr.activeTargets()[0]?.health === "up");
    await mgr.applyConfig(parseConfig(job("250ms"), "m.yml"));
    body = "x 2\n";
    await waitFor("y stale", async () => (await one("y", { job: "chg" })).at(-1)!.stale);
    expect(mgr.activeTargets()[0]!.scrapeInterval).toBe("250ms");
    expect((await one("x", { job: "chg" })).some((p) => p.stale)).toBe(false);
  });

  test("file_sd_configs: targets follow the file", async () => {
    handler = () => text("fsd 1\n");
    const file = join(dir, "targets.json");
    const write = (groups: unknown) => {
      writeFileSync(file + ".tmp", JSON.stringify(groups));
      renameSync(file + ".tmp", file);
    };
    write([{ targets: [addr], labels: { team: "a" } }]);
    mgr = new ScrapeManager({ appendable: t.db, fileSDPollInterval: 50 });
    await mgr.applyConfig(
      parseConfig(`scrape_configs:\n  - job_name: fsd\n    scrape_interval: 100ms\n    file_sd_configs:\n      - files: ["${join(dir, "*.json")}"]\n`, "m.yml"),
    );
    await waitFor("file target up", () => mgr.activeTargets()[0]?.health === "up");
    expect(mgr.activeTargets()[0]!.labels).toEqual({ instance: addr, job: "fsd", team: "a" });
    expect(mgr.activeTargets()[0]!.discoveredLabels.__meta_filepath).toBe(file);
    writeFileSync(join(dir, "other.yml"), "not matched by the pattern\n");
    await Bun.sleep(1100); // mtime granularity
    write([{ targets: [`localhost:${server.port}`], labels: { team: "b" } }]);
    await waitFor("target replaced", () => mgr.activeTargets()[0]?.labels.team === "b" && mgr.activeTargets()[0]?.health === "up");
    expect(mgr.activeTargets().length).toBe(1);
    expect((await one("fsd", { team: "a" })).at(-1)!.stale).toBe(true);
    // A broken file keeps the previous targets.
    await Bun.sleep(1100);
    writeFileSync(file, "[{oops");
    await Bun.sleep(300);
    expect(mgr.activeTargets().map((a) => a.labels.team)).toEqual(["b"]);
  });

  test("ownsTarget shards targets; reshard re-evaluates", async () => {
    handler = () => text("own 1\n");
    let mine = new Set([addr]);
    mgr = new ScrapeManager({ appendable: t.db, ownsTarget: (l) => mine.has(getLabel(l, "__address__")) });
    await mgr.applyConfig(parseConfig(`scrape_configs:\n${fast("own", [addr, `localhost:${server.port}`])}`, "m.yml"));
    expect(mgr.activeTargets().map((a) => a.labels.instance)).toEqual([addr]);
    mine = new Set([`localhost:${server.port}`]);
    await mgr.reshard();
    expect(mgr.activeTargets().map((a) => a.labels.instance)).toEqual([`localhost:${server.port}`]);
  });

  test("dropped targets and metadata", async () => {
    handler = () => text("# HELP md Some help.\n# TYPE md counter\nmd 1\n");
    mgr = new ScrapeManager({ appendable: t.db });
    await mgr.applyConfig(
      parseConfig(`scrape_configs:\n${fast("meta", [addr, "drop.me:1"], "    relabel_configs:\n      - {source_labels: [__address__], regex: 'drop.*', action: drop}\n")}`, "m.yml"),
    );
    expect(mgr.droppedTargets()).toEqual([
      {
        discoveredLabels: { __address__: "drop.me:1", __metrics_path__: "/metrics", __scheme__: "http", __scrape_interval__: "100ms", __scrape_timeout__: "100ms", job: "meta" },
        scrapePool: "meta",
        // The rule that dropped it, for the Service Discovery page.
        reason: 'relabel_configs[0]: action drop of [__address__], regex "drop.*"',
      },
    ]);
    await waitFor("metadata", () => mgr.metadata().length > 0);
    expect(mgr.metadata()).toEqual([{ target: { instance: addr, job: "meta" }, metric: "md", type: "counter", help: "Some help.", unit: "" }]);
    expect(mgr.stats()).toMatchObject({ pools: 1, activeTargets: 1, droppedTargets: 1, up: 1, down: 0, failedScrapesTotal: 0 });
    expect(mgr.stats().scrapesTotal).toBeGreaterThan(0);
    expect(mgr.stats().samplesScrapedTotal).toBe(mgr.stats().scrapesTotal);
  });

  test("target_limit fails every target of the job; keep_dropped_targets trims the dropped list", async () => {
    handler = () => text("lim 1\n");
    mgr = new ScrapeManager({ appendable: t.db });
    const relabel = "    relabel_configs:\n      - {source_labels: [__address__], regex: 'gone.*', action: drop}\n";
    await mgr.applyConfig(
      parseConfig(`scrape_configs:\n${fast("lim", [addr, `localhost:${server.port}`, "gone1:1", "gone2:1"], `    target_limit: 1\n    keep_dropped_targets: 1\n${relabel}`)}`, "m.yml"),
    );
    await waitFor("both scraped", () => mgr.activeTargets().length === 2 && mgr.activeTargets().every((a) => a.health === "down"));
    expect(mgr.activeTargets().map((a) => a.lastError)).toEqual([
      "target_limit exceeded (number of targets: 2, limit: 1)",
      "target_limit exceeded (number of targets: 2, limit: 1)",
    ]);
    expect(mgr.droppedTargets().length).toBe(1);
    expect(mgr.droppedTargetCounts()).toEqual({ lim: 2 });
    expect(await series("lim", { job: "lim" })).toEqual([]);
    await mgr.applyConfig(parseConfig(`scrape_configs:\n${fast("lim", [addr, `localhost:${server.port}`], "    target_limit: 2\n")}`, "m.yml"));
    await waitFor("targets up again", () => mgr.activeTargets().length === 2 && mgr.activeTargets().every((a) => a.health === "up"));
  });

  test("targets of a job are spread over the interval, each at a stable phase", async () => {
    handler = () => text("p 1\n");
    mgr = new ScrapeManager({ appendable: t.db });
    const targets = [addr, `localhost:${server.port}`, `[::1]:${server.port}`];
    await mgr.applyConfig(parseConfig(`scrape_configs:\n  - job_name: phase\n    scrape_interval: 400ms\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n`, "m.yml"));
    await Bun.sleep(1500);
    await mgr.stop();
    // Each target keeps its phase within the interval (timers on a busy machine may fire late,
    // so most, not all, scrapes must sit near the target's usual phase); phases differ.
    const dist = (a: number, b: number) => Math.min(Math.abs(a - b), 400 - Math.abs(a - b));
    const phases: number[] = [];
    for (const s of await series("up", { job: "phase" })) {
      expect(s.length).toBeGreaterThanOrEqual(3);
      const ph = s.map((p) => p.t % 400);
      const typical = ph.find((x) => ph.filter((y) => dist(x, y) < 40).length * 2 > ph.length);
      expect(typical).toBeDefined();
      phases.push(typical!);
    }
    expect(new Set(phases.map((p) => Math.round(p / 20))).size).toBeGreaterThan(1);
  });
});
