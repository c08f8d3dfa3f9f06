/**
 * The remote-write queues against an endpoint in the test process: every committed sample sent
 * once with external labels and write_relabel_configs applied, retries on 5xx and (when asked)
 * 429 after Retry-After, 4xx dropped and counted, and the backlog kept on disk across a restart.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { createLogger, labelsFromRecord, realClock, setStaleAt, type Clock, type Labels, type SampleRuns } from "../../src/model/index.ts";
import { desiredShards } from "../../src/remote/desired_shards.ts";
import { RemoteWrite, tapCommits } from "../../src/remote/index.ts";
import { removeTempDirs, tempDir, waitFor } from "../support/index.ts";
import { startReceiver } from "./receiver.ts";

const logger = createLogger({ level: "error", format: "logfmt" });
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(() => removeTempDirs());

function config(yaml: string) {
  return parseConfig(yaml, "test.yml");
}

function remoteFor(yaml: string, dir: string, extra: Partial<ConstructorParameters<typeof RemoteWrite>[0]> = {}): { remote: RemoteWrite; apply: () => Promise<void> } {
  const cfg = config(yaml);
  const remote = new RemoteWrite({ dir, logger, userAgent: "Shoal/test", flushDeadlineMs: 200, maxQueueBytes: 64 << 20, ...extra });
  running.push(remote);
  return { remote, apply: () => remote.applyConfig(cfg.remoteWrite, cfg.global.externalLabels) };
}

/** One run per series, `perSeries` samples each at t0, t0+1000, … with values i*10+k. */
function runs(series: Labels[], perSeries: number, t0: number): SampleRuns {
  const n = series.length * perSeries;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const ends = new Int32Array(series.length);
  series.forEach((_, i) => {
    for (let k = 0; k < perSeries; k++) {
      timestamps[i * perSeries + k] = t0 + k * 1000;
      values[i * perSeries + k] = i * 10 + k;
    }
    ends[i] = (i + 1) * perSeries;
  });
  return { runs: series.length, labels: series, ends, timestamps, values };
}

const series = (n: number, extra: Record<string, string> = {}) => Array.from({ length: n }, (_, i) => labelsFromRecord({ __name__: "m", i: String(i), ...extra }));

describe("remote write queues", () => {
  test("every sample arrives once, with external labels added and write_relabel_configs applied", async () => {
    const rx = startReceiver();
    running.push(rx);
    const { remote, apply } = remoteFor(
      `global:
  external_labels: {cluster: eu, i: "never"}
remote_write:
  - url: ${rx.url}
    queue_config: {batch_send_deadline: 50ms, max_samples_per_send: 7}
    write_relabel_configs:
      - source_labels: [i]
        regex: "3"
        action: drop
      - target_label: via
        replacement: shoal
`,
      tempDir("rw"),
    );
    await apply();
    const t0 = Date.now();
    await remote.write(runs(series(5), 4, t0));
    await waitFor("rx.samples.length >= 16", () => rx.samples.length >= 16, { timeoutMs: 10_000 });
    await Bun.sleep(200);
    expect(rx.samples.length).toBe(16);
    const keys = new Set(rx.samples.map((s) => `${s.labels.i}@${s.t}`));
    expect(keys.size).toBe(16);
    expect(rx.samples.some((s) => s.labels.i === "3")).toBe(false);
    for (const s of rx.samples) {
      // The series' own `i` wins over the external one; external labels come before relabeling.
      expect(s.labels.cluster).toBe("eu");
      expect(s.labels.via).toBe("shoal");
      expect(s.v).toBe(Number(s.labels.i) * 10 + (s.t - t0) / 1000);
    }
    expect(rx.requests.every((r) => r.samples <= 7)).toBe(true);
    expect(rx.requests[0]!.headers.get("content-encoding")).toBe("snappy");
    expect(rx.requests[0]!.headers.get("x-prometheus-remote-write-version")).toBe("0.1.0");
    const q = remote.figures().queues[0]!;
    expect(q.samplesDropped).toBe(4);
    expect(q.pendingSamples).toBe(0);
    expect(q.highestSentMs).toBe(t0 + 3000);
    expect(q.deliveredThroughMs).toBe(t0 + 3000);
  });

  test("a staleness marker keeps its exact NaN bits on the wire", async () => {
    const rx = startReceiver();
    running.push(rx);
    const { remote, apply } = remoteFor(`remote_write: [{url: "${rx.url}", queue_config: {batch_send_deadline: 20ms}}]\n`, tempDir("rw"));
    await apply();
    const b = runs(series(1), 2, Date.now());
    setStaleAt(b.values as Float64Array, 1);
    await remote.write(b);
    await waitFor("rx.samples.length >= 2", () => rx.samples.length >= 2, { timeoutMs: 10_000 });
    expect(rx.samples.map((s) => s.bits)).toEqual(["0000000000000000", "7ff0000000000002"]);
  });

  test("5xx is retried with backoff, 429 after its Retry-After when retry_on_http_429 is set, another 4xx dropped and counted", async () => {
    const rx = startReceiver();
    running.push(rx);
    rx.script = [{ status: 500 }, { status: 503 }, { status: 429, headers: { "Retry-After": "1" } }, { status: 400, body: "out of bounds\nmore" }];
    const { remote, apply } = remoteFor(
      `remote_write:
  - url: ${rx.url}
    queue_config: {batch_send_deadline: 20ms, min_backoff: 10ms, max_backoff: 50ms, retry_on_http_429: true, max_samples_per_send: 100}
`,
      tempDir("rw"),
    );
    await apply();
    const t0 = Date.now();
    await remote.write(runs(series(3), 1, t0));
    await waitFor("rx.requests.length >= 4", () => rx.requests.length >= 4, { timeoutMs: 10_000 });
    // The 4th answer (400) drops that batch; what comes next is sent normally.
    await waitFor("remote.figures().queues[0]!.samplesFailed === 3", () => remote.figures().queues[0]!.samplesFailed === 3, { timeoutMs: 10_000 });
    await remote.write(runs(series(2, { later: "yes" }), 1, t0 + 5000));
    await waitFor("rx.samples.length >= 2", () => rx.samples.length >= 2, { timeoutMs: 10_000 });
    const q = remote.figures().queues[0]!;
    expect(q.samplesRetried).toBe(9);
    expect(q.samplesFailed).toBe(3);
    expect(q.lastError).toContain("400");
    expect(q.lastError).toContain("out of bounds");
    expect(rx.samples.every((s) => s.labels.later === "yes")).toBe(true);
    // The 429's Retry-After: 1 held the retry back a second (the backoff alone is 10-50 ms).
    expect(rx.requests.map((r) => r.status)).toEqual([500, 503, 429, 400, 200]);
    expect(rx.requests[3]!.at - rx.requests[2]!.at).toBeGreaterThanOrEqual(950);
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeLessThan(900);
  });

  test("429 is not retried without retry_on_http_429 (Prometheus's default)", async () => {
    const rx = startReceiver();
    running.push(rx);
    rx.script = [{ status: 429 }];
    const { remote, apply } = remoteFor(`remote_write: [{url: "${rx.url}", queue_config: {batch_send_deadline: 20ms}}]\n`, tempDir("rw"));
    await apply();
    await remote.write(runs(series(2), 1, Date.now()));
    await waitFor("remote.figures().queues[0]!.samplesFailed === 2", () => remote.figures().queues[0]!.samplesFailed === 2, { timeoutMs: 10_000 });
    expect(remote.figures().queues[0]!.samplesRetried).toBe(0);
  });

  test("what the endpoint did not take survives a restart on disk and is sent once it is back", async () => {
    const dir = tempDir("rw");
    const down = startReceiver();
    const port = Number(new URL(down.url).port);
    down.stop();
    const yaml = `remote_write: [{url: "http://127.0.0.1:${port}/api/v1/write", queue_config: {batch_send_deadline: 20ms, min_backoff: 10ms, max_backoff: 100ms}}]\n`;
    const first = remoteFor(yaml, dir);
    await first.apply();
    const t0 = Date.now();
    for (let k = 0; k < 10; k++) await first.remote.write(runs(series(20), 5, t0 + k * 5000));
    expect(first.remote.figures().queues[0]!.pendingSamples).toBe(1000);
    // Nothing delivered: the watermark stays below the oldest sample queued.
    expect(first.remote.queues()[0]!.deliveredThroughMs).toBe(t0 - 1);
    await first.remote.stop();
    // The backlog is on disk under the queue's directory.
    const qdir = join(dir, readdirSync(dir)[0]!);
    expect(readdirSync(qdir).some((f) => /^\d{8}$/.test(f))).toBe(true);

    const rx = startReceiver(port);
    running.push(rx);
    const second = remoteFor(yaml, dir);
    await second.apply();
    expect(second.remote.queues()[0]!.pendingSamples).toBe(1000);
    await second.remote.write(runs(series(20), 1, t0 + 100_000));
    await waitFor("rx.samples.length >= 1020", () => rx.samples.length >= 1020, { timeoutMs: 20_000 });
    await Bun.sleep(300);
    const keys = rx.samples.map((s) => `${s.labels.i}@${s.t}`);
    expect(keys.length).toBe(1020);
    expect(new Set(keys).size).toBe(1020);
    await waitFor("second.remote.figures().queues[0]!.pendingSamples === 0", () => second.remote.figures().queues[0]!.pendingSamples === 0, { timeoutMs: 5000 });
    expect(second.remote.queues()[0]!.deliveredThroughMs).toBe(t0 + 100_000);
    // Acknowledged segments are deleted.
    await second.remote.stop();
    expect(readdirSync(qdir).filter((f) => /^\d{8}$/.test(f)).length).toBeLessThanOrEqual(1);
    // The watermark is kept across a restart with nothing new.
    const third = remoteFor(yaml, dir);
    await third.apply();
    expect(third.remote.queues()[0]).toMatchObject({ pendingSamples: 0, deliveredThroughMs: t0 + 100_000 });
  });

  test("the backlog is bounded: past the size limit the oldest segment is dropped and counted", async () => {
    const down = startReceiver();
    const port = Number(new URL(down.url).port);
    down.stop();
    const { remote, apply } = remoteFor(`remote_write: [{url: "http://127.0.0.1:${port}/w", queue_config: {min_backoff: 1s, max_backoff: 1s}}]\n`, tempDir("rw"), {
      maxQueueBytes: 3 << 20,
      segmentBytes: 1 << 20,
    });
    await apply();
    const t0 = Date.now();
    for (let k = 0; k < 40; k++) await remote.write(runs(series(1000), 5, t0 + k * 10_000));
    const q = remote.figures().queues[0]!;
    expect(q.diskBytes).toBeLessThanOrEqual(3 << 20);
    expect(q.samplesDropped).toBeGreaterThan(0);
    expect(q.pendingSamples + q.samplesDropped).toBe(200_000);
    // The endpoint comes back: what is left (including what the shards held from dropped segments) goes out, once each.
    const rx = startReceiver(port);
    running.push(rx);
    await waitFor("the rest to be sent", () => remote.figures().queues[0]!.pendingSamples === 0 && rx.samples.length > 0, { timeoutMs: 30_000 });
    const keys = new Set(rx.samples.map((x) => `${x.labels.i}@${x.t}`));
    expect(keys.size).toBe(rx.samples.length);
    expect(rx.samples.length).toBeGreaterThanOrEqual(q.pendingSamples);
    expect(rx.samples.length + remote.figures().queues[0]!.samplesDropped).toBeGreaterThanOrEqual(200_000);
  }, 40_000);

  test("tapCommits forwards what an appender commits, only for series the predicate accepts, and nothing rolled back", async () => {
    const rx = startReceiver();
    running.push(rx);
    const { remote, apply } = remoteFor(`remote_write: [{url: "${rx.url}", queue_config: {batch_send_deadline: 20ms}}]\n`, tempDir("rw"));
    await apply();
    const committed: number[] = [];
    const storage = {
      appender: () => ({
        append: (_l: Labels, t: number, _v: number) => void committed.push(t),
        commit: async () => {},
        rollback: () => {},
      }),
      other: () => "untouched",
    };
    const tapped = tapCommits(storage, remote, (l) => l.find((x) => x.name === "i")?.value !== "1");
    expect(tapped.other()).toBe("untouched");
    const s = series(3);
    const t0 = Date.now();
    const app = tapped.appender();
    for (const l of s) app.append(l, t0, 1);
    await app.commit();
    const rolled = tapped.appender();
    rolled.append(s[0]!, t0 + 1000, 2);
    rolled.rollback();
    await waitFor("rx.samples.length >= 2", () => rx.samples.length >= 2, { timeoutMs: 10_000 });
    await Bun.sleep(200);
    expect(rx.samples.map((x) => x.labels.i).sort()).toEqual(["0", "2"]);
    expect(committed.length).toBe(4);
  });

  test("a reload that edits a named entry keeps its backlog directory; removing it stops the queue", async () => {
    const rx = startReceiver();
    running.push(rx);
    const dir = tempDir("rw");
    const a = remoteFor(`remote_write: [{name: main, url: "${rx.url}", queue_config: {batch_send_deadline: 20ms}}]\n`, dir);
    await a.apply();
    await a.remote.write(runs(series(2), 1, Date.now()));
    const edited = config(`remote_write: [{name: main, url: "${rx.url}", queue_config: {batch_send_deadline: 30ms}, write_relabel_configs: [{target_label: edited, replacement: "1"}]}]\n`);
    await a.remote.applyConfig(edited.remoteWrite, edited.global.externalLabels);
    await a.remote.write(runs(series(2, { n: "2" }), 1, Date.now() + 1000));
    await waitFor("rx.samples.length >= 4", () => rx.samples.length >= 4, { timeoutMs: 10_000 });
    expect(rx.samples.filter((s) => s.labels.edited === "1").length).toBe(2);
    expect(readdirSync(dir)).toEqual(["main"]);
    await a.remote.applyConfig([], edited.global.externalLabels);
    expect(a.remote.active).toBe(false);
    expect(existsSync(join(dir, "main"))).toBe(true);
  });

  test("samples older than sample_age_limit are dropped and counted, not sent", async () => {
    const rx = startReceiver();
    running.push(rx);
    const { remote, apply } = remoteFor(`remote_write: [{url: "${rx.url}", queue_config: {batch_send_deadline: 20ms, sample_age_limit: 1m}}]\n`, tempDir("rw"));
    await apply();
    await remote.write(runs(series(3, { age: "old" }), 1, Date.now() - 120_000));
    await remote.write(runs(series(2, { age: "new" }), 1, Date.now()));
    await waitFor("the fresh samples", () => rx.samples.length >= 2, { timeoutMs: 10_000 });
    await waitFor("nothing pending", () => remote.figures().queues[0]!.pendingSamples === 0, { timeoutMs: 5000 });
    expect(rx.samples.every((x) => x.labels.age === "new")).toBe(true);
    expect(remote.figures().queues[0]!.samplesDropped).toBe(3);
  });

  test("metric metadata of the targets is sent every send_interval", async () => {
    const rx = startReceiver();
    running.push(rx);
    const { remote, apply } = remoteFor(`remote_write: [{url: "${rx.url}", metadata_config: {send_interval: 100ms}}]\n`, tempDir("rw"), {
      metadata: () => [
        { target: { job: "a" }, metric: "http_requests_total", type: "counter", help: "Requests.", unit: "" },
        { target: { job: "b" }, metric: "http_requests_total", type: "counter", help: "Requests.", unit: "" },
        { target: { job: "a" }, metric: "temp", type: "gauge", help: "Temperature.", unit: "celsius" },
      ],
    });
    await apply();
    await waitFor("metadata", () => rx.metadata.length >= 2, { timeoutMs: 10_000 });
    expect(rx.metadata.slice(0, 2)).toEqual([
      { metric: "http_requests_total", type: 1, help: "Requests.", unit: "" },
      { metric: "temp", type: 2, help: "Temperature.", unit: "celsius" },
    ]);
    expect(remote.figures().queues[0]!.metadataSent).toBeGreaterThanOrEqual(2);
  });

  test("the shard count follows the backlog as Prometheus computes it, and every series stays in order across the reshard", async () => {
    const rx = startReceiver();
    running.push(rx);
    // Each request takes 30 ms: one shard cannot keep up with what comes in.
    const slow = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        await Bun.sleep(30);
        return fetch(rx.url, { method: "POST", body: await req.arrayBuffer(), headers: req.headers });
      },
    });
    running.push({ stop: () => slow.stop(true) });
    // The 10 s shard-update tick is driven by the test; everything else runs on real time.
    const ticks: (() => void)[] = [];
    const clock: Clock = { ...realClock, setInterval: (fn, ms) => (ms === 10_000 ? (ticks.push(fn), {}) : realClock.setInterval(fn, ms)) };
    const { remote, apply } = remoteFor(`remote_write: [{url: "http://127.0.0.1:${slow.port}/w", queue_config: {max_samples_per_send: 100, batch_send_deadline: 50ms, max_shards: 8}}]\n`, tempDir("rw"), { clock });
    await apply();
    const t0 = Date.now() - 600_000;
    for (let k = 0; k < 100; k++) await remote.write(runs(series(200), 1, t0 + k * 1000));
    await Bun.sleep(1500);
    for (const tick of ticks) tick();
    const q = remote.figures().queues[0]!;
    expect(q.desiredShards).toBeGreaterThan(1.3);
    await waitFor("more shards", () => remote.figures().queues[0]!.shards > 1, { timeoutMs: 10_000 });
    await waitFor("everything sent", () => rx.samples.length >= 20_000, { timeoutMs: 30_000 });
    const last = new Map<string, number>();
    for (const x of rx.samples) {
      const prev = last.get(x.labels.i!) ?? -Infinity;
      expect(x.t).toBeGreaterThan(prev);
      last.set(x.labels.i!, x.t);
    }
    expect(rx.samples.length).toBe(20_000);
  }, 45_000);

  test("desiredShards: Prometheus's formula, tolerance and bounds", () => {
    const base = { current: 4, min: 1, max: 50, dataInRate: 10_000, dataOutRate: 10_000, dataDroppedRate: 0, dataOutDurationRate: 4, highestRecvSeconds: 1000, highestSentSeconds: 1000 };
    // 0.4 ms per sample × 10k/s = 4 shards: no change.
    expect(desiredShards(base)).toEqual({ shards: 4, desired: 4 });
    // Twice the input: 8 shards.
    expect(desiredShards({ ...base, dataInRate: 20_000 }).shards).toBe(8);
    // Within ±30 %: keep.
    expect(desiredShards({ ...base, dataInRate: 11_000 }).shards).toBe(4);
    // 100 s behind: 5 % of the backlog per second on top.
    expect(desiredShards({ ...base, highestSentSeconds: 900 }).desired).toBeCloseTo(0.0004 * (10_000 + 0.05 * 100 * 10_000));
    // Not downsharding while more than 10 s behind; bounded by max.
    expect(desiredShards({ ...base, dataInRate: 1000, highestSentSeconds: 980 }).shards).toBe(4);
    expect(desiredShards({ ...base, dataInRate: 1e6 }).shards).toBe(50);
    // Nothing sent yet: keep.
    expect(desiredShards({ ...base, dataOutRate: 0 }).shards).toBe(4);
  });
});
