/**
 * The same HTTP API requests, good and bad, against Shoal and against Prometheus 2.42 holding the
 * same data: status codes, `status`, `errorType` and `error` texts, and result data must agree.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startPrometheus, startShoal, type PrometheusServer, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "./remote_write_client.ts";

let shoal: ShoalNode;
let prom: PrometheusServer;
const end = Math.floor(Date.now() / 15000) * 15000 - 60_000 + 7000;
const start = end - 10 * 15_000;
const times = Array.from({ length: 11 }, (_, i) => start + i * 15_000);
const data: TestSeries[] = [
  { labels: { __name__: "req_total", job: "api", code: "200" }, samples: times.map((t, i) => [t, i * 10]) },
  { labels: { __name__: "req_total", job: "web", code: "500" }, samples: times.map((t, i) => [t, i]) },
  { labels: { __name__: "dup_a", x: "1" }, samples: times.map((t) => [t, 1]) },
  { labels: { __name__: "dup_b", x: "1" }, samples: times.map((t) => [t, 2]) },
];

beforeAll(async () => {
  [shoal, prom] = await Promise.all([startShoal({ args: ["--config.file=/dev/null", "--cluster.alert-rules=false"] }), startPrometheus("scrape_configs: []\n")]);
  const body = writeRequestBody(data);
  for (const url of [shoal.url, prom.url]) expect((await remoteWrite(url, body)).status).toBe(204);
}, 60_000);
afterAll(async () => {
  await Promise.all([shoal?.stop(), prom?.stop()]);
});

const s = (ms: number) => String(ms / 1000);
const T = s(end);

const T3 = s(end + 3000);
/**
 * Cases whose texts differ between 2.42 and the Prometheus 3 semantics Shoal follows; only the
 * status code and errorType are compared: the position of an error in an empty query, the
 * parser's wording for an unfinished duration, 2.42's missing `invalid parameter "query"` prefix
 * on range-query type errors, and selectors of only empty-matching matchers, which Prometheus 3's
 * parser rejects itself; and regular expression errors, worded by the JavaScript engine.
 */
const CODE_ONLY = new Set([2, 16, 17, 22]);
// Prometheus names the stage a query timed out in, which races: compare the errorType only.
const REGEX_CASES = new Set(['req_total{job=~"("}', "-1"]);

const cases: [string, string, [string, string][]][] = [
  ["GET", "/api/v1/query", [["query", "req_total"], ["time", T]]],
  ["GET", "/api/v1/query", [["query", "sum("], ["time", T]]],
  ["GET", "/api/v1/query", [["query", ""], ["time", T]]],
  ["GET", "/api/v1/query", [["query", "up"], ["time", "nope"]]],
  ["GET", "/api/v1/query", [["query", "1"], ["timeout", "x"]]],
  ["GET", "/api/v1/query", [["query", 'abs({__name__=~"dup_a|dup_b"})'], ["time", T]]],
  ["GET", "/api/v1/query", [["query", "req_total[1m]"], ["time", T3]]],
  ["GET", "/api/v1/query", [["query", "scalar(req_total)"], ["time", T]]],
  ["POST", "/api/v1/query", [["query", "count(req_total) by (job)"], ["time", T]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", s(start)], ["end", T], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["end", T], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", s(start)], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", T], ["end", s(start)], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", s(start)], ["end", T]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", s(start)], ["end", T], ["step", "-1"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total"], ["start", "0"], ["end", "100000"], ["step", "1"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total["], ["start", s(start)], ["end", T], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "req_total[5m]"], ["start", s(start)], ["end", T], ["step", "15"]]],
  ["GET", "/api/v1/query_range", [["query", "rate(req_total[1m])"], ["start", new Date(start + 3000).toISOString()], ["end", new Date(end + 3000).toISOString()], ["step", "30s"]]],
  ["GET", "/api/v1/series", []],
  ["GET", "/api/v1/series", [["match[]", "req_total"]]],
  ["GET", "/api/v1/series", [["match[]", "req_total{"]]],
  ["GET", "/api/v1/series", [["match[]", '{job=~".*"}']]],
  ["GET", "/api/v1/series", [["match[]", "req_total"], ["start", "x"]]],
  ["POST", "/api/v1/series", [["match[]", 'req_total{job="api"}'], ["match[]", "dup_a"]]],
  ["GET", "/api/v1/labels", []],
  ["GET", "/api/v1/labels", [["match[]", "dup_a"]]],
  ["GET", "/api/v1/labels", [["match[]", "dup_a{"]]],
  ["GET", "/api/v1/label/job/values", []],
  ["GET", "/api/v1/label/job/values", [["match[]", 'req_total{code="500"}']]],
  ["GET", "/api/v1/label/__name__/values", []],
  ["GET", "/api/v1/label/job/values", [["match[]", "req_total{"]]],
  ["GET", "/api/v1/label/bad-name/values", []],
  ["GET", "/api/v1/query", [["query", 'req_total{job=~"("}'], ["time", T]]],
  ["GET", "/api/v1/series", [["match[]", 'req_total{job=~"("}']]],
  ["GET", "/api/v1/query", [["query", "req_total"], ["time", T], ["timeout", "-1"]]],
  ["GET", "/api/v1/query", [["query", 'label_replace(req_total, "x", "$1", "job", "(")'], ["time", T]]],
  ["GET", "/api/v1/query", [["query", "histogram_quantile(0.9, req_total)"], ["time", T]]],
  ["GET", "/api/v1/query", [["query", "rate(req_total[5m])"], ["time", T3]]],
  ["GET", "/api/v1/query_exemplars", [["query", "req_total"], ["start", s(start)], ["end", T]]],
  ["GET", "/api/v1/query_exemplars", [["query", "req_total{"], ["start", s(start)], ["end", T]]],
  ["GET", "/api/v1/format_query", [["query", "sum(rate(req_total[5m]))by(job)"]]],
  ["GET", "/api/v1/format_query", [["query", "sum("]]],
  [
    "GET",
    "/api/v1/format_query",
    [["query", 'sum by (job, instance) (rate(http_requests_total{job="api-server",handler="/api/v1/query_range"}[5m])) / on(job) group_left topk(3, up)']],
  ],
  ["GET", "/api/v1/metadata", []],
  ["GET", "/api/v1/targets", []],
  ["GET", "/api/v1/targets/metadata", [["metric", "nothing"]]],
  ["GET", "/api/v1/targets/metadata", [["match_target", "{"]]],
  ["GET", "/api/v1/metadata", [["limit", "x"]]],
  ["GET", "/api/v1/rules", []],
  ["GET", "/api/v1/alerts", []],
  ["POST", "/api/v1/admin/tsdb/delete_series", [["match[]", "dup_a"]]],
];

for (const [i, [method, path, params]] of cases.entries()) {
  test(`${method} ${path} ${JSON.stringify(params)}`, async () => {
    const call = async (url: string) => {
      const qs = new URLSearchParams(params).toString();
      const r =
        method === "GET"
          ? await fetch(`${url}${path}?${qs}`)
          : await fetch(`${url}${path}`, { method, body: qs, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      const text = await r.text();
      return { code: r.status, body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>) };
    };
    const [a, b] = await Promise.all([call(shoal.url), call(prom.url)]);
    expect(a.code).toBe(b.code);
    if (a.body && b.body) {
      // droppedTargetCounts is newer than 2.42.
      if (path === "/api/v1/targets") delete (a.body.data as Record<string, unknown>).droppedTargetCounts;
      if (CODE_ONLY.has(i) || params.some(([, v]) => REGEX_CASES.has(v))) {
        expect(a.body.errorType).toBe(b.body.errorType);
        return;
      }
      // Prometheus 2.42 sorts data the same way; results must match exactly.
      expect(a.body.status).toBe(b.body.status);
      expect(a.body.errorType).toBe(b.body.errorType);
      expect(a.body.error).toBe(b.body.error);
      expect(a.body.data).toEqual(b.body.data);
    }
  });
}

test("/federate prints the same text as Prometheus's", async () => {
  const q = `match[]=${encodeURIComponent("req_total")}&match[]=${encodeURIComponent('{__name__=~"dup_.*"}')}`;
  const [a, b] = await Promise.all([shoal.url, prom.url].map(async (u) => (await fetch(`${u}/federate?${q}`)).text()));
  expect(a).toBe(b);
});

test("remote read answers what Prometheus answers", async () => {
  const { ReadRequestType, ReadResponseType } = await import("../../src/api/remote/proto.ts");
  const snappy = await import("snappyjs");
  const req = ReadRequestType.encode(
    ReadRequestType.fromObject({
      queries: [
        { startTimestampMs: start, endTimestampMs: end, matchers: [{ type: 0, name: "__name__", value: "req_total" }] },
        { startTimestampMs: start + 30_000, endTimestampMs: end - 30_000, matchers: [{ type: 2, name: "__name__", value: "dup_.*" }] },
      ],
      acceptedResponseTypes: [0],
    }),
  ).finish();
  const [a, b] = await Promise.all(
    [shoal.url, prom.url].map(async (u) => {
      const r = await fetch(`${u}/api/v1/read`, {
        method: "POST",
        body: snappy.compress(req) as Uint8Array<ArrayBuffer>,
        headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Read-Version": "0.1.0" },
      });
      expect(r.status).toBe(200);
      return ReadResponseType.toObject(ReadResponseType.decode(snappy.uncompress(new Uint8Array(await r.arrayBuffer()))), { defaults: true, longs: Number });
    }),
  );
  expect(a).toEqual(b);
  expect((a as { results: unknown[] }).results.length).toBe(2);
});
