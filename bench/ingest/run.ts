#!/usr/bin/env bun
/**
 * Remote-write ingestion benchmark: the same snappy-compressed protobuf requests, sent by the same
 * load generator, into Shoal (/api/v1/write), Prometheus (--web.enable-remote-write-receiver,
 * /api/v1/write) and VictoriaMetrics (/api/v1/write).
 *
 *   bun bench/ingest/run.ts [--quick] [--series N] [--duration 1h] [--senders 1,4,16]
 *                           [--batch 2000] [--shoal-binary dist/shoal] [--only shoal,prometheus,victoria] [--keep]
 *                           [--profile DIR] [--decode-workers N] [--runs N]
 *
 * The payloads are encoded before any server starts. Series are split into shards by target, one
 * sender per shard sends its requests in order (as Prometheus's queue manager shards by series),
 * so no server sees an out-of-order sample. For each server and each sender count (Prometheus's
 * own remote write runs 1 to 50 shards): samples/s over the wall time of the whole send, and
 * the server's CPU seconds (utime+stime from /proc/PID/stat) per million samples. Every run
 * starts the server afresh on an empty data directory. With --runs N each server runs N times per
 * sender count, the servers taking turns, and the table shows each one's median run (by
 * samples/s) with all runs' rates beside it: on a shared machine one run says little.
 */
import { readFileSync, writeFileSync } from "node:fs";
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
const runs = flags.num("runs", 1);
/** Numbers each server start, so that every run gets an empty data directory of its own. */
let serverRuns = 0;
/** Shoal's --web.remote-write-decode-workers (its default when not given). */
const decodeWorkers = flags.get("decode-workers");
const only = new Set(flags.str("only", "shoal,prometheus,victoria").split(","));
const { dir: work, cleanup } = benchDir("ingest", flags.has("keep"));
const log = (msg: string): void => console.error(`[ingest] ${msg}`);

interface Result {
  system: string;
  /** 1-minute load average when the run started (the machine is shared). */
  load: number;
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

async function send(server: Server, path: string, shards: RemoteWriteBatch[][]): Promise<Omit<Result, "system" | "rss" | "senders" | "load">> {
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

function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

function profileArgs(run: string): string[] {
  if (profileDir === undefined) return [];
  return ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=shoal-ingest-${run}`];
}

async function runShoal(shards: RemoteWriteBatch[][]): Promise<Omit<Result, "load">> {
  const id = ++serverRuns;
  const port = freePort();
  const server = await startServer({
    name: "shoal",
    cmd: [...shoalCommand(flags, profileArgs(`${shards.length}-${id}`)), `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(work, `shoal-${shards.length}-${id}`)}`, "--log.level=warn", ...SHOAL_ISOLATION_FLAGS, ...(decodeWorkers === undefined ? [] : [`--web.remote-write-decode-workers=${decodeWorkers}`])],
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

async function runPrometheus(shards: RemoteWriteBatch[][]): Promise<Omit<Result, "load">> {
  const port = freePort();
  const config = join(work, "prometheus.yml");
  writeFileSync(config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
  const server = await startServer({
    name: "prometheus",
    cmd: [
      "prometheus",
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(work, `prometheus-${shards.length}-${++serverRuns}`)}`,
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

async function runVictoria(shards: RemoteWriteBatch[][]): Promise<Omit<Result, "load">> {
  const port = freePort();
  const server = await startServer({
    name: "victoria-metrics",
    cmd: ["victoria-metrics", `-storageDataPath=${join(work, `victoria-${shards.length}-${++serverRuns}`)}`, `-httpListenAddr=127.0.0.1:${port}`, "-retentionPeriod=100y", "-loggerLevel=WARN"],
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
    const attempt = async (name: string, fn: () => Promise<Omit<Result, "load">>): Promise<void> => {
      const load = loadAverage();
      log(`sending to ${name} with ${senders} senders (load average ${load.toFixed(2)})`);
      try {
        results.push({ ...(await fn()), load });
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
        results.push({ system: name, senders, load, samples: 0, seconds: NaN, cpu: NaN, rss: NaN, errors: NaN, firstError: "did not run" });
      }
    };
    for (let run = 0; run < runs; run++) {
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
  }

  const out: string[] = [];
  out.push(
    `Data: ${ds.series.length} series × ${durationMs / 60_000} min at 15 s = ${ds.samples} samples, ` +
      `about ${requests} remote-write requests of ≤${batchSamples} samples; ${machineLine()}`,
  );
  out.push("");
  // One row per system and sender count: the median run by samples/s (all runs' rates beside it).
  const rate = (r: Result): number => (r.samples > 0 ? r.samples / r.seconds : 0);
  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const key = `${r.senders}\u0000${r.system}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => rate(a) - rate(b));
    return { median: sorted[(sorted.length - 1) >> 1]!, all: g };
  });
  const headers = ["system", "senders", "samples/s", "CPU s per 1M samples", "wall s", "accepted samples", "failed requests", "RSS after"];
  if (runs > 1) headers.push("samples/s of each run", "load at each run");
  out.push(
    markdownTable(
      headers,
      rows.map(({ median: r, all }) => {
        const row = [
          r.system,
          String(r.senders),
          fmtNum(rate(r)),
          ((r.cpu / r.samples) * 1e6).toFixed(2),
          r.seconds.toFixed(2),
          String(r.samples),
          String(r.errors),
          Number.isFinite(r.rss) ? `${(r.rss / 1048576).toFixed(0)} MiB` : "n/a",
        ];
        if (runs > 1) row.push(all.map((x) => fmtNum(rate(x))).join(", "), all.map((x) => x.load.toFixed(1)).join(", "));
        return row;
      }),
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

