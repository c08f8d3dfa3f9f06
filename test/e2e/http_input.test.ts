/**
 * Awkward request input over real HTTP, side by side with Prometheus 2.42: bytes that are not
 * UTF-8 in a GET query string or an urlencoded POST body are refused with the same 400 and
 * message as Prometheus (they used to be read as U+FFFD and accepted), and a 100 KB GET URL is
 * served as Prometheus serves it (it used to be refused with 431).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startPrometheus, startShoal, type PrometheusServer, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
let prom: PrometheusServer;

beforeAll(async () => {
  [shoal, prom] = await Promise.all([startShoal(), startPrometheus("scrape_configs: []\n")]);
}, 60_000);
afterAll(async () => {
  await Promise.all([shoal?.stop(), prom?.stop()]);
});

interface Answer {
  status: number;
  errorType?: string;
  error?: string;
}

async function answer(res: Response): Promise<Answer> {
  const body = (await res.json()) as { errorType?: string; error?: string };
  return { status: res.status, errorType: body.errorType, error: body.error };
}

/** Path and raw (already percent-encoded) query string. */
const CASES: [string, string][] = [
  ["/api/v1/query", "query=%22%ff%22"], // a string literal holding a byte that is not UTF-8
  ["/api/v1/query", "query=up%7Ba%3D%22x%ff%22%7D"], // …inside a label matcher
  ["/api/v1/query", "query=%60%c3%28%60"], // …a broken two-byte sequence in a raw string
  ["/api/v1/query", "query=%22%ef%bf%bd%22"], // U+FFFD itself, which Go's lexer cannot tell from a bad byte
  ["/api/v1/query", "query=%ff"], // outside any string
  ["/api/v1/query", "query=up%23%ff"], // inside a comment: ignored, as in Prometheus
  ["/api/v1/query", "query=%22%c3%a9%22"], // valid UTF-8: fine
  ["/api/v1/query_range", "query=%22%ff%22&start=1&end=2&step=1"],
  ["/api/v1/series", "match[]=%7Ba%3D%22%ff%22%7D"],
  ["/api/v1/labels", "match[]=%7Ba%3D%22%ff%22%7D"],
  ["/api/v1/label/job/values", "match[]=%7Ba%3D%22%ff%22%7D"],
];

describe("bytes that are not UTF-8", () => {
  test.each(CASES)("GET %s?%s answers as Prometheus does", async (path, qs) => {
    const [s, p] = await Promise.all([fetch(`${shoal.url}${path}?${qs}&time=100`).then(answer), fetch(`${prom.url}${path}?${qs}&time=100`).then(answer)]);
    expect(s).toEqual(p);
  });

  // Label values are GET-only in Prometheus.
  test.each(CASES.filter(([path]) => !path.startsWith("/api/v1/label/")))("POST %s with urlencoded body %s answers as Prometheus does", async (path, qs) => {
    const post = (base: string) =>
      fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `${qs}&time=100` }).then(answer);
    const [s, p] = await Promise.all([post(shoal.url), post(prom.url)]);
    expect(s).toEqual(p);
  });

  test("a raw (not percent-encoded) invalid byte in a POST body is refused with 400 bad_data", async () => {
    const body = new Uint8Array([...new TextEncoder().encode('query="a'), 0xff, ...new TextEncoder().encode('"')]);
    const post = (base: string) =>
      fetch(`${base}/api/v1/query`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body }).then(answer);
    const [s, p] = await Promise.all([post(shoal.url), post(prom.url)]);
    expect(s).toEqual({ status: 400, errorType: "bad_data", error: 'invalid parameter "query": 1:1: parse error: invalid UTF-8 rune' });
    expect(s).toEqual(p);
  });
});

describe("long GET URLs", () => {
  test("a 100 KB query in a GET URL is served, as by Prometheus (Go's 1 MiB header limit)", async () => {
    const query = `count(long_url_metric{a="${"z".repeat(100_000)}"}) or vector(7)`;
    const path = `/api/v1/query?time=100&query=${encodeURIComponent(query)}`;
    expect(path.length).toBeGreaterThan(100_000);
    const [s, p] = await Promise.all([fetch(shoal.url + path), fetch(prom.url + path)]);
    expect(p.status).toBe(200);
    expect(s.status).toBe(200);
    const body = (await s.json()) as { data: { result: { value: [number, string] }[] } };
    expect(body.data.result[0]!.value).toEqual([100, "7"]);
    // A 1 MB URL also works; beyond Go's limit both refuse it.
    expect((await fetch(`${shoal.url}/api/v1/query?time=100&query=vector(1)&pad=${"p".repeat(1_000_000)}`)).status).toBe(200);
  });
});
