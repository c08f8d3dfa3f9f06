#!/usr/bin/env bun
/**
 * Cluster reads on real scraped data: K node_exporter processes scraped side by side by one Shoal
 * node and by a 3-node cluster at R=3 (same config file, same targets), then the query set of
 * Grafana's "Node Exporter Full" dashboard (grafana.com 1860) as range queries over the fill
 * period through node 1 of each, the setups taking turns. Per query: median wall time and CPU
 * seconds per node; in total: the sum of the medians per setup, their ratio (issue 19's target:
 * the cluster within 1.2× of one node) and the CPU seconds per node per dashboard load.
 *
 *   bun bench/cluster-reads/dashboard.ts [--exporters 8] [--fill 5m] [--scrape-interval 1s]
 *        [--runs 5] [--width 1000] [--instance all|one] [--concurrency 6] [--tolerance 0.05]
 *        [--shoal-binary dist/shoal] [--baseline-binary PATH] [--exporter-binary PATH]
 *        [--cluster-flags '--cluster.some-flag=x ...'] [--quiet-period 20s] [--keep]
 *
 * --cluster-flags adds flags to every node of the cluster setups (not to the one node), e.g. to
 * see how a cluster setting moves the figures without another build.
 *
 * The two setups scrape the same exporters at their own moments, so their answers cannot be
 * equal point for point (a counter's rate over 4 s moves with where the scrapes fall). What is
 * compared: the set of series (label sets must be the same), the timestamps (the same steps must
 * have points), and the values within a relative --tolerance, reported per query; the number of
 * scrapes each setup stored (`up` samples) shows that neither lost data.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDuration } from "../generator.ts";
import { benchDir, cpuSeconds, Flags, fmtNum, freePort, machineLine, markdownTable, median, shoalCommand, startServer, startShoalCluster, waitIdle, which, type Server } from "../lib.ts";

const flags = new Flags();
const exporterCount = flags.num("exporters", 8);
const fillMs = parseDuration(flags.str("fill", "5m"));
const scrapeMs = parseDuration(flags.str("scrape-interval", "1s"));
const runs = flags.num("runs", 5);
const widthPx = flags.num("width", 1000);
const instanceMode = flags.str("instance", "all");
const concurrency = flags.num("concurrency", 6);
const tolerance = flags.num("tolerance", 0.05);
const { dir: work, cleanup } = benchDir("cluster-dashboard", flags.has("keep"));
const log = (msg: string): void => console.error(`[dashboard] ${msg}`);
const clusterName = `bench-dashboard-${process.pid}`;
if (instanceMode !== "all" && instanceMode !== "one") throw new Error(`--instance: all or one, not ${instanceMode}`);

// ---------------------------------------------------------------------------------------------
// The query set. Taken from "Node Exporter Full" (rfmoz/grafana-dashboards,
// prometheus/node-exporter-full.json, grafana.com 1860), written as the dashboard has them so the
// substitution below is Grafana's: the two rows that are open when the dashboard loads ("Quick
// CPU / Mem / Disk", "Basic CPU / Mem / Net / Disk": 28 expressions, all of them), then one or
// two expressions from each collapsed row for what the issue names (disk, network, system misc,
// processes, file descriptors, sockstat, netstat, entropy, time sync).

interface DashboardQuery {
  panel: string;
  expr: string;
}

const N = `instance="$node",job="$job"`;
const DISK = `device=~"[a-z]+|nvme[0-9]+n[0-9]+|mmcblk[0-9]+"`;
const DASHBOARD: DashboardQuery[] = [
  { panel: "Pressure: CPU", expr: `rate(node_pressure_cpu_waiting_seconds_total{${N}}[$__rate_interval])` },
  { panel: "Pressure: memory", expr: `rate(node_pressure_memory_waiting_seconds_total{${N}}[$__rate_interval])` },
  { panel: "Pressure: I/O", expr: `rate(node_pressure_io_waiting_seconds_total{${N}}[$__rate_interval])` },
  { panel: "Pressure: IRQ", expr: `rate(node_pressure_irq_stalled_seconds_total{${N}}[$__rate_interval])` },
  { panel: "CPU Busy", expr: `100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",${N}}[$__rate_interval])))` },
  { panel: "Sys Load", expr: `scalar(node_load1{${N}}) * 100 / count(count(node_cpu_seconds_total{${N}}) by (cpu))` },
  { panel: "RAM Used", expr: `clamp_min((1 - (node_memory_MemAvailable_bytes{${N}} / node_memory_MemTotal_bytes{${N}})) * 100, 0)` },
  {
    panel: "SWAP Used",
    expr: `(node_memory_SwapTotal_bytes{${N}} > bool 0) * ((node_memory_SwapTotal_bytes{${N}} - node_memory_SwapFree_bytes{${N}}) / (node_memory_SwapTotal_bytes{${N}})) * 100`,
  },
  {
    panel: "Root FS Used",
    expr: `((node_filesystem_size_bytes{${N},mountpoint="/",fstype!="rootfs"} - node_filesystem_avail_bytes{${N},mountpoint="/",fstype!="rootfs"}) / node_filesystem_size_bytes{${N},mountpoint="/",fstype!="rootfs"}) * 100`,
  },
  { panel: "CPU Cores", expr: `count(count(node_cpu_seconds_total{${N}}) by (cpu))` },
  { panel: "RAM Total", expr: `node_memory_MemTotal_bytes{${N}}` },
  { panel: "SWAP Total", expr: `node_memory_SwapTotal_bytes{${N}}` },
  { panel: "RootFS Total", expr: `node_filesystem_size_bytes{${N},mountpoint="/",fstype!="rootfs"}` },
  { panel: "Uptime", expr: `node_time_seconds{${N}} - node_boot_time_seconds{${N}}` },
  { panel: "CPU Basic: system", expr: `avg(rate(node_cpu_seconds_total{${N}, mode="system"}[$__rate_interval]))` },
  { panel: "CPU Basic: user", expr: `avg(rate(node_cpu_seconds_total{${N}, mode="user"}[$__rate_interval]))` },
  { panel: "CPU Basic: iowait", expr: `avg(rate(node_cpu_seconds_total{${N}, mode="iowait"}[$__rate_interval]))` },
  { panel: "CPU Basic: irqs", expr: `avg(sum without(mode) (rate(node_cpu_seconds_total{${N}, mode=~".*irq"}[$__rate_interval])))` },
  {
    panel: "CPU Basic: other",
    expr: `avg(sum without (mode) (rate(node_cpu_seconds_total{${N}, mode!='idle',mode!='user',mode!='system',mode!='iowait',mode!='irq',mode!='softirq'}[$__rate_interval])))`,
  },
  { panel: "CPU Basic: idle", expr: `avg(rate(node_cpu_seconds_total{${N}, mode="idle"}[$__rate_interval]))` },
  { panel: "Memory Basic: total", expr: `node_memory_MemTotal_bytes{${N}}` },
  {
    panel: "Memory Basic: used",
    expr: `node_memory_MemTotal_bytes{${N}} - node_memory_MemFree_bytes{${N}} - (node_memory_Cached_bytes{${N}} + node_memory_Buffers_bytes{${N}} + node_memory_SReclaimable_bytes{${N}})`,
  },
  { panel: "Memory Basic: cache + buffer", expr: `node_memory_Cached_bytes{${N}} + node_memory_Buffers_bytes{${N}} + node_memory_SReclaimable_bytes{${N}}` },
  { panel: "Memory Basic: free", expr: `node_memory_MemFree_bytes{${N}}` },
  { panel: "Memory Basic: swap used", expr: `(node_memory_SwapTotal_bytes{${N}} - node_memory_SwapFree_bytes{${N}})` },
  { panel: "Network Traffic Basic: receive", expr: `rate(node_network_receive_bytes_total{${N}}[$__rate_interval])*8` },
  { panel: "Network Traffic Basic: transmit", expr: `rate(node_network_transmit_bytes_total{${N}}[$__rate_interval])*8` },
  {
    panel: "Disk Space Used Basic",
    expr: `((node_filesystem_size_bytes{${N}, device!~'rootfs'} - node_filesystem_avail_bytes{${N}, device!~'rootfs'}) / node_filesystem_size_bytes{${N}, device!~'rootfs'}) * 100`,
  },
  { panel: "Disk IOps: reads", expr: `rate(node_disk_reads_completed_total{${N},${DISK}}[$__rate_interval])` },
  { panel: "Disk Throughput: written", expr: `rate(node_disk_written_bytes_total{${N},${DISK}}[$__rate_interval])` },
  { panel: "Disk I/O Utilization", expr: `rate(node_disk_io_time_seconds_total{${N},${DISK}} [$__rate_interval])` },
  { panel: "Network Traffic by Packets: receive", expr: `rate(node_network_receive_packets_total{${N}}[$__rate_interval])` },
  { panel: "Network Traffic Errors: receive", expr: `rate(node_network_receive_errs_total{${N}}[$__rate_interval])` },
  { panel: "Context Switches", expr: `rate(node_context_switches_total{${N}}[$__rate_interval])` },
  { panel: "Interrupts", expr: `rate(node_intr_total{${N}}[$__rate_interval])` },
  { panel: "System Load: 1m", expr: `node_load1{${N}}` },
  { panel: "Processes Forks", expr: `rate(node_forks_total{${N}}[$__rate_interval])` },
  { panel: "File Descriptor: allocated", expr: `node_filefd_allocated{${N}}` },
  { panel: "Sockstat Used", expr: `node_sockstat_sockets_used{${N}}` },
  { panel: "Netstat TCP In", expr: `rate(node_netstat_Tcp_InSegs{${N}}[$__rate_interval])` },
  { panel: "Entropy", expr: `node_entropy_available_bits{${N}}` },
  { panel: "Time Synchronized Drift", expr: `node_timex_estimated_error_seconds{${N}}` },
];

// ---------------------------------------------------------------------------------------------
// Grafana's interval arithmetic, so the step and $__rate_interval are what a browser would send.

/** Grafana's kbn.roundInterval: the raw interval snapped to a "nice" one (ms). */
function roundInterval(ms: number): number {
  const table: [number, number][] = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000],
    [7500, 5000], [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000], [90000, 60000],
    [210000, 120000], [450000, 300000], [1050000, 600000], [2100000, 1200000], [5400000, 3600000],
    [9000000, 7200000], [16200000, 10800000], [32400000, 21600000], [64800000, 43200000],
  ];
  for (const [below, to] of table) if (ms < below) return to;
  return 86400000;
}

/** A duration in PromQL's syntax ("4s", "500ms"). */
function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * $__interval is the range over the panel's width in pixels (maxDataPoints), rounded, and at least
 * the data source's scrape interval (the "Scrape interval" a user sets to the real one, here
 * --scrape-interval); $__rate_interval is max($__interval + scrape interval, 4 × scrape interval).
 */
function grafanaIntervals(rangeMs: number): { stepMs: number; rateMs: number } {
  const stepMs = Math.max(roundInterval(rangeMs / widthPx), scrapeMs);
  return { stepMs, rateMs: Math.max(stepMs + scrapeMs, 4 * scrapeMs) };
}

/** Grafana's regex escaping for a multi-value variable (backslashes doubled for PromQL strings). */
function grafanaRegexEscape(v: string): string {
  return v.replace(/[\\^$*+?.()|{}[\]]/g, "\\\\$&");
}

function substitute(expr: string, instanceMatcher: string, rateMs: number): string {
  return expr.replaceAll(`instance="$node"`, instanceMatcher).replaceAll("$job", "node").replaceAll("$__rate_interval", promDuration(rateMs));
}

// ---------------------------------------------------------------------------------------------
// Processes.

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
  extra: string[];
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

interface MemberStats {
  member: string;
  series: number;
  samples: number;
  bytes: number;
  seconds: number;
  pushdown: boolean;
}

interface QueryAnswer {
  status: string;
  error?: string;
  warnings?: string[];
  data?: { result: MatrixSeries[] | { metric: Record<string, string>; value: [number, string] }[]; stats?: { cluster?: { members: MemberStats[] } } };
}

const configFile = join(work, "config.yml");

function writeConfig(targets: string[]): void {
  // scrape_timeout is given because Prometheus's default (10 s) is longer than a 1 s interval.
  const lines = [
    "global:",
    `  scrape_interval: ${promDuration(scrapeMs)}`,
    `  scrape_timeout: ${promDuration(scrapeMs)}`,
    "scrape_configs:",
  ];
  if (targets.length > 0) {
    lines.push("  - job_name: node", "    static_configs:", "      - targets:", ...targets.map((t) => `          - ${t}`));
  } else lines[lines.length - 1] = "scrape_configs: []";
  writeFileSync(configFile, lines.join("\n") + "\n");
}


/** A setup scraping with the benchmark's config file (reloaded through /-/reload to stop scraping). */
async function startSetup({ label, nodes, rf, cmd, extra }: Layout): Promise<Setup> {
  const slug = label.replace(/[^a-z0-9]+/gi, "-");
  const servers = await startShoalCluster({
    label: slug,
    work,
    cmd,
    clusterName,
    nodes,
    replicationFactor: rf,
    extra: [`--config.file=${configFile}`, "--web.enable-lifecycle", ...extra],
  });
  return { label, nodes: servers };
}


// ---------------------------------------------------------------------------------------------
// Queries.

/** POSTed form-encoded, as Grafana's Prometheus data source does by default. */
async function runQuery(node: Server, path: string, params: Record<string, string>): Promise<{ ms: number; answer: QueryAnswer }> {
  const t0 = performance.now();
  const res = await fetch(`${node.url}${path}`, { method: "POST", body: new URLSearchParams(params) });
  const answer = (await res.json()) as QueryAnswer;
  const ms = performance.now() - t0;
  if (answer.status !== "success") throw new Error(`${params.query}: query failed on ${node.name} (${res.status}): ${answer.error}`);
  return { ms, answer };
}

interface Comparison {
  text: string;
  /** Label sets and timestamps agree (values may still differ: see `text`). */
  sameShape: boolean;
}

/**
 * One node's answer against the cluster's: the same label sets, the same timestamps per series,
 * and how many points differ by more than `tolerance` (relative to the larger magnitude). Values
 * cannot be expected to agree exactly, because each setup scraped at its own moments.
 */
function compareAnswers(a: MatrixSeries[], b: MatrixSeries[]): Comparison {
  const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());
  const bm = new Map(b.map((s) => [key(s.metric), s]));
  const common = a.filter((s) => bm.has(key(s.metric)));
  const onlyA = a.length - common.length;
  const onlyB = b.length - common.length;
  let points = 0;
  let exact = 0;
  let beyond = 0;
  let tsOnlyOne = 0;
  let maxRel = 0;
  for (const s of common) {
    const o = new Map(bm.get(key(s.metric))!.values.map(([t, v]) => [t, v]));
    for (const [t, v] of s.values) {
      const w = o.get(t);
      if (w === undefined) {
        tsOnlyOne++;
        continue;
      }
      o.delete(t);
      points++;
      const x = Number(v);
      const y = Number(w);
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) {
        exact++;
        continue;
      }
      const rel = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));
      if (rel <= 1e-9) exact++;
      if (rel > tolerance || Number.isNaN(rel)) beyond++;
      if (rel > maxRel) maxRel = rel;
    }
    tsOnlyOne += o.size;
  }
  const parts: string[] = [];
  if (onlyA || onlyB) parts.push(`${a.length} vs ${b.length} series (${onlyA} only in one node, ${onlyB} only in the cluster)`);
  else parts.push(`same ${a.length} series`);
  if (tsOnlyOne) parts.push(`${tsOnlyOne} points at a step only one has`);
  if (points > 0) {
    if (exact === points) parts.push("values equal");
    else parts.push(`${points - beyond}/${points} points within ${tolerance * 100}%${beyond ? ` (max ${(maxRel * 100).toFixed(0)}%)` : ""}`);
  }
  return { text: parts.join(", "), sameShape: onlyA === 0 && onlyB === 0 && tsOnlyOne === 0 };
}

// ---------------------------------------------------------------------------------------------
// The run.

const exporterBin = flags.get("exporter-binary") ?? which("prometheus-node-exporter") ?? which("node_exporter");
if (exporterBin === null) throw new Error("no node exporter: install prometheus-node-exporter or pass --exporter-binary");
const shoal = shoalCommand(flags);
// Reads from one replica per range start once the cluster has been quiet for the quiet period
// (15 minutes by default); the fill period is longer than the benchmark's shorter one.
const quietPeriod = flags.str("quiet-period", "20s");
const clusterExtra = [`--cluster.read-one-replica.quiet-period=${quietPeriod}`, ...(flags.get("cluster-flags") ?? "").split(/\s+/).filter((f) => f !== "")];
const layouts: Layout[] = [
  { label: "one node", nodes: 1, rf: 1, cmd: shoal, extra: [] },
  { label: "3 nodes, R=3", nodes: 3, rf: 3, cmd: shoal, extra: clusterExtra },
];
const baseline = flags.get("baseline-binary");
if (baseline !== undefined) layouts.push({ label: "3 nodes, R=3, baseline", nodes: 3, rf: 3, cmd: [resolve(baseline)], extra: clusterExtra });

const exporters: Server[] = [];
const setups: Setup[] = [];
const rows: string[][] = [];
const notes: string[] = [];
const exprList: string[] = [];
let header: string[] = [];
let totalsLine = "";
let dataLine = "";
let machineBefore = "";
let stepUsed = 0;
let rateUsed = 0;
try {
  for (let i = 0; i < exporterCount; i++) {
    const port = freePort();
    // The systemd collector (on in Debian's build) fails on every scrape here (no systemd bus in
    // this container) and logs an error each time; off, so K exporters at 1 s don't flood logs.
    exporters.push(
      await startServer({
        name: `exporter-${i + 1}`,
        cmd: [exporterBin, `--web.listen-address=127.0.0.1:${port}`, "--no-collector.systemd"],
        url: `http://127.0.0.1:${port}`,
        readyPath: "/metrics",
        logFile: join(work, `exporter-${i + 1}.log`),
      }),
    );
  }
  const targets = exporters.map((e) => e.url.slice("http://".length));
  writeConfig(targets);
  for (const layout of layouts) {
    log(`${layout.label}: starting`);
    setups.push(await startSetup(layout));
  }
  // The range starts once every setup is up and scraping with its final membership (a cluster
  // reshards targets as members join), so no setup's range holds a gap from its own start.
  await Bun.sleep(2 * scrapeMs);
  const fillStart = Date.now();
  log(`scraping ${exporterCount} exporters every ${promDuration(scrapeMs)} for ${promDuration(fillMs)}`);
  await Bun.sleep(fillMs);
  const fillEnd = Date.now();
  // Scraping stops before the queries (reload with no targets) so that the timed queries and the
  // CPU read from /proc are the queries' alone, not scrapes and replication beside them.
  writeConfig([]);
  for (const s of setups) {
    for (const n of s.nodes) {
      const res = await fetch(`${n.url}/-/reload`, { method: "POST" });
      if (!res.ok) throw new Error(`reload ${n.name}: HTTP ${res.status}: ${await res.text()}`);
    }
  }
  for (const e of exporters) await e.stop();
  log("scraping stopped; waiting for the nodes to settle");
  for (const s of setups) await waitIdle(s.nodes);

  const { stepMs, rateMs } = grafanaIntervals(fillEnd - fillStart);
  stepUsed = stepMs;
  rateUsed = rateMs;
  // Grafana aligns the range to the step; inside the fill period at both ends.
  const start = Math.ceil(fillStart / stepMs) * stepMs;
  const end = Math.floor(fillEnd / stepMs) * stepMs;
  const instanceMatcher =
    instanceMode === "one" ? `instance="${targets[0]}"` : `instance=~"(${targets.map(grafanaRegexEscape).join("|")})"`;
  const queries = DASHBOARD.map((q) => ({ ...q, expr: substitute(q.expr, instanceMatcher, rateMs) }));
  const rangeParams = (query: string): Record<string, string> => ({
    query,
    start: String(start / 1000),
    end: String(end / 1000),
    step: String(stepMs / 1000),
  });

  // What each setup stored over the range, untimed: scrapes (`up` samples) and all samples.
  const rangeSel = promDuration(end - start);
  const stored: string[] = [];
  for (const s of setups) {
    const at = String(end / 1000);
    const up = await runQuery(s.nodes[0]!, "/api/v1/query", { query: `sum(count_over_time(up{job="node"}[${rangeSel}]))`, time: at });
    const all = await runQuery(s.nodes[0]!, "/api/v1/query", { query: `sum(count_over_time({job="node"}[${rangeSel}]))`, time: at });
    const series = await runQuery(s.nodes[0]!, "/api/v1/query", { query: `count({job="node"})`, time: at });
    const v = (a: QueryAnswer): string => {
      const r = a.data?.result as { value: [number, string] }[] | undefined;
      return r?.[0]?.value[1] ?? "0";
    };
    stored.push(`${s.label}: ${v(up.answer)} scrapes, ${v(series.answer)} series, ${v(all.answer)} samples`);
  }
  const expectScrapes = Math.round(((end - start) / scrapeMs) * exporterCount);
  dataLine =
    `Data: ${exporterCount} node_exporter ${instanceMode === "one" ? "targets (queries select the first)" : "targets (queries select all of them)"}, ` +
    `scraped every ${promDuration(scrapeMs)} for ${promDuration(fillMs)}; over the queried range ` +
    `(${promDuration(end - start)}, ≈${expectScrapes} scrapes expected) ${stored.join("; ")}.`;
  log(dataLine);

  machineBefore = machineLine();
  const times = queries.map(() => setups.map((): number[] => []));
  const cpu = queries.map(() => setups.map((s) => s.nodes.map(() => 0)));
  const answers = queries.map((): MatrixSeries[][] => []);
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi]!;
    for (let r = 0; r <= runs; r++) {
      // The setups take turns, in alternating order, so a change in the shared machine's load
      // falls on every column alike.
      const order = r % 2 === 0 ? setups.map((_, k) => k) : setups.map((_, k) => setups.length - 1 - k);
      for (const k of order) {
        const s = setups[k]!;
        const cpu0 = s.nodes.map((x) => cpuSeconds(x.pid));
        const { ms, answer } = await runQuery(s.nodes[0]!, "/api/v1/query_range", rangeParams(q.expr));
        if (r === 0) {
          // The warm-up run: its answer is the one compared.
          answers[qi]![k] = (answer.data?.result ?? []) as MatrixSeries[];
          if (answer.warnings?.length) notes.push(`${s.label}, ${qi + 1}. ${q.panel}: warnings ${JSON.stringify(answer.warnings)}`);
          continue;
        }
        times[qi]![k]!.push(ms);
        s.nodes.forEach((x, i) => (cpu[qi]![k]![i]! += cpuSeconds(x.pid) - cpu0[i]!));
      }
    }
    const row = [`${qi + 1}. ${q.panel}`];
    for (let k = 0; k < setups.length; k++) row.push(fmtNum(median(times[qi]![k]!), 1));
    row.push(fmtNum(median(times[qi]![1]!) / median(times[qi]![0]!), 2));
    for (let k = 0; k < setups.length; k++) row.push(cpu[qi]![k]!.map((c) => fmtNum((c / runs) * 1000, 0)).join(" / "));
    row.push(setups.slice(1).map((_, k) => compareAnswers(answers[qi]![0]!, answers[qi]![k + 1]!).text).join("; "));
    rows.push(row);
    exprList.push(`${qi + 1}. \`${q.expr}\``);
    log(row.join(" | "));
  }

  // The whole dashboard as a browser loads it: every query at once, `concurrency` in flight (a
  // browser's connections per host), the setups taking turns; median wall time of `runs`.
  const loadTimes = setups.map((): number[] => []);
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? setups.map((_, k) => k) : setups.map((_, k) => setups.length - 1 - k);
    for (const k of order) {
      const s = setups[k]!;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < queries.length) await runQuery(s.nodes[0]!, "/api/v1/query_range", rangeParams(queries[next++]!.expr));
        }),
      );
      loadTimes[k]!.push(performance.now() - t0);
    }
  }

  const sums = setups.map((_, k) => queries.reduce((acc, _q, qi) => acc + median(times[qi]![k]!), 0));
  const cpuPerLoad = setups.map((s, k) => s.nodes.map((_, i) => queries.reduce((acc, _q, qi) => acc + cpu[qi]![k]![i]!, 0) / runs));
  const shapeOk = queries.filter((_, qi) => setups.slice(1).every((_s, k) => compareAnswers(answers[qi]![0]!, answers[qi]![k + 1]!).sameShape)).length;
  header = [
    "query",
    ...setups.map((s) => `${s.label} ms`),
    `${setups[1]!.label} / one node`,
    ...setups.map((s) => `CPU ms per run, per node (${s.label})`),
    "answers vs one node",
  ];
  const totalRow = ["**sum of medians**", ...sums.map((x) => `**${fmtNum(x, 0)}**`), `**${fmtNum(sums[1]! / sums[0]!, 2)}**`];
  for (const c of cpuPerLoad) totalRow.push(c.map((x) => fmtNum(x * 1000, 0)).join(" / "));
  totalRow.push(`${shapeOk}/${queries.length} queries: same series and steps`);
  rows.push(totalRow);
  totalsLine = setups
    .slice(1)
    .map((s, k) => {
      const cpuAll = cpuPerLoad[k + 1]!.reduce((a, b) => a + b, 0);
      return (
        `${s.label} / one node: **${fmtNum(sums[k + 1]! / sums[0]!, 2)}×** summed (${fmtNum(sums[k + 1]!, 0)} vs ${fmtNum(sums[0]!, 0)} ms), ` +
        `${fmtNum(median(loadTimes[k + 1]!) / median(loadTimes[0]!), 2)}× for the whole dashboard with ${concurrency} queries in flight ` +
        `(${fmtNum(median(loadTimes[k + 1]!), 0)} vs ${fmtNum(median(loadTimes[0]!), 0)} ms); CPU per dashboard load ` +
        `${fmtNum(cpuAll, 2)} s over ${s.nodes.length} nodes (${cpuPerLoad[k + 1]!.map((x) => fmtNum(x, 2)).join(" / ")}) vs ${fmtNum(cpuPerLoad[0]![0]!, 2)} s on one node.`
      );
    })
    .join("\n");

  // Per-member statistics for the queries the cluster is slowest at relative to one node.
  const slowest = queries
    .map((q, qi) => ({ q, qi, extra: median(times[qi]![1]!) - median(times[qi]![0]!) }))
    .sort((x, y) => y.extra - x.extra)
    .slice(0, 3);
  for (const s of setups.slice(1)) {
    for (const { q, qi } of slowest) {
      const { ms, answer } = await runQuery(s.nodes[0]!, "/api/v1/query_range", { ...rangeParams(q.expr), stats: "all" });
      const members = answer.data?.stats?.cluster?.members;
      const text = members
        ? members.map((m) => `${m.member}${m.pushdown ? " (pushdown)" : ""}: ${m.series} series, ${m.samples} samples, ${m.bytes} B, ${(m.seconds * 1000).toFixed(1)} ms`).join("; ")
        : "no per-member statistics";
      notes.push(`${s.label}, ${qi + 1}. ${q.panel} (${ms.toFixed(0)} ms with stats=all): ${text}`);
    }
  }
} finally {
  for (const s of setups) for (const n of s.nodes) await n.stop();
  for (const e of exporters) await e.stop();
  cleanup();
}

console.log(
  [
    `Command: bun bench/cluster-reads/dashboard.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
    `Machine: ${machineBefore} (before the queries); ${machineLine()} (after)`,
    dataLine,
    `Queries: "Node Exporter Full" (grafana.com 1860), ${DASHBOARD.length} expressions, as query_range over the whole range through node 1, ` +
      `step ${promDuration(stepUsed)} and $__rate_interval ${promDuration(rateUsed)} (Grafana's for ${widthPx} px and a ${promDuration(scrapeMs)} scrape interval), ` +
      `job="node", instance ${instanceMode === "one" ? "= the first exporter" : "=~ all exporters"}; median of ${runs} after one warm-up, setups taking turns.`,
    "",
    markdownTable(header, rows),
    "",
    totalsLine,
    ...(notes.length ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
    "Expressions:",
    ...exprList,
  ].join("\n"),
);
