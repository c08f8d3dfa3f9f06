/**
 * The node's own metrics that Prometheus's stock dashboards and alert rules read, through
 * /metrics of a real node: present under Prometheus's names, types and labels, and moving when
 * the event they count happens (a scrape over its limits, a pool sync, a head cut into a block,
 * a WAL checkpoint, a write on a full disk). The output passes `promtool check metrics`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { waitFor, freePort, run, startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "./remote_write_client.ts";

/** The value of one sample in an exposition text; `labels` must match the sample's labels exactly. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = (m[2] ?? "").match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g)?.sort().join(",") ?? "";
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, "m").exec(text)?.[1];
}

async function metrics(node: ShoalNode): Promise<string> {
  const r = await fetch(`${node.url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

async function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  const r = await run(["promtool", "check", "metrics"], { stdin: text });
  return { code: r.code, out: r.stdout + r.stderr };
}

const nodes: ShoalNode[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function nodeWithConfig(yaml: (port: number) => string, args: string[] = []): Promise<{ node: ShoalNode; configPath: string }> {
  const dir = tempDir("selfmetrics");
  dirs.push(dir);
  const port = freePort();
  const configPath = join(dir, "prometheus.yml");
  await Bun.write(configPath, yaml(port));
  const node = await startShoal({ port, args: ["--config.file", configPath, ...args] });
  nodes.push(node);
  return { node, configPath };
}

describe("build and readiness", () => {
  test("prometheus_build_info carries Prometheus's labels, prometheus_ready is 1 once ready", async () => {
    const { node } = await nodeWithConfig(() => "scrape_configs: []\n");
    const text = await metrics(node);
    expect(typeOf(text, "prometheus_build_info")).toBe("gauge");
    const line = text.split("\n").find((l) => l.startsWith("prometheus_build_info{"))!;
    for (const label of ["version", "revision", "branch", "goversion", "goos", "goarch", "tags"]) expect(line).toContain(`${label}="`);
    expect(line).toContain(`goos="${process.platform}"`);
    expect(line).toMatch(/goversion="bun\d/);
    expect(line.endsWith(" 1")).toBe(true);
    expect(typeOf(text, "prometheus_ready")).toBe("gauge");
    expect(sample(text, "prometheus_ready")).toBe(1);
  }, 60_000);
});

describe("scrape metrics", () => {
  test("limits exceeded, syncs, pools and interval lengths are counted as they happen", async () => {
    const cfg = (port: number) => `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: self
    static_configs: [{targets: ["127.0.0.1:${port}"]}]
  - job_name: samples
    sample_limit: 5
    static_configs: [{targets: ["127.0.0.1:${port}"]}]
  - job_name: body
    body_size_limit: 100B
    static_configs: [{targets: ["127.0.0.1:${port}"]}]
  - job_name: labels
    label_limit: 1
    static_configs: [{targets: ["127.0.0.1:${port}"]}]
`;
    const { node, configPath } = await nodeWithConfig(cfg);
    const text = await waitFor("two scrapes of every job", async () => {
      const t = await metrics(node);
      return (sample(t, "prometheus_target_interval_length_seconds_count", { interval: "1s" }) ?? 0) >= 8 ? t : null;
    });
    expect(typeOf(text, "prometheus_target_interval_length_seconds")).toBe("summary");
    for (const q of ["0.01", "0.05", "0.5", "0.9", "0.99"]) {
      const v = sample(text, "prometheus_target_interval_length_seconds", { interval: "1s", quantile: q })!;
      expect(v).toBeGreaterThan(0.5);
      expect(v).toBeLessThan(2);
    }
    expect(sample(text, "prometheus_target_scrapes_exceeded_sample_limit_total")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "prometheus_target_scrapes_exceeded_body_size_limit_total")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "prometheus_target_scrape_pool_exceeded_label_limits_total")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "prometheus_target_scrape_pools_total")).toBe(4);
    expect(sample(text, "prometheus_target_scrape_pools_failed_total")).toBe(0);
    for (const job of ["self", "samples", "body", "labels"]) {
      expect(sample(text, "prometheus_target_scrape_pool_sync_total", { scrape_job: job })).toBeGreaterThanOrEqual(1);
      expect(sample(text, "prometheus_target_scrape_pool_targets", { scrape_job: job })).toBe(1);
      expect(sample(text, "prometheus_target_sync_length_seconds_count", { scrape_job: job })).toBeGreaterThanOrEqual(1);
    }
    for (const name of [
      "prometheus_target_scrape_pool_exceeded_target_limit_total",
      "prometheus_target_scrape_pool_reloads_total",
      "prometheus_target_scrape_pool_reloads_failed_total",
      "prometheus_target_scrapes_sample_duplicate_timestamp_total",
      "prometheus_target_scrapes_sample_out_of_order_total",
      "prometheus_target_scrapes_sample_out_of_bounds_total",
      "prometheus_target_scrapes_cache_flush_forced_total",
    ]) {
      expect(typeOf(text, name)).toBe("counter");
      expect(sample(text, name)).toBe(0);
    }
    // The healthy job is not counted against any limit: only the three limited jobs fail.
    const up = await (await fetch(`${node.url}/api/v1/query?query=up`)).json() as { data: { result: { metric: { job: string }; value: [number, string] }[] } };
    expect(Object.fromEntries(up.data.result.map((r) => [r.metric.job, r.value[1]]))).toEqual({ self: "1", samples: "0", body: "0", labels: "0" });

    // A reload that changes one job reloads that pool; a new target_limit it exceeds is counted.
    const limited = cfg(node.port).replace("  - job_name: self\n", "  - job_name: self\n    target_limit: 1\n").replace(
      `    static_configs: [{targets: ["127.0.0.1:${node.port}"]}]\n  - job_name: samples`,
      `    static_configs: [{targets: ["127.0.0.1:${node.port}", "localhost:${node.port}"]}]\n  - job_name: samples`,
    );
    await Bun.write(configPath, limited);
    node.proc.kill("SIGHUP");
    const after = await waitFor("the reload counted", async () => {
      const t = await metrics(node);
      return (sample(t, "prometheus_target_scrape_pool_reloads_total") ?? 0) >= 1 ? t : null;
    });
    expect(sample(after, "prometheus_target_scrape_pool_reloads_total")).toBe(1);
    expect(sample(after, "prometheus_target_scrape_pools_total")).toBe(4);
    expect(sample(after, "prometheus_target_scrape_pool_exceeded_target_limit_total")).toBeGreaterThanOrEqual(1);
    expect(sample(after, "prometheus_target_scrape_pool_targets", { scrape_job: "self" })).toBe(2);

    const lint = await promtoolCheck(after);
    expect(lint.out).toBe("");
    expect(lint.code).toBe(0);
  }, 90_000);
});

describe("storage metrics", () => {
  test("head cuts, compactions, WAL checkpoints and truncations are counted and timed", async () => {
    // Two-second blocks: a node scraping itself every second cuts its head within seconds.
    const { node } = await nodeWithConfig(
      (port) => `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ["127.0.0.1:${port}"]}]\n`,
      ["--storage.tsdb.min-block-duration=2s"],
    );
    const text = await waitFor(
      "a merged block and a WAL checkpoint",
      async () => {
        const t = await metrics(node);
        const ok = (sample(t, "prometheus_tsdb_compactions_total") ?? 0) >= 4 && (sample(t, "prometheus_tsdb_checkpoint_creations_total") ?? 0) >= 2;
        return ok ? t : null;
      },
      { timeoutMs: 45_000 },
    );
    expect(typeOf(text, "prometheus_tsdb_compaction_duration_seconds")).toBe("histogram");
    expect(sample(text, "prometheus_tsdb_compaction_duration_seconds_count")).toBe(sample(text, "prometheus_tsdb_compactions_total"));
    expect(sample(text, "prometheus_tsdb_compaction_duration_seconds_bucket", { le: "8192" })).toBe(sample(text, "prometheus_tsdb_compactions_total"));
    for (const h of ["prometheus_tsdb_compaction_chunk_samples", "prometheus_tsdb_compaction_chunk_size_bytes", "prometheus_tsdb_compaction_chunk_range_seconds"]) {
      expect(typeOf(text, h)).toBe("histogram");
      expect(sample(text, `${h}_count`)).toBeGreaterThanOrEqual(1);
    }
    // A 2 s block of 1 s scrapes: chunks of at most 2 samples spanning at most 2000 ms.
    expect(sample(text, "prometheus_tsdb_compaction_chunk_samples_bucket", { le: "4" })).toBe(sample(text, "prometheus_tsdb_compaction_chunk_samples_count"));
    expect(sample(text, "prometheus_tsdb_compaction_chunk_range_seconds_bucket", { le: "6400" })).toBe(sample(text, "prometheus_tsdb_compaction_chunk_range_seconds_count"));
    expect(sample(text, "prometheus_tsdb_compactions_triggered_total")).toBeGreaterThanOrEqual(2);
    expect(sample(text, "prometheus_tsdb_compactions_failed_total")).toBe(0);
    expect(typeOf(text, "prometheus_tsdb_head_gc_duration_seconds")).toBe("summary");
    expect(sample(text, "prometheus_tsdb_head_gc_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    const checkpoints = sample(text, "prometheus_tsdb_checkpoint_creations_total")!;
    expect(sample(text, "prometheus_tsdb_wal_truncations_total")).toBe(checkpoints);
    expect(sample(text, "prometheus_tsdb_checkpoint_deletions_total")).toBe(checkpoints);
    expect(sample(text, "prometheus_tsdb_wal_truncate_duration_seconds_count")).toBe(checkpoints);
    for (const failed of ["wal_truncations_failed", "checkpoint_creations_failed", "checkpoint_deletions_failed", "wal_writes_failed"]) {
      expect(sample(text, `prometheus_tsdb_${failed}_total`)).toBe(0);
    }
    // Each checkpoint closes a segment and starts the next.
    expect(sample(text, "prometheus_tsdb_wal_segment_current")).toBeGreaterThan(checkpoints);
    expect(sample(text, "prometheus_tsdb_wal_page_flushes_total")).toBeGreaterThan(2);
    expect(typeOf(text, "prometheus_tsdb_wal_fsync_duration_seconds")).toBe("summary");
    expect(sample(text, "prometheus_tsdb_wal_fsync_duration_seconds", { quantile: "0.9" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "prometheus_tsdb_wal_corruptions_total")).toBe(0);

    const lint = await promtoolCheck(text);
    expect(lint.out).toBe("");
    expect(lint.code).toBe(0);
  }, 90_000);

  test("a WAL write refused by a full disk is counted in prometheus_tsdb_wal_writes_failed_total", async () => {
    const mnt = tempDir("selfmetrics-full");
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stderr: "pipe" });
    if (mount.exitCode !== 0) {
      rmSync(mnt, { recursive: true, force: true });
      console.warn(`SKIPPED: cannot mount a tmpfs for a real full disk (${mount.stderr.toString().trim()}); run as root`);
      return;
    }
    const dataDir = join(mnt, "data");
    mkdirSync(dataDir);
    const node = await startShoal({ dataDir });
    const filler = join(mnt, "filler");
    try {
      const body = (k: number) => {
        const samples: [number, number][] = [];
        for (let i = 0; i < 2000; i++) samples.push([Date.now() - 60_000 + i, k + i]);
        return writeRequestBody([{ labels: { __name__: "full_disk", k: String(k) }, samples }]);
      };
      expect((await remoteWrite(node.url, body(0))).status).toBe(204);
      expect(sample(await metrics(node), "prometheus_tsdb_wal_writes_failed_total")).toBe(0);
      // Fill the filesystem to the last byte.
      const fd = openSync(filler, "w");
      const block = new Uint8Array(64 * 1024);
      for (let size = block.length; size > 0; ) {
        try {
          writeSync(fd, block, 0, size);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
          size >>= 1;
        }
      }
      closeSync(fd);
      const r = await remoteWrite(node.url, body(1));
      await r.arrayBuffer();
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(sample(await metrics(node), "prometheus_tsdb_wal_writes_failed_total")).toBeGreaterThanOrEqual(1);
      unlinkSync(filler);
      expect((await remoteWrite(node.url, body(2))).status).toBe(204);
    } finally {
      await node.stop("SIGKILL");
      Bun.spawnSync(["umount", "-l", mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 60_000);
});
