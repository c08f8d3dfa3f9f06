/**
 * Shoal among real peers: Prometheus 2.42 remote-writes into Shoal (staleness markers included),
 * a second Prometheus federates from Shoal's /federate, and Shoal scrapes node exporter.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startNodeExporter, startPrometheus, startShoal, tempDir, waitFor, type NodeExporter, type PrometheusServer, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
let writer: PrometheusServer;
let federator: PrometheusServer | undefined;
let nodeExporter: NodeExporter;
let nodeExporterPort: number;
let cfgDir = "";

interface Vector {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(url: string, q: string): Promise<Vector["data"]["result"]> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as Vector;
  return body.data.result;
}

/** The writer's config; the remote_write part stays identical so a reload keeps its queue. */
function writerConfig(target: string): string {
  const scrape = `scrape_configs:
  - job_name: prom
    static_configs:
      - targets: ["${target}"]
`;
  return `global:
  scrape_interval: 1s
${scrape}remote_write:
  - url: ${shoal.url}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
`;
}

beforeAll(async () => {
  nodeExporter = await startNodeExporter(["--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.loadavg"]);
  nodeExporterPort = nodeExporter.port;
  cfgDir = tempDir("peers");
  const cfg = join(cfgDir, "shoal.yml");
  writeFileSync(
    cfg,
    `global:
  scrape_interval: 1s
  external_labels:
    shoal_site: test
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:${nodeExporterPort}"]
`,
  );
  shoal = await startShoal({ args: [`--config.file=${cfg}`] });
  writer = await startPrometheus(writerConfig("127.0.0.1:0"));
}, 60_000);

afterAll(async () => {
  const t0 = Date.now();
  const timed = async (name: string, p: Promise<number> | undefined) => {
    const code = await p;
    if (Date.now() - t0 > 3000) console.warn(`${name} took ${Date.now() - t0} ms to stop`);
    return code;
  };
  // The writer first: on shutdown it flushes its remote-write queue into Shoal.
  await Promise.all([timed("writer", writer?.stop()), timed("federator", federator?.stop()), timed("node_exporter", nodeExporter?.stop())]);
  const shoalCode = await timed("shoal", shoal?.stop());
  if (cfgDir) removeTempDir(cfgDir);
  expect(shoalCode).toBe(0);
}, 30_000);

test("Shoal scrapes node exporter", async () => {
  const r = await waitFor("node exporter series in Shoal", async () => {
    const res = await query(shoal.url, 'node_load1{job="node"}');
    return res.length > 0 ? res : null;
  });
  expect(r[0]!.metric.instance).toBe(`127.0.0.1:${nodeExporterPort}`);
  const up = await query(shoal.url, 'up{job="node"}');
  expect(up.map((s) => s.value[1])).toEqual(["1"]);

  // Metadata of what was scraped, in both of Prometheus's shapes.
  const md = (await (await fetch(`${shoal.url}/api/v1/metadata?metric=node_load1`)).json()) as { data: Record<string, unknown> };
  expect(md.data).toEqual({ node_load1: [{ type: "gauge", help: "1m load average.", unit: "" }] });
  const tmd = (await (await fetch(`${shoal.url}/api/v1/targets/metadata?metric=node_load1&match_target=${encodeURIComponent('{job="node"}')}`)).json()) as {
    data: unknown[];
  };
  expect(tmd.data).toEqual([
    { target: { instance: `127.0.0.1:${nodeExporterPort}`, job: "node" }, type: "gauge", help: "1m load average.", unit: "" },
  ]);
  const targets = (await (await fetch(`${shoal.url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; scrapePool: string }[] } };
  expect(targets.data.activeTargets.map((t) => [t.scrapePool, t.health])).toEqual([["node", "up"]]);
}, 30_000);

test("Prometheus remote-writes into Shoal", async () => {
  // The writer scrapes an unreachable target (port 0): `up` is 0 and its scrape series flow to Shoal.
  const r = await waitFor("remote-written series in Shoal", async () => {
    const res = await query(shoal.url, 'scrape_duration_seconds{job="prom"}');
    return res.length > 0 ? res : null;
  });
  expect(r[0]!.metric.instance).toBe("127.0.0.1:0");
  // Samples keep arriving and agree with the writer's own storage.
  const tShoal = await query(shoal.url, 'timestamp(up{job="prom"})');
  const tProm = await query(writer.url, 'timestamp(up{job="prom"})');
  expect(tShoal.length).toBe(1);
  expect(Math.abs(Number(tShoal[0]!.value[1]) - Number(tProm[0]!.value[1]))).toBeLessThanOrEqual(5);
  const metrics = await (await fetch(`${shoal.url}/metrics`)).text();
  expect(metrics).toMatch(/shoal_remote_write_requests_total\{code="204"\} [1-9]/);
}, 30_000);

test("staleness markers sent by Prometheus end the series in Shoal at once", async () => {
  await waitFor("series present", async () => (await query(shoal.url, 'up{job="prom"}')).length > 0);
  // A target that goes away gets staleness markers for its series (Prometheus writes none when
  // a whole job is removed, so the job stays and its target changes).
  writeFileSync(join(writer.dataDir, "prometheus.yml"), writerConfig("127.0.0.1:1"));
  writer.proc.kill("SIGHUP");
  // Without the markers the series would stay visible for the 5 minute lookback.
  await waitFor("up{job=prom} to go stale in Shoal", async () => (await query(shoal.url, 'up{instance="127.0.0.1:0"}')).length === 0, { timeoutMs: 20_000 });
  const range = (await (
    await fetch(`${shoal.url}/api/v1/query?query=${encodeURIComponent('count_over_time(up{instance="127.0.0.1:0"}[1m])')}`)
  ).json()) as Vector;
  expect(Number(range.data.result[0]!.value[1])).toBeGreaterThan(0);
}, 40_000);

test("Prometheus federates from Shoal, with Shoal's external labels", async () => {
  const match = encodeURIComponent('{job="node"}');
  const text = await (await fetch(`${shoal.url}/federate?match[]=${match}`)).text();
  expect(text).toMatch(/^# TYPE node_load1 untyped$/m);
  expect(text).toMatch(/^node_load1\{instance="127\.0\.0\.1:\d+",job="node",shoal_site="test"\} [0-9.e+-]+ \d+$/m);

  const [host, port] = shoal.url.replace("http://", "").split(":");
  federator = await startPrometheus(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      "match[]": ['{job="node"}']
    static_configs:
      - targets: ["${host}:${port}"]
`);
  const r = await waitFor("federated series in Prometheus", async () => {
    const res = await query(federator!.url, 'node_load1{job="node"}');
    return res.length > 0 ? res : null;
  });
  expect(r[0]!.metric.shoal_site).toBe("test");
  const up = await query(federator.url, 'up{job="federate"}');
  expect(up.map((s) => s.value[1])).toEqual(["1"]);
}, 40_000);
