#!/usr/bin/env bun
/**
 * Cluster benchmark: remote-write throughput into 1 node, 3 nodes at R=1 and 3 nodes at R=3;
 * the time from a SIGKILL to the member being marked dead (default timing: 1 s heartbeats,
 * dead after 6 s); the latency a fan-out query adds over the same query on a single node.
 *
 *   bun bench/cluster/run.ts [--quick] [--series N] [--duration 30m] [--senders 4] [--batch 2000]
 *                            [--query-runs 7] [--shoal-binary dist/shoal] [--keep]
 *
 * All nodes run on this machine (and share its cores), on 127.0.0.1. Requests are sent in order
 * per sender (a shard of targets), each to the next node round robin, so no node sees an
 * out-of-order sample. Throughput counts acknowledged samples over the wall time of the send;
 * CPU is the sum over all nodes.
 */
import { generate, parseDuration, remoteWriteBatches, type Dataset, type RemoteWriteBatch } from "../generator.ts";
import { benchDir, clusterMembers, cpuSeconds, Flags, fmtNum, machineLine, markdownTable, median, shoalCommand, startShoalCluster, type Server } from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 1000 : 4000);
const durationMs = parseDuration(flags.str("duration", quick ? "20m" : "1h"));
const senders = flags.num("senders", 4);
const batchSamples = flags.num("batch", 2000);
const queryRuns = flags.num("query-runs", quick ? 5 : 9);
const { dir: work, cleanup } = benchDir("cluster", flags.has("keep"));
const log = (msg: string): void => console.error(`[cluster] ${msg}`);
const clusterName = `bench-${process.pid}`;

function shardPayloads(ds: Dataset): RemoteWriteBatch[][] {
  const shards: RemoteWriteBatch[][] = [];
  for (let s = 0; s < senders; s++) {
    const keep = new Set<number>();
    for (let t = s; t < ds.targets; t += senders) keep.add(t);
    shards.push(remoteWriteBatches({ ...ds, series: ds.series.filter((x) => keep.has(x.target)) }, batchSamples));
  }
  return shards;
}


async function startCluster(label: string, n: number, rf: number): Promise<Server[]> {
  return startShoalCluster({ label, work, cmd: shoalCommand(flags), clusterName, nodes: n, replicationFactor: rf });
}

async function send(nodes: Server[], shards: RemoteWriteBatch[][]): Promise<{ samples: number; seconds: number; cpu: number; errors: number; firstError: string }> {
  const headers = { "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0" };
  let samples = 0;
  let errors = 0;
  let firstError = "";
  let next = 0;
  const cpu0 = nodes.reduce((x, s) => x + cpuSeconds(s.pid), 0);
  const started = performance.now();
  await Promise.all(
    shards.map(async (batches) => {
      for (const b of batches) {
        const node = nodes[next++ % nodes.length]!;
        const res = await fetch(node.url + "/api/v1/write", { method: "POST", body: b.body, headers });
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
  await Bun.sleep(500);
  const cpu = nodes.reduce((x, s) => x + cpuSeconds(s.pid), 0) - cpu0;
  return { samples, seconds, cpu, errors, firstError };
}

const QUERY = "sum by (handler) (rate(http_requests_total[5m]))";

async function queryLatencyMs(node: Server, ds: Dataset): Promise<number> {
  const params = new URLSearchParams({ query: QUERY, start: String(ds.startMs / 1000), end: String(ds.endMs / 1000), step: "60" });
  const times: number[] = [];
  for (let i = 0; i < queryRuns + 1; i++) {
    const t0 = performance.now();
    const res = await fetch(`${node.url}/api/v1/query_range?${params}`);
    const body = (await res.json()) as { status: string; error?: string };
    if (body.status !== "success") throw new Error(`query failed: ${body.error}`);
    if (i > 0) times.push(performance.now() - t0); // the first run warms up
  }
  return median(times);
}

async function deadDetectionMs(nodes: Server[]): Promise<number> {
  const victim = nodes[nodes.length - 1]!;
  const victimName = victim.name;
  victim.proc.kill("SIGKILL");
  const t0 = performance.now();
  await victim.proc.exited;
  for (;;) {
    const m = (await clusterMembers(nodes[0]!)).find((x) => x.name === victimName);
    if (m?.health === "dead") return performance.now() - t0;
    await Bun.sleep(25);
  }
}

const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
const shards = shardPayloads(ds);
log(`${ds.series.length} series, ${ds.samples} samples, ${shards.reduce((n, s) => n + s.length, 0)} requests over ${senders} senders`);

const rows: string[][] = [];
const latency: Record<string, number> = {};
let deadMs = NaN;
try {
  for (const [label, n, rf] of [
    ["1 node", 1, 1],
    ["3 nodes, R=1", 3, 1],
    ["3 nodes, R=3", 3, 3],
  ] as const) {
    log(`${label}: starting`);
    const nodes = await startCluster(label.replace(/[^a-z0-9]+/gi, "-"), n, rf);
    try {
      const r = await send(nodes, shards);
      log(`${label}: ${fmtNum(r.samples / r.seconds)} samples/s, ${r.errors} errors ${r.firstError}`);
      rows.push([label, fmtNum(r.samples / r.seconds), fmtNum((r.cpu / r.samples) * 1e6), String(r.errors)]);
      if (n === 1 || rf === 3) latency[label] = await queryLatencyMs(nodes[0]!, ds);
      if (rf === 3) deadMs = await deadDetectionMs(nodes);
    } finally {
      for (const s of nodes) await s.stop();
    }
  }
} finally {
  cleanup();
}

const out = [
  `Machine: ${machineLine()}`,
  `Data: ${ds.series.length} series × ${durationMs / 60_000} min at 15 s = ${ds.samples} samples, ${senders} senders, ${batchSamples} samples per request.`,
  "",
  markdownTable(["setup", "samples/s", "CPU s per 1M samples (all nodes)", "errors"], rows),
  "",
  `Fan-out query latency (\`${QUERY}\` over the whole range, step 60 s, median of ${queryRuns}):`,
  `1 node ${fmtNum(latency["1 node"] ?? NaN)} ms, 3 nodes at R=3 ${fmtNum(latency["3 nodes, R=3"] ?? NaN)} ms ` +
    `(+${fmtNum((latency["3 nodes, R=3"] ?? NaN) - (latency["1 node"] ?? NaN))} ms).`,
  `SIGKILL → marked dead (default 1 s heartbeats, --cluster.dead-timeout=6s): ${fmtNum(deadMs / 1000)} s.`,
].join("\n");
console.log(out);
