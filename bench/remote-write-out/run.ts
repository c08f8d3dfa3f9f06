/**
 * Remote write out, Shoal vs Prometheus 2.42: `bun bench/remote-write-out/run.ts [--series 20000] [--window 30] [--quick]`.
 *
 * One local endpoint serves `series` counters (new values every request); a Shoal node and a
 * Prometheus both scrape it every second and, in the second phase, forward everything to the
 * same VictoriaMetrics (told apart by an external label). Each process's CPU time (utime+stime
 * from /proc) is measured over a window without remote_write, then — after a reload that adds
 * the remote_write entry and a settling pause — over a window with it. Reported per million
 * samples forwarded in the window (the servers' own prometheus_remote_storage_samples_total):
 * the whole process's CPU, and the part forwarding adds over the scrape-and-store baseline.
 * VictoriaMetrics' count of each sender's samples in the window checks that they arrived.
 * Last, VictoriaMetrics is paused (SIGSTOP) for `outage` seconds while both keep scraping; after it
 * resumes, the time each server takes until its highest sent timestamp is within 5 s of its
 * highest stored one gives its catch-up rate (samples sent over that time).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startPrometheus, startShoal, startVictoriaMetrics } from "../../test/support/index.ts";
import { benchDir, cpuSeconds, Flags, fmtNum, machineLine, markdownTable } from "../lib.ts";

const flags = new Flags();
const quick = flags.has("quick");
const SERIES = flags.num("series", quick ? 5000 : 20_000);
const WINDOW_S = flags.num("window", quick ? 15 : 30);
const WARMUP_S = quick ? 10 : 15;
const SETTLE_S = 10;
const OUTAGE_S = flags.num("outage", quick ? 10 : 20);
const { dir, cleanup } = benchDir("remote-write-out", flags.has("keep"));

const prefix: string[] = [];
for (let i = 0; i < SERIES; i++) prefix.push(`bench_requests_total{method="GET",code="${200 + (i % 5)}",handler="/api/v1/h${i % 500}",pod="pod-${i}"} `);
let tick = 0;
const endpoint = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch() {
    tick++;
    const parts: string[] = ["# TYPE bench_requests_total counter\n"];
    for (let i = 0; i < SERIES; i++) parts.push(prefix[i]! + (i + tick) + "\n");
    return new Response(parts.join(""), { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

const vm = await startVictoriaMetrics();
function config(sender: string, forward: boolean): string {
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels: {sender: ${sender}}
scrape_configs:
  - job_name: bench
    static_configs:
      - targets: ["127.0.0.1:${endpoint.port}"]
${forward ? `remote_write:\n  - url: ${vm.writeUrl}\n    metadata_config: {send: false}\n` : ""}`;
}
const shoalCfg = join(dir, "shoal.yml");
writeFileSync(shoalCfg, config("shoal", false));
const shoal = await startShoal({ dataDir: join(dir, "shoal"), args: [`--config.file=${shoalCfg}`] });
const prom = await startPrometheus(config("prometheus", false));
const promCfg = join(prom.dataDir, "prometheus.yml");

async function samplesSent(url: string): Promise<{ sent: number; retried: number; failed: number; pending: number; lagSeconds: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  return {
    sent: sum("prometheus_remote_storage_samples_total"),
    retried: sum("prometheus_remote_storage_samples_retried_total"),
    failed: sum("prometheus_remote_storage_samples_failed_total"),
    pending: sum("prometheus_remote_storage_samples_pending"),
    lagSeconds: sum("prometheus_remote_storage_highest_timestamp_in_seconds") - sum("prometheus_remote_storage_queue_highest_sent_timestamp_seconds"),
  };
}

async function vmCount(sender: string, endS: number): Promise<number> {
  await fetch(`${vm.url}/internal/force_flush`);
  const q = new URLSearchParams({ query: `sum(count_over_time(bench_requests_total{sender="${sender}"}[${WINDOW_S}s]))`, time: String(endS) });
  const body = (await (await fetch(`${vm.url}/api/v1/query?${q}`)).json()) as { data: { result: { value: [number, string] }[] } };
  return Number(body.data.result[0]?.value[1] ?? 0);
}

const servers = { shoal: shoal.proc.pid, prometheus: prom.proc.pid } as const;
type Who = keyof typeof servers;
const cpu = () => ({ shoal: cpuSeconds(servers.shoal), prometheus: cpuSeconds(servers.prometheus) });

try {
  process.stderr.write(`${SERIES} series scraped every second; warm-up ${WARMUP_S}s\n`);
  await Bun.sleep(WARMUP_S * 1000);
  const b0 = cpu();
  await Bun.sleep(WINDOW_S * 1000);
  const b1 = cpu();

  process.stderr.write("adding remote_write (reload), settling\n");
  writeFileSync(shoalCfg, config("shoal", true));
  writeFileSync(promCfg, config("prometheus", true));
  process.kill(servers.shoal, "SIGHUP");
  process.kill(servers.prometheus, "SIGHUP");
  await Bun.sleep(SETTLE_S * 1000);
  const f0 = cpu();
  const s0 = { shoal: await samplesSent(shoal.url), prometheus: await samplesSent(prom.url) };
  await Bun.sleep(WINDOW_S * 1000);
  const f1 = cpu();
  const s1 = { shoal: await samplesSent(shoal.url), prometheus: await samplesSent(prom.url) };
  const endS = Date.now() / 1000;
  // Let the last batches land before counting what arrived.
  await Bun.sleep(6000);

  process.stderr.write(`pausing VictoriaMetrics for ${OUTAGE_S}s\n`);
  vm.proc.kill("SIGSTOP");
  await Bun.sleep(OUTAGE_S * 1000);
  const c0 = { shoal: await samplesSent(shoal.url), prometheus: await samplesSent(prom.url) };
  vm.proc.kill("SIGCONT");
  const resumed = performance.now();
  const catchUp: Record<Who, { seconds: number; sent: number }> = { shoal: { seconds: NaN, sent: 0 }, prometheus: { seconds: NaN, sent: 0 } };
  while (performance.now() - resumed < 120_000 && (Number.isNaN(catchUp.shoal.seconds) || Number.isNaN(catchUp.prometheus.seconds))) {
    await Bun.sleep(250);
    for (const who of ["shoal", "prometheus"] as Who[]) {
      if (!Number.isNaN(catchUp[who].seconds)) continue;
      const now = await samplesSent(who === "shoal" ? shoal.url : prom.url);
      if (now.lagSeconds <= 5) catchUp[who] = { seconds: (performance.now() - resumed) / 1000, sent: now.sent - c0[who].sent };
    }
  }

  const rows: string[][] = [];
  for (const who of ["shoal", "prometheus"] as Who[]) {
    const forwarded = s1[who].sent - s0[who].sent;
    const base = b1[who] - b0[who];
    const withFwd = f1[who] - f0[who];
    const arrived = await vmCount(who, endS);
    rows.push([
      who === "shoal" ? "Shoal" : "Prometheus 2.42",
      fmtNum(forwarded / WINDOW_S),
      String(forwarded),
      String(arrived),
      ((withFwd / forwarded) * 1e6).toFixed(2),
      (((withFwd - base) / forwarded) * 1e6).toFixed(2),
      base.toFixed(2),
      withFwd.toFixed(2),
      `${s1[who].retried - s0[who].retried} / ${s1[who].failed - s0[who].failed}`,
      String(s1[who].pending),
      `${fmtNum(catchUp[who].sent / catchUp[who].seconds)} (${catchUp[who].sent} in ${catchUp[who].seconds.toFixed(1)} s)`,
    ]);
  }
  console.log(`\n${machineLine()}`);
  console.log(`${SERIES} series scraped every 1 s by each server; ${WINDOW_S} s windows (scrape only, then scrape + remote write to one VictoriaMetrics)\n`);
  console.log(
    markdownTable(
      ["system", "forwarded samples/s", "forwarded in window", "in VictoriaMetrics (window)", "CPU s per 1M forwarded (whole process)", "CPU s per 1M forwarded (forwarding only)", "CPU s scrape only", "CPU s with forwarding", "retried / failed", "pending at end", `catch-up samples/s after a ${OUTAGE_S} s outage`],
      rows,
    ),
  );
} finally {
  await Promise.all([shoal.stop(), prom.stop()]);
  await vm.stop();
  endpoint.stop(true);
  cleanup();
}
