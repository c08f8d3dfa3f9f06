#!/usr/bin/env bun
/**
 * Cluster reads benchmark: the same generated data remote-written into one node and into a
 * 3-node cluster at R=3 on this machine, then a few heavy dashboard queries timed through node 1
 * of each (60 s step over the whole range), median of several runs after one warm-up, side by
 * side. CPU seconds per node are read from /proc over the timed runs, and the two answers are
 * compared (series count and every value, relative 1e-9), so a faster cluster answer is also a
 * right one.
 *
 *   bun bench/cluster-reads/run.ts [--quick] [--series 10000] [--duration 4h] [--runs 5]
 *                                  [--senders 4] [--batch 2000] [--query 'EXPR'] [--r1] [--no-every-replica] [--quiet-period 20s]
 *                                  [--shoal-binary dist/shoal] [--baseline-binary PATH] [--keep]
 *
 * The 3-node R=3 cluster runs with --cluster.read-one-replica.quiet-period set to --quiet-period
 * (the queries start once it has passed), beside one that reads every replica always
 * (--no-cluster.read-one-replica). --r1 adds a 3-node cluster at R=1. --baseline-binary adds each cluster setup once more, run by
 * another build (an executable taking Shoal's flags: a compiled binary, or a script running
 * `bun OTHER_TREE/src/cli.ts "$@"`), so a change is measured against what it changes in one run,
 * the queries alternating between the two. The per-member statistics of one cluster run
 * (`stats=all`) are printed after the table when the server reports them.
 */
import { resolve } from "node:path";
import { generate, parseDuration, remoteWriteBatches, type Dataset, type RemoteWriteBatch } from "../generator.ts";
import { benchDir, cpuSeconds, Flags, fmtNum, machineLine, markdownTable, median, shoalCommand, startShoalCluster, waitIdle, type Server } from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 2000 : 10_000);
const durationMs = parseDuration(flags.str("duration", quick ? "1h" : "4h"));
const runs = flags.num("runs", quick ? 3 : 5);
const senders = flags.num("senders", 4);
const batchSamples = flags.num("batch", 2000);
const stepSeconds = 60;
const { dir: work, cleanup } = benchDir("cluster-reads", flags.has("keep"));
const log = (msg: string): void => console.error(`[cluster-reads] ${msg}`);
const clusterName = `bench-reads-${process.pid}`;

const BUILTIN_QUERIES = [
  "sum by (job) (rate(http_requests_total[5m]))",
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  'count by (job) (count_over_time({job=~".+"}[10m]))',
];
const custom = flags.get("query");
const QUERIES = custom !== undefined ? [custom] : BUILTIN_QUERIES;

interface Setup {
  label: string;
  nodes: Server[];
}

interface Layout {
  label: string;
  nodes: number;
  rf: number;
  cmd: string[];
  /** Flags added to every node of this setup. */
  extra?: string[];
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

interface QueryAnswer {
  status: string;
  error?: string;
  warnings?: string[];
  data?: { result: MatrixSeries[]; stats?: unknown };
}


async function startSetup({ label, nodes, rf, cmd, extra = [] }: Layout): Promise<Setup> {
  const slug = label.replace(/[^a-z0-9]+/gi, "-");
  return { label, nodes: await startShoalCluster({ label: slug, work, cmd, clusterName, nodes, replicationFactor: rf, extra }) };
}

/** Sends every request once, in order per sender, round robin over the nodes. */
async function send(nodes: Server[], shards: RemoteWriteBatch[][]): Promise<{ samples: number; seconds: number }> {
  const headers = { "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0" };
  let samples = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    shards.map(async (batches) => {
      for (const b of batches) {
        const node = nodes[next++ % nodes.length]!;
        const res = await fetch(node.url + "/api/v1/write", { method: "POST", body: b.body, headers });
        if (res.status < 200 || res.status >= 300) throw new Error(`remote write to ${node.name}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
        await res.arrayBuffer();
        samples += b.samples;
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}


function shardPayloads(ds: Dataset): RemoteWriteBatch[][] {
  const shards: RemoteWriteBatch[][] = [];
  for (let s = 0; s < senders; s++) {
    const keep = new Set<number>();
    for (let t = s; t < ds.targets; t += senders) keep.add(t);
    shards.push(remoteWriteBatches({ ...ds, series: ds.series.filter((x) => keep.has(x.target)) }, batchSamples));
  }
  return shards;
}

function queryURL(node: Server, ds: Dataset, query: string, stats = false): string {
  const p = new URLSearchParams({ query, start: String(ds.startMs / 1000), end: String(ds.endMs / 1000), step: String(stepSeconds) });
  if (stats) p.set("stats", "all");
  return `${node.url}/api/v1/query_range?${p}`;
}

async function runQuery(url: string): Promise<{ ms: number; answer: QueryAnswer }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const answer = (await res.json()) as QueryAnswer;
  const ms = performance.now() - t0;
  if (answer.status !== "success") throw new Error(`query failed (${res.status}): ${answer.error}`);
  return { ms, answer };
}

/** Differences between two matrices: series by label set, every point, relative 1e-9. */
function compareAnswers(a: MatrixSeries[], b: MatrixSeries[]): string {
  const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());
  const bm = new Map(b.map((s) => [key(s.metric), s]));
  if (a.length !== b.length) return `${a.length} vs ${b.length} series`;
  let bad = 0;
  for (const s of a) {
    const o = bm.get(key(s.metric));
    if (!o || o.values.length !== s.values.length) {
      bad++;
      continue;
    }
    for (let i = 0; i < s.values.length; i++) {
      const [t1, v1] = s.values[i]!;
      const [t2, v2] = o.values[i]!;
      const x = Number(v1);
      const y = Number(v2);
      const same = t1 === t2 && (x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)));
      if (!same) {
        bad++;
        break;
      }
    }
  }
  return bad === 0 ? "equal" : `${bad} series differ`;
}

const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
log(`${ds.series.length} series, ${ds.samples} samples; encoding remote-write requests`);
const shards = shardPayloads(ds);

const shoal = shoalCommand(flags);
// Reads from one replica per range start once the cluster has been quiet for the quiet period
// (15 minutes by default, to cover anti-entropy's repairs after a change); a benchmark measures
// a quiet cluster after a shorter one, beside the path every read takes before it.
const quietPeriod = flags.str("quiet-period", "20s");
const quiet = [`--cluster.read-one-replica.quiet-period=${quietPeriod}`];
const layouts: Layout[] = [
  { label: "one node", nodes: 1, rf: 1, cmd: shoal },
  { label: "3 nodes, R=3", nodes: 3, rf: 3, cmd: shoal, extra: quiet },
];
// Left out of large runs (--no-every-replica): it holds a third copy of the data in memory.
if (!flags.has("no-every-replica")) layouts.push({ label: "3 nodes, R=3, every replica", nodes: 3, rf: 3, cmd: shoal, extra: ["--no-cluster.read-one-replica"] });
if (flags.has("r1")) layouts.push({ label: "3 nodes, R=1", nodes: 3, rf: 1, cmd: shoal, extra: quiet });
const baseline = flags.get("baseline-binary");
if (baseline !== undefined) {
  for (const l of layouts.slice(1)) layouts.push({ ...l, label: `${l.label}, baseline`, cmd: [resolve(baseline)], extra: [] });
}

const setups: Setup[] = [];
const rows: string[][] = [];
const notes: string[] = [];
try {
  // Every setup is loaded first and then the queries alternate between them, so a change in the
  // shared machine's load falls on all columns alike.
  for (const layout of layouts) {
    const label = layout.label;
    log(`${label}: starting and writing`);
    const setup = await startSetup(layout);
    setups.push(setup);
    const w = await send(setup.nodes, shards);
    log(`${label}: ${fmtNum(w.samples / w.seconds)} samples/s written; waiting for the nodes to settle`);
    await waitIdle(setup.nodes);
  }
  log(`waiting ${quietPeriod} for the clusters to be quiet`);
  await Bun.sleep(parseDuration(quietPeriod) + 2000);
  for (const query of QUERIES) {
    const times = setups.map((): number[] => []);
    const cpu = setups.map((s) => s.nodes.map(() => 0));
    const answers: MatrixSeries[][] = [];
    for (let r = 0; r <= runs; r++) {
      for (let k = 0; k < setups.length; k++) {
        const s = setups[k]!;
        const cpu0 = s.nodes.map((x) => cpuSeconds(x.pid));
        const { ms, answer } = await runQuery(queryURL(s.nodes[0]!, ds, query));
        if (r === 0) {
          // The warm-up run: its answer is the one compared.
          answers[k] = answer.data?.result ?? [];
          if (answer.warnings?.length) notes.push(`${s.label}, \`${query}\`: warnings ${JSON.stringify(answer.warnings)}`);
          continue;
        }
        times[k]!.push(ms);
        s.nodes.forEach((x, i) => (cpu[k]![i]! += cpuSeconds(x.pid) - cpu0[i]!));
      }
    }
    const row = [`\`${query}\``];
    for (let k = 0; k < setups.length; k++) row.push(`${fmtNum(median(times[k]!), 0)} ms`);
    for (let k = 0; k < setups.length; k++) row.push(cpu[k]!.map((c) => fmtNum(c / runs, 2)).join(" / "));
    row.push(setups.slice(1).map((_, k) => compareAnswers(answers[0]!, answers[k + 1]!)).join(", "));
    rows.push(row);
    log(row.join(" | "));
  }
  // One run with per-member statistics, for explaining where a cluster query spends its time.
  for (const s of setups.slice(1)) {
    const { answer } = await runQuery(queryURL(s.nodes[0]!, ds, QUERIES[0]!, true));
    const stats = answer.data?.stats as { cluster?: unknown } | undefined;
    if (stats?.cluster !== undefined) notes.push(`${s.label}, \`${QUERIES[0]}\`, stats=all cluster: ${JSON.stringify(stats.cluster)}`);
  }
} finally {
  for (const s of setups) for (const n of s.nodes) await n.stop();
  cleanup();
}

const header = [
  "query",
  ...setups.map((s) => s.label),
  ...setups.map((s) => `CPU s per run, per node (${s.label})`),
  "answers vs one node",
];
console.log(
  [
    `Machine: ${machineLine()}`,
    `Data: ${ds.series.length} series × ${durationMs / 60_000} min at 15 s = ${ds.samples} samples, remote-written (${senders} senders, ${batchSamples} samples per request).`,
    `Queries through node 1, range over the whole data, step ${stepSeconds} s, median of ${runs} after one warm-up.`,
    "",
    markdownTable(header, rows),
    ...(notes.length ? ["", ...notes] : []),
  ].join("\n"),
);
