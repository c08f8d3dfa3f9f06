/**
 * The scrape room's own counters where an end-to-end run cannot easily provoke them: a target
 * whose failing scrapes keep bringing new series gets its series cache flushed (Prometheus's
 * forced flush), and interval labels are Go's duration text.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, nopLogger } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { goDurationString, newScrapeCounters } from "../../src/scrape/metrics.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, type TempDB } from "./helpers.ts";

let round = 0;
let server: ReturnType<typeof Bun.serve>;
let t: TempDB;
beforeAll(async () => {
  // 600 series with names never seen before, every scrape.
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => {
      round++;
      let body = "";
      for (let i = 0; i < 600; i++) body += `churn{round="${round}",i="${i}"} 1\n`;
      return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } });
    },
  });
  t = await openTempDB();
});
afterAll(async () => {
  server.stop(true);
  await t.close();
});

test("a series cache that keeps growing while scrapes fail is flushed, and counted", async () => {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: churn\n    sample_limit: 550\n    static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`, "c.yml").scrapeConfigs[0]!;
  const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server.port}` })], labels: [] }], cfg).active[0]!;
  const counters = newScrapeCounters();
  const loop = new ScrapeLoop({ target: spec, config: cfg, appendable: t.db, parser: new ExpositionParser(), logger: nopLogger, offset: 0, counters });
  const sizes: number[] = [];
  for (let i = 0; i < 6; i++) {
    await loop.scrapeOnce();
    sizes.push(loop.takeState().cache.size);
  }
  expect(loop.health).toBe("down");
  expect(counters.sampleLimitExceeded).toBe(6);
  // Each failed scrape caches 551 new series; past 1000 (no good scrape yet) the cache is emptied.
  expect(counters.cacheFlushForced).toBeGreaterThanOrEqual(2);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(1000 + 551);
});

test("interval labels are Go's time.Duration text, as Prometheus writes them", () => {
  expect(goDurationString(15_000)).toBe("15s");
  expect(goDurationString(60_000)).toBe("1m0s");
  expect(goDurationString(90_000)).toBe("1m30s");
  expect(goDurationString(3_600_000)).toBe("1h0m0s");
  expect(goDurationString(5_400_500)).toBe("1h30m0.5s");
  expect(goDurationString(500)).toBe("500ms");
  expect(goDurationString(1500)).toBe("1.5s");
});
