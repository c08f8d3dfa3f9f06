/**
 * Query limits through the HTTP API of a real node: `--query.timeout` and the request's `timeout`
 * parameter stop a long evaluation close to its deadline with Prometheus's timeout error, while
 * the node keeps answering other queries; a subquery without a step uses the configuration's
 * global evaluation_interval, also after a reload.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";

/**
 * About 400 million samples of window work (500 series × 7200 subquery steps × 120 samples):
 * tens of seconds on this machine, seconds on any, so it is always cut by a 1 s timeout.
 */
const HEAVY = "sum(max_over_time(stddev_over_time(load_total[30m])[2h:1s]))";
/** The same kind of work inside a single series: 720,000 subquery steps over 2 h windows. */
const HEAVY_ONE_SERIES = 'max_over_time(stddev_over_time(load_total{instance="i7"}[2h])[2h:10ms])';
const LIGHT = "count(load_total)";
const TIMEOUT_MS = 1000;

const end = Math.floor(Date.now() / 60_000) * 60_000;

/** 500 counters over the last two hours at 15 s, written through remote write. */
async function load(node: ShoalNode): Promise<void> {
  const start = end - 2 * 3_600_000;
  for (let b = 0; b < 10; b++) {
    const series: TestSeries[] = [];
    for (let i = b * 50; i < (b + 1) * 50; i++) {
      const samples: [number, number][] = [];
      for (let t = start, k = 0; t <= end; t += 15_000, k++) samples.push([t, k * ((i % 5) + 1)]);
      series.push({ labels: { __name__: "load_total", instance: `i${i}`, job: `j${i % 4}` }, samples });
    }
    const r = await remoteWrite(node.url, writeRequestBody(series));
    expect(r.status).toBeLessThan(300);
  }
}

interface Answer {
  status: number;
  body: { status: string; errorType?: string; error?: string; data?: { result: { value: [number, string] }[] } };
  ms: number;
  doneAt: number;
}

async function instant(node: ShoalNode, query: string, extra: Record<string, string> = {}): Promise<Answer> {
  const began = performance.now();
  const r = await fetch(`${node.url}/api/v1/query`, {
    method: "POST",
    body: new URLSearchParams({ query, time: String(end / 1000), ...extra }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const body = (await r.json()) as Answer["body"];
  const doneAt = performance.now();
  return { status: r.status, body, ms: doneAt - began, doneAt };
}

/** Sends HEAVY, and LIGHT once HEAVY is surely evaluating; both answers. */
async function heavyWithLight(node: ShoalNode, heavyParams: Record<string, string> = {}, heavyQuery = HEAVY): Promise<{ heavy: Answer; light: Answer }> {
  const heavyP = instant(node, heavyQuery, heavyParams);
  await Bun.sleep(300);
  const light = await instant(node, LIGHT);
  return { heavy: await heavyP, light };
}

function expectTimedOut(a: Answer): void {
  expect(a.status).toBe(503);
  expect(a.body.status).toBe("error");
  expect(a.body.errorType).toBe("timeout");
  expect(a.body.error).toBe("query timed out in expression evaluation");
  // Near its deadline: not before it, and well before the seconds the query would need.
  expect(a.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  expect(a.ms).toBeLessThan(TIMEOUT_MS + 2500);
}

/** The heavy query timed out, and the light one was answered while it was still running (not after). */
function expectCutWhileAnswering({ heavy, light }: { heavy: Answer; light: Answer }): void {
  expectTimedOut(heavy);
  expect(light.status).toBe(200);
  expect(light.doneAt).toBeLessThan(heavy.doneAt);
}

describe("--query.timeout", () => {
  let node: ShoalNode;
  beforeAll(async () => {
    node = await startShoal({ args: ["--log.level=warn", `--query.timeout=${TIMEOUT_MS}ms`] });
    await load(node);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  test("a heavy query is stopped near the timeout while another query is answered", async () => {
    const { heavy, light } = await heavyWithLight(node);
    expectCutWhileAnswering({ heavy, light });
    expect(light.body.data?.result[0]?.value[1]).toBe("500");
    // The node is fine afterwards.
    expect((await instant(node, LIGHT)).status).toBe(200);
  }, 60_000);

  test("so is one long series (checked inside its steps, not only between series)", async () => {
    expectCutWhileAnswering(await heavyWithLight(node, {}, HEAVY_ONE_SERIES));
  }, 60_000);
});

describe("the API's timeout parameter", () => {
  let node: ShoalNode;
  beforeAll(async () => {
    node = await startShoal({ args: ["--log.level=warn"] });
    await load(node);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  test("shortens the server's timeout for one query", async () => {
    expectCutWhileAnswering(await heavyWithLight(node, { timeout: `${TIMEOUT_MS / 1000}s` }));
  }, 60_000);

  test("a bad timeout is a 400 naming the parameter", async () => {
    const a = await instant(node, LIGHT, { timeout: "soon" });
    expect(a.status).toBe(400);
    expect(a.body.errorType).toBe("bad_data");
    expect(a.body.error).toContain("timeout");
  });
});

describe("subqueries without a step", () => {
  let node: ShoalNode;
  let dir: string;
  const config = (interval: string) => `global:\n  evaluation_interval: ${interval}\nscrape_configs: []\n`;
  beforeAll(async () => {
    dir = tempDir("subquery-step");
    writeFileSync(join(dir, "shoal.yml"), config("30s"));
    node = await startShoal({ args: ["--log.level=warn", `--config.file=${join(dir, "shoal.yml")}`, "--web.enable-lifecycle"] });
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("use the global evaluation_interval, and follow it across a reload", async () => {
    // Points of the subquery in (t-10m, t]: one per evaluation interval.
    const q = "count_over_time(vector(1)[10m:])";
    expect((await instant(node, q)).body.data?.result[0]?.value[1]).toBe("20");
    writeFileSync(join(dir, "shoal.yml"), config("2m"));
    const r = await fetch(`${node.url}/-/reload`, { method: "POST" });
    expect(r.status).toBe(200);
    expect((await instant(node, q)).body.data?.result[0]?.value[1]).toBe("5");
    // An explicit step still wins.
    expect((await instant(node, "count_over_time(vector(1)[10m:1m])")).body.data?.result[0]?.value[1]).toBe("10");
  }, 60_000);
});
