/**
 * Rule evaluation side by side: `bun bench/rules/run.ts [--series 10000] [--rules 1000] [--window 60]`.
 *
 * One local endpoint serves `series` counters; a Shoal node and a Prometheus 2.42 (Debian) both
 * scrape it every 5 s and evaluate the same rule file: `rules` recording rules in groups of 100,
 * every 10 s, four shapes in turn (sum by of a rate over 100 series, a sum of rates over a regex
 * selection of 220 series, a max by over 20 series, an avg of a 5m rate over 5 series). After a
 * warm-up that gives the rates a minute of data, both servers' own
 * `prometheus_rule_group_last_duration_seconds` are read after every evaluation round of the
 * window, and their process CPU time (utime+stime from /proc) is measured over it. Both do the
 * same scrapes, so the CPU difference is the rules' (and each server's idle cost).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startPrometheus, startShoal, tempDir } from "../../test/support/index.ts";
import { cpuSeconds, Flags, fmtNum, machineLine, markdownTable, median } from "../lib.ts";

const flags = new Flags();
const SERIES = flags.num("series", 10_000);
const RULES = flags.num("rules", 1000);
const WINDOW_S = flags.num("window", 60);
const GROUP_SIZE = 100;
const EVAL_S = 10;
const SCRAPE_S = 5;
const SVCS = 100;
const PODS = Math.max(1, Math.ceil(SERIES / (SVCS * 5)));

const dir = tempDir("rules-bench");

// The endpoint: svc × pod × code counters, each growing at its own rate.
const lines: string[] = [];
const rates: number[] = [];
for (let i = 0; lines.length < SERIES; i++) {
  const svc = i % SVCS;
  const pod = Math.floor(i / SVCS) % PODS;
  const code = 200 + (Math.floor(i / (SVCS * PODS)) % 5);
  lines.push(`bench_requests_total{svc="s${svc}",pod="p${pod}",code="${code}"} `);
  rates.push(1 + (i % 17));
}
const started = Date.now();
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch() {
    const elapsed = (Date.now() - started) / 1000;
    const out = ["# TYPE bench_requests_total counter\n"];
    for (let i = 0; i < lines.length; i++) out.push(lines[i]! + Math.floor(elapsed * rates[i]!) + "\n");
    return new Response(out.join(""), { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

function ruleExpr(i: number): string {
  switch (i % 4) {
    case 0:
      return `sum by (code) (rate(bench_requests_total{svc="s${i % SVCS}"}[1m]))`;
    case 1:
      return `sum(rate(bench_requests_total{code="${200 + (i % 5)}", svc=~"s${i % 10}.*"}[1m]))`;
    case 2:
      return `max by (pod) (bench_requests_total{svc="s${i % SVCS}", code="200"})`;
    default:
      return `avg(rate(bench_requests_total{svc="s${i % SVCS}", pod="p${i % PODS}"}[5m]))`;
  }
}

const groups: string[] = ["groups:"];
for (let g = 0; g * GROUP_SIZE < RULES; g++) {
  groups.push(`  - name: bench-${g}`, `    interval: ${EVAL_S}s`, "    rules:");
  for (let i = g * GROUP_SIZE; i < Math.min(RULES, (g + 1) * GROUP_SIZE); i++) {
    groups.push(`      - record: bench:rule_${i}`, `        expr: ${JSON.stringify(ruleExpr(i))}`);
  }
}
const rulesFile = join(dir, "bench.rules.yml");
writeFileSync(rulesFile, groups.join("\n") + "\n");
const config = [
  "global:",
  `  scrape_interval: ${SCRAPE_S}s`,
  `  scrape_timeout: ${SCRAPE_S}s`,
  `  evaluation_interval: ${EVAL_S}s`,
  "rule_files:",
  `  - ${rulesFile}`,
  "scrape_configs:",
  "  - job_name: bench",
  "    static_configs:",
  `      - targets: ["127.0.0.1:${server.port}"]`,
  "",
].join("\n");
writeFileSync(join(dir, "config.yml"), config);

/** Sum over groups of the last evaluation's duration, and the newest evaluation timestamp. */
async function groupDurations(url: string): Promise<{ total: number; groups: number; newest: number; failures: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  let groups = 0;
  let newest = 0;
  let failures = 0;
  for (const line of text.split("\n")) {
    const m = /^(prometheus_rule_group_last_duration_seconds|prometheus_rule_group_last_evaluation_timestamp_seconds|prometheus_rule_evaluation_failures_total)\{[^}]*rule_group="[^"]*bench-\d+"[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (m[1] === "prometheus_rule_group_last_duration_seconds") {
      total += v;
      groups++;
    } else if (m[1] === "prometheus_rule_evaluation_failures_total") failures += v;
    else newest = Math.max(newest, v);
  }
  return { total, groups, newest, failures };
}

const shoal = await startShoal({ dataDir: join(dir, "shoal"), args: [`--config.file=${join(dir, "config.yml")}`] });
const prom = await startPrometheus(config);
const servers = [
  { name: "Shoal", url: shoal.url, pid: shoal.proc.pid },
  { name: "Prometheus 2.42", url: prom.url, pid: prom.proc.pid },
];
try {
  process.stderr.write(`${SERIES} series, ${RULES} recording rules in groups of ${GROUP_SIZE} every ${EVAL_S}s; warming up 70 s\n`);
  await Bun.sleep(70_000); // the rates need a minute of samples
  const cpu0 = servers.map((s) => cpuSeconds(s.pid));
  const rounds: number[][] = servers.map(() => []);
  const seen = servers.map(() => 0);
  const end = Date.now() + WINDOW_S * 1000;
  while (Date.now() < end) {
    await Bun.sleep(EVAL_S * 1000);
    for (let i = 0; i < servers.length; i++) {
      const d = await groupDurations(servers[i]!.url);
      if (d.groups === 0) throw new Error(`${servers[i]!.name} reports no rule groups`);
      if (d.newest > seen[i]!) rounds[i]!.push(d.total);
      seen[i] = d.newest;
    }
  }
  const cpu1 = servers.map((s) => cpuSeconds(s.pid));
  const failures = await Promise.all(servers.map((s) => groupDurations(s.url).then((d) => d.failures)));
  // Both wrote the same series: compare one rule's value at the same instant.
  const check = await Promise.all(
    servers.map(async (s) => {
      const r = (await (await fetch(`${s.url}/api/v1/query?query=count({__name__=~"bench:rule_.*"})`)).json()) as { data: { result: { value: [number, string] }[] } };
      return r.data.result[0]?.value[1] ?? "0";
    }),
  );
  const rows = servers.map((s, i) => [
    s.name,
    fmtNum(median(rounds[i]!) * 1000, 1),
    String(rounds[i]!.length),
    fmtNum(cpu1[i]! - cpu0[i]!, 2),
    check[i]!,
    String(failures[i]),
  ]);
  const ratio = median(rounds[0]!) / median(rounds[1]!);
  console.log(machineLine());
  console.log(`${SERIES} series scraped every ${SCRAPE_S}s, ${RULES} recording rules (${Math.ceil(RULES / GROUP_SIZE)} groups) every ${EVAL_S}s, ${WINDOW_S}s window\n`);
  console.log(markdownTable(["server", "all groups' evaluation, ms (median round)", "rounds", "CPU s in window", "rule series", "failed evaluations"], rows));
  console.log(`\nShoal / Prometheus evaluation time: ${fmtNum(ratio, 2)}×`);
} finally {
  await Promise.all([shoal.stop(), prom.stop()]);
  server.stop(true);
  removeTempDir(dir);
}
