/**
 * Measurements that need a process of their own, run by bench/storage/run.ts:
 *
 *   bun bench/storage/child.ts rss SERIES ROUNDS DIR      → {"baseline":…, "after":…, "series":…}
 *   bun bench/storage/child.ts wal-write SERIES ROUNDS DIR → appends, fsyncs, then waits to be killed
 *   bun bench/storage/child.ts wal-replay DIR              → {"openSeconds":…, "headSeries":…, …}
 *
 * Each prints one JSON line on stdout.
 */
import { openTSDB } from "../../src/storage/index.ts";
import { generate, forEachScrape } from "../generator.ts";
import { rssBytes } from "../lib.ts";

const [mode, ...rest] = process.argv.slice(2);

function settle(): void {
  Bun.gc(true);
  Bun.gc(true);
}

/** Appends `rounds` scrapes of every series: the generator gives labels and the first values, and
 * later rounds step them cheaply, so that no large value arrays sit in this process's memory. */
async function appendRounds(dir: string, series: number, rounds: number): Promise<{ db: Awaited<ReturnType<typeof openTSDB>>; samples: number; count: number }> {
  const db = await openTSDB({ dir });
  const ds = generate({ series, durationMs: 15_000, seed: 7 });
  const first = ds.series.map((s) => s.values[0]!);
  const index = new Map(ds.series.map((s, i) => [s, i] as const));
  let samples = 0;
  for (let r = 0; r < rounds; r++) {
    // Scrape round r of every target, 15 s apart, one commit per target scrape.
    const pending: Promise<void>[] = [];
    forEachScrape(ds, (_target, t, list) => {
      const app = db.appender();
      for (const s of list) {
        const v0 = first[index.get(s)!]!;
        app.append(s.labels, t + r * 15_000, v0 + r * ((v0 % 7) + 1));
        samples++;
      }
      pending.push(app.commit());
    });
    await Promise.all(pending);
  }
  return { db, samples, count: ds.series.length };
}

if (mode === "rss") {
  const [seriesArg, roundsArg, dir] = rest;
  settle();
  const baseline = rssBytes();
  const { db, samples, count } = await appendRounds(dir!, Number(seriesArg), Number(roundsArg));
  settle();
  await Bun.sleep(200);
  settle();
  const after = rssBytes();
  const heap = process.memoryUsage();
  console.log(JSON.stringify({ baseline, after, series: count, samples, heapUsed: heap.heapUsed, stats: db.stats() }));
  await db.close();
} else if (mode === "wal-write") {
  const [seriesArg, roundsArg, dir] = rest;
  const { db, samples, count } = await appendRounds(dir!, Number(seriesArg), Number(roundsArg));
  // Past the WAL's fsync interval, so everything is on disk; the parent then SIGKILLs us, as a
  // crash would, and the next open must replay the WAL.
  await Bun.sleep(1500);
  console.log(JSON.stringify({ series: count, samples, walBytes: db.stats().walBytes }));
  await new Promise(() => {});
} else if (mode === "wal-replay") {
  const [dir] = rest;
  const started = performance.now();
  const db = await openTSDB({ dir: dir! });
  const openSeconds = (performance.now() - started) / 1000;
  const st = db.stats();
  console.log(JSON.stringify({ openSeconds, walReplaySeconds: st.walReplaySeconds, headSeries: st.headSeries, rss: rssBytes() }));
  await db.close();
} else {
  console.error("usage: child.ts rss|wal-write|wal-replay …");
  process.exit(2);
}
