/**
 * Differential test: the real Prometheus (2.42, Debian) and Shoal's ScrapeManager scrape the
 * same endpoint with the same config. Target labels, dropped targets and the label sets of
 * the stored series must be identical — relabeling, honor_labels conflicts and metric
 * relabeling checked against the reference implementation.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { formatLabels, labelsFromRecord, Matcher } from "../../src/model/index.ts";
import { ScrapeManager } from "../../src/scrape/index.ts";
import { openTempDB, type TempDB } from "./helpers.ts";
import { startPrometheus, waitFor, type PrometheusServer } from "../support/index.ts";

const prometheus = Bun.which("prometheus");
let server: ReturnType<typeof Bun.serve>;
let prom: PrometheusServer | null = null;
let promURL = "";
let t: TempDB;

const BODY = `# HELP requests_total Requests.
# TYPE requests_total counter
requests_total{job="exposed",instance="exp-inst",code="200",Path="/A"} 10
requests_total{code="500",exported_job="pre"} 2
go_gc_duration_seconds{quantile="0.5"} 0.001
temperature{Room="Kitchen",tmp_x="1"} 21.5
# TYPE lat histogram
lat_bucket{le="0.1"} 1
lat_bucket{le="+Inf"} 3
lat_sum 0.5
lat_count 3
`;

function config(port: number): string {
  const target = `127.0.0.1:${port}`;
  const other = `localhost:${port}`;
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels: {}
scrape_configs:
  - job_name: plain
    static_configs:
      - targets: ["${target}"]
        labels: {env: Prod, __meta_zone: eu-west-1a}
  - job_name: relabeled
    honor_labels: false
    params: {module: [m1]}
    static_configs:
      - targets: ["${target}", "${other}", "drop.example:9"]
        labels: {team: Core, __meta_rack: r1}
    relabel_configs:
      - {source_labels: [__address__], regex: "drop\\\\..*", action: drop}
      - {source_labels: [__address__], regex: "([^:]+):(\\\\d+)", target_label: host, replacement: "h-\${1}"}
      - {action: labelmap, regex: "__meta_(.+)", replacement: "meta_\${1}"}
      - {source_labels: [__address__], target_label: shard, modulus: 8, action: hashmod}
      - {source_labels: [team], target_label: team_lc, action: lowercase}
      - {source_labels: [team], target_label: team_uc, action: uppercase}
      - {source_labels: [team_lc], target_label: team_lc, action: keepequal}
      - {source_labels: [shard], target_label: team, action: dropequal}
      - {target_label: __param_extra, replacement: yes}
    metric_relabel_configs:
      - {source_labels: [__name__], regex: "go_.*", action: drop}
      - {action: labeldrop, regex: "tmp_.*"}
      - {source_labels: [Room], target_label: room, action: lowercase}
      - {source_labels: [__name__, code], separator: "@", regex: "requests_total@(5..)", target_label: error_class, replacement: "server_\${1}"}
  - job_name: honored
    honor_labels: true
    static_configs:
      - targets: ["${target}"]
    metric_relabel_configs:
      - {action: labelkeep, regex: "__name__|job|instance|code|le|quantile|Room"}
`;
}

async function promGet(path: string): Promise<any> {
  const res = await fetch(`${promURL}${path}`);
  return ((await res.json()) as { data: unknown }).data;
}

beforeAll(async () => {
  if (!prometheus) return;
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(BODY, { headers: { "content-type": "text/plain; version=0.0.4" } }) });
  prom = await startPrometheus(config(server.port!));
  promURL = prom.url;
  t = await openTempDB();
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  server?.stop(true);
  await t?.close();
});

type Target = { labels: Record<string, string>; discoveredLabels: Record<string, string>; scrapePool: string; scrapeUrl: string; health: string };
const key = (x: Target) => `${x.scrapePool} ${x.scrapeUrl} ${JSON.stringify(x.labels)}`;

test.skipIf(!prometheus)("same targets and same series as Prometheus", async () => {
  const mgr = new ScrapeManager({ appendable: t.db });
  try {
    await mgr.applyConfig(parseConfig(config(server.port!), join(prom!.dataDir, "prometheus.yml")));
    await waitFor("prometheus scraped every target", async () => {
      const d = (await promGet("/api/v1/targets")) as { activeTargets: Target[] };
      return d.activeTargets.length === 4 && d.activeTargets.every((x) => x.health === "up") ? true : undefined;
    }, { timeoutMs: 20_000 });
    await waitFor("shoal scraped every target", () => mgr.activeTargets().length === 4 && mgr.activeTargets().every((x) => x.health === "up"), { timeoutMs: 20_000 });

    const theirs = (await promGet("/api/v1/targets")) as { activeTargets: Target[]; droppedTargets: { discoveredLabels: Record<string, string> }[] };
    const ours = mgr.activeTargets();
    const norm = (xs: Target[]) =>
      xs.map((x) => ({ key: key(x), labels: x.labels, discoveredLabels: x.discoveredLabels, scrapeUrl: x.scrapeUrl })).sort((a, b) => a.key.localeCompare(b.key));
    expect(norm(ours as Target[])).toEqual(norm(theirs.activeTargets));
    expect(mgr.droppedTargets().map((d) => d.discoveredLabels)).toEqual(theirs.droppedTargets.map((d) => d.discoveredLabels));

    // Every series Prometheus stored for these jobs, and ours (synthetic series included).
    const promSeries = (await promGet(`/api/v1/series?${new URLSearchParams({ "match[]": '{job=~".+"}', start: "0" })}`)) as Record<string, string>[];
    const theirSet = promSeries.map((s) => formatLabels(labelsFromRecord(s))).filter((s) => !s.startsWith("prometheus_"));
    const q = t.db.querier(0, Number.MAX_SAFE_INTEGER);
    const mine = (await q.select([new Matcher("=~", "job", ".+")])).series.map((s) => formatLabels(s.labels));
    q.close();
    expect(mine.length).toBeGreaterThan(20);
    expect(mine.sort()).toEqual(theirSet.sort());
    if (process.env.SHOAL_TEST_VERBOSE) console.log(mine.join("\n"), JSON.stringify(norm(ours as Target[]), null, 1));
  } finally {
    await mgr.stop();
  }
}, 60_000);
