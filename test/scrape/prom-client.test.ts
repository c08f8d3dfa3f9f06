/**
 * A real exposition producer (prom-client, the Node.js Prometheus client) behind a local
 * endpoint that negotiates the format from the Accept header as client libraries do: Shoal
 * gets OpenMetrics (exemplars and all) and stores the same samples as from the text format.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import client from "prom-client";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, nopLogger } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, readSeries, type TempDB } from "./helpers.ts";

/** The same metrics in two registries, one per format (prom-client renames counters in place when
 * it renders OpenMetrics, so one registry cannot serve both). */
type OpenMetricsType = typeof client.Registry.OPENMETRICS_CONTENT_TYPE;

function addPlainMetrics(reg: client.Registry | client.Registry<OpenMetricsType>): void {
  const gauge = new client.Gauge({ name: "queue_depth", help: 'Depth of "the" queue\\n.', labelNames: ["q"], registers: [reg] });
  const summary = new client.Summary({ name: "size_bytes", help: "Sizes.", percentiles: [0.5, 0.9], registers: [reg] });
  gauge.set({ q: 'we"ird\\path' }, 7);
  for (const v of [1, 2, 3, 100]) summary.observe(v);
}

function openMetricsRegistry(): client.Registry<OpenMetricsType> {
  const reg = new client.Registry<OpenMetricsType>();
  reg.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  const counter = new client.Counter({ name: "jobs_total", help: "Jobs done.", labelNames: ["kind"], registers: [reg], enableExemplars: true });
  const hist = new client.Histogram({ name: "dur_seconds", help: "Duration.", buckets: [0.1, 1], registers: [reg], enableExemplars: true });
  counter.inc({ labels: { kind: "a" }, value: 2, exemplarLabels: { kind: "trace-abc" } });
  counter.inc({ labels: { kind: "b" }, value: 1, exemplarLabels: {} });
  hist.observe({ value: 0.5, labels: {}, exemplarLabels: { traceId: "x" } });
  addPlainMetrics(reg);
  return reg;
}

function textRegistry(): client.Registry {
  const reg = new client.Registry();
  const counter = new client.Counter({ name: "jobs_total", help: "Jobs done.", labelNames: ["kind"], registers: [reg] });
  const hist = new client.Histogram({ name: "dur_seconds", help: "Duration.", buckets: [0.1, 1], registers: [reg] });
  counter.inc({ kind: "a" }, 2);
  counter.inc({ kind: "b" }, 1);
  hist.observe(0.5);
  addPlainMetrics(reg);
  return reg;
}

let server: ReturnType<typeof Bun.serve>;
let t: TempDB;
let served = "";

beforeAll(async () => {
  const om = openMetricsRegistry();
  const text = textRegistry();
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const wantsOM = (req.headers.get("accept") ?? "").includes("application/openmetrics-text") && !req.url.endsWith("?format=text");
      const reg = wantsOM ? om : text;
      served = reg.contentType;
      return new Response(await reg.metrics(), { headers: { "content-type": reg.contentType } });
    },
  });
  t = await openTempDB();
});
afterAll(async () => {
  server.stop(true);
  await t.close();
});

function loop(job: string, params = ""): ScrapeLoop {
  const cfg = parseConfig(
    `scrape_configs:\n  - job_name: ${job}\n${params}    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`,
    "pc.yml",
  ).scrapeConfigs[0]!;
  const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server.port}` })], labels: [] }], cfg).active[0]!;
  return new ScrapeLoop({ target: spec, config: cfg, appendable: t.db, parser: new ExpositionParser(), logger: nopLogger, offset: 0 });
}

async function samples(job: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of ["jobs_total", "dur_seconds_bucket", "dur_seconds_sum", "dur_seconds_count", "queue_depth", "size_bytes", "size_bytes_sum", "size_bytes_count"]) {
    for (const [labels, points] of await readSeries(t.db, name, { job })) out.set(labels.replace(`job="${job}"`, "job"), points.at(-1)!.v);
  }
  return out;
}

test("OpenMetrics from prom-client: negotiated, parsed, exemplars skipped; same samples as its text format", async () => {
  const omLoop = loop("om");
  await omLoop.scrapeOnce();
  expect(served).toStartWith("application/openmetrics-text");
  expect(omLoop.lastError).toBe("");
  const textLoop = loop("text", "    params: {format: [text]}\n");
  await textLoop.scrapeOnce();
  expect(served).toStartWith("text/plain");
  expect(textLoop.lastError).toBe("");

  const fromOM = await samples("om");
  const fromText = await samples("text");
  expect(fromOM.size).toBe(12);
  expect([...fromOM.entries()].sort()).toEqual([...fromText.entries()].sort());
  const instance = `127.0.0.1:${server.port}`;
  expect(fromOM.get(`jobs_total{instance="${instance}", job, kind="a"}`)).toBe(2);
  expect(fromOM.get(`dur_seconds_bucket{instance="${instance}", job, le="1"}`)).toBe(1);
  expect(fromOM.get(`queue_depth{instance="${instance}", job, q="we\\"ird\\\\path"}`)).toBe(7);
  expect(fromOM.get(`size_bytes_count{instance="${instance}", job}`)).toBe(4);

  expect(omLoop.metadata.get("jobs")).toMatchObject({ type: "counter", help: "Jobs done." });
  expect(textLoop.metadata.get("jobs_total")).toMatchObject({ type: "counter", help: "Jobs done." });
  expect(omLoop.metadata.get("dur_seconds")).toMatchObject({ type: "histogram" });
  expect(omLoop.metadata.get("queue_depth")!.help).toBe(textLoop.metadata.get("queue_depth")!.help);
});
