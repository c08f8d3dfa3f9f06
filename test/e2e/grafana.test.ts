/**
 * Replays the requests Grafana's Prometheus data source sends (health check, buildinfo, label
 * and series lookups for the query builder, metadata, form-POST queries with float-second times,
 * the exemplars probe, format_query) against a real Shoal process holding known data, and checks
 * every response field by field.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startShoal, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "./remote_write_client.ts";

let shoal: ShoalNode;
// Whole seconds, 15 s apart, ending a minute ago: inside the lookback window of instant queries.
const end = Math.floor(Date.now() / 15000) * 15000 - 60_000;
const start = end - 20 * 15_000;
const times = Array.from({ length: 21 }, (_, i) => start + i * 15_000);

const data: TestSeries[] = [
  { labels: { __name__: "http_requests_total", job: "api", instance: "a:80", code: "200" }, samples: times.map((t, i) => [t, i * 10]) },
  { labels: { __name__: "http_requests_total", job: "api", instance: "b:80", code: "500" }, samples: times.map((t, i) => [t, i]) },
  { labels: { __name__: "up", job: "api", instance: "a:80" }, samples: times.map((t) => [t, 1]) },
  { labels: { __name__: "up", job: "db", instance: "c:5432" }, samples: times.map((t) => [t, 0]) },
];

interface Api<T = unknown> {
  status: string;
  data: T;
  warnings?: string[];
  errorType?: string;
  error?: string;
}

async function call<T>(method: "GET" | "POST", path: string, params: [string, string][]): Promise<{ code: number; body: Api<T>; type: string }> {
  const qs = new URLSearchParams(params).toString();
  const res =
    method === "GET"
      ? await fetch(`${shoal.url}${path}${qs ? "?" + qs : ""}`)
      : await fetch(`${shoal.url}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: qs,
        });
  return { code: res.status, type: res.headers.get("content-type") ?? "", body: (await res.json()) as Api<T> };
}

const sec = (ms: number) => String(ms / 1000);

beforeAll(async () => {
  shoal = await startShoal({ args: ["--config.file=/dev/null"] });
  const r = await remoteWrite(shoal.url, writeRequestBody(data));
  expect(r.status).toBe(204);
});
afterAll(async () => {
  await shoal?.stop();
});

test("health check: 1+1 at time=4 as a form POST", async () => {
  const r = await call("POST", "/api/v1/query", [["query", "1+1"], ["time", "4"]]);
  expect(r.code).toBe(200);
  expect(r.type).toContain("application/json");
  expect(r.body).toEqual({ status: "success", data: { resultType: "scalar", result: [4, "2"] } });
});

test("buildinfo", async () => {
  const r = await call<Record<string, string>>("GET", "/api/v1/status/buildinfo", []);
  expect(r.code).toBe(200);
  expect(Object.keys(r.body.data).sort()).toEqual(["branch", "buildDate", "buildUser", "goVersion", "revision", "version"]);
  expect(r.body.data.version).toMatch(/^\d+\.\d+\.\d+/);
});

test("labels, with and without match[]", async () => {
  const all = await call<string[]>("GET", "/api/v1/labels", [["start", sec(start)], ["end", sec(end)]]);
  expect(all.body).toEqual({ status: "success", data: ["__name__", "code", "instance", "job"] });
  const m = await call<string[]>("POST", "/api/v1/labels", [["match[]", "up"], ["start", sec(start)], ["end", sec(end)]]);
  expect(m.body.data).toEqual(["__name__", "instance", "job"]);
});

test("label values with match[]", async () => {
  const names = await call<string[]>("GET", "/api/v1/label/__name__/values", [["start", sec(start)], ["end", sec(end)]]);
  expect(names.body).toEqual({ status: "success", data: ["http_requests_total", "up"] });
  const jobs = await call<string[]>("GET", "/api/v1/label/job/values", [["match[]", '{__name__="up"}'], ["start", sec(start)], ["end", sec(end)]]);
  expect(jobs.body.data).toEqual(["api", "db"]);
  const codes = await call<string[]>("GET", "/api/v1/label/code/values", [["match[]", 'http_requests_total{job="api"}']]);
  expect(codes.body.data).toEqual(["200", "500"]);
  const none = await call<string[]>("GET", "/api/v1/label/nothing_here/values", []);
  expect(none.body).toEqual({ status: "success", data: [] });
});

test("series", async () => {
  const r = await call<Record<string, string>[]>("POST", "/api/v1/series", [["match[]", "up"], ["start", sec(start)], ["end", sec(end)]]);
  expect(r.body).toEqual({
    status: "success",
    data: [
      { __name__: "up", instance: "a:80", job: "api" },
      { __name__: "up", instance: "c:5432", job: "db" },
    ],
  });
});

test("metadata (no targets scraped: an empty object)", async () => {
  const r = await call<Record<string, unknown>>("GET", "/api/v1/metadata", [["limit", "10000"]]);
  expect(r.body).toEqual({ status: "success", data: {} });
});

test("instant query as a form POST with float-second time", async () => {
  const r = await call<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>("POST", "/api/v1/query", [
    ["query", 'sum by (job) (http_requests_total{job="api"})'],
    ["time", sec(end + 500)],
  ]);
  expect(r.code).toBe(200);
  expect(r.body.data.resultType).toBe("vector");
  expect(r.body.data.result).toEqual([{ metric: { job: "api" }, value: [(end + 500) / 1000, "220"] }]);
});

test("range query as a form POST with float-second start/end and step", async () => {
  const r = await call<{ resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] }>("POST", "/api/v1/query_range", [
    ["query", 'rate(http_requests_total{code="200"}[1m])'],
    ["start", sec(start + 60_000)],
    ["end", sec(end)],
    ["step", "15"],
  ]);
  expect(r.code).toBe(200);
  expect(r.body.data.resultType).toBe("matrix");
  expect(r.body.data.result.length).toBe(1);
  const s = r.body.data.result[0]!;
  expect(s.metric).toEqual({ code: "200", instance: "a:80", job: "api" });
  expect(s.values.length).toBe(17);
  for (const [t, v] of s.values) {
    expect(typeof t).toBe("number");
    expect(Number(v)).toBeCloseTo(10 / 15, 10);
  }
  expect(s.values[0]![0]).toBe((start + 60_000) / 1000);
});

test("exemplars probe answers an empty list", async () => {
  const r = await call("GET", "/api/v1/query_exemplars", [["query", "http_requests_total"], ["start", sec(start)], ["end", sec(end)]]);
  expect(r.body).toEqual({ status: "success", data: [] });
});

test("format_query", async () => {
  const r = await call<string>("GET", "/api/v1/format_query", [["query", "sum(rate(http_requests_total{job='api'}[5m]))by(code)"]]);
  expect(r.body).toEqual({ status: "success", data: 'sum by (code) (rate(http_requests_total{job="api"}[5m]))' });
});

test("a bad query is a 400 bad_data naming the parameter", async () => {
  const r = await call("POST", "/api/v1/query", [["query", "sum("], ["time", "4"]]);
  expect(r.code).toBe(400);
  expect(r.body.status).toBe("error");
  expect(r.body.errorType).toBe("bad_data");
  expect(r.body.error).toMatch(/^invalid parameter "query": 1:5: parse error: /);
});

test("CORS: browser-side clients may call the API", async () => {
  const pre = await fetch(`${shoal.url}/api/v1/query`, { method: "OPTIONS", headers: { Origin: "http://grafana.local" } });
  expect(pre.status).toBe(204);
  expect(pre.headers.get("access-control-allow-origin")).toBe("http://grafana.local");
  expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  const r = await fetch(`${shoal.url}/api/v1/labels`, { headers: { Origin: "http://grafana.local" } });
  expect(r.headers.get("access-control-allow-origin")).toBe("http://grafana.local");
});

test("CORS: an answer that names the origin says it varies by Origin, so caches keep origins apart", async () => {
  const pre = await fetch(`${shoal.url}/api/v1/query`, { method: "OPTIONS", headers: { Origin: "http://grafana.local" } });
  expect(pre.headers.get("vary") ?? "").toMatch(/\bOrigin\b/);
  const r = await fetch(`${shoal.url}/api/v1/labels`, { headers: { Origin: "http://grafana.local" } });
  expect(r.headers.get("access-control-allow-origin")).toBe("http://grafana.local");
  expect(r.headers.get("vary") ?? "").toMatch(/\bOrigin\b/);
});
