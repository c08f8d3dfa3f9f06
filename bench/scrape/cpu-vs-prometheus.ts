/**
 * Scrape cost side by side: `bun bench/scrape/cpu-vs-prometheus.ts [series] [seconds]`.
 * One local endpoint serves `series` samples (values change every request); a Shoal node and a
 * Prometheus 2.42 (Debian) both scrape it every second into their own storage. After a warm-up
 * (series creation), their process CPU time (utime+stime from /proc) is measured over the
 * window and divided by the samples each scraped in it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startPrometheus, startShoal, tempDir } from "../../test/support/index.ts";
import { cpuSeconds } from "../lib.ts";

const SERIES = Number(process.argv[2] ?? 100_000);
const WINDOW_S = Number(process.argv[3] ?? 30);
const dir = tempDir("scrape-cpu");

const prefix: string[] = [];
for (let i = 0; i < SERIES; i++) prefix.push(`bench_requests_total{method="GET",code="${200 + (i % 5)}",handler="/api/v1/h${i % 500}",pod="pod-${i}"} `);
let tick = 0;
const scrapes = { shoal: 0, prometheus: 0 };
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const who = (req.headers.get("user-agent") ?? "").startsWith("Shoal") ? "shoal" : "prometheus";
    scrapes[who]++;
    tick++;
    let body = "# TYPE bench_requests_total counter\n";
    const parts: string[] = [];
    for (let i = 0; i < SERIES; i++) parts.push(prefix[i]! + (i + tick) + "\n");
    body += parts.join("");
    return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

const config = `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`;
writeFileSync(join(dir, "config.yml"), config);
const shoal = await startShoal({ dataDir: join(dir, "shoal"), args: [`--config.file=${join(dir, "config.yml")}`] });
const prom = await startPrometheus(config);
try {
  // Warm-up (series creation) and the measured window are fixed spans of scraping by design.
  await Bun.sleep(15_000);
  const c0 = { shoal: cpuSeconds(shoal.proc.pid), prometheus: cpuSeconds(prom.proc.pid) };
  const s0 = { ...scrapes };
  await Bun.sleep(WINDOW_S * 1000);
  const c1 = { shoal: cpuSeconds(shoal.proc.pid), prometheus: cpuSeconds(prom.proc.pid) };
  const targets = (await (await fetch(`${shoal.url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string; lastScrapeDuration: number }[] } };
  const t = targets.data.activeTargets[0];
  console.log(`shoal target: ${t?.health} ${JSON.stringify(t?.lastError)} last scrape ${t?.lastScrapeDuration}s`);
  console.log(`${SERIES} series per scrape, every 1s, ${WINDOW_S}s window after 15s warm-up`);
  console.log("server      scrapes  CPU s   CPU s per million samples");
  for (const who of ["shoal", "prometheus"] as const) {
    const n = scrapes[who] - s0[who];
    const cpu = c1[who] - c0[who];
    console.log(`${who.padEnd(11)} ${String(n).padStart(7)}  ${cpu.toFixed(2).padStart(5)}   ${n > 0 ? ((cpu / (n * SERIES)) * 1e6).toFixed(3) : "-"}`);
  }
} finally {
  await Promise.all([shoal.stop(), prom.stop()]);
  server.stop(true);
  removeTempDir(dir);
}
