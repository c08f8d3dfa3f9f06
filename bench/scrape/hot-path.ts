/**
 * Scrape hot path figures: `bun bench/scrape/hot-path.ts [series] [tsdb|cluster|discard]`.
 * The second argument picks where scraped samples go: the TSDB directly (default), a
 * single-node Cluster's appender in front of it (the node's real write path), or nowhere.
 * Parser alone (text and OpenMetrics), then whole scrapes of a local endpoint into the real TSDB
 * (first scrape creates the series; later scrapes are the steady state). Best of several runs,
 * in CPU time of this process (user + system), which a busy machine disturbs less than wall time;
 * the scrape figures include serving the body, which runs in this process too.
 */
import { Cluster, defaultClusterConfig } from "../../src/cluster/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, nopLogger, type Appendable } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../../test/support/index.ts";

const N = Number(process.argv[2] ?? 100_000);
const SINK = process.argv[3] ?? "tsdb";
let round = 0;
function body(om: boolean): string {
  round++;
  const parts: string[] = ["# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"];
  for (let i = 0; i < N; i++) {
    parts.push(`http_requests_total{method="GET",code="${200 + (i % 5)}",handler="/api/v1/h${i % 500}",pod="pod-${i}"} ${i * 1.5 + round}\n`);
  }
  if (om) parts.push("# EOF\n");
  return new TextDecoder().decode(new TextEncoder().encode(parts.join("")));
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

function best(fn: () => void, runs = 7): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    fn();
    min = Math.min(min, cpuMs(c));
  }
  return min;
}

const p = new ExpositionParser();
for (const om of [false, true]) {
  const b = body(om);
  const ms = best(() => p.parse(b, om ? "openmetrics" : "text"));
  console.log(`parse ${om ? "openmetrics" : "text"}: ${N} samples, ${(b.length / 1e6).toFixed(1)} MB in ${ms.toFixed(1)} ms CPU = ${(N / ms / 1000).toFixed(2)} M samples/s`);
}

let current = body(false);
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(current, { headers: { "content-type": "text/plain; version=0.0.4" } }) });
const dir = tempDir("bench-scrape");
const db = { dir, db: await openTSDB({ dir }) };
let cluster: Cluster | null = null;
let sink: Appendable = db.db;
if (SINK === "cluster") {
  cluster = await Cluster.start({
    config: { ...defaultClusterConfig(), listenAddress: "127.0.0.1:0", mdns: false },
    dataDir: db.dir,
    local: db.db,
    httpAddress: "127.0.0.1:1",
    logger: nopLogger,
  });
  sink = cluster.appendable;
} else if (SINK === "discard") {
  sink = { appender: () => ({ append() {}, async commit() {}, rollback() {} }) };
}
const cfg = parseConfig(`scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`, "bench.yml").scrapeConfigs[0]!;
const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server.port}` })], labels: [] }], cfg).active[0]!;
const loop = new ScrapeLoop({ target: spec, config: cfg, appendable: sink, parser: p, logger: nopLogger, offset: 0 });
let c = process.cpuUsage();
await loop.scrapeOnce();
console.log(`first scrape (creates ${N} series): ${cpuMs(c).toFixed(0)} ms CPU ${loop.lastError}`);
let min = Infinity;
for (let r = 0; r < 7; r++) {
  current = body(false);
  await Bun.sleep(5);
  c = process.cpuUsage();
  await loop.scrapeOnce();
  min = Math.min(min, cpuMs(c));
}
console.log(`steady scrape into ${SINK} (HTTP + parse + append + commit): ${min.toFixed(0)} ms CPU = ${(N / min / 1000).toFixed(2)} M samples/s ${loop.lastError}`);
await cluster?.stop();
server.stop(true);
await db.db.close();
removeTempDir(dir);
