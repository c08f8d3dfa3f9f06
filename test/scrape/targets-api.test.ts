/**
 * /api/v1/targets' dropped targets on a real node, with Prometheus 3's shape: each dropped
 * target names its scrape pool; droppedTargetCounts has every pool (0 included), counts targets
 * before keep_dropped_targets trims the list, ignores the scrapePool filter, and is null when
 * only active targets were asked for. (Debian's Prometheus 2.42 predates droppedTargetCounts.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startShoal, tempDir, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
let dir = "";

beforeAll(async () => {
  dir = tempDir("targets-api");
  const cfg = join(dir, "shoal.yml");
  await Bun.write(
    cfg,
    [
      "global:",
      "  scrape_interval: 1h",
      "scrape_configs:",
      "  - job_name: lim",
      "    keep_dropped_targets: 1",
      "    static_configs:",
      "      - targets: ['127.0.0.1:1', 'gone1:1', 'gone2:1']",
      "    relabel_configs:",
      "      - {source_labels: [__address__], regex: 'gone.*', action: drop}",
      "  - job_name: none",
      "    static_configs:",
      "      - targets: ['127.0.0.1:2']",
      "",
    ].join("\n"),
  );
  shoal = await startShoal({ args: ["--config.file", cfg, "--log.level=error"] });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface TargetsData {
  activeTargets: { scrapePool: string }[];
  droppedTargets: { discoveredLabels: Record<string, string>; scrapePool: string }[];
  droppedTargetCounts: Record<string, number> | null;
}

async function targets(query = ""): Promise<TargetsData> {
  const r = await fetch(`${shoal.url}/api/v1/targets${query}`);
  expect(r.status).toBe(200);
  const body = (await r.json()) as { status: string; data: TargetsData };
  expect(body.status).toBe("success");
  return body.data;
}

test("every pool is counted, before keep_dropped_targets trims the list", async () => {
  const d = await targets();
  expect(d.droppedTargetCounts).toEqual({ lim: 2, none: 0 });
  expect(d.droppedTargets.length).toBe(1);
  expect(d.droppedTargets[0]!.scrapePool).toBe("lim");
  expect(d.droppedTargets[0]!.discoveredLabels.__address__).toMatch(/^gone[12]:1$/);
  expect(d.activeTargets.map((t) => t.scrapePool).sort()).toEqual(["lim", "none"]);
});

test("state=active: no dropped targets and a null droppedTargetCounts", async () => {
  const d = await targets("?state=active");
  expect(d.droppedTargets).toEqual([]);
  expect(d.droppedTargetCounts).toBeNull();
  expect(d.activeTargets.length).toBe(2);
});

test("state=Dropped with scrapePool: the list is filtered, the counts are not", async () => {
  const none = await targets("?state=Dropped&scrapePool=none");
  expect(none.activeTargets).toEqual([]);
  expect(none.droppedTargets).toEqual([]);
  expect(none.droppedTargetCounts).toEqual({ lim: 2, none: 0 });
  const lim = await targets("?state=dropped&scrapePool=lim");
  expect(lim.droppedTargets.map((t) => t.scrapePool)).toEqual(["lim"]);
});
