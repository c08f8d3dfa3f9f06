#!/usr/bin/env bun
/**
 * Backfill benchmark (the storage side of hand-off, issue 6): about 10 million generated samples
 * stored with `TSDB.backfill` in calls of `--call-series` series × one hour each, oldest hour
 * first, into a TSDB whose head already holds the last 30 minutes of the same series (a joining
 * node gets new writes while it pulls the older data, so those samples arrive twice and must be
 * stored once). Then `close()` (the rest of the backfill store goes out as blocks), a reopen with
 * one maintenance pass (the compactor merges overlapping blocks), and a bit-exact read-back.
 *
 *   bun bench/storage/backfill.ts [--series 4200] [--duration 10h] [--call-series 2000] [--seed 1] [--keep]
 *
 * Also run by bench/storage/run.ts (its "backfill" row).
 */
import { heapStats } from "bun:jsc";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { openLocalTSDB } from "../../src/storage/db.ts";
import { openTSDB, type SeriesData } from "../../src/storage/index.ts";
import { generate, parseDuration, type Dataset } from "../generator.ts";
import { benchDir, Flags, fmtNum, rssBytes } from "../lib.ts";
import { verifyReadBack } from "./verify.ts";

export interface BackfillBenchResult {
  series: number;
  samples: number;
  stored: number;
  duplicates: number;
  calls: number;
  seconds: number;
  cpuSeconds: number;
  closeSeconds: number;
  blocksAfterClose: number;
  blocksAfterCompaction: number;
  rssMiB: number;
  verified: string;
  /** exportSeries over the whole database (default 100k-sample batches), after compaction. */
  exportSamples: number;
  exportBatches: number;
  exportSeconds: number;
  /** Live heap growth over a second export pass (garbage collected every 10 batches), highest seen. */
  exportHeapGrowthMiB: number;
}

function lowerBound(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const isBlockDir = (name: string) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(name);

export async function backfillBench(dir: string, ds: Dataset, callSeries: number, log: (m: string) => void): Promise<BackfillBenchResult> {
  const hour = 3_600_000;
  const db = await openTSDB({ dir });
  // The head already holds the newest 30 minutes (live writes), appended in scrape order.
  const liveFrom = ds.endMs - 30 * 60_000;
  for (const s of ds.series) {
    const ts = ds.timestamps[s.target]!;
    const app = db.appender();
    for (let i = 0; i < ts.length; i++) if (ts[i]! >= liveFrom) app.append(s.labels, ts[i]!, s.values[i]!);
    await app.commit();
  }
  let calls = 0;
  let stored = 0;
  let duplicates = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let h = Math.floor(ds.startMs / hour) * hour; h <= ds.endMs; h += hour) {
    for (let a = 0; a < ds.series.length; a += callSeries) {
      const call: SeriesData[] = [];
      for (const s of ds.series.slice(a, a + callSeries)) {
        const ts = ds.timestamps[s.target]!;
        const i = lowerBound(ts, h);
        const j = lowerBound(ts, h + hour);
        if (j > i) call.push({ labels: s.labels, timestamps: ts.subarray(i, j), values: s.values.subarray(i, j) });
      }
      if (call.length === 0) continue;
      const r = await db.backfill(call);
      calls++;
      stored += r.samples;
      duplicates += r.duplicates;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rssMiB = rssBytes() / 1048576;
  log(`backfilled ${stored} samples (+${duplicates} duplicates) in ${calls} calls, ${seconds.toFixed(2)} s`);
  const c0 = performance.now();
  await db.close();
  const closeSeconds = (performance.now() - c0) / 1000;
  const blocksAfterClose = readdirSync(dir).filter(isBlockDir).length;

  const db2 = await openLocalTSDB({ dir });
  try {
    await db2.maintain();
    const blocksAfterCompaction = readdirSync(dir).filter(isBlockDir).length;
    const verified = await verifyReadBack(db2, ds);
    let exportSamples = 0;
    let exportBatches = 0;
    const e0 = performance.now();
    for await (const batch of db2.exportSeries({ filter: () => true })) {
      exportBatches++;
      for (const s of batch) exportSamples += s.timestamps.length;
    }
    const exportSeconds = (performance.now() - e0) / 1000;
    // Memory bounded by a batch: the live heap, measured after full collections, does not grow.
    Bun.gc(true);
    const heap0 = heapStats().heapSize;
    let heapMax = heap0;
    let k = 0;
    for await (const _batch of db2.exportSeries({ filter: () => true })) {
      if (++k % 10 !== 0) continue;
      Bun.gc(true);
      heapMax = Math.max(heapMax, heapStats().heapSize);
    }
    log(`exported ${exportSamples} samples in ${exportBatches} batches, ${exportSeconds.toFixed(2)} s`);
    return {
      exportSamples,
      exportBatches,
      exportSeconds,
      exportHeapGrowthMiB: (heapMax - heap0) / 1048576,
      series: ds.series.length,
      samples: ds.samples,
      stored,
      duplicates,
      calls,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      closeSeconds,
      blocksAfterClose,
      blocksAfterCompaction,
      rssMiB,
      verified,
    };
  } finally {
    await db2.close();
  }
}

export function describeBackfill(r: BackfillBenchResult, callSeries: number): [string, string] {
  return [
    `backfill (TSDB.backfill, ${r.samples} samples of ${r.series} series in ${r.calls} calls of ≤ ${callSeries} series × 1h; the head holds the last 30 min)`,
    `${fmtNum(r.stored / r.seconds)} samples/s wall, ${fmtNum(r.stored / r.cpuSeconds)} per CPU second (${r.stored} stored + ${r.duplicates} duplicates in ${r.seconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(2)} CPU s, RSS ${r.rssMiB.toFixed(0)} MiB); close ${r.closeSeconds.toFixed(2)} s; ${r.blocksAfterClose} block dirs → ${r.blocksAfterCompaction} after compaction; ${r.verified}. Export of all of it (exportSeries, 100k-sample batches): ${fmtNum(r.exportSamples / r.exportSeconds)} samples/s, ${r.exportBatches} batches, live heap +${r.exportHeapGrowthMiB.toFixed(1)} MiB at most`,
  ];
}

if (import.meta.main) {
  const flags = new Flags();
  const seriesWanted = flags.num("series", 4200);
  const durationMs = parseDuration(flags.str("duration", "10h"));
  const callSeries = flags.num("call-series", 2000);
  const { dir, cleanup } = benchDir("backfill", flags.has("keep"));
  const log = (m: string) => console.error(`[backfill] ${m}`);
  try {
    const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
    log(`generated ${ds.series.length} series, ${ds.samples} samples`);
    const r = await backfillBench(join(dir, "db"), ds, callSeries, log);
    const [what, result] = describeBackfill(r, callSeries);
    console.log(`| ${what} | ${result} |`);
  } finally {
    cleanup();
  }
}
