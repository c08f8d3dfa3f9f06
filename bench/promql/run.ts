#!/usr/bin/env bun
/**
 * PromQL benchmark: the same generated data loaded into Shoal (`shoal tsdb import`) and into
 * Prometheus (`promtool tsdb create-blocks-from openmetrics`), both servers started on those data
 * directories, then a set of representative range queries timed through each one's
 * /api/v1/query_range over the same range and step. Median of several runs after one warm-up;
 * the results of the two servers are compared too (series count and every value, relative 1e-6).
 *
 *   bun bench/promql/run.ts [--quick] [--series 20000] [--duration 2h] [--step 60] [--runs 5]
 *                           [--shoal-binary dist/shoal] [--query 'EXPR'] [--keep]
 *
 * --query replaces the built-in set with one expression (to time or compare it alone).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate, parseDuration, writeOpenMetrics } from "../generator.ts";
import {
  benchDir,
  Flags,
  freePort,
  machineLine,
  markdownTable,
  median,
  repoRoot,
  runCommand,
  SHOAL_ISOLATION_FLAGS,
  shoalCommand,
  startServer,
  which,
  type Server,
} from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 5000 : 20_000);
const durationMs = parseDuration(flags.str("duration", quick ? "1h" : "2h"));
const stepSeconds = flags.num("step", 60);
const runs = flags.num("runs", quick ? 3 : 5);
const { dir: work, cleanup } = benchDir("promql", flags.has("keep"));
const log = (msg: string): void => console.error(`[promql] ${msg}`);

/** What is measured: each a common shape of dashboard or alert query. */
const BUILTIN_QUERIES: { name: string; query: string }[] = [
  { name: "sum by rate (≈10k bucket series at full size)", query: "sum by (job) (rate(http_request_duration_seconds_bucket[5m]))" },
  { name: "histogram_quantile over buckets", query: "histogram_quantile(0.9, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))" },
  { name: "regex selector on labels", query: 'sum by (handler) (rate(http_requests_total{handler=~"/api/v1/query.*", code!~"5.."}[5m]))' },
  { name: "regex on metric name", query: 'count by (job) ({__name__=~"node_.+", instance=~"host-00[0-4].*"})' },
  { name: "topk", query: "topk(5, rate(http_requests_total[5m]))" },
  { name: "subquery", query: "max_over_time(sum by (job) (rate(http_requests_total[1m]))[30m:1m])" },
  { name: "binary op with on()", query: "sum by (instance) (rate(process_cpu_seconds_total[5m])) / on(instance) group_left() sum by (instance) (rate(http_requests_total[5m]))" },
  { name: "avg_over_time gauges", query: "avg by (job) (avg_over_time(process_resident_memory_bytes[10m]))" },
];

const custom = flags.get("query");
const QUERIES = custom !== undefined ? [{ name: "custom (--query)", query: custom }] : BUILTIN_QUERIES;

interface Timing {
  ms: number[];
  /** The warm-up run: nothing of this query cached yet (Shoal's decoded chunks, say). */
  first: number;
  series: number;
  error: string;
  body: unknown;
}

interface Matrix {
  metric: Record<string, string>;
  values: [number, string][];
}

/** One timed run of a query; the answer is kept (the last run's) for the comparison. */
async function runOnce(server: Server, t: Timing, query: string, start: number, end: number, record: boolean): Promise<void> {
  if (t.error !== "") return;
  const form = new URLSearchParams({ query, start: String(start / 1000), end: String(end / 1000), step: String(stepSeconds) });
  const began = performance.now();
  const res = await fetch(`${server.url}/api/v1/query_range`, {
    method: "POST",
    body: form,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const text = await res.text();
  const ms = performance.now() - began;
  if (record) t.ms.push(ms);
  else t.first = ms;
  let body: { status?: string; error?: string; data?: { result?: Matrix[] } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    t.error = `HTTP ${res.status}: ${text.slice(0, 200)}`;
    return;
  }
  if (body.status !== "success") {
    t.error = `HTTP ${res.status}: ${body.error ?? text.slice(0, 200)}`;
    return;
  }
  t.series = body.data?.result?.length ?? 0;
  t.body = body.data?.result ?? [];
}

/** Compares two matrices: same series, same steps, values equal to a relative 1e-6. */
function compare(a: unknown, b: unknown): string {
  if (!Array.isArray(a) || !Array.isArray(b)) return "n/a";
  const key = (m: Matrix): string => JSON.stringify(Object.entries(m.metric).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const bm = new Map((b as Matrix[]).map((m) => [key(m), m] as const));
  if (a.length !== b.length) return `differs: ${a.length} vs ${b.length} series`;
  let bad = 0;
  let first = "";
  for (const m of a as Matrix[]) {
    const o = bm.get(key(m));
    if (o === undefined) {
      bad++;
      first ||= `series ${key(m)} only in Shoal`;
      continue;
    }
    if (o.values.length !== m.values.length) {
      bad++;
      first ||= `${m.values.length} vs ${o.values.length} points`;
      continue;
    }
    for (let i = 0; i < m.values.length; i++) {
      const [ta, va] = m.values[i]!;
      const [tb, vb] = o.values[i]!;
      const x = Number(va);
      const y = Number(vb);
      const same = ta === tb && (x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y)));
      if (!same) {
        bad++;
        first ||= `t=${ta}: ${va} vs ${vb}`;
        break;
      }
    }
  }
  return bad === 0 ? "same" : `differs in ${bad} series (first: ${first})`;
}

async function main(): Promise<void> {
  if (!which("prometheus") || !which("promtool")) throw new Error("prometheus and promtool are needed: install Debian's prometheus package");
  log(`work dir ${work}`);
  const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
  const file = join(work, "data.om");
  await writeOpenMetrics(ds, file);
  log(`generated ${ds.series.length} series, ${ds.samples} samples`);

  const shoalDir = join(work, "shoal");
  const promDir = join(work, "prometheus");
  log("loading Shoal (shoal tsdb import)");
  const shoalLoad = await runCommand([...shoalCommand(flags), "tsdb", "import", file, `--storage.tsdb.path=${shoalDir}`], { cwd: repoRoot });
  log("loading Prometheus (promtool tsdb create-blocks-from openmetrics)");
  const promLoad = await runCommand(["promtool", "tsdb", "create-blocks-from", "openmetrics", file, promDir]);

  const promConfig = join(work, "prometheus.yml");
  writeFileSync(promConfig, "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
  const shoalPort = freePort();
  const promPort = freePort();
  const shoal = await startServer({
    name: "shoal",
    cmd: [...shoalCommand(flags), `--web.listen-address=127.0.0.1:${shoalPort}`, `--storage.tsdb.path=${shoalDir}`, "--log.level=warn", ...SHOAL_ISOLATION_FLAGS],
    url: `http://127.0.0.1:${shoalPort}`,
    readyPath: "/-/ready",
    logFile: join(work, "shoal.log"),
    cwd: work,
  });
  const prom = await startServer({
    name: "prometheus",
    cmd: ["prometheus", `--config.file=${promConfig}`, `--storage.tsdb.path=${promDir}`, `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn"],
    url: `http://127.0.0.1:${promPort}`,
    readyPath: "/-/ready",
    logFile: join(work, "prometheus.log"),
  });

  // The whole data set less its first half hour (so 30m windows are full), aligned to the step.
  const stepMs = stepSeconds * 1000;
  const start = Math.ceil((ds.startMs + Math.min(30 * 60_000, durationMs / 4)) / stepMs) * stepMs;
  const end = Math.floor((ds.endMs - 15_000) / stepMs) * stepMs;
  const rows: string[][] = [];
  let slower = 0;
  try {
    for (const q of QUERIES) {
      log(q.query);
      // One warm-up run each, then the servers take turns, so that a burst of load from other
      // processes on the machine falls on both alike.
      const a: Timing = { ms: [], first: NaN, series: 0, error: "", body: null };
      const b: Timing = { ms: [], first: NaN, series: 0, error: "", body: null };
      for (let i = 0; i <= runs; i++) {
        await runOnce(shoal, a, q.query, start, end, i > 0);
        await runOnce(prom, b, q.query, start, end, i > 0);
      }
      const ma = a.error === "" ? median(a.ms) : NaN;
      const mb = b.error === "" ? median(b.ms) : NaN;
      if (!(ma <= mb)) slower++;
      rows.push([
        q.name,
        a.error === "" ? ma.toFixed(1) : "error",
        b.error === "" ? mb.toFixed(1) : "error",
        Number.isFinite(ma / mb) ? (ma / mb).toFixed(2) : "n/a",
        `${a.first.toFixed(0)} / ${b.first.toFixed(0)}`,
        `${a.series} / ${b.series}`,
        a.error !== "" ? a.error.slice(0, 80) : b.error !== "" ? b.error.slice(0, 80) : compare(a.body, b.body),
      ]);
    }
  } finally {
    await shoal.stop();
    await prom.stop();
  }

  const steps = (end - start) / stepMs + 1;
  const out: string[] = [];
  out.push(
    `Data: ${ds.series.length} series × ${durationMs / 3_600_000}h at 15 s = ${ds.samples} samples; range ${(end - start) / 60_000} min, ` +
      `step ${stepSeconds}s (${steps} steps); median of ${runs} runs after a warm-up; ${machineLine()}`,
  );
  out.push(`Load: shoal tsdb import ${shoalLoad.seconds.toFixed(1)} s, promtool create-blocks-from ${promLoad.seconds.toFixed(1)} s`);
  out.push("");
  out.push(markdownTable(["query", "Shoal ms", "Prometheus ms", "Shoal/Prom", "first run ms (Shoal / Prom)", "series (Shoal / Prom)", "results"], rows));
  out.push("");
  out.push("Queries:");
  for (const q of QUERIES) out.push(`- ${q.name}: \`${q.query}\``);
  out.push("");
  out.push(slower === 0 ? "Target met: every query at or below Prometheus's time." : `Target missed on ${slower} of ${QUERIES.length} queries.`);
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  cleanup();
}
