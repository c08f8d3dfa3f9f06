/**
 * Scraping through the real cluster write path (a single-node Cluster's distributor), which
 * can only report refused samples at commit: the scrape still counts as up, the rest is stored.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Cluster, defaultClusterConfig } from "../../src/cluster/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, nopLogger } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, readSeries, type TempDB } from "./helpers.ts";

let t: TempDB;
let cluster: Cluster;
let server: ReturnType<typeof Bun.serve>;
let body = "";

beforeAll(async () => {
  t = await openTempDB();
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { headers: { "content-type": "text/plain" } }) });
  cluster = await Cluster.start({
    config: { ...defaultClusterConfig(), listenAddress: "127.0.0.1:0", mdns: false },
    dataDir: t.dir,
    local: t.db,
    httpAddress: "127.0.0.1:1",
    logger: nopLogger,
  });
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
  server?.stop(true);
  await t?.close();
});

test("a sample refused at commit is counted; the scrape stays up and the rest is stored", async () => {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: c\n    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`, "c.yml").scrapeConfigs[0]!;
  const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server.port}` })], labels: [] }], cfg).active[0]!;
  const loop = new ScrapeLoop({ target: spec, config: cfg, appendable: cluster.appendable, parser: new ExpositionParser(), logger: nopLogger, offset: 0 });
  body = "a 1\nb 5\na 2\n";
  await loop.scrapeOnce();
  expect(loop.lastError).toBe("");
  expect(loop.health).toBe("up");
  expect(loop.appendErrors).toBe(1);
  expect([...(await readSeries(t.db, "a")).values()][0]!.map((p) => p.v)).toEqual([1]);
  expect([...(await readSeries(t.db, "b")).values()][0]!.map((p) => p.v)).toEqual([5]);
  expect([...(await readSeries(t.db, "up")).values()][0]!.map((p) => p.v)).toEqual([1]);
}, 30_000);
