#!/usr/bin/env bun
/**
 * Seeded generator of realistic monitoring data, shared by every benchmark.
 *
 * Each "target" (a scraped process) exposes about 100 series in the families a real service has:
 * counters with uneven rates and occasional resets (process restarts), gauges doing random walks
 * (memory in pages, temperatures with one decimal, small integer queues, constants), classic
 * histograms (`_bucket{le}`, `_sum`, `_count`, cumulative and consistent) and summaries
 * (`{quantile}`, `_sum`, `_count`). Every target is scraped every 15 s at its own offset with a
 * few milliseconds of jitter, like Prometheus's scrape loop. The same seed gives the same data.
 *
 * Outputs:
 * - OpenMetrics text with timestamps (what `shoal tsdb import` and
 *   `promtool tsdb create-blocks-from openmetrics` read): grouped by family, then series, then
 *   time, ending with `# EOF`.
 * - Remote-write 1.0 requests (snappy-compressed protobuf `WriteRequest`s), in scrape order: each
 *   request holds whole scrapes, one sample per series, like Prometheus's queue manager sends.
 * - Scrape-ordered iteration for in-process appends.
 *
 * CLI: bun bench/generator.ts --series 1000 --duration 2h [--seed 1] [--out data.om]
 */
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { labelsFromRecord, parseDuration as parsePrometheusDuration, type Labels } from "../src/model/index.ts";

export interface GeneratorOptions {
  /** Approximate number of series wanted; rounded to whole targets of SERIES_PER_TARGET. */
  series: number;
  /** Length of the data in milliseconds. */
  durationMs: number;
  seed?: number;
  /** First scrape round; default: `durationMs` before now, aligned down to the hour. */
  startMs?: number;
  intervalMs?: number;
}

export type MetricType = "counter" | "gauge" | "histogram" | "summary";

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit?: string;
  /** Indexes into Dataset.series, in output order. */
  readonly series: number[];
}

export interface GeneratedSeries {
  readonly labels: Labels;
  /** The series' sample name (`http_request_duration_seconds_bucket`, ...). */
  readonly name: string;
  readonly target: number;
  readonly values: Float64Array;
}

export interface Dataset {
  readonly startMs: number;
  readonly endMs: number;
  readonly intervalMs: number;
  readonly targets: number;
  /** Scrape timestamps (ms) per target; every series of a target shares them. */
  readonly timestamps: Float64Array[];
  readonly series: GeneratedSeries[];
  readonly families: Family[];
  readonly samples: number;
}

// ---------------------------------------------------------------------------------------------
// Random numbers: small, fast, seedable; one independent stream per (seed, key).

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Poisson counts; normal approximation for large means. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  /** Log-uniform between lo and hi. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)));
  }
}

function streamSeed(seed: number, ...keys: number[]): number {
  let h = (seed ^ 0x85ebca6b) >>> 0;
  for (const k of keys) {
    h = Math.imul(h ^ k, 0xcc9e2d51) >>> 0;
    h = ((h << 13) | (h >>> 19)) >>> 0;
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// What one target exposes.

const JOBS = ["api", "db", "cache", "worker"];
const HANDLERS = ["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/write", "/metrics"];
const METHODS = ["GET", "POST"];
const CODES = ["200", "500"];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUANTILES = [0.5, 0.9, 0.99];
const RPC_SERVICES = ["store", "index"];
const CPU_MODES = ["idle", "system", "user", "iowait"];
const DEVICES = ["eth0", "lo"];
const MOUNTS = ["/", "/data"];
const SENSORS = ["core0", "core1"];

/** Series per target (the families below): 5 singles, 20 request counters, 70 histogram series,
 * 10 summary series, 8 CPU counters, 2 network, 2 filesystem, 2 temperature, queue, ratio. */
export const SERIES_PER_TARGET = 121;

/** A target restarts (every counter resets) about once per this many scrapes. */
const RESTART_EVERY_SCRAPES = 2000;

function fmtLe(le: number): string {
  return Number.isInteger(le) ? le.toFixed(1) : String(le);
}

interface Builder {
  series: GeneratedSeries[];
  families: Map<string, Family>;
  rounds: number;
}

function family(b: Builder, sampleName: string, type: MetricType, help: string, unit?: string): Family {
  // OpenMetrics names a counter family without its `_total` suffix.
  const name = type === "counter" ? sampleName.replace(/_total$/, "") : sampleName;
  let f = b.families.get(name);
  if (f === undefined) {
    f = { name, type, help, unit, series: [] };
    b.families.set(name, f);
  }
  return f;
}

function addSeries(b: Builder, f: Family, name: string, target: number, extra: Record<string, string>, base: Record<string, string>, values: Float64Array): void {
  const labels = labelsFromRecord({ ...base, ...extra, __name__: name });
  f.series.push(b.series.length);
  b.series.push({ labels, name, target, values });
}

/** Restart rounds of a target: counters fall back to zero there. */
function restarts(rng: Rng, rounds: number): Uint8Array {
  const r = new Uint8Array(rounds);
  for (let i = 1; i < rounds; i++) if (rng.next() < 1 / RESTART_EVERY_SCRAPES) r[i] = 1;
  return r;
}

/** A counter: Poisson increments at `ratePerScrape`, scaled by `unit`, reset at restarts. */
function counter(rng: Rng, rounds: number, reset: Uint8Array, ratePerScrape: number, unit: number, start: number): Float64Array {
  const v = new Float64Array(rounds);
  let c = start;
  // Rates drift slowly (load changes over the day) so rate() curves are not flat lines.
  let rate = ratePerScrape;
  for (let i = 0; i < rounds; i++) {
    if (reset[i]) c = 0;
    rate = Math.max(ratePerScrape * 0.2, rate * (1 + 0.02 * rng.normal()));
    c += rng.poisson(rate) * unit;
    // Keep float counters on their unit's grid, as real exporters print them.
    v[i] = unit === 1 ? c : Math.round(c / unit) * unit;
  }
  return v;
}

function buildTarget(b: Builder, seed: number, t: number, timestamps: Float64Array): void {
  const rounds = b.rounds;
  const rng = new Rng(streamSeed(seed, t, 1));
  const reset = restarts(rng, rounds);
  const job = JOBS[t % JOBS.length]!;
  const base = { job, instance: `host-${String(t).padStart(4, "0")}:9100` };
  const load = rng.logUniform(0.5, 20); // requests per second of this target

  // process_start_time_seconds: constant between restarts.
  {
    const f = family(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", "seconds");
    const v = new Float64Array(rounds);
    let started = Math.floor(timestamps[0]! / 1000) - rng.int(3600, 86400 * 10);
    for (let i = 0; i < rounds; i++) {
      if (reset[i]) started = Math.floor(timestamps[i]! / 1000) - rng.int(1, 10);
      v[i] = started;
    }
    addSeries(b, f, "process_start_time_seconds", t, {}, base, v);
    const bi = family(b, "build_info", "gauge", "Build information; always 1.");
    addSeries(b, bi, "build_info", t, { version: `1.${t % 7}.${t % 3}`, goversion: "go1.21.4" }, base, new Float64Array(rounds).fill(1));
  }
  {
    const f = family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", "seconds");
    addSeries(b, f, "process_cpu_seconds_total", t, {}, base, counter(rng, rounds, reset, load * 15 * 0.2, 0.01, rng.int(100, 100000) * 0.01));
  }
  {
    // Resident memory in whole pages, wandering around a level.
    const f = family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", "bytes");
    const v = new Float64Array(rounds);
    const level = rng.int(20000, 400000);
    let pages = level;
    for (let i = 0; i < rounds; i++) {
      if (reset[i]) pages = Math.round(level * 0.6);
      pages = Math.max(1000, pages + Math.round(rng.normal() * 200 + (level - pages) * 0.01));
      v[i] = pages * 4096;
    }
    addSeries(b, f, "process_resident_memory_bytes", t, {}, base, v);
  }
  {
    const f = family(b, "go_goroutines", "gauge", "Number of goroutines that currently exist.");
    const v = new Float64Array(rounds);
    let g = rng.int(20, 300);
    for (let i = 0; i < rounds; i++) {
      if (rng.next() < 0.3) g = Math.max(5, g + rng.int(-3, 3));
      v[i] = g;
    }
    addSeries(b, f, "go_goroutines", t, {}, base, v);
  }
  {
    const f = family(b, "http_requests_total", "counter", "Requests served, by handler, method and code.");
    for (const handler of HANDLERS) {
      const share = rng.logUniform(0.02, 1);
      for (const method of METHODS) {
        for (const code of CODES) {
          const r = load * 15 * share * (method === "GET" ? 0.8 : 0.2) * (code === "200" ? 0.995 : 0.005);
          addSeries(b, f, "http_requests_total", t, { handler, method, code }, base, counter(rng, rounds, reset, r, 1, rng.int(0, 100000)));
        }
      }
    }
  }
  {
    // Classic histogram: per scrape, observations spread over buckets from a log-normal latency.
    const f = family(b, "http_request_duration_seconds", "histogram", "Latency of HTTP requests.", "seconds");
    for (const handler of HANDLERS) {
      const median = rng.logUniform(0.004, 0.4);
      const bounds = [...BUCKETS, Number.POSITIVE_INFINITY];
      const buckets = bounds.map(() => new Float64Array(rounds));
      const sum = new Float64Array(rounds);
      const count = new Float64Array(rounds);
      const cum = new Float64Array(bounds.length);
      let total = 0;
      let s = 0;
      const rate = load * 15 * rng.logUniform(0.05, 1);
      for (let i = 0; i < rounds; i++) {
        if (reset[i]) {
          cum.fill(0);
          total = 0;
          s = 0;
        }
        const n = rng.poisson(rate);
        // Draw the observations in groups so a busy target costs a bounded amount of work.
        const groups = Math.min(n, 16);
        for (let g = 0; g < groups; g++) {
          const k = Math.floor(n / groups) + (g < n % groups ? 1 : 0);
          const x = median * Math.exp(0.8 * rng.normal());
          s += x * k;
          for (let j = 0; j < bounds.length; j++) if (x <= bounds[j]!) cum[j]! += k;
        }
        total += n;
        for (let j = 0; j < bounds.length; j++) buckets[j]![i] = cum[j]!;
        sum[i] = Math.round(s * 1e6) / 1e6;
        count[i] = total;
      }
      bounds.forEach((le, j) => addSeries(b, f, "http_request_duration_seconds_bucket", t, { handler, le: le === Infinity ? "+Inf" : fmtLe(le) }, base, buckets[j]!));
      addSeries(b, f, "http_request_duration_seconds_sum", t, { handler }, base, sum);
      addSeries(b, f, "http_request_duration_seconds_count", t, { handler }, base, count);
    }
  }
  {
    // Summary: quantiles wobble around fixed levels; sum and count are counters.
    const f = family(b, "rpc_duration_seconds", "summary", "RPC latency quantiles.", "seconds");
    for (const service of RPC_SERVICES) {
      const median = rng.logUniform(0.001, 0.1);
      const qs = QUANTILES.map(() => new Float64Array(rounds));
      const sum = new Float64Array(rounds);
      const count = new Float64Array(rounds);
      let total = 0;
      let s = 0;
      const rate = load * 15 * 0.5;
      for (let i = 0; i < rounds; i++) {
        if (reset[i]) {
          total = 0;
          s = 0;
        }
        const n = rng.poisson(rate);
        total += n;
        s += n * median * (1 + 0.1 * rng.normal());
        const wobble = Math.exp(0.1 * rng.normal());
        QUANTILES.forEach((q, j) => {
          qs[j]![i] = Math.round(median * wobble * Math.exp(1.2 * (q - 0.5) * 3) * 1e6) / 1e6;
        });
        sum[i] = Math.round(s * 1e6) / 1e6;
        count[i] = total;
      }
      QUANTILES.forEach((q, j) => addSeries(b, f, "rpc_duration_seconds", t, { service, quantile: String(q) }, base, qs[j]!));
      addSeries(b, f, "rpc_duration_seconds_sum", t, { service }, base, sum);
      addSeries(b, f, "rpc_duration_seconds_count", t, { service }, base, count);
    }
  }
  {
    const f = family(b, "node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.", "seconds");
    for (let cpu = 0; cpu < 2; cpu++) {
      for (const mode of CPU_MODES) {
        const share = mode === "idle" ? 0.7 : mode === "iowait" ? 0.02 : 0.14;
        addSeries(b, f, "node_cpu_seconds_total", t, { cpu: String(cpu), mode }, base, counter(rng, rounds, new Uint8Array(rounds), 15 * share * 100, 0.01, rng.int(1e6, 1e8) * 0.01));
      }
    }
  }
  {
    const f = family(b, "node_network_receive_bytes_total", "counter", "Network device statistic receive_bytes.", "bytes");
    for (const device of DEVICES) {
      addSeries(b, f, "node_network_receive_bytes_total", t, { device }, base, counter(rng, rounds, new Uint8Array(rounds), rng.logUniform(1e3, 1e6), 1, rng.int(0, 1e9)));
    }
  }
  {
    const f = family(b, "node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.", "bytes");
    for (const mountpoint of MOUNTS) {
      const v = new Float64Array(rounds);
      let blocks = rng.int(1e6, 5e7);
      for (let i = 0; i < rounds; i++) {
        if (rng.next() < 0.4) blocks = Math.max(0, blocks - rng.int(0, 50) + (rng.next() < 0.01 ? rng.int(0, 5000) : 0));
        v[i] = blocks * 4096;
      }
      addSeries(b, f, "node_filesystem_avail_bytes", t, { mountpoint, fstype: "ext4", device: "/dev/sda1" }, base, v);
    }
  }
  {
    const f = family(b, "node_hwmon_temp_celsius", "gauge", "Hardware monitor temperature.", "celsius");
    for (const sensor of SENSORS) {
      const v = new Float64Array(rounds);
      let temp = 40 + rng.next() * 20;
      for (let i = 0; i < rounds; i++) {
        temp += 0.3 * rng.normal() + (50 - temp) * 0.02;
        v[i] = Math.round(temp * 10) / 10;
      }
      addSeries(b, f, "node_hwmon_temp_celsius", t, { chip: "platform_coretemp_0", sensor }, base, v);
    }
  }
  {
    const f = family(b, "queue_length", "gauge", "Items waiting in the work queue.");
    const v = new Float64Array(rounds);
    let q = 0;
    for (let i = 0; i < rounds; i++) {
      q = Math.max(0, q + (rng.next() < 0.1 ? rng.int(-5, 8) : 0));
      v[i] = q;
    }
    addSeries(b, f, "queue_length", t, {}, base, v);
  }
  {
    // A gauge with full float noise (a ratio computed by the exporter): the hard case for XOR.
    const f = family(b, "cache_hit_ratio", "gauge", "Fraction of cache lookups that hit.");
    const v = new Float64Array(rounds);
    let x = 0.5 + 0.4 * rng.next();
    for (let i = 0; i < rounds; i++) {
      x = Math.min(1, Math.max(0, x + 0.01 * rng.normal()));
      v[i] = x;
    }
    addSeries(b, f, "cache_hit_ratio", t, {}, base, v);
  }
}

/** Scrape timestamps of one target: its own offset in the interval, a few ms of jitter. */
function scrapeTimes(seed: number, t: number, startMs: number, intervalMs: number, rounds: number): Float64Array {
  const rng = new Rng(streamSeed(seed, t, 2));
  const offset = rng.int(0, intervalMs - 1);
  const ts = new Float64Array(rounds);
  let last = -Infinity;
  for (let i = 0; i < rounds; i++) {
    // Mostly 0-3 ms late, sometimes tens of ms (a busy scheduler).
    const jitter = rng.next() < 0.05 ? rng.int(5, 60) : rng.int(0, 3);
    const x = Math.max(last + 1, startMs + offset + i * intervalMs + jitter);
    ts[i] = x;
    last = x;
  }
  return ts;
}

export function generate(opts: GeneratorOptions): Dataset {
  const seed = opts.seed ?? 1;
  const intervalMs = opts.intervalMs ?? 15_000;
  const hour = 3_600_000;
  const startMs = opts.startMs ?? Math.floor((Date.now() - opts.durationMs) / hour) * hour;
  const rounds = Math.max(1, Math.floor(opts.durationMs / intervalMs));
  const targets = Math.max(1, Math.round(opts.series / SERIES_PER_TARGET));
  const b: Builder = { series: [], families: new Map(), rounds };
  const timestamps: Float64Array[] = [];
  for (let t = 0; t < targets; t++) {
    const ts = scrapeTimes(seed, t, startMs, intervalMs, rounds);
    timestamps.push(ts);
    buildTarget(b, seed, t, ts);
  }
  const families = [...b.families.values()];
  return {
    startMs,
    endMs: startMs + rounds * intervalMs + intervalMs,
    intervalMs,
    targets,
    timestamps,
    series: b.series,
    families,
    samples: b.series.length * rounds,
  };
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics text.

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function seriesPrefix(s: GeneratedSeries): string {
  const parts: string[] = [];
  for (const l of s.labels) if (l.name !== "__name__") parts.push(`${l.name}="${escapeLabelValue(l.value)}"`);
  return `${s.name}{${parts.join(",")}} `;
}

/** OpenMetrics prints floats as Go does; integers and shortest round-trip decimals agree. */
function fmtValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Timestamps are seconds in OpenMetrics; whole milliseconds print exactly with three decimals. */
function fmtTimestamp(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const rem = ms - sec * 1000;
  return `${sec}.${String(rem).padStart(3, "0")}`;
}

/** Writes the data set as OpenMetrics text with timestamps; returns bytes written. */
export async function writeOpenMetrics(ds: Dataset, path: string): Promise<number> {
  const file = Bun.file(path).writer({ highWaterMark: 1 << 20 });
  let bytes = 0;
  const put = (s: string): void => {
    bytes += s.length;
    file.write(s);
  };
  const tsText = ds.timestamps.map((ts) => Array.from(ts, fmtTimestamp));
  for (const f of ds.families) {
    put(`# TYPE ${f.name} ${f.type}\n`);
    if (f.unit !== undefined && f.name.endsWith(`_${f.unit}`)) put(`# UNIT ${f.name} ${f.unit}\n`);
    put(`# HELP ${f.name} ${f.help}\n`);
    for (const idx of f.series) {
      const s = ds.series[idx]!;
      const prefix = seriesPrefix(s);
      const ts = tsText[s.target]!;
      const v = s.values;
      let chunk = "";
      for (let i = 0; i < v.length; i++) {
        chunk += prefix + fmtValue(v[i]!) + " " + ts[i] + "\n";
        if (chunk.length > 1 << 16) {
          put(chunk);
          chunk = "";
        }
      }
      put(chunk);
    }
  }
  put("# EOF\n");
  await file.end();
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Remote write 1.0: prometheus.WriteRequest, protobuf then snappy block format.

const WRITE_PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; reserved 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

const writeRequestType = protobuf.parse(WRITE_PROTO).root.lookupType("prometheus.WriteRequest");

export interface RemoteWriteBatch {
  /** Snappy-compressed protobuf body. */
  readonly body: Uint8Array<ArrayBuffer>;
  readonly samples: number;
  readonly series: number;
}

/**
 * Remote-write requests in scrape order: the scrape rounds of every target, one sample per series,
 * packed up to `maxSamplesPerRequest` (Prometheus's default max_samples_per_send is 2000 in 2.x).
 * `rounds` limits how many scrape rounds are encoded (all by default).
 */
export function remoteWriteBatches(ds: Dataset, maxSamplesPerRequest = 2000, rounds?: number): RemoteWriteBatch[] {
  const byTarget: GeneratedSeries[][] = Array.from({ length: ds.targets }, () => []);
  for (const s of ds.series) byTarget[s.target]!.push(s);
  const labelObjs = ds.series.map((s) => s.labels.map((l) => ({ name: l.name, value: l.value })));
  const indexOf = new Map<GeneratedSeries, number>();
  ds.series.forEach((s, i) => indexOf.set(s, i));
  const n = Math.min(rounds ?? Infinity, ds.timestamps[0]?.length ?? 0);
  const out: RemoteWriteBatch[] = [];
  let pending: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const pb = writeRequestType.encode(writeRequestType.fromObject({ timeseries: pending })).finish();
    out.push({ body: new Uint8Array(snappy.compress(pb)), samples: pending.length, series: pending.length });
    pending = [];
  };
  for (let r = 0; r < n; r++) {
    for (let t = 0; t < ds.targets; t++) {
      const ts = ds.timestamps[t]![r]!;
      for (const s of byTarget[t]!) {
        pending.push({ labels: labelObjs[indexOf.get(s)!]!, samples: [{ value: s.values[r]!, timestamp: ts }] });
        if (pending.length >= maxSamplesPerRequest) flush();
      }
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scrape-ordered iteration (what a head sees from a scrape loop): one call per target scrape.

export function forEachScrape(ds: Dataset, fn: (target: number, t: number, series: readonly GeneratedSeries[], round: number) => void): void {
  const byTarget: GeneratedSeries[][] = Array.from({ length: ds.targets }, () => []);
  for (const s of ds.series) byTarget[s.target]!.push(s);
  const rounds = ds.timestamps[0]?.length ?? 0;
  for (let r = 0; r < rounds; r++) {
    for (let t = 0; t < ds.targets; t++) fn(t, ds.timestamps[t]![r]!, byTarget[t]!, r);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers the benchmark scripts share.

/** A positive Prometheus duration ("2h", "90m", "1h30m", "45s") → milliseconds. */
export function parseDuration(s: string): number {
  const ms = parsePrometheusDuration(s);
  if (ms <= 0) throw new Error(`bad duration ${JSON.stringify(s)}: must be longer than 0`);
  return ms;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string, def: string): string => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return def;
    const a = args[i]!;
    return a.includes("=") ? a.slice(a.indexOf("=") + 1) : (args[i + 1] ?? def);
  };
  const out = flag("out", "bench-data.om");
  const started = performance.now();
  const ds = generate({ series: Number(flag("series", "1000")), durationMs: parseDuration(flag("duration", "2h")), seed: Number(flag("seed", "1")) });
  const bytes = await writeOpenMetrics(ds, out);
  console.log(
    `${out}: ${ds.series.length} series, ${ds.samples} samples, ${(bytes / 1048576).toFixed(1)} MiB, ` +
      `${new Date(ds.startMs).toISOString()} .. ${new Date(ds.endMs).toISOString()} in ${((performance.now() - started) / 1000).toFixed(1)}s`,
  );
}
