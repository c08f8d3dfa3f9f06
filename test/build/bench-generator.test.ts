/**
 * The benchmarks' data generator keeps its promises: the same seed gives the same data, the
 * families are internally consistent (cumulative buckets, +Inf = _count, counters only fall at a
 * target restart), scrapes are 15 s apart with small jitter, and the real consumers accept its
 * output — promtool's OpenMetrics backfill, `shoal tsdb import` (read back with `tsdb dump`), and
 * a protobuf decoder of remote-write requests.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { generate, remoteWriteBatches, writeOpenMetrics, type Dataset, type GeneratedSeries } from "../../bench/generator.ts";
import { getLabel, labelsKey } from "../../src/model/index.ts";
import { run as runCommand, tempDir } from "../support/index.ts";

const root = resolve(import.meta.dir, "../..");
const opts = { series: 250, durationMs: 3 * 3_600_000, seed: 3, startMs: 1_700_000_000_000 };
const ds = generate(opts);

function group(ds: Dataset, name: string, without: string): Map<string, GeneratedSeries[]> {
  const out = new Map<string, GeneratedSeries[]>();
  for (const s of ds.series) {
    if (s.name !== name) continue;
    const key = labelsKey(s.labels.filter((l) => l.name !== without));
    const list = out.get(key) ?? [];
    list.push(s);
    out.set(key, list);
  }
  return out;
}

async function run(cmd: string[], cwd = root): Promise<{ code: number; out: string }> {
  const r = await runCommand(cmd, { cwd, timeoutMs: 300_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("bench/generator", () => {
  test("the same seed gives the same data, another seed other data", () => {
    const again = generate(opts);
    expect(again.series.length).toBe(ds.series.length);
    for (let i = 0; i < ds.series.length; i++) {
      expect(labelsKey(again.series[i]!.labels)).toBe(labelsKey(ds.series[i]!.labels));
      expect(again.series[i]!.values).toEqual(ds.series[i]!.values);
    }
    const other = generate({ ...opts, seed: 4 });
    expect(other.series.some((s, i) => s.values[5] !== ds.series[i]!.values[5])).toBe(true);
  });

  test("about the asked number of series, every one sampled every round", () => {
    expect(Math.abs(ds.series.length - opts.series)).toBeLessThan(121);
    const rounds = opts.durationMs / 15_000;
    expect(ds.samples).toBe(ds.series.length * rounds);
    for (const s of ds.series) expect(s.values.length).toBe(rounds);
  });

  test("scrapes are 15 s apart with a few ms of jitter, per target", () => {
    for (const ts of ds.timestamps) {
      for (let i = 1; i < ts.length; i++) {
        const d = ts[i]! - ts[i - 1]!;
        expect(d).toBeGreaterThan(15_000 - 61);
        expect(d).toBeLessThan(15_000 + 61);
      }
    }
  });

  test("histograms are cumulative and +Inf equals _count", () => {
    const buckets = group(ds, "http_request_duration_seconds_bucket", "le");
    const counts = group(ds, "http_request_duration_seconds_count", "");
    expect(buckets.size).toBeGreaterThan(0);
    for (const [key, list] of buckets) {
      const sorted = [...list].sort((a, b) => Number(getLabel(a.labels, "le").replace("+Inf", "Infinity")) - Number(getLabel(b.labels, "le").replace("+Inf", "Infinity")));
      for (let j = 1; j < sorted.length; j++) {
        for (let i = 0; i < sorted[j]!.values.length; i++) expect(sorted[j]!.values[i]!).toBeGreaterThanOrEqual(sorted[j - 1]!.values[i]!);
      }
      const inf = sorted[sorted.length - 1]!;
      expect(getLabel(inf.labels, "le")).toBe("+Inf");
      const countKey = key.replace("http_request_duration_seconds_bucket", "http_request_duration_seconds_count");
      expect(counts.get(countKey)?.[0]?.values).toEqual(inf.values);
    }
  });

  test("counters fall only where their target restarted (its start time changes there)", () => {
    // Restarts are rare (about one per 2000 scrapes per target): look at 20 targets over 6 hours.
    const big = generate({ ...opts, series: 20 * 121, durationMs: 6 * 3_600_000 });
    const restarts = new Map<number, Set<number>>();
    for (const s of big.series) {
      if (s.name !== "http_requests_total" && s.name !== "process_cpu_seconds_total") continue;
      for (let i = 1; i < s.values.length; i++) {
        if (s.values[i]! < s.values[i - 1]!) {
          const set = restarts.get(s.target) ?? new Set<number>();
          set.add(i);
          restarts.set(s.target, set);
        }
      }
    }
    expect(restarts.size).toBeGreaterThan(0);
    // Every drop of any counter of a target lines up with the target's start-time gauge changing.
    for (const s of big.series) {
      if (s.name !== "process_start_time_seconds") continue;
      const changes = new Set<number>();
      for (let i = 1; i < s.values.length; i++) if (s.values[i] !== s.values[i - 1]) changes.add(i);
      for (const r of restarts.get(s.target) ?? []) expect(changes.has(r)).toBe(true);
    }
  });

  test(
    "promtool backfills the OpenMetrics text and counts every sample",
    async () => {
      const promtool = Bun.which("promtool");
      if (promtool === null) throw new Error("promtool is missing: install Debian's prometheus package (.ci/run does)");
      const dir = tempDir("gen");
      try {
        const file = join(dir, "data.om");
        await writeOpenMetrics(ds, file);
        const r = await run([promtool, "tsdb", "create-blocks-from", "openmetrics", file, join(dir, "blocks")]);
        expect(r.code).toBe(0);
        // One line per block: ULID MIN MAX DURATION SAMPLES CHUNKS SERIES SIZE.
        const samples = r.out
          .split("\n")
          .filter((l) => /^[0-9A-Z]{26}\s/.test(l))
          .reduce((n, l) => n + Number(l.trim().split(/\s+/)[4]), 0);
        expect(samples).toBe(ds.samples);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test(
    "shoal tsdb import takes the same file and dump gives every sample back",
    async () => {
      const dir = tempDir("gen");
      try {
        const small = generate({ ...opts, series: 121, durationMs: 3_600_000 });
        const file = join(dir, "data.om");
        await writeOpenMetrics(small, file);
        const data = join(dir, "data");
        const imp = await run([process.execPath, join(root, "src/cli.ts"), "tsdb", "import", file, `--storage.tsdb.path=${data}`]);
        expect(imp.code).toBe(0);
        const dump = await run([process.execPath, join(root, "src/cli.ts"), "tsdb", "dump", `--storage.tsdb.path=${data}`]);
        expect(dump.code).toBe(0);
        const lines = dump.out.trim().split("\n");
        expect(lines.length).toBe(small.samples);
        // Spot-check: the value and timestamp of each series' last sample.
        const last = new Map<string, string>();
        for (const l of lines) {
          const i = l.lastIndexOf("} ");
          last.set(l.slice(0, i + 1), l.slice(i + 2));
        }
        expect(last.size).toBe(small.series.length);
        const want = new Set(small.series.map((s) => `${s.values[s.values.length - 1]} ${small.timestamps[s.target]![s.values.length - 1]}`));
        for (const v of last.values()) expect(want.has(v)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test("remote-write batches decode to every sample, in scrape order, within the size limit", () => {
    const root = protobuf.parse(`
      syntax = "proto3";
      message WriteRequest { repeated TimeSeries timeseries = 1; }
      message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
      message Label { string name = 1; string value = 2; }
      message Sample { double value = 1; int64 timestamp = 2; }
    `).root;
    const type = root.lookupType("WriteRequest");
    const small = generate({ ...opts, durationMs: 10 * 15_000 });
    const batches = remoteWriteBatches(small, 500);
    let samples = 0;
    const lastTs = new Map<string, number>();
    for (const b of batches) {
      expect(b.samples).toBeLessThanOrEqual(500);
      const msg = type.toObject(type.decode(snappy.uncompress(b.body)), { longs: Number }) as {
        timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
      };
      for (const ts of msg.timeseries) {
        const key = JSON.stringify(ts.labels);
        for (const s of ts.samples) {
          expect(s.timestamp).toBeGreaterThan(lastTs.get(key) ?? 0);
          lastTs.set(key, s.timestamp);
          samples++;
        }
      }
    }
    expect(samples).toBe(small.samples);
    expect(lastTs.size).toBe(small.series.length);
  });
});
