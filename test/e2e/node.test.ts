/**
 * The node as a process: flags, health/readiness, its own /metrics (checked by promtool),
 * config reload on SIGHUP and POST /-/reload (a bad config is rejected, the old one kept), and
 * a clean exit on SIGTERM that keeps acknowledged samples.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, REPO_ROOT, waitFor, run, startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "./remote_write_client.ts";

describe("flags", () => {
  test("--help lists Prometheus's flags and says the remote write receiver is always on", async () => {
    const r = await run([BUN, "src/cli.ts", "--help"]);
    expect(r.code).toBe(0);
    for (const f of ["--config.file", "--storage.tsdb.path", "--storage.tsdb.retention.time", "--web.listen-address", "--query.lookback-delta"]) {
      expect(r.stdout).toContain(f);
    }
    expect(r.stdout).toMatch(/remote write receiver.*always on/i);
  });

  test("a sub-command without a verb, or with --help, prints its own usage", async () => {
    for (const [args, want] of [
      [["tsdb"], "shoal tsdb dump"],
      [["tsdb", "--help"], "shoal tsdb import"],
      [["cluster"], "shoal cluster status"],
      [["cluster", "leave", "--help"], "shoal cluster leave"],
    ] as const) {
      const r = await run([BUN, "src/cli.ts", ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(r.stdout).toContain(want);
    }
  });

  test("--version", async () => {
    const r = await run([BUN, "src/cli.ts", "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^shoal, version \d+\.\d+\.\d+/);
  });

  test("an unknown flag is an error naming it", async () => {
    const r = await run([BUN, "src/cli.ts", "--storage.tsdb.pth=/tmp/x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag --storage.tsdb.pth");
  });

  test("a bad flag value is an error naming the flag", async () => {
    const r = await run([BUN, "src/cli.ts", "--storage.tsdb.retention.time", "15 days"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--storage.tsdb.retention.time");
  });
});

describe("node process", () => {
  let shoal: ShoalNode;
  const cfgDir = tempDir("cfg");
  const cfgPath = join(cfgDir, "shoal.yml");

  beforeAll(async () => {
    writeFileSync(cfgPath, "global:\n  scrape_interval: 1s\n  external_labels:\n    site: one\nscrape_configs: []\n");
    shoal = await startShoal({ args: [`--config.file=${cfgPath}`, "--storage.tsdb.retention.time", "30d", "--web.enable-remote-write-receiver", "--web.enable-lifecycle"] });
  });
  afterAll(async () => {
    await shoal?.stop("SIGKILL");
    rmSync(cfgDir, { recursive: true, force: true });
  });

  test("healthy and ready", async () => {
    const h = await fetch(`${shoal.url}/-/healthy`);
    expect(h.status).toBe(200);
    const r = await fetch(`${shoal.url}/-/ready`);
    expect(r.status).toBe(200);
  });

  test("flags are reported by /api/v1/status/flags with their effective values", async () => {
    const body = (await (await fetch(`${shoal.url}/api/v1/status/flags`)).json()) as { status: string; data: Record<string, string> };
    expect(body.status).toBe("success");
    expect(body.data["storage.tsdb.retention.time"]).toBe("30d");
    expect(body.data["storage.tsdb.path"]).toBe(shoal.dataDir);
    expect(body.data["query.lookback-delta"]).toBe("5m");
  });

  test("/metrics is accepted by promtool check metrics and has storage and process figures", async () => {
    await remoteWrite(shoal.url, writeRequestBody([{ labels: { __name__: "m", a: "1" }, samples: [[Date.now(), 1]] }]));
    const text = await (await fetch(`${shoal.url}/metrics`)).text();
    for (const name of [
      "prometheus_tsdb_head_series",
      "prometheus_tsdb_head_chunks",
      "prometheus_tsdb_head_samples_appended_total",
      "prometheus_tsdb_wal_storage_size_bytes",
      "prometheus_tsdb_wal_fsync_duration_seconds_count",
      "prometheus_tsdb_compactions_total",
      "prometheus_tsdb_blocks_loaded",
      "prometheus_tsdb_time_retentions_total",
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
    ]) {
      expect(text).toContain(`\n${name}`);
    }
    expect(text).toMatch(/\nprometheus_tsdb_head_series [1-9]/);
    const file = join(cfgDir, "metrics.txt");
    writeFileSync(file, text);
    const check = await run(["sh", "-c", `promtool check metrics < ${file}`]);
    expect(check.stdout + check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  test("POST /-/reload and SIGHUP apply a new config; a bad one is rejected and the old kept", async () => {
    const ext = async () => {
      const body = (await (await fetch(`${shoal.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
      return body.data.yaml;
    };
    expect(await ext()).toContain("site: one");

    writeFileSync(cfgPath, "global:\n  scrape_interval: 1s\n  external_labels:\n    site: two\nscrape_configs: []\n");
    const ok = await fetch(`${shoal.url}/-/reload`, { method: "POST" });
    expect(ok.status).toBe(200);
    expect(await ext()).toContain("site: two");

    writeFileSync(cfgPath, "global:\n  scrape_interval: banana\n");
    const bad = await fetch(`${shoal.url}/-/reload`, { method: "POST" });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain("failed to reload config");
    expect(await ext()).toContain("site: two");
    const metrics = await (await fetch(`${shoal.url}/metrics`)).text();
    expect(metrics).toContain("prometheus_config_last_reload_successful 0");

    writeFileSync(cfgPath, "global:\n  external_labels:\n    site: three\nscrape_configs: []\n");
    shoal.proc.kill("SIGHUP");
    await waitFor("SIGHUP reload", async () => (await ext()).includes("site: three"), { timeoutMs: 10_000 });
  });
});

test("SIGTERM shuts down cleanly and acknowledged samples survive a restart", async () => {
  const dataDir = tempDir("restart");
  const first = await startShoal({ dataDir });
  const t = Date.now();
  try {
    const res = await remoteWrite(first.url, writeRequestBody([{ labels: { __name__: "kept", job: "x" }, samples: [[t - 1000, 1.5], [t, 2.5]] }]));
    expect(res.status).toBe(204);
    const code = await first.stop("SIGTERM");
    expect(code).toBe(0);
    expect(first.output()).toContain("Closing storage");
  } finally {
    await first.stop("SIGKILL"); // no-op once stopped; never leaves a process behind
  }

  const second = await startShoal({ dataDir });
  try {
    const r = await fetch(`${second.url}/api/v1/query?query=kept&time=${t / 1000}`);
    const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
    expect(body.data.result.map((s) => s.value[1])).toEqual(["2.5"]);
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

void REPO_ROOT;

test("POST /-/quit shuts the node down cleanly", async () => {
  const node = await startShoal({ args: ["--web.enable-lifecycle"] });
  try {
    const r = await fetch(`${node.url}/-/quit`, { method: "POST" });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Goodbye");
    expect(await node.proc.exited).toBe(0);
    expect(await node.stop()).toBe(0); // already gone: only collects the rest of its output
    expect(node.output()).toContain("Closing storage");
  } finally {
    await node.stop("SIGKILL");
  }
}, 30_000);

test("remote writes acknowledged while SIGTERM arrives are all there after a restart", async () => {
  const dataDir = tempDir("inflight");
  const first = await startShoal({ dataDir });
  const base = Date.now() - 600_000;
  const acked: number[] = [];
  let stop = false;
  const writers = [0, 1, 2].map(async (w) => {
    for (let i = 0; !stop; i++) {
      const t = base + (i * 3 + w) * 10;
      try {
        const r = await remoteWrite(first.url, writeRequestBody([{ labels: { __name__: "inflight", writer: String(w) }, samples: [[t, i]] }]));
        if (r.status === 204) acked.push(t);
      } catch {
        return; // the server went away
      }
    }
  });
  try {
    await waitFor("writes acknowledged while the node runs", () => acked.length >= 30, { timeoutMs: 20_000, intervalMs: 20 });
    first.proc.kill("SIGTERM");
    await first.proc.exited;
  } finally {
    stop = true;
    await Promise.all(writers);
  }
  expect(await first.stop("SIGKILL")).toBe(0);
  expect(acked.length).toBeGreaterThan(10);

  const second = await startShoal({ dataDir });
  try {
    const r = await fetch(`${second.url}/api/v1/query?query=${encodeURIComponent("inflight[20m]")}&time=${(base + 1_000_000) / 1000}`);
    const body = (await r.json()) as { data: { result: { values: [number, string][] }[] } };
    const stored = new Set(body.data.result.flatMap((s) => s.values.map(([t]) => Math.round(t * 1000))));
    const missing = acked.filter((t) => !stored.has(t));
    expect(missing).toEqual([]);
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
