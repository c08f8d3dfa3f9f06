/**
 * Random and mutated bodies through a real scrape into the real TSDB: the loop never throws,
 * a rejected body stores nothing but staleness markers and the synthetic series, and an
 * accepted body stores exactly its samples.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { parseConfig } from "../../src/config/index.ts";
import { isStaleAt, labelsFromRecord, Matcher, nopLogger, getLabel } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, type TempDB } from "./helpers.ts";

let body = "";
let contentType = "text/plain; version=0.0.4";
let server: ReturnType<typeof Bun.serve>;
let t: TempDB;
const REPORT = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]);

beforeAll(async () => {
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { headers: { "content-type": contentType } }) });
  t = await openTempDB();
});
afterAll(async () => {
  server.stop(true);
  await t.close();
});

const VALID = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 1027
http_requests_total{method="post",code="400"} 3
# TYPE lat histogram
lat_bucket{le="0.1"} 1
lat_bucket{le="+Inf"} 2
lat_sum 0.3
lat_count 2
temp{room="a\\"b"} -1.5e3
`;

test.each(["text", "openmetrics"] as const)("%s: a rejected scrape stores nothing of its body", async (format) => {
  contentType = format === "text" ? "text/plain; version=0.0.4" : "application/openmetrics-text; version=1.0.0";
  const valid = format === "text" ? VALID : VALID + "# EOF\n";
  const cfg = parseConfig(`scrape_configs:\n  - job_name: fuzz_${format}\n    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`, "f.yml").scrapeConfigs[0]!;
  const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server.port}` })], labels: [] }], cfg).active[0]!;
  const loop = new ScrapeLoop({ target: spec, config: cfg, appendable: t.db, parser: new ExpositionParser(), logger: nopLogger, offset: 0 });
  const mutation = fc.record({ pos: fc.nat(), del: fc.nat({ max: 4 }), ins: fc.string({ maxLength: 3, unit: fc.constantFrom(..."{}=\", \n#\\a1.eI") }) });
  let rejected = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
      let b = valid;
      for (const m of ms) {
        const at = m.pos % (b.length + 1);
        b = b.slice(0, at) + m.ins + b.slice(at + m.del);
      }
      return b;
    }), fc.string({ maxLength: 60 })), async (b) => {
      body = b;
      await Bun.sleep(1);
      await loop.scrapeOnce();
      const q = t.db.querier(loop.lastScrape - 1000, Number.MAX_SAFE_INTEGER);
      const set = await q.select([new Matcher("=", "job", `fuzz_${format}`)]);
      q.close();
      const upSeries = set.series.find((s) => getLabel(s.labels, "__name__") === "up")!;
      const at = upSeries.timestamps[upSeries.timestamps.length - 1]!;
      const upValue = upSeries.values[upSeries.values.length - 1]!;
      expect(upValue === 0).toBe(loop.lastError !== "");
      let stored = 0;
      for (const s of set.series) {
        if (REPORT.has(getLabel(s.labels, "__name__"))) continue;
        for (let i = 0; i < s.timestamps.length; i++) {
          if (s.timestamps[i] === at && !isStaleAt(s.values, i)) stored++;
        }
      }
      if (loop.lastError !== "") {
        rejected++;
        expect(stored).toBe(0);
      } else {
        accepted++;
      }
    }),
    { numRuns: 120 },
  );
  expect(rejected).toBeGreaterThan(10);
  expect(accepted).toBeGreaterThan(0);
}, 60_000);
