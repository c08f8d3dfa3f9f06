/**
 * Remote write out with real processes: a Shoal node forwarding what it stores to a real
 * VictoriaMetrics and to a real Prometheus 2.42 (its remote-write receiver). Every sample Shoal
 * stored arrives, once, with external labels and write_relabel_configs applied; with the
 * receiver down and Shoal SIGKILLed meanwhile, everything arrives once the receiver is back.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  exportSeries,
  removeTempDirs,
  spawnProcess,
  startPrometheus,
  startShoal,
  startVictoriaMetrics,
  tempDir,
  VICTORIA_METRICS_BIN,
  waitFor,
  waitHttpOk,
  type RunningProcess,
  type ShoalNode,
} from "../support/index.ts";
import { startReceiver } from "../remote/receiver.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "./remote_write_client.ts";

const stops: { stop(signal?: NodeJS.Signals): Promise<number> }[] = [];
afterEach(async () => {
  for (const p of stops.splice(0).reverse()) await p.stop("SIGKILL");
});
afterAll(() => removeTempDirs());

/** `n` series of `metric`, `perSeries` samples each, one every 10 s ending at `endMs`. */
function batch(metric: string, n: number, perSeries: number, endMs: number, extra: Record<string, string> = {}): TestSeries[] {
  return Array.from({ length: n }, (_, i) => ({
    labels: { __name__: metric, series: String(i), ...extra },
    samples: Array.from({ length: perSeries }, (_, k): [number, number] => [endMs - (perSeries - 1 - k) * 10_000, i * 1000 + k]),
  }));
}

async function push(shoal: ShoalNode, series: TestSeries[]): Promise<void> {
  const res = await remoteWrite(shoal.url, writeRequestBody(series));
  expect(res.status).toBe(204);
}

async function startShoalWith(config: string, options: { dataDir?: string } = {}): Promise<ShoalNode> {
  const dir = tempDir("rw-out-cfg");
  const file = join(dir, "shoal.yml");
  writeFileSync(file, config);
  const shoal = await startShoal({ args: [`--config.file=${file}`, "--storage.remote.flush-deadline=1s"], dataDir: options.dataDir });
  stops.push(shoal);
  return shoal;
}

/** `metric{…}` → "labels@t=v" for every raw sample Shoal holds for it. */
async function shoalSamples(shoal: ShoalNode, selector: string): Promise<string[]> {
  const q = new URLSearchParams({ query: `${selector}[1h]`, time: String(Date.now() / 1000 + 60) });
  const body = (await (await fetch(`${shoal.url}/api/v1/query?${q}`)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  return body.data.result.flatMap((s) => s.values.map(([t, v]) => `${s.metric.series}@${Math.round(t * 1000)}=${v}`)).sort();
}

interface Point {
  key: string;
  labels: Record<string, string>;
}

async function vmPoints(url: string, selector: string): Promise<Point[]> {
  await fetch(`${url}/internal/force_flush`);
  const all = await exportSeries({ url } as Parameters<typeof exportSeries>[0], selector);
  return all.flatMap((s) => s.timestamps.map((t, i) => ({ key: `${s.metric.series}@${t}=${s.values[i]}`, labels: s.metric })));
}

/** VictoriaMetrics on a given port and storage directory (to stop it and bring it back at the same address). */
async function victoriaAt(port: number, dataDir: string): Promise<RunningProcess> {
  const p = spawnProcess("victoria-metrics", [
    VICTORIA_METRICS_BIN,
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dataDir}`,
    "-retentionPeriod=100y",
    "-search.disableCache",
    "-search.latencyOffset=0s",
    "-loggerLevel=WARN",
  ]);
  stops.push(p);
  await waitHttpOk(`http://127.0.0.1:${port}/health`, { timeoutMs: 30_000, process: p });
  return p;
}

async function metric(shoal: ShoalNode, name: string): Promise<number> {
  const text = await (await fetch(`${shoal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("remote write out", () => {
  test("to VictoriaMetrics: every stored sample arrives once, with external labels and write_relabel_configs applied", async () => {
    const vm = await startVictoriaMetrics();
    stops.push(vm);
    const shoal = await startShoalWith(`global:
  external_labels: {origin: shoal-a}
remote_write:
  - url: ${vm.writeUrl}
    name: vm
    queue_config: {batch_send_deadline: 500ms, max_samples_per_send: 500}
    write_relabel_configs:
      - source_labels: [__name__]
        regex: rw_secret
        action: drop
      - target_label: forwarded_by
        replacement: shoal
`);
    const now = Date.now();
    await push(shoal, batch("rw_out", 40, 30, now));
    await push(shoal, batch("rw_secret", 3, 5, now));
    await push(shoal, batch("rw_out", 40, 1, now + 10_000));
    const stored = await shoalSamples(shoal, "rw_out");
    expect(stored.length).toBe(40 * 31);
    const got = await waitFor("VictoriaMetrics to hold every forwarded sample", async () => {
      const p = await vmPoints(vm.url, '{__name__="rw_out"}');
      return p.length >= stored.length ? p : undefined;
    });
    await Bun.sleep(1500);
    const final = await vmPoints(vm.url, '{__name__="rw_out"}');
    expect(final.length).toBe(got.length);
    // Once each (VictoriaMetrics keeps duplicates here: no -dedup), and exactly what Shoal stored.
    expect(final.map((p) => p.key).sort()).toEqual(stored);
    for (const p of final) {
      expect(p.labels.origin).toBe("shoal-a");
      expect(p.labels.forwarded_by).toBe("shoal");
    }
    expect(await vmPoints(vm.url, '{__name__="rw_secret"}')).toEqual([]);

    // The queue as /metrics and the status endpoint show it.
    await waitFor("nothing pending", async () => (await metric(shoal, 'prometheus_remote_storage_samples_pending{remote_name="vm"')) === 0);
    expect(await metric(shoal, 'prometheus_remote_storage_samples_dropped_total{remote_name="vm"')).toBe(15);
    expect(await metric(shoal, 'prometheus_remote_storage_samples_total{remote_name="vm"')).toBe(40 * 31);
    expect(await metric(shoal, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="vm"')).toBe(Math.floor((now + 10_000) / 1000));
    expect(await metric(shoal, "prometheus_remote_storage_highest_timestamp_in_seconds")).toBe(Math.floor((now + 10_000) / 1000));
    const status = (await (await fetch(`${shoal.url}/api/v1/status/remote_write`)).json()) as { data: { queues: { name: string; url: string; pendingSamples: number; samplesSent: number }[] } };
    expect(status.data.queues).toHaveLength(1);
    expect(status.data.queues[0]).toMatchObject({ name: "vm", url: vm.writeUrl, pendingSamples: 0, samplesSent: 40 * 31 });
  }, 90_000);

  test("with the receiver down for two minutes and Shoal SIGKILLed meanwhile, everything arrives once the receiver is back", async () => {
    const first = await startVictoriaMetrics();
    const port = first.port;
    stops.push(first);
    const shoalData = tempDir("rw-out-data");
    const config = `remote_write:
  - url: http://127.0.0.1:${port}/api/v1/write
    queue_config: {batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 500ms}
`;
    let shoal = await startShoalWith(config, { dataDir: shoalData });
    const now = Date.now();
    await push(shoal, batch("rw_gap", 30, 10, now - 600_000));
    await waitFor("the first batch to arrive", async () => (await vmPoints(first.url, '{__name__="rw_gap"}')).length === 300);
    // The acknowledged cursor is saved every second: after a crash at most that much is sent again.
    await Bun.sleep(1500);
    // Nothing was acknowledged to this receiver without being stored: from here on it is gone.
    await first.stop();
    const downAt = Date.now();

    await push(shoal, batch("rw_gap", 30, 10, now - 300_000));
    await waitFor("retries to begin", async () => (await metric(shoal, "prometheus_remote_storage_samples_retried_total")) > 0);
    // The node dies without a chance to flush anything; its queue is on disk.
    await shoal.stop("SIGKILL");
    shoal = await startShoalWith(config, { dataDir: shoalData });
    await push(shoal, batch("rw_gap", 30, 10, now));
    expect(await metric(shoal, "prometheus_remote_storage_samples_pending")).toBe(600);
    // Writes go on while the receiver stays away for two minutes.
    let later = 0;
    for (let k = 1; Date.now() - downAt < 120_000; k++) {
      await push(shoal, batch("rw_gap", 30, 1, now + k * 5000)); // never ahead of the clock: one step per 5 s slept
      later += 30;
      await Bun.sleep(5000);
    }
    expect(await metric(shoal, "prometheus_remote_storage_samples_pending")).toBe(600 + later);

    // The receiver comes back, empty, at the same address.
    const back = await victoriaAt(port, tempDir("vm-back"));
    void back;
    const want = [...(await shoalSamples(shoal, "rw_gap"))].filter((k) => Number(k.split("@")[1]!.split("=")[0]) > now - 400_000);
    expect(want.length).toBe(600 + later);
    await waitFor("the backlog to arrive", async () => (await vmPoints(`http://127.0.0.1:${port}`, '{__name__="rw_gap"}')).length >= want.length, { timeoutMs: 30_000 });
    await Bun.sleep(1500);
    const got = (await vmPoints(`http://127.0.0.1:${port}`, '{__name__="rw_gap"}')).map((p) => p.key).sort();
    expect(got).toEqual(want);
    await waitFor("nothing pending", async () => (await metric(shoal, "prometheus_remote_storage_samples_pending")) === 0);
  }, 240_000);

  test("to Prometheus 2.42's remote-write receiver: every stored sample arrives once", async () => {
    const prom = await startPrometheus("global: {}\n");
    stops.push(prom);
    const shoal = await startShoalWith(`remote_write:
  - url: ${prom.url}/api/v1/write
    queue_config: {batch_send_deadline: 500ms}
`);
    const now = Date.now();
    await push(shoal, batch("rw_prom", 25, 20, now));
    const stored = await shoalSamples(shoal, "rw_prom");
    expect(stored.length).toBe(500);
    const q = new URLSearchParams({ query: "rw_prom[1h]", time: String(now / 1000 + 60) });
    const got = await waitFor("Prometheus to hold every sample", async () => {
      const body = (await (await fetch(`${prom.url}/api/v1/query?${q}`)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
      const keys = body.data.result.flatMap((s) => s.values.map(([t, v]) => `${s.metric.series}@${Math.round(t * 1000)}=${v}`)).sort();
      return keys.length >= stored.length ? keys : undefined;
    });
    expect(got).toEqual(stored);
    await waitFor("nothing pending", async () => (await metric(shoal, "prometheus_remote_storage_samples_pending")) === 0);
    expect(await metric(shoal, "prometheus_remote_storage_samples_failed_total")).toBe(0);
  }, 90_000);

  test("a node retries 5xx and 429 (after Retry-After), drops and counts a 400, and sends what comes next", async () => {
    const rx = startReceiver();
    stops.push({ stop: async () => (rx.stop(), 0) });
    rx.script = [{ status: 500 }, { status: 429, headers: { "Retry-After": "1" } }, { status: 400, body: "bad sample" }];
    const shoal = await startShoalWith(`remote_write:
  - url: ${rx.url}
    name: scripted
    metadata_config: {send: false}
    queue_config: {batch_send_deadline: 100ms, min_backoff: 20ms, max_backoff: 100ms, retry_on_http_429: true}
`);
    const now = Date.now();
    await push(shoal, batch("rw_err", 4, 1, now));
    await waitFor("the 400", () => rx.requests.length >= 3);
    await push(shoal, batch("rw_err", 4, 1, now + 10_000));
    await waitFor("the next batch", () => rx.samples.length >= 4);
    expect(rx.requests.map((r) => r.status)).toEqual([500, 429, 400, 200]);
    expect(rx.requests[2]!.at - rx.requests[1]!.at).toBeGreaterThanOrEqual(950);
    expect(rx.samples.every((x) => x.t === now + 10_000)).toBe(true);
    await waitFor("nothing pending", async () => (await metric(shoal, 'prometheus_remote_storage_samples_pending{remote_name="scripted"')) === 0);
    expect(await metric(shoal, 'prometheus_remote_storage_samples_retried_total{remote_name="scripted"')).toBe(8);
    expect(await metric(shoal, 'prometheus_remote_storage_samples_failed_total{remote_name="scripted"')).toBe(4);
    expect(await metric(shoal, 'prometheus_remote_storage_samples_total{remote_name="scripted"')).toBe(16);
  }, 60_000);
});
