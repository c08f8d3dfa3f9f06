/**
 * Rule files follow reloads as Prometheus's do: POST /-/reload and SIGHUP load changed rules;
 * a broken rule file is refused with its file and line, the running rules keep running (a
 * firing alert stays firing), and the reload metric says it failed.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";

const dir = tempDir("rules-reload");
const rulesFile = join(dir, "node.rules.yml");
let shoal: ShoalNode | undefined;
afterAll(async () => {
  await shoal?.stop("SIGKILL");
  removeTempDir(dir);
});

interface Group {
  name: string;
  rules: { name: string; state?: string }[];
}

async function groups(url: string): Promise<Group[]> {
  return ((await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: Group[] } }).data.groups;
}

test("a reload applies changed rules, refuses a broken file with its line and keeps the running rules", async () => {
  writeFileSync(rulesFile, "groups:\n  - name: up\n    interval: 1s\n    rules:\n      - alert: AlwaysOn\n        expr: vector(1)\n");
  writeFileSync(join(dir, "config.yml"), `global:\n  evaluation_interval: 1s\nrule_files: [${JSON.stringify(rulesFile)}]\nscrape_configs: []\n`);
  shoal = await startShoal({ args: [`--config.file=${join(dir, "config.yml")}`, "--web.enable-lifecycle", "--cluster.alert-rules=false"] });
  const url = shoal.url;
  await waitFor("AlwaysOn firing", async () => (await groups(url))[0]?.rules[0]?.state === "firing", { timeoutMs: 15_000 });

  // A broken file: refused with file and line; the running group goes on, its alert still firing.
  writeFileSync(rulesFile, "groups:\n  - name: up\n    interval: 1s\n    rules:\n      - alert: AlwaysOn\n        expr: vector(1) +\n");
  const bad = await fetch(`${url}/-/reload`, { method: "POST" });
  expect(bad.status).toBe(500);
  const text = await bad.text();
  expect(text).toContain(rulesFile);
  expect(text).toMatch(/: 6:\d+: group "up", rule 1, "AlwaysOn": could not parse expression/);
  expect(await (await fetch(`${url}/metrics`)).text()).toContain("prometheus_config_last_reload_successful 0");
  const kept = await groups(url);
  expect(kept.map((g) => g.rules.map((r) => [r.name, r.state]))).toEqual([[["AlwaysOn", "firing"]]]);

  // Fixed and changed: SIGHUP loads the new rules.
  writeFileSync(rulesFile, "groups:\n  - name: up\n    interval: 1s\n    rules:\n      - record: one\n        expr: vector(1)\n");
  shoal.proc.kill("SIGHUP");
  await waitFor("the new rules", async () => (await groups(url))[0]?.rules[0]?.name === "one", { timeoutMs: 10_000 });
  await waitFor("the reload reported", async () => (await (await fetch(`${url}/metrics`)).text()).includes("prometheus_config_last_reload_successful 1"), { timeoutMs: 10_000 });
  await waitFor("the recording rule's series", async () => {
    const r = (await (await fetch(`${url}/api/v1/query?query=one`)).json()) as { data: { result: unknown[] } };
    return r.data.result.length === 1;
  }, { timeoutMs: 10_000 });
}, 60_000);
