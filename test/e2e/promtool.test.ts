/**
 * promtool (Prometheus 2.42's client) against Shoal and against a real Prometheus holding the
 * same data (the same remote-write payload sent to both): `query instant`, `query range`,
 * `query series` and `query labels` must print the same thing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { run, startPrometheus, startShoal, type PrometheusServer, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "./remote_write_client.ts";

let shoal: ShoalNode;
let prom: PrometheusServer;

const end = Math.floor(Date.now() / 15000) * 15000 - 60_000;
const start = end - 40 * 15_000;
const times = Array.from({ length: 41 }, (_, i) => start + i * 15_000);
const odd = [0.1, 1e-7, 1.5e21, -2.25, 1 / 3, 123456789.125, 0, -0, Infinity, -Infinity];

const data: TestSeries[] = [
  { labels: { __name__: "http_requests_total", job: "api", instance: "a:80", code: "200" }, samples: times.map((t, i) => [t, i * 10]) },
  { labels: { __name__: "http_requests_total", job: "api", instance: "b:80", code: "500" }, samples: times.map((t, i) => [t, i * 0.5]) },
  { labels: { __name__: "http_requests_total", job: "web", instance: "c:80", code: "200" }, samples: times.map((t, i) => [t, i * i]) },
  { labels: { __name__: "up", job: "api", instance: "a:80" }, samples: times.map((t) => [t, 1]) },
  { labels: { __name__: "up", job: "db", instance: "d:5432" }, samples: times.map((t, i) => [t, i % 2]) },
  { labels: { __name__: "odd_values", job: "x" }, samples: times.map((t, i) => [t, odd[i % odd.length]!]) },
  { labels: { __name__: "temperature_celsius", room: "kitchen", job: "x" }, samples: times.slice(0, 20).map((t, i) => [t, 20 + i / 7]) },
];

async function promtool(args: string[]): Promise<string> {
  const r = await run(["promtool", ...args], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`promtool ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function both(args: (url: string) => string[]): Promise<[string, string]> {
  return Promise.all([promtool(args(shoal.url)), promtool(args(prom.url))]);
}

beforeAll(async () => {
  [shoal, prom] = await Promise.all([startShoal({ args: ["--config.file=/dev/null"] }), startPrometheus("global:\n  scrape_interval: 1h\nscrape_configs: []\n")]);
  const body = writeRequestBody(data);
  for (const url of [shoal.url, prom.url]) {
    const r = await remoteWrite(url, body);
    expect(r.status).toBe(204);
  }
}, 60_000);
afterAll(async () => {
  await Promise.all([shoal?.stop(), prom?.stop()]);
});

const s = (ms: number) => String(ms / 1000);
const rfc = (ms: number) => new Date(ms).toISOString();

const instantQueries = [
  "up",
  "http_requests_total",
  'http_requests_total{job="api"}',
  "sum by (job) (rate(http_requests_total[2m]))",
  "count(up)",
  "1+1",
  "vector(3.5)",
  "http_requests_total / 3",
  "odd_values",
  "odd_values * 7",
  "topk(2, http_requests_total)",
  "avg_over_time(temperature_celsius[10m])",
  "time()",
];

describe("promtool query instant", () => {
  for (const q of instantQueries) {
    test(q, async () => {
      const t = end - 7 * 15_000 + 3000;
      const [a, b] = await both((url) => ["query", "instant", `--time=${rfc(t)}`, url, q]);
      expect(a.split("\n").sort()).toEqual(b.split("\n").sort());
      expect(a.length).toBeGreaterThan(0);
    });
  }

  test("odd values at every offset", async () => {
    for (let i = 0; i < odd.length; i++) {
      const [a, b] = await both((url) => ["query", "instant", `--time=${s(times[i]!)}`, url, "odd_values"]);
      expect(a).toEqual(b);
    }
  });
});

describe("promtool query range", () => {
  for (const q of ["http_requests_total", "rate(http_requests_total[1m])", "sum(up)", "odd_values", "temperature_celsius", "deriv(http_requests_total[3m])"]) {
    test(q, async () => {
      // Steps fall between samples: Prometheus 3 (whose semantics Shoal follows) made range
      // windows left-open, so 2.42 differs only when a window starts exactly on a sample.
      const [a, b] = await both((url) => ["query", "range", `--start=${s(start + 7000)}`, `--end=${s(end)}`, "--step=30s", url, q]);
      expect(a).toEqual(b);
      expect(a.length).toBeGreaterThan(0);
    });
  }
});

describe("promtool query series and labels", () => {
  for (const m of ["up", '{job="api"}', 'http_requests_total{code=~"2.."}', '{__name__=~".+"}']) {
    test(`series --match=${m}`, async () => {
      const [a, b] = await both((url) => ["query", "series", `--match=${m}`, `--start=${s(start)}`, `--end=${s(end)}`, url]);
      expect(a).toEqual(b);
    });
  }
  for (const name of ["__name__", "job", "code", "instance", "absent_label"]) {
    test(`labels ${name}`, async () => {
      const [a, b] = await both((url) => ["query", "labels", `--start=${s(start)}`, `--end=${s(end)}`, url, name]);
      expect(a).toEqual(b);
    });
  }
});
