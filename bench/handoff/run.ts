#!/usr/bin/env bun
/**
 * Hand-off benchmark (issue 6): a 3-node cluster at R=3 holding a data set of at least 10
 * million samples (bench/generator, loaded by remote write), then
 *   1. a join: a 4th node pulls the series it now owns — samples/s and bytes/s moved, time
 *      from the process start until it is `active`;
 *   2. a graceful leave (POST /api/v1/cluster/leave) of one of the original nodes — the same
 *      figures, and the time until the process exited;
 *   3. another join (back to 4 nodes), then a SIGKILL — the time until every range is back to R
 *      copies (the status JSON's under-replicated fraction and `handoff` counters, and
 *      /metrics' shoal_cluster_ranges_under_replicated), and what was copied meanwhile;
 *   4. the killed node restarted on its data directory — time until `active` and what it moved
 *      (it compares digests with the owners and pulls only what differs).
 * Moved samples and bytes are the increase of shoal_cluster_handoff_samples_total and
 * shoal_cluster_handoff_bytes_total{direction="in"} summed over the nodes still running; the
 * rates divide them by the transfer window (first inbound transfer's start to the last one's
 * end, from `handoff.recent` in the status JSON), the `seconds` column is the whole event.
 *
 *   bun bench/handoff/run.ts [--series 21000] [--duration 2h] [--senders 4] [--batch 2000]
 *                            [--max-bytes-per-second 0] [--shoal-binary dist/shoal] [--keep] [--quick]
 *
 * Default cluster timing (1 s heartbeats, dead after 6 s), so the SIGKILL figure includes the
 * failure detection. All nodes share this machine's cores, on 127.0.0.1.
 */
import { join } from "node:path";
import { generate, parseDuration, remoteWriteBatches, type Dataset } from "../generator.ts";
import { benchDir, dirBytes, Flags, fmtNum, freePort, machineLine, markdownTable, shoalCommand, startServer, type Server } from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const seriesWanted = flags.num("series", quick ? 2000 : 21000);
const durationMs = parseDuration(flags.str("duration", quick ? "30m" : "2h"));
const senders = flags.num("senders", 4);
const batchSamples = flags.num("batch", 2000);
const maxBps = flags.num("max-bytes-per-second", 0);
const { dir: work, cleanup } = benchDir("handoff", flags.has("keep"));
const log = (msg: string): void => console.error(`[handoff] ${msg}`);
const clusterName = `bench-handoff-${process.pid}`;
const R = 3;
const TIMEOUT_MS = 30 * 60_000;

interface Member {
  name: string;
  state: string;
  health: string;
  self: boolean;
  addresses: string[];
}
interface Status {
  members: Member[];
  replication?: { underReplicatedFraction?: number; unavailableFraction?: number };
  handoff?: { state: string; underReplicatedRanges: number; transfers: { state: string }[] };
}

async function status(s: Server): Promise<Status> {
  const r = (await (await fetch(`${s.url}/api/v1/status/cluster`, { signal: AbortSignal.timeout(10_000) })).json()) as { data: Status };
  return r.data;
}

/** Sum of a metric family's samples whose labels contain every `want` pair. */
async function metricSum(s: Server, name: string, want: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!(line.startsWith(name + " ") || line.startsWith(name + "{"))) continue;
    if (!Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Samples and bytes received by hand-off transfers, summed over `nodes`. */
async function movedIn(nodes: Server[]): Promise<{ samples: number; bytes: number; series: number }> {
  let samples = 0;
  let bytes = 0;
  let series = 0;
  for (const n of nodes) {
    samples += await metricSum(n, "shoal_cluster_handoff_samples_total", { direction: "in" });
    bytes += await metricSum(n, "shoal_cluster_handoff_bytes_total", { direction: "in" });
    series += await metricSum(n, "shoal_cluster_handoff_series_total", { direction: "in" });
  }
  return { samples, bytes, series };
}

let nodeCount = 0;
/** Starts a new node, or (with `restart`) a stopped one again on its data directory. */
async function startNode(joinVia: Server | undefined, restart?: string): Promise<Server> {
  const port = freePort();
  const name = restart ?? `n${++nodeCount}`;
  const joinArgs: string[] = [];
  if (joinVia) {
    const self = (await status(joinVia)).members.find((m) => m.self)!;
    const m = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(self.addresses.join(" "))!;
    joinArgs.push(`--cluster.join=127.0.0.1:${m[1]}`);
  }
  return startServer({
    name,
    cmd: [
      ...shoalCommand(flags),
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(work, name)}`,
      "--log.level=warn",
      "--cluster.listen-address=127.0.0.1:0",
      "--cluster.mdns=false",
      // The graceful leave is asked for through POST /api/v1/cluster/leave.
      "--web.enable-lifecycle",
      `--cluster.name=${clusterName}`,
      `--cluster.node-name=${name}`,
      `--cluster.replication-factor=${R}`,
      ...(maxBps > 0 ? [`--cluster.handoff.max-bytes-per-second=${maxBps}`] : []),
      ...joinArgs,
    ],
    url: `http://127.0.0.1:${port}`,
    readyPath: "/-/ready",
    logFile: join(work, `${name}.log`),
    cwd: work,
  });
}

async function until(what: string, fn: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch {
      // a node busy or restarting: ask again
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Every node sees exactly `names` alive and active, its hand-off is idle and no range it
 * re-replicates is short of R copies. (`replication.underReplicatedFraction` is not used: it
 * counts a dead member's ranges until the member returns.)
 */
async function settled(nodes: Server[]): Promise<boolean> {
  const names = nodes.map((n) => n.name).sort().join();
  for (const n of nodes) {
    const s = await status(n);
    const live = s.members.filter((m) => m.health === "alive" && m.state === "active").map((m) => m.name).sort().join();
    if (live !== names) return false;
    const h = s.handoff;
    if (!h || h.state !== "idle" || h.underReplicatedRanges > 0 || h.transfers.some((t) => t.state !== "done")) return false;
    if ((await metricSum(n, "shoal_cluster_ranges_under_replicated")) > 0) return false;
  }
  return true;
}

/** Loads the data set in slices of scrape rounds, so that at most one slice's requests are in memory. */
async function load(nodes: Server[], ds: Dataset): Promise<{ samples: number; seconds: number }> {
  const headers = { "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0" };
  const rounds = ds.timestamps[0]!.length;
  const slice = 20;
  let samples = 0;
  let next = 0;
  const started = performance.now();
  for (let r0 = 0; r0 < rounds; r0 += slice) {
    const r1 = Math.min(rounds, r0 + slice);
    const view: Dataset = {
      ...ds,
      timestamps: ds.timestamps.map((t) => t.subarray(r0, r1)),
      series: ds.series.map((s) => ({ ...s, values: s.values.subarray(r0, r1) })),
    };
    // Each target's scrapes go through one sender, in order.
    const shards: ReturnType<typeof remoteWriteBatches>[] = [];
    for (let k = 0; k < senders; k++) {
      const keep = new Set<number>();
      for (let t = k; t < ds.targets; t += senders) keep.add(t);
      shards.push(remoteWriteBatches({ ...view, series: view.series.filter((x) => keep.has(x.target)) }, batchSamples));
    }
    await Promise.all(
      shards.map(async (batches) => {
        for (const b of batches) {
          for (let attempt = 0; ; attempt++) {
            const node = nodes[next++ % nodes.length]!;
            const res = await fetch(node.url + "/api/v1/write", { method: "POST", body: b.body, headers });
            const text = await res.text();
            if (res.status >= 200 && res.status < 300) break;
            if (res.status < 500 || attempt > 20) throw new Error(`remote write refused: ${res.status} ${text.slice(0, 200)}`);
            await Bun.sleep(200);
          }
          samples += b.samples;
        }
      }),
    );
    if ((r0 / slice) % 10 === 0) log(`loaded ${fmtNum(samples)} of ${fmtNum(ds.samples)} samples`);
  }
  return { samples, seconds: (performance.now() - started) / 1000 };
}

/** Samples the cluster answers for the whole data set (a fan-out query through `node`). */
async function answeredSamples(node: Server, ds: Dataset): Promise<number> {
  const rangeS = Math.ceil((ds.endMs - ds.startMs) / 1000) + 60;
  const q = `sum(count_over_time({__name__=~".+",job!=""}[${rangeS}s]))`;
  const res = await fetch(`${node.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${(ds.endMs + 30_000) / 1000}`);
  const body = (await res.json()) as { status: string; error?: string; warnings?: string[]; data: { result: { value: [number, string] }[] } };
  if (body.status !== "success") throw new Error(`count query failed: ${body.error}`);
  if (body.warnings?.length) throw new Error(`count query warned: ${body.warnings.join("; ")}`);
  return Number(body.data.result[0]?.value[1] ?? 0);
}

interface Row {
  event: string;
  seconds: number;
  until: string;
  moved: { samples: number; bytes: number; series: number };
  /** From the first transfer's start to the last one's end (the status JSON's `handoff.recent`). */
  transferSeconds: number;
}

interface Transfer {
  id: string;
  direction: string;
  state: string;
  startedAt: string;
  updatedAt: string;
}

/** Seconds between the first start and the last update of the inbound transfers begun after `sinceMs`. */
async function transferWindow(nodes: Server[], sinceMs: number): Promise<number> {
  let first = Infinity;
  let last = -Infinity;
  for (const n of nodes) {
    const h = (await status(n)).handoff as unknown as { recent?: Transfer[]; transfers?: Transfer[] } | undefined;
    for (const t of [...(h?.recent ?? []), ...(h?.transfers ?? [])]) {
      const start = Date.parse(t.startedAt);
      if (t.direction !== "in" || start < sinceMs) continue;
      first = Math.min(first, start);
      last = Math.max(last, Date.parse(t.updatedAt));
    }
  }
  return last > first ? (last - first) / 1000 : NaN;
}

const ds = generate({ series: seriesWanted, durationMs, seed: flags.num("seed", 1) });
log(`${ds.series.length} series × ${ds.timestamps[0]!.length} rounds = ${ds.samples} samples`);
if (!quick && ds.samples < 10_000_000) throw new Error(`the data set has ${ds.samples} samples; issue 6 asks for at least 10 million`);

const rows: Row[] = [];
let loadFigure = "";
let finalCount = NaN;
const running: Server[] = [];
try {
  for (let i = 0; i < 3; i++) running.push(await startNode(running[0]));
  await until("3 nodes active", () => settled(running));
  const l = await load(running, ds);
  loadFigure = `${fmtNum(l.samples)} samples by remote write in ${l.seconds.toFixed(1)} s (${fmtNum(l.samples / l.seconds)} samples/s at R=3)`;
  log(loadFigure);
  const onDisk = running.map((n) => dirBytes(join(work, n.name)));
  log(`data directories: ${onDisk.map((b) => fmtNum(b / 2 ** 20)).join(", ")} MiB`);

  // 1. Join.
  {
    const before = await movedIn(running);
    const t0 = performance.now();
    const wall0 = Date.now();
    const d = await startNode(running[0]);
    running.push(d);
    await until("the new node active", async () => (await status(d)).members.find((m) => m.self)?.state === "active", 50);
    const seconds = (performance.now() - t0) / 1000;
    const after = await movedIn(running);
    rows.push({ event: `join (${d.name})`, seconds, until: "`active`", moved: diff(after, before), transferSeconds: await transferWindow(running, wall0) });
    await until("4 nodes settled", () => settled(running));
    log(`join: ${seconds.toFixed(1)} s`);
  }

  // 2. Graceful leave of an original node.
  {
    const leaver = running.shift()!;
    const before = await movedIn(running);
    const t0 = performance.now();
    const wall0 = Date.now();
    const res = await fetch(`${leaver.url}/api/v1/cluster/leave`, { method: "POST" });
    if (!res.ok) throw new Error(`POST /api/v1/cluster/leave: ${res.status} ${await res.text()}`);
    const code = await leaver.proc.exited;
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`${leaver.name} exited ${code} after its leave; log: ${leaver.logFile}`);
    const after = await movedIn(running);
    rows.push({ event: `graceful leave (${leaver.name})`, seconds, until: "process exited", moved: diff(after, before), transferSeconds: await transferWindow(running, wall0) });
    await until("3 nodes settled", () => settled(running));
    log(`leave: ${seconds.toFixed(1)} s`);
  }

  // 3. Back to 4 nodes, then a SIGKILL.
  {
    const before = await movedIn(running);
    const t0 = performance.now();
    const wall0 = Date.now();
    const e = await startNode(running[0]);
    running.push(e);
    await until("the new node active", async () => (await status(e)).members.find((m) => m.self)?.state === "active", 50);
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ event: `join (${e.name})`, seconds, until: "`active`", moved: diff(await movedIn(running), before), transferSeconds: await transferWindow(running, wall0) });
    await until("4 nodes settled", () => settled(running));
  }
  {
    const victim = running.shift()!;
    const before = await movedIn(running);
    const t0 = performance.now();
    const wall0 = Date.now();
    victim.proc.kill("SIGKILL");
    await victim.proc.exited;
    let deadAt = 0;
    await until("the victim dead and every range back to R copies", async () => {
      const s = await status(running[0]!);
      if (s.members.find((m) => m.name === victim.name)?.health !== "dead") return false;
      if (!deadAt) deadAt = performance.now();
      return settled(running);
    }, 50);
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      event: `SIGKILL (${victim.name})`,
      seconds,
      until: `R copies again (dead after ${((deadAt - t0) / 1000).toFixed(1)} s)`,
      moved: diff(await movedIn(running), before),
      transferSeconds: await transferWindow(running, wall0),
    });
    log(`SIGKILL: ${seconds.toFixed(1)} s`);

    // 4. The killed node restarts on its data directory: it compares digests with the owners
    // and pulls only what it missed (written while it was down), not its whole share.
    const before2 = await movedIn(running);
    const t1 = performance.now();
    const wall1 = Date.now();
    const back = await startNode(running[0], victim.name);
    running.push(back);
    await until("the restarted node active", async () => (await status(back)).members.find((m) => m.self)?.state === "active", 50);
    const seconds2 = (performance.now() - t1) / 1000;
    rows.push({
      event: `restart (${back.name})`,
      seconds: seconds2,
      until: "`active`",
      moved: diff(await movedIn(running), before2),
      transferSeconds: await transferWindow(running, wall1),
    });
    await until("4 nodes settled", () => settled(running));
    log(`restart: ${seconds2.toFixed(1)} s`);
  }
  finalCount = await answeredSamples(running[0]!, ds);
  log(`the cluster answers ${finalCount} samples of ${ds.samples}`);
} finally {
  for (const s of running) {
    s.proc.kill("SIGKILL");
    await s.proc.exited;
  }
  cleanup();
}

function diff(a: Row["moved"], b: Row["moved"]): Row["moved"] {
  return { samples: a.samples - b.samples, bytes: a.bytes - b.bytes, series: a.series - b.series };
}

const table = markdownTable(
  ["event", "seconds", "until", "series moved", "samples moved", "MiB moved", "transfer s", "samples/s", "MiB/s"],
  rows.map((r) => [
    r.event,
    r.seconds.toFixed(1),
    r.until,
    String(r.moved.series),
    r.moved.samples >= 1e4 ? fmtNum(r.moved.samples) : String(r.moved.samples),
    (r.moved.bytes / 2 ** 20).toFixed(1),
    r.transferSeconds.toFixed(1),
    fmtNum(r.moved.samples / r.transferSeconds),
    (r.moved.bytes / 2 ** 20 / r.transferSeconds).toFixed(2),
  ]),
);
console.log(
  [
    `Machine: ${machineLine()}`,
    `Data: ${ds.series.length} series × ${durationMs / 60_000} min at 15 s = ${ds.samples} samples; loaded: ${loadFigure}.`,
    `Throttle: ${maxBps > 0 ? `${maxBps} bytes/s` : "none"}.`,
    "",
    table,
    "",
    `After these steps the cluster answers ${finalCount} samples (of ${ds.samples}).`,
  ].join("\n"),
);
if (finalCount !== ds.samples) process.exitCode = 1;
