/**
 * A config with a misspelt or unsupported field never runs: the node refuses to start with exit
 * status 1 and the error (file, line, field), and a reload refuses it and keeps the running config.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, freePort, removeTempDir, run, SHOAL_CLI, startShoal, tempDir, type ShoalNode } from "../support/index.ts";

const dir = tempDir("config-refusals");
let shoal: ShoalNode | undefined;
afterAll(async () => {
  await shoal?.stop("SIGKILL");
  removeTempDir(dir);
});

async function startWith(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const port = await freePort();
  const args = [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, `data-${name}`)}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=127.0.0.1:0"];
  return { file, result: await run([BUN, SHOAL_CLI, ...args], { timeoutMs: 20_000 }) };
}

test("the node refuses to start on a misspelt field, with Prometheus's words", async () => {
  const { file, result } = await startWith("typo.yml", "alerting:\n  alertmanagerz:\n    - static_configs:\n        - targets: [localhost:9093]\n");
  expect(result.code).toBe(1);
  expect(result.stderr + result.stdout).toContain(`parsing YAML file ${file}: yaml: unmarshal errors:`);
  expect(result.stderr + result.stdout).toContain("line 2: field alertmanagerz not found in type config.plain");
}, 30_000);

test("the node refuses to start on a field Shoal does not implement, naming file, line and field", async () => {
  const { file, result } = await startWith("remote-read.yml", "scrape_configs: []\nremote_read:\n  - url: http://localhost:9090/api/v1/read\n");
  expect(result.code).toBe(1);
  expect(result.stderr + result.stdout).toContain(`${file}:2: remote_read: field "remote_read" is not supported by Shoal`);
}, 30_000);

test("a reload refuses a file with an unknown or unsupported field and keeps the running config", async () => {
  const file = join(dir, "reload.yml");
  const good = "global:\n  scrape_interval: 7s\nscrape_configs: []\n";
  writeFileSync(file, good);
  shoal = await startShoal({ args: [`--config.file=${file}`, "--web.enable-lifecycle"] });
  const url = shoal.url;
  const configYaml = async () => ((await (await fetch(`${url}/api/v1/status/config`)).json()) as { data: { yaml: string } }).data.yaml;
  const before = await configYaml();
  expect(before).toContain("scrape_interval: 7s");

  const bad: [string, string][] = [
    ["global:\n  scrape_interval: 9s\nscrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", `parsing YAML file ${file}: yaml: unmarshal errors:\n  line 5: field scrape_intervall not found in type config.ScrapeConfig`],
    ["global:\n  scrape_interval: 9s\nstorage:\n  tsdb:\n    out_of_order_time_window: 10m\n", `${file}:5: storage.tsdb.out_of_order_time_window: field "out_of_order_time_window" is not supported by Shoal`],
  ];
  for (const [text, message] of bad) {
    writeFileSync(file, text);
    const r = await fetch(`${url}/-/reload`, { method: "POST" });
    expect(r.status).toBe(500);
    expect(await r.text()).toContain(message);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("prometheus_config_last_reload_successful 0");
    expect(await configYaml()).toBe(before);
  }
}, 60_000);
