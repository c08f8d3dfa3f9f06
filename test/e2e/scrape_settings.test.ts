/**
 * Scrape settings from Prometheus 3's config, honoured by a real scrape: the global limits are
 * every job's defaults, scrape_protocols is the Accept header offered, and fallback_scrape_protocol
 * decides how a body without a usable Content-Type is parsed.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";

const dir = tempDir("scrape-settings");
const accepts: Record<string, string> = {};
const FIVE_SERIES = Array.from({ length: 5 }, (_, i) => `series_${i} ${i}\n`).join("");
// Exemplars exist only in OpenMetrics: the text format's parser refuses this body.
const OPENMETRICS = '# TYPE requests counter\nrequests_total 3 # {trace_id="abc"} 1\n# EOF\n';

const target = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const path = new URL(req.url).pathname;
    accepts[path] = req.headers.get("accept") ?? "";
    // A binary body: Bun labels it application/octet-stream, which names no exposition format.
    if (path === "/om") return new Response(new TextEncoder().encode(OPENMETRICS));
    return new Response(FIVE_SERIES, { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

let shoal: ShoalNode | undefined;
afterAll(async () => {
  await shoal?.stop("SIGKILL");
  await target.stop(true);
  removeTempDir(dir);
});

async function up(url: string, job: string): Promise<string | undefined> {
  const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(`up{job="${job}"}`)}`)).json()) as { data: { result: { value: [number, string] }[] } };
  return r.data.result[0]?.value[1];
}

test("global limits, scrape_protocols and fallback_scrape_protocol reach the scrape", async () => {
  const addr = `127.0.0.1:${target.port}`;
  const config = `global:
  scrape_interval: 1s
  sample_limit: 3
scrape_configs:
  - job_name: limited
    metrics_path: /limited
    static_configs: [{ targets: ["${addr}"] }]
  - job_name: own-limit
    metrics_path: /own
    sample_limit: 10
    static_configs: [{ targets: ["${addr}"] }]
  - job_name: om
    metrics_path: /om
    scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
    fallback_scrape_protocol: OpenMetricsText1.0.0
    static_configs: [{ targets: ["${addr}"] }]
`;
  const file = join(dir, "config.yml");
  writeFileSync(file, config);
  shoal = await startShoal({ args: [`--config.file=${file}`] });
  const url = shoal.url;
  await waitFor("all three jobs scraped", async () => (await up(url, "limited")) !== undefined && (await up(url, "own-limit")) !== undefined && (await up(url, "om")) !== undefined, { timeoutMs: 20_000 });

  // The global sample_limit (3) fails the job that sets none; a job's own limit wins.
  expect(await up(url, "limited")).toBe("0");
  expect(await up(url, "own-limit")).toBe("1");
  // OpenMetrics asked for first, escaping named as Prometheus 3 names it; the body parsed as OpenMetrics.
  expect(accepts["/om"]).toBe("application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4");
  expect(await up(url, "om")).toBe("1");
  // Without scrape_protocols, Prometheus 2's header as before.
  expect(accepts["/own"]).toBe("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
}, 60_000);
