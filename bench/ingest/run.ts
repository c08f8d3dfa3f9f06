#!/usr/bin/env bun
/**
 * Remote-write ingestion benchmark: the same snappy-compressed protobuf requests, sent by the same
 * load generator, into Shoal (/api/v1/write), Prometheus (--web.enable-remote-write-receiver,
 * /api/v1/write) and VictoriaMetrics (/api/v1/write).
 *
 *   bun bench/ingest/run.ts [--quick] [--series N] [--duration 1h] [--senders 1,4,16]
 *                           [--batch 2000] [--shoal-binary dist/shoal] [--only shoal,prometheus,victoria] [--keep]
 *                           [--profile DIR] [--decode-workers N]
 *
 * The payloads are encoded before any server starts. Series are split into shards by target, one
 * sender per shard sends its requests in order (as Prometheus's queue manager shards by series),
 * so no server sees an out-of-order sample. For each server and each sender count (Prometheus's
 * own remote write runs 1 to 50 shards): samples/s over the wall time of the whole send, and
 * the server's CPU seconds (utime+stime from /proc/PID/stat) per million samples. Every run
 * starts the server afresh on an empty data directory.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate, parseDuration, remoteWriteBatches, type Dataset, type RemoteWriteBatch } from "../generator.ts";
import {
  benchDir,
  cpuSeconds,
  Flags,
  fmtNum,
  freePort,
  machineLine,
  markdownTable,
  rssBytes,
  SHOAL_ISOLATION_FLAGS,
  shoalCommand,
  startServer,
  which,
  type Server,
} from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 2000 : 10_000);
const durationMs = parseDuration(flags.str("duration", quick ? "30m" : "1h"));
const senderCounts = flags
  .str("senders", quick ? "4" : "1,4,16")
  .split(",")
  .map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--senders: not a list of positive integers: ${x}`);
    return n;
  });
const batchSamples = flags.num("batch", 2000);
/** Write a CPU profile of each Shoal run (Bun's --cpu-prof, JSON and Markdown) into this directory. */
const profileDir = flags.get("profile");
/** Shoal's --web.remote-write-decode-workers (its default when not given). */
const decodeWorkers = flags.get("decode-workers");
const only = new Set(flags.str("only", "shoal,prometheus,victoria").split(","));
const { dir: work, cleanup } = benchDir("ingest", flags.has("keep"));
const log = (msg: string): void => console.error(`[ingest] ${msg}`);

interface Result {
  system: string;
  senders: number;
  samples: number;
  seconds: number;
  cpu: number;
  rss: number;
  errors: number;
  firstError: string;
}

/** One shard of requests per sender: targets are dealt round-robin to shards. */
function shardPayloads(ds: Dataset, senders: number): RemoteWriteBatch[][] {
  const shards: RemoteWriteBatch[][] = [];
  for (let s = 0; s < senders; s++) {
    const keep = new Set<number>();
    for (let t = s; t < ds.targets; t += senders) keep.add(t);
    const sub: Dataset = {
      ...ds,
      series: ds.series.filter((x) => keep.has(x.target)),
    };
    shards.push(remoteWriteBatches(sub, batchSamples));
  }
  return shards;
}

async function send(server: Server, path: string, shards: RemoteWriteBatch[][]): Promise<Omit<Result, "system" | "rss" | "senders">> {
  const url = server.url + path;
  const headers = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "shoal-bench/ingest",
  };
  let errors = 0;
  let firstError = "";
  let samples = 0;
  const cpu0 = cpuSeconds(server.pid);
  const started = performance.now();
  await Promise.all(
    shards.map(async (batches) => {
      for (const b of batches) {
        const res = await fetch(url, { method: "POST", body: b.body, headers });
        if (res.status >= 200 && res.status < 300) {
          samples += b.samples;
          await res.arrayBuffer();
        } else {
          errors++;
          if (firstError === "") firstError = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Work the server finishes after its last answer (a WAL flush) is its cost too.
  await Bun.sleep(500);
  const cpu = cpuSeconds(server.pid) - cpu0;
  return { samples, seconds, cpu, errors, firstError };
}

function profileArgs(senders: number): string[] {
  if (profileDir === undefined) return [];
  return ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=shoal-ingest-${senders}`];
}

async function runShoal(shards: RemoteWriteBatch[][]): Promise<Result> {
  const port = await freePort();
  const server = await startServer({
    name: "shoal",
    cmd: [...shoalCommand(flags, profileArgs(shards.length)), `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(work, `shoal-${shards.length}`)}`, "--log.level=warn", ...SHOAL_ISOLATION_FLAGS, ...(decodeWorkers === undefined ? [] : [`--web.remote-write-decode-workers=${decodeWorkers}`])],
    url: `http://127.0.0.1:${port}`,
    readyPath: "/-/ready",
    logFile: join(work, "shoal.log"),
    cwd: work,
  });
  try {
    const r = await send(server, "/api/v1/write", shards);
    return { system: "Shoal", senders: shards.length, ...r, rss: rssBytes(server.pid) };
  } finally {
    await server.stop();
  }
}

async function runPrometheus(shards: RemoteWriteBatch[][]): Promise<Result> {
  const port = await freePort();
  const config = join(work, "prometheus.yml");
  writeFileSync(config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
  const server = await startServer({
    name: "prometheus",
    cmd: [
      "prometheus",
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(work, `prometheus-${shards.length}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    url: `http://127.0.0.1:${port}`,
    readyPath: "/-/ready",
    logFile: join(work, "prometheus.log"),
  });
  try {
    const r = await send(server, "/api/v1/write", shards);
    return { system: "Prometheus", senders: shards.length, ...r, rss: rssBytes(server.pid) };
  } finally {
    await server.stop();
  }
}

async function runVictoria(shards: RemoteWriteBatch[][]): Promise<Result> {
  const port = await freePort();
  const server = await startServer({
    name: "victoria-metrics",
    cmd: ["victoria-metrics", `-storageDataPath=${join(work, `victoria-${shards.length}`)}`, `-httpListenAddr=127.0.0.1:${port}`, "-retentionPeriod=100y", "-loggerLevel=WARN"],
    url: `http://127.0.0.1:${port}`,
    readyPath: "/health",
    logFile: join(work, "victoria.log"),
  });
  try {
    const r = await send(server, "/api/v1/write", shards);
    return { system: "VictoriaMetrics", senders: shards.length, ...r, rss: rssBytes(server.pid) };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  log(`work dir ${work}`);
  const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
  const results: Result[] = [];
  let requests = 0;
  for (const senders of senderCounts) {
    const shards = shardPayloads(ds, senders);
    requests = shards.reduce((n, s) => n + s.length, 0);
    const bytes = shards.reduce((n, s) => n + s.reduce((m, b) => m + b.body.length, 0), 0);
    log(`${ds.series.length} series, ${ds.samples} samples in ${requests} requests (${(bytes / 1048576).toFixed(1)} MiB snappy) over ${senders} senders`);
    const attempt = async (name: string, fn: () => Promise<Result>): Promise<void> => {
      log(`sending to ${name} with ${senders} senders`);
      try {
        results.push(await fn());
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
        results.push({ system: name, senders, samples: 0, seconds: NaN, cpu: NaN, rss: NaN, errors: NaN, firstError: "did not run" });
      }
    };
    if (only.has("shoal")) await attempt("Shoal", () => runShoal(shards));
    if (only.has("prometheus")) {
      if (which("prometheus")) await attempt("Prometheus", () => runPrometheus(shards));
      else log("prometheus not found: install Debian's prometheus package");
    }
    if (only.has("victoria")) {
      if (which("victoria-metrics")) await attempt("VictoriaMetrics", () => runVictoria(shards));
      else log("victoria-metrics not found: install Debian's victoria-metrics package");
    }
  }

  const out: string[] = [];
  out.push(
    `Data: ${ds.series.length} series × ${durationMs / 60_000} min at 15 s = ${ds.samples} samples, ` +
      `about ${requests} remote-write requests of ≤${batchSamples} samples; ${machineLine()}`,
  );
  out.push("");
  out.push(
    markdownTable(
      ["system", "senders", "samples/s", "CPU s per 1M samples", "wall s", "accepted samples", "failed requests", "RSS after"],
      results.map((r) => [
        r.system,
        String(r.senders),
        fmtNum(r.samples / r.seconds),
        ((r.cpu / r.samples) * 1e6).toFixed(2),
        r.seconds.toFixed(2),
        String(r.samples),
        String(r.errors),
        Number.isFinite(r.rss) ? `${(r.rss / 1048576).toFixed(0)} MiB` : "n/a",
      ]),
    ),
  );
  for (const r of results) if (r.firstError !== "") out.push(`\n${r.system} (${r.senders} senders): first error: ${r.firstError}`);
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  cleanup();
}

