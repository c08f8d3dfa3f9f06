#!/usr/bin/env bun
/**
 * Storage benchmark: the same generated data in Shoal, Prometheus and VictoriaMetrics.
 *
 *   bun bench/storage/run.ts [--quick] [--series N] [--duration 12h] [--seed 1]
 *                            [--shoal-binary dist/shoal] [--keep]
 *
 * Prints, side by side: bytes per sample on disk after a backfill import (Shoal: `shoal tsdb
 * import`; Prometheus: `promtool tsdb create-blocks-from openmetrics`, with its default 2h blocks
 * and with blocks as large as the data; VictoriaMetrics: /api/v1/import/prometheus, then
 * force_flush and force_merge), import throughput, and then Shoal's head append throughput
 * in-process, memory per active series (in a bare TSDB process, and in whole Shoal and Prometheus
 * server processes fed the same series by remote write), WAL replay time, and backfill throughput
 * (bench/storage/backfill.ts, also runnable alone).
 */
import { join } from "node:path";
import { openTSDB } from "../../src/storage/index.ts";
import { backfillBench, describeBackfill } from "./backfill.ts";
import { verifyReadBack } from "./verify.ts";
import { forEachScrape, generate, parseDuration, remoteWriteBatches, writeOpenMetrics, type Dataset } from "../generator.ts";
import {
  benchDir,
  dirBytes,
  Flags,
  fmtNum,
  freePort,
  machineLine,
  markdownTable,
  repoRoot,
  rssBytes,
  runCommand,
  SHOAL_ISOLATION_FLAGS,
  shoalCommand,
  startServer,
  which,
} from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 500 : 2000);
const durationMs = parseDuration(flags.str("duration", quick ? "4h" : "12h"));
const seed = flags.num("seed", 1);
const rssSeries = flags.num("rss-series", quick ? 20_000 : 100_000);
const serverRssSeries = flags.num("server-rss-series", quick ? 20_000 : 100_000);
const walSeries = flags.num("wal-series", quick ? 10_000 : 50_000);
const walRounds = flags.num("wal-rounds", quick ? 20 : 60);
const backfillSeries = flags.num("backfill-series", quick ? 1000 : 4200);
const { dir: work, cleanup } = benchDir("storage", flags.has("keep"));
const log = (msg: string): void => console.error(`[storage] ${msg}`);

interface DiskRow {
  system: string;
  bytes: number;
  seconds: number;
  note: string;
}

async function shoalImport(file: string, ds: Dataset, maxBlock: string | null): Promise<DiskRow> {
  const dir = join(work, `shoal-${maxBlock ?? "default"}`);
  const cmd = [...shoalCommand(flags), "tsdb", "import", file, `--storage.tsdb.path=${dir}`];
  if (maxBlock !== null) cmd.push(`--max-block-duration=${maxBlock}`);
  log(cmd.join(" "));
  const { seconds } = await runCommand(cmd, { cwd: repoRoot });
  const bytes = dirBytes(dir);
  const label = maxBlock === null ? "Shoal (shoal tsdb import, 2h blocks)" : `Shoal (shoal tsdb import, ${maxBlock} blocks)`;
  return { system: label, bytes, seconds, note: await verifyShoal(dir, ds) };
}

/** Opens the imported database and reads everything back. */
async function verifyShoal(dir: string, ds: Dataset): Promise<string> {
  const db = await openTSDB({ dir });
  try {
    return await verifyReadBack(db, ds);
  } finally {
    await db.close();
  }
}

async function promtoolImport(file: string, maxBlock: string | null): Promise<DiskRow> {
  const dir = join(work, `prometheus-${maxBlock ?? "default"}`);
  const cmd = ["promtool", "tsdb", "create-blocks-from", "openmetrics"];
  if (maxBlock !== null) cmd.push(`--max-block-duration=${maxBlock}`);
  cmd.push(file, dir);
  log(cmd.join(" "));
  const { seconds } = await runCommand(cmd);
  const label = maxBlock === null ? "Prometheus (promtool, 2h blocks)" : `Prometheus (promtool, ${maxBlock} blocks)`;
  return { system: label, bytes: dirBytes(dir), seconds, note: "" };
}

async function victoriaImport(file: string): Promise<DiskRow> {
  const dir = join(work, "victoria");
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const vm = await startServer({
    name: "victoria-metrics",
    cmd: ["victoria-metrics", `-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, "-retentionPeriod=100y", "-loggerLevel=WARN"],
    url,
    readyPath: "/health",
    logFile: join(work, "victoria.log"),
  });
  try {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/import/prometheus`, { method: "POST", body: Bun.file(file) });
    if (!res.ok) throw new Error(`VictoriaMetrics import: HTTP ${res.status} ${await res.text()}`);
    const flush = await fetch(`${url}/internal/force_flush`);
    if (!flush.ok) throw new Error(`VictoriaMetrics force_flush: HTTP ${flush.status}`);
    const seconds = (performance.now() - started) / 1000;
    // Merge the freshly flushed parts as VictoriaMetrics does in the background over time, then
    // wait for the size to settle.
    await fetch(`${url}/internal/force_merge`);
    let last = -1;
    for (let i = 0; i < 60; i++) {
      await Bun.sleep(1000);
      const now = dirBytes(join(dir, "data")) + dirBytes(join(dir, "indexdb"));
      if (now === last) break;
      last = now;
    }
    const bytes = dirBytes(join(dir, "data")) + dirBytes(join(dir, "indexdb"));
    return { system: "VictoriaMetrics (/api/v1/import/prometheus)", bytes, seconds, note: "stores values rounded to 12 significant decimal digits (lossy for full-precision floats)" };
  } finally {
    await vm.stop();
  }
}

/** Head append throughput in this process: scrape-ordered appends, one commit per target scrape. */
async function appendThroughput(ds: Dataset): Promise<{ samples: number; seconds: number; cpu: number }> {
  const db = await openTSDB({ dir: join(work, "append") });
  const cpu0 = process.cpuUsage();
  let samples = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  forEachScrape(ds, (_target, ts, list, round) => {
    const app = db.appender();
    for (const s of list) app.append(s.labels, ts, s.values[round]!);
    samples += list.length;
    pending.push(app.commit());
  });
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await db.close();
  return { samples, seconds, cpu: (cpu.user + cpu.system) / 1e6 };
}

interface ServerRss {
  system: string;
  baseline: number;
  after: number;
  series: number;
}

/**
 * Memory per active series in a whole server process: RSS once it is ready and idle, then after
 * `rounds` remote-write scrapes of every series. Both servers get the same requests.
 */
async function serverRss(system: "Shoal" | "Prometheus", series: number, rounds: number): Promise<ServerRss> {
  const ds = generate({ series, durationMs: rounds * 15_000, seed: 11 });
  const batches = remoteWriteBatches(ds, 2000);
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = join(work, `rss-${system.toLowerCase()}`);
  let cmd: string[];
  if (system === "Shoal") {
    cmd = [...shoalCommand(flags), `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${dir}`, "--log.level=warn", ...SHOAL_ISOLATION_FLAGS];
  } else {
    const config = join(work, "prometheus-rss.yml");
    await Bun.write(config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
    cmd = ["prometheus", `--config.file=${config}`, `--storage.tsdb.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver", "--log.level=warn"];
  }
  // With no config file Shoal scrapes itself; give the server an empty scrape config so that
  // both hold only the written series.
  if (system === "Shoal") {
    const config = join(work, "shoal-rss.yml");
    await Bun.write(config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
    cmd.push(`--config.file=${config}`);
  }
  const server = await startServer({ name: system, cmd, url, readyPath: "/-/ready", logFile: join(work, `rss-${system}.log`), cwd: work });
  try {
    await Bun.sleep(2000);
    const baseline = rssBytes(server.pid);
    for (const b of batches) {
      const res = await fetch(`${url}/api/v1/write`, {
        method: "POST",
        body: b.body,
        headers: { "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0" },
      });
      if (!res.ok) throw new Error(`${system} /api/v1/write: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    await Bun.sleep(3000);
    return { system, baseline, after: rssBytes(server.pid), series: ds.series.length };
  } finally {
    await server.stop();
  }
}

async function childJson(args: string[], killAfterOutput = false): Promise<Record<string, unknown>> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "child.ts"), ...args], { stdout: "pipe", stderr: "inherit", cwd: repoRoot });
  const reader = proc.stdout.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    if (text.includes("\n")) break;
  }
  if (killAfterOutput) proc.kill("SIGKILL");
  const code = await proc.exited;
  if (!killAfterOutput && code !== 0) throw new Error(`child ${args[0]} failed (exit ${code})`);
  const line = text.split("\n")[0]!;
  return JSON.parse(line) as Record<string, unknown>;
}

async function main(): Promise<void> {
  log(`work dir ${work}`);
  const ds = generate({ series: seriesWanted, durationMs, seed });
  const file = join(work, "data.om");
  const textBytes = await writeOpenMetrics(ds, file);
  log(`generated ${ds.series.length} series, ${ds.samples} samples (${(textBytes / 1048576).toFixed(0)} MiB of OpenMetrics)`);

  const disk: DiskRow[] = [];
  const attempt = async (what: string, fn: () => Promise<DiskRow>): Promise<void> => {
    try {
      disk.push(await fn());
    } catch (err) {
      log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      disk.push({ system: what, bytes: NaN, seconds: NaN, note: "failed (see stderr)" });
    }
  };
  // Both at their default 2h blocks, and both with blocks as long as the data (what compaction
  // reaches over time).
  const span = `${Math.ceil(durationMs / 3_600_000) * 2}h`;
  await attempt("Shoal 2h", () => shoalImport(file, ds, null));
  await attempt(`Shoal ${span}`, () => shoalImport(file, ds, span));
  if (which("promtool")) {
    await attempt("Prometheus 2h", () => promtoolImport(file, null));
    await attempt(`Prometheus ${span}`, () => promtoolImport(file, span));
  } else log("promtool not found: install Debian's prometheus package");
  if (which("victoria-metrics")) await attempt("VictoriaMetrics", () => victoriaImport(file));
  else log("victoria-metrics not found: install Debian's victoria-metrics package");

  log("head append throughput");
  const app = await appendThroughput(ds);
  log(`RSS per active series (${rssSeries} series)`);
  const rss = await childJson(["rss", String(rssSeries), "60", join(work, "rss")]);
  const servers: ServerRss[] = [];
  for (const system of ["Shoal", "Prometheus"] as const) {
    if (system === "Prometheus" && !which("prometheus")) continue;
    log(`${system} server RSS with ${serverRssSeries} series`);
    try {
      servers.push(await serverRss(system, serverRssSeries, 4));
    } catch (err) {
      log(`${system} server RSS failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  log(`WAL replay (${walSeries} series × ${walRounds} samples)`);
  const walDir = join(work, "wal");
  const written = await childJson(["wal-write", String(walSeries), String(walRounds), walDir], true);
  const replay = await childJson(["wal-replay", walDir]);
  log(`backfill (${backfillSeries} series × 10h)`);
  const bf = await backfillBench(join(work, "backfill"), generate({ series: backfillSeries, durationMs: 10 * 3_600_000, seed }), 2000, log);

  const out: string[] = [];
  out.push(`Data: ${ds.series.length} series × ${durationMs / 3_600_000}h at 15 s = ${ds.samples} samples (seed ${seed}); ${machineLine()}`);
  out.push("");
  out.push(
    markdownTable(
      ["system", "bytes on disk", "bytes/sample", "import s", "import samples/s"],
      disk.map((r) => [r.system, Number.isFinite(r.bytes) ? String(r.bytes) : "n/a", (r.bytes / ds.samples).toFixed(3), r.seconds.toFixed(2), fmtNum(ds.samples / r.seconds)]),
    ),
  );
  for (const r of disk) if (r.note !== "") out.push(`\n${r.system}: ${r.note}`);
  out.push("");
  const perSeries = (Number(rss.after) - Number(rss.baseline)) / Number(rss.series);
  out.push(
    markdownTable(
      ["measurement", "result"],
      [
        ["head append (in-process, 1 commit per target scrape)", `${fmtNum(app.samples / app.seconds)} samples/s wall, ${fmtNum(app.samples / app.cpu)} samples per CPU second (${app.samples} samples in ${app.seconds.toFixed(2)} s, ${app.cpu.toFixed(2)} CPU s)`],
        [`memory per active series (${rss.series} series × 60 samples)`, `${(perSeries / 1024).toFixed(2)} KiB (RSS ${(Number(rss.baseline) / 1048576).toFixed(0)} → ${(Number(rss.after) / 1048576).toFixed(0)} MiB)`],
        ...servers.map((r) => [
          `${r.system} server process, ${r.series} series written by remote write (4 samples each)`,
          `${((r.after - r.baseline) / r.series / 1024).toFixed(2)} KiB per series (RSS ${(r.baseline / 1048576).toFixed(0)} → ${(r.after / 1048576).toFixed(0)} MiB)`,
        ]),
        [`WAL replay (${written.series} series, ${written.samples} samples, ${(Number(written.walBytes) / 1048576).toFixed(1)} MiB WAL)`, `${Number(replay.openSeconds).toFixed(2)} s to open (${fmtNum(Number(written.samples) / Number(replay.openSeconds))} samples/s), ${replay.headSeries} series back`],
        describeBackfill(bf, 2000),
      ],
    ),
  );
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  cleanup();
}
