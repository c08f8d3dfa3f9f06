/**
 * The Prometheus HTTP API of a running node: parameters, error envelopes and status codes,
 * number formatting, limits, status pages, admin endpoints, remote write errors and remote read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as snappy from "snappyjs";
import { ReadRequestType, ReadResponseType, encodeWriteRequest, int64ToNumber, type PbTimeSeries } from "../../src/api/remote/proto.ts";
import { startShoal, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "./remote_write_client.ts";

let shoal: ShoalNode;
const end = Math.floor(Date.now() / 15000) * 15000 - 60_000;
const start = end - 20 * 15_000;
const times = Array.from({ length: 21 }, (_, i) => start + i * 15_000);
const s = (ms: number) => String(ms / 1000);

const data: TestSeries[] = [
  { labels: { __name__: "req_total", job: "api", code: "200" }, samples: times.map((t, i) => [t, i * 10]) },
  { labels: { __name__: "req_total", job: "api", code: "500" }, samples: times.map((t, i) => [t, i]) },
  { labels: { __name__: "req_total", job: "web", code: "200" }, samples: times.map((t, i) => [t, i * 2]) },
  { labels: { __name__: "dup_a", x: "1" }, samples: [[end, 1]] },
  { labels: { __name__: "dup_b", x: "1" }, samples: [[end, 2]] },
  { labels: { __name__: "v_tiny" }, samples: [[end, 1e-7]] },
  { labels: { __name__: "v_huge" }, samples: [[end, 1.5e21]] },
  { labels: { __name__: "v_pinf" }, samples: [[end, Infinity]] },
  { labels: { __name__: "v_ninf" }, samples: [[end, -Infinity]] },
  { labels: { __name__: "v_nan" }, samples: [[end, NaN]] },
  { labels: { __name__: "v_tenth" }, samples: [[end, 0.1]] },
  { labels: { __name__: "v_big" }, samples: [[end, 123456789.125]] },
  { labels: { __name__: "doomed", job: "x" }, samples: times.map((t) => [t, 5]) },
  { labels: { __name__: "temperature" }, samples: times.map((t, i) => [t, 20 + i]) },
];

interface Envelope {
  status: string;
  data?: any;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

async function get(path: string, params: [string, string][] = []): Promise<{ code: number; body: Envelope }> {
  const qs = new URLSearchParams(params).toString();
  const r = await fetch(`${shoal.url}${path}${qs ? "?" + qs : ""}`);
  return { code: r.status, body: (await r.json()) as Envelope };
}

async function post(path: string, params: [string, string][]): Promise<{ code: number; text: string }> {
  const r = await fetch(`${shoal.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  });
  return { code: r.status, text: await r.text() };
}

beforeAll(async () => {
  shoal = await startShoal({ args: ["--config.file=/dev/null", "--web.enable-admin-api"] });
  const r = await remoteWrite(shoal.url, writeRequestBody(data));
  expect(r.status).toBe(204);
});
afterAll(async () => {
  await shoal?.stop();
});

const badData = (code: number, body: Envelope, message: string | RegExp) => {
  expect(code).toBe(400);
  expect(body.status).toBe("error");
  expect(body.errorType).toBe("bad_data");
  expect(body.data).toBeUndefined();
  if (typeof message === "string") expect(body.error).toBe(message);
  else expect(body.error).toMatch(message);
};

describe("query_range parameters", () => {
  test("missing start", async () => {
    const { code, body } = await get("/api/v1/query_range", [["query", "up"], ["end", "10"], ["step", "1"]]);
    badData(code, body, 'invalid parameter "start": cannot parse "" to a valid timestamp');
  });
  test("end before start", async () => {
    const { code, body } = await get("/api/v1/query_range", [["query", "up"], ["start", "10"], ["end", "5"], ["step", "1"]]);
    badData(code, body, 'invalid parameter "end": end timestamp must not be before start time');
  });
  test("zero step", async () => {
    const { code, body } = await get("/api/v1/query_range", [["query", "up"], ["start", "1"], ["end", "5"], ["step", "0"]]);
    badData(code, body, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  });
  test("unparseable step", async () => {
    const { code, body } = await get("/api/v1/query_range", [["query", "up"], ["start", "1"], ["end", "5"], ["step", "abc"]]);
    badData(code, body, 'invalid parameter "step": cannot parse "abc" to a valid duration');
  });
  test("more than 11000 points", async () => {
    const { code, body } = await get("/api/v1/query_range", [["query", "up"], ["start", "0"], ["end", "11001"], ["step", "1"]]);
    badData(code, body, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    const ok = await get("/api/v1/query_range", [["query", "1"], ["start", "0"], ["end", "11000"], ["step", "1"]]);
    expect(ok.code).toBe(200);
  });
  test("RFC 3339 times and a duration step equal Unix floats and float seconds", async () => {
    const a = await get("/api/v1/query_range", [["query", "req_total"], ["start", new Date(start).toISOString()], ["end", new Date(end).toISOString()], ["step", "1m"]]);
    const b = await get("/api/v1/query_range", [["query", "req_total"], ["start", s(start)], ["end", s(end)], ["step", "60"]]);
    expect(a.code).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(a.body.data.result.length).toBe(3);
    expect(a.body.data.result[0].values.length).toBe(6);
  });
  test("bad timeout", async () => {
    const { code, body } = await get("/api/v1/query", [["query", "1"], ["timeout", "soon"]]);
    badData(code, body, 'invalid parameter "timeout": cannot parse "soon" to a valid duration');
  });
  test("bad time", async () => {
    const { code, body } = await get("/api/v1/query", [["query", "1"], ["time", "yesterday"]]);
    badData(code, body, `invalid parameter "time": Invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`);
  });
});

describe("query results", () => {
  test("values are formatted as Prometheus formats floats", async () => {
    const want: Record<string, string> = {
      v_tiny: "1e-07",
      v_huge: "1.5e+21",
      v_pinf: "+Inf",
      v_ninf: "-Inf",
      v_nan: "NaN",
      v_tenth: "0.1",
      v_big: "123456789.125",
    };
    for (const [name, text] of Object.entries(want)) {
      const { body } = await get("/api/v1/query", [["query", name], ["time", s(end)]]);
      expect(body.data.result[0].value).toEqual([end / 1000, text]);
    }
  });
  test("timestamps keep milliseconds", async () => {
    const { body } = await get("/api/v1/query", [["query", "1"], ["time", "1234.567"]]);
    expect(body.data).toEqual({ resultType: "scalar", result: [1234.567, "1"] });
  });
  test("stats=all adds timings and sample counts", async () => {
    const { body } = await get("/api/v1/query", [["query", "req_total"], ["time", s(end)], ["stats", "all"]]);
    expect(Object.keys(body.data.stats.timings).sort()).toEqual(
      ["evalTotalTime", "execQueueTime", "execTotalTime", "innerEvalTime", "queryPreparationTime", "resultSortTime"].sort(),
    );
    expect(body.data.stats.samples.totalQueryableSamples).toBeGreaterThan(0);
    const plain = await get("/api/v1/query", [["query", "req_total"], ["time", s(end)]]);
    expect(plain.body.data.stats).toBeUndefined();
  });
  test("limit truncates with a warning", async () => {
    const { body } = await get("/api/v1/query", [["query", "req_total"], ["time", s(end)], ["limit", "2"]]);
    expect(body.data.result.length).toBe(2);
    expect(body.warnings).toEqual(["results truncated due to limit"]);
    const bad = await get("/api/v1/query", [["query", "1"], ["limit", "x"]]);
    expect(bad.code).toBe(400);
    expect(bad.body.error).toContain('invalid parameter "limit"');
  });
  test("an evaluation error is a 422 execution error", async () => {
    const { code, body } = await get("/api/v1/query", [["query", 'abs({__name__=~"dup_a|dup_b"})'], ["time", s(end)]]);
    expect(code).toBe(422);
    expect(body.errorType).toBe("execution");
    expect(body.error).toMatch(/same labelset/);
  });
  test("annotations come through as warnings or infos", async () => {
    const { body } = await get("/api/v1/query", [["query", "rate(temperature[5m])"], ["time", s(end)]]);
    expect(body.status).toBe("success");
    expect([...(body.warnings ?? []), ...(body.infos ?? [])].join("\n")).toMatch(/counter|_total/);
  });
  test("format_query and parse_query", async () => {
    const f = await get("/api/v1/format_query", [["query", "sum(rate(req_total[5m]))by(job)"]]);
    expect(f.body.data).toBe("sum by (job) (rate(req_total[5m]))");
    // Longer than 100 characters: split over lines as Prometheus's Pretty does.
    const long = 'sum by (job, instance) (rate(http_requests_total{job="api-server",handler="/api/v1/query_range"}[5m])) / 3';
    const p2 = await get("/api/v1/format_query", [["query", long]]);
    expect(p2.body.data).toContain("\n");
    const p = await get("/api/v1/parse_query", [["query", 'req_total{job="api"} offset 5m']]);
    expect(p.body.data).toEqual({
      type: "vectorSelector",
      name: "req_total",
      offset: 300000,
      matchers: [
        { name: "job", value: "api", type: "=" },
        { name: "__name__", value: "req_total", type: "=" },
      ],
      timestamp: null,
      startOrEnd: null,
    });
  });
});

describe("series and labels", () => {
  test("series needs match[]", async () => {
    const { code, body } = await get("/api/v1/series");
    badData(code, body, "no match[] parameter provided");
  });
  test("match[] must select something non-empty", async () => {
    const { code, body } = await get("/api/v1/series", [["match[]", '{job=~".*"}']]);
    badData(code, body, 'invalid parameter "match[]": 1:1: parse error: vector selector must contain at least one non-empty matcher');
  });
  test("a bad selector is a parse error", async () => {
    const { code, body } = await get("/api/v1/series", [["match[]", "up{"]]);
    badData(code, body, /parse error/);
  });
  test("several match[] are merged, sorted and deduplicated; limit warns", async () => {
    const { body } = await get("/api/v1/series", [["match[]", 'req_total{job="web"}'], ["match[]", 'req_total{code="200"}']]);
    expect(body.data).toEqual([
      { __name__: "req_total", code: "200", job: "api" },
      { __name__: "req_total", code: "200", job: "web" },
    ]);
    const lim = await get("/api/v1/series", [["match[]", "req_total"], ["limit", "1"]]);
    expect(lim.body.data.length).toBe(1);
    expect(lim.body.warnings).toEqual(["results truncated due to limit"]);
  });
  test("label values: start/end limit the time range; a bad name is 400", async () => {
    const before = await get("/api/v1/label/job/values", [["start", s(start - 3600_000)], ["end", s(start - 1800_000)]]);
    expect(before.body.data).toEqual([]);
    const bad = await get("/api/v1/label/not-a-name/values");
    badData(bad.code, bad.body, 'invalid label name: "not-a-name"');
    const lim = await get("/api/v1/label/job/values", [["limit", "1"]]);
    expect(lim.body.data).toEqual(["api"]);
    expect(lim.body.warnings).toEqual(["results truncated due to limit"]);
  });
});

describe("status, rules, targets", () => {
  test("shapes", async () => {
    // The built-in cluster alerts are the only rules, not yet evaluated (no alert).
    const rules = (await get("/api/v1/rules")).body;
    expect(rules.status).toBe("success");
    expect(rules.data.groups.map((g: { name: string; file: string }) => [g.file, g.name])).toEqual([["shoal-builtin/cluster_alerts.yml", "shoal-cluster"]]);
    expect((await get("/api/v1/alerts")).body).toEqual({ status: "success", data: { alerts: [] } });
    expect((await get("/api/v1/targets")).body).toEqual({ status: "success", data: { activeTargets: [], droppedTargets: [], droppedTargetCounts: {} } });
    const md = await get("/api/v1/targets/metadata", [["metric", "nothing"]]);
    expect(md.body).toEqual({ status: "success", data: [] });
    expect(typeof (await get("/api/v1/status/config")).body.data.yaml).toBe("string");
    const rt = (await get("/api/v1/status/runtimeinfo")).body.data;
    expect(rt.storageRetention).toBe("15d");
    expect(typeof rt.startTime).toBe("string");
    const tsdb = (await get("/api/v1/status/tsdb")).body.data;
    expect(Object.keys(tsdb.headStats).sort()).toEqual(["chunkCount", "maxTime", "minTime", "numLabelPairs", "numSeries"]);
    expect(tsdb.headStats.numSeries).toBe(data.length);
    expect(tsdb.seriesCountByMetricName[0]).toEqual({ name: "req_total", value: 3 });
  });
  test("unknown API paths are 404", async () => {
    const r = await fetch(`${shoal.url}/api/v1/nope`);
    expect(r.status).toBe(404);
  });
});

describe("admin", () => {
  test("delete_series removes the data and answers 204; clean_tombstones 204", async () => {
    expect((await get("/api/v1/query", [["query", "doomed"], ["time", s(end)]])).body.data.result.length).toBe(1);
    const r = await post("/api/v1/admin/tsdb/delete_series", [["match[]", "doomed"]]);
    expect(r.code).toBe(204);
    expect((await get("/api/v1/query", [["query", "doomed"], ["time", s(end)]])).body.data.result).toEqual([]);
    expect((await post("/api/v1/admin/tsdb/clean_tombstones", [])).code).toBe(204);
    const bad = await post("/api/v1/admin/tsdb/delete_series", []);
    expect(bad.code).toBe(400);
  });
});

describe("remote write errors", () => {
  const send = (body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${shoal.url}/api/v1/write`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", ...headers },
    });

  test("bad snappy, bad protobuf, bad labels: 400 with the reason", async () => {
    let r = await send(new Uint8Array([1, 2, 3, 4, 5]));
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/snappy/);
    r = await send(snappy.compress(new Uint8Array([0x0a, 0x7f, 0x01])));
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/bad WriteRequest protobuf/);
    const unsorted: PbTimeSeries = { labels: [{ name: "z", value: "1" }, { name: "__name__", value: "m" }], samples: [{ value: 1, timestamp: end }] };
    r = await send(snappy.compress(encodeWriteRequest([unsorted])));
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/not sorted/);
  });
  test("unsupported encodings and messages: 415", async () => {
    expect((await send(writeRequestBody(data), { "Content-Encoding": "gzip" })).status).toBe(415);
    expect((await send(writeRequestBody(data), { "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v3.Request" })).status).toBe(415);
  });
  test("oversized body: 413", async () => {
    const r = await send(new Uint8Array(33 << 20));
    expect(r.status).toBe(413);
  });
  test("out-of-order samples: 400 naming them, nothing of the request stored (as Prometheus)", async () => {
    const body = writeRequestBody([
      { labels: { __name__: "req_total", job: "api", code: "200" }, samples: [[start - 60_000, 1]] },
      { labels: { __name__: "fresh_series" }, samples: [[end, 42]] },
    ]);
    const r = await remoteWrite(shoal.url, body);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/out of order.*req_total/i);
    const q = await get("/api/v1/query", [["query", "fresh_series"], ["time", s(end)]]);
    expect(q.body.data.result).toEqual([]);
  });
});

test("remote read returns the raw samples with the SAMPLES response type", async () => {
  const req = ReadRequestType.encode(
    ReadRequestType.fromObject({
      queries: [{ startTimestampMs: start, endTimestampMs: end, matchers: [{ type: 0, name: "__name__", value: "req_total" }, { type: 2, name: "code", value: "5.." }] }],
      acceptedResponseTypes: [0],
    }),
  ).finish();
  const r = await fetch(`${shoal.url}/api/v1/read`, {
    method: "POST",
    body: snappy.compress(req) as Uint8Array<ArrayBuffer>,
    headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Read-Version": "0.1.0" },
  });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-encoding")).toBe("snappy");
  const res = ReadResponseType.toObject(ReadResponseType.decode(snappy.uncompress(new Uint8Array(await r.arrayBuffer()))), { defaults: true }) as {
    results: { timeseries: PbTimeSeries[] }[];
  };
  expect(res.results.length).toBe(1);
  const ts = res.results[0]!.timeseries;
  expect(ts.length).toBe(1);
  expect(ts[0]!.labels).toEqual([
    { name: "__name__", value: "req_total" },
    { name: "code", value: "500" },
    { name: "job", value: "api" },
  ]);
  expect(ts[0]!.samples.map((x) => [int64ToNumber(x.timestamp), x.value])).toEqual(times.map((t, i) => [t, i]));
});

test("large answers are gzip-compressed for clients that accept it", async () => {
  const r = await fetch(`${shoal.url}/api/v1/query_range?query=req_total&start=${s(start)}&end=${s(end)}&step=1`, {
    headers: { "Accept-Encoding": "gzip" },
    decompress: false,
  } as RequestInit);
  expect(r.headers.get("content-encoding")).toBe("gzip");
  expect(r.headers.get("vary") ?? "").toMatch(/\bAccept-Encoding\b/);
  const body = JSON.parse(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await r.arrayBuffer())))) as Envelope;
  expect(body.data.result.length).toBe(3);
  const small = await fetch(`${shoal.url}/api/v1/query?query=1`, { headers: { "Accept-Encoding": "gzip" }, decompress: false } as RequestInit);
  expect(small.headers.get("content-encoding")).toBeNull();
});
