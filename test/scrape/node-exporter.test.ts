/** A real prometheus-node-exporter scraped by the ScrapeManager into the real TSDB. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { Matcher } from "../../src/model/index.ts";
import { ScrapeManager } from "../../src/scrape/index.ts";
import { openTempDB, readSeries, type TempDB } from "./helpers.ts";
import { startNodeExporter, waitFor, type NodeExporter } from "../support/index.ts";

const exporter = Bun.which("prometheus-node-exporter");
let proc: NodeExporter | null = null;
let addr = "";
let t: TempDB;

beforeAll(async () => {
  if (!exporter) return;
  t = await openTempDB();
  proc = await startNodeExporter();
  addr = proc.address;
});

afterAll(async () => {
  await proc?.stop();
  await t?.close();
});

test.skipIf(!exporter)("node exporter: up=1 and node_* series stored with metadata", async () => {
  const mgr = new ScrapeManager({ appendable: t.db });
  try {
    await mgr.applyConfig(
      parseConfig(`scrape_configs:\n  - job_name: node\n    scrape_interval: 500ms\n    static_configs:\n      - targets: ["${addr}"]\n`, "node.yml"),
    );
    const target = await waitFor("a successful scrape", () => mgr.activeTargets().find((a) => a.health !== "unknown"), { timeoutMs: 15_000 });
    expect(target.lastError).toBe("");
    expect(target.health).toBe("up");
    const up = await readSeries(t.db, "up", { job: "node" });
    expect([...up.values()][0]![0]!.v).toBe(1);
    const q = t.db.querier(0, Number.MAX_SAFE_INTEGER);
    const names = (await q.labelValues("__name__", [new Matcher("=", "job", "node")])).values;
    q.close();
    const nodeNames = names.filter((n) => n.startsWith("node_"));
    expect(nodeNames.length).toBeGreaterThan(50);
    expect(nodeNames).toContain("node_cpu_seconds_total");
    const cpu = await readSeries(t.db, "node_cpu_seconds_total", { instance: addr, mode: "idle" });
    expect(cpu.size).toBeGreaterThan(0);
    const scraped = (await readSeries(t.db, "scrape_samples_scraped", { job: "node" })).values().next().value![0]!.v;
    expect(scraped).toBeGreaterThan(200);
    const meta = mgr.metadata().find((m) => m.metric === "node_cpu_seconds_total");
    expect(meta).toMatchObject({ target: { instance: addr, job: "node" }, type: "counter" });
    expect(meta!.help.length).toBeGreaterThan(0);
  } finally {
    await mgr.stop();
  }
}, 30_000);
