/**
 * Remote write into a real Shoal node (decoding on its worker thread, through the cluster
 * distributor) and into Debian's Prometheus 2.42 side by side: the same requests get the same
 * status codes and leave the same data behind, including requests holding an out-of-order or
 * conflicting duplicate sample, which Prometheus refuses as a whole (400, nothing stored).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import { waitFor, startPrometheus, startShoal, type PrometheusServer, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
let prom: PrometheusServer;
// Whole seconds, ten minutes back: inside both heads, and the query times below are exact.
const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;

beforeAll(async () => {
  [shoal, prom] = await Promise.all([startShoal({ args: ["--log.level=error"] }), startPrometheus("global:\n  scrape_interval: 15s\nscrape_configs: []\n", ["--log.level=error"])]);
}, 60_000);

afterAll(async () => {
  await Promise.all([shoal?.stop(), prom?.stop()]);
});

/** Sends the same body to both; returns [shoal status, shoal text, prometheus status, prometheus text]. */
async function both(body: Uint8Array): Promise<{ shoal: number; shoalText: string; prom: number; promText: string }> {
  const [a, b] = await Promise.all([remoteWrite(shoal.url, body), remoteWrite(prom.url, body)]);
  return { shoal: a.status, shoalText: await a.text(), prom: b.status, promText: await b.text() };
}

/** Every sample of every series in the last 20 minutes, as "labels: t=v,…" lines, sorted. */
async function dump(base: string): Promise<string[]> {
  const at = (t0 + 600_000) / 1000;
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent('{__name__=~"rw_.+"}[20m]')}&time=${at}`);
  const body = (await res.json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  return body.data.result
    .map((s) => {
      const name = Object.entries(s.metric)
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      return `${name}: ${s.values.map(([t, v]) => `${t}=${v}`).join(" ")}`;
    })
    .sort();
}

const series = (name: string, extra: Record<string, string>, samples: [number, number][]): TestSeries => ({ labels: { __name__: name, ...extra }, samples });

test("a good request: 204 from both, the same samples stored", async () => {
  const r = await both(
    writeRequestBody([
      series("rw_a", { x: "1" }, [[t0, 1], [t0 + 15_000, 2]]),
      series("rw_b", {}, [[t0, 10]]),
      series("rw_c", { job: "j" }, [[t0 + 15_000, 0.5]]),
    ]),
  );
  expect([r.shoal, r.prom]).toEqual([204, 204]);
  expect(await dump(shoal.url)).toEqual(await dump(prom.url));
  expect((await dump(shoal.url)).length).toBe(3);
});

test("a request with one out-of-order sample: 400 from both, and neither stores any of it", async () => {
  const r = await both(
    writeRequestBody([
      series("rw_b", {}, [[t0 + 30_000, 11]]),
      series("rw_a", { x: "1" }, [[t0 + 5_000, 9]]), // older than rw_a's last sample
      series("rw_d", {}, [[t0 + 30_000, 4]]),
    ]),
  );
  expect([r.shoal, r.prom]).toEqual([400, 400]);
  expect(r.promText).toMatch(/out of order/);
  expect(r.shoalText).toMatch(/out of order.*rw_a.*nothing of this request was stored/);
  const after = await dump(shoal.url);
  expect(after).toEqual(await dump(prom.url));
  expect(after.some((l) => l.startsWith("__name__=rw_d"))).toBe(false);
  expect(after.find((l) => l.startsWith("__name__=rw_b"))).toBe(`__name__=rw_b: ${t0 / 1000}=10`);
});

test("a conflicting duplicate: 400 from both, nothing stored; an identical resend: 204 from both", async () => {
  const dup = await both(writeRequestBody([series("rw_e", {}, [[t0 + 30_000, 1]]), series("rw_a", { x: "1" }, [[t0 + 15_000, 3]])]));
  expect([dup.shoal, dup.prom]).toEqual([400, 400]);
  expect(dup.shoalText).toMatch(/duplicate/);
  const same = await both(writeRequestBody([series("rw_a", { x: "1" }, [[t0 + 15_000, 2]])]));
  expect([same.shoal, same.prom]).toEqual([204, 204]);
  const after = await dump(shoal.url);
  expect(after).toEqual(await dump(prom.url));
  expect(after.some((l) => l.startsWith("__name__=rw_e"))).toBe(false);
});

test("many requests over the same series: same data, same series count", async () => {
  const names = Array.from({ length: 300 }, (_, i) => ({ job: `j${i % 7}`, instance: `host-${i}` }));
  for (let round = 0; round < 12; round++) {
    const t = t0 + 60_000 + round * 15_000;
    const r = await both(writeRequestBody(names.map((l, i) => series("rw_many", l, [[t, round * 1000 + i]]))));
    expect([r.shoal, r.prom]).toEqual([204, 204]);
  }
  const a = await dump(shoal.url);
  expect(a).toEqual(await dump(prom.url));
  expect(a.filter((l) => l.includes("rw_many")).length).toBe(300);
});

test("Shoal decodes on its worker once that has started", async () => {
  // The worker starts with the first request; until it is up the request thread decodes.
  let t = t0 + 300_000;
  const onWorker = await waitFor("a request decoded on the worker", async () => {
    t += 1000;
    const bodies = Array.from({ length: 8 }, (_, k) => writeRequestBody([series("rw_probe", { k: String(k) }, [[t, k]])]));
    const statuses = await Promise.all(bodies.map(async (b) => (await remoteWrite(shoal.url, b)).status));
    expect(statuses).toEqual(Array(8).fill(204));
    const metrics = await (await fetch(`${shoal.url}/metrics`)).text();
    return Number(/^shoal_remote_write_decoded_requests_total\{thread="worker"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  });
  expect(onWorker).toBeGreaterThan(0);
});

test("corrupt snappy and a bad protobuf: 400 from both", async () => {
  const corrupt = await both(new Uint8Array([0x10, 0xff, 0xff, 0xff]));
  expect([corrupt.shoal, corrupt.prom]).toEqual([400, 400]);
  const junk = await both(new Uint8Array([0x03, 0x08, 0x0a, 0xff])); // snappy of 3 bytes of bad protobuf
  expect([junk.shoal, junk.prom]).toEqual([400, 400]);
});
