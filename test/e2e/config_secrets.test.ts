/**
 * Secrets in the config file never leave the node in clear: the status API, the UI's status page
 * (rendered in Chromium), the log line of a failed reload and `shoal check config` show
 * `<secret>` where Prometheus does — checked against Debian's Prometheus 2.42 serving the same file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { launchBrowser } from "../ui/harness.ts";
import { BUN, waitFor, run, startPrometheus, startShoal, tempDir, type PrometheusServer, type ShoalNode } from "../support/index.ts";

const SECRETS = ["pw-basic-1", "pw-cred-2", "pw-bearer-3", "pw-rw-4", "pw-oauth-5", "pw-am-6", "pw-rr-7", "pw-comment-8", "pw-sigv4-9"];

const FULL_CONFIG = `# old password: pw-comment-8
global:
  scrape_interval: 5s
  external_labels:
    password: shown-as-written
scrape_configs:
  - job_name: basic
    basic_auth:
      username: alice
      password: pw-basic-1
    static_configs: [{ targets: ["127.0.0.1:1"] }]
  - job_name: authz
    authorization:
      credentials: pw-cred-2
    static_configs: [{ targets: ["127.0.0.1:1"] }]
  - job_name: legacy
    bearer_token: pw-bearer-3
    static_configs: [{ targets: ["127.0.0.1:1"] }]
remote_write:
  - url: http://127.0.0.1:1/api/v1/write
    basic_auth:
      username: rw
      password: pw-rw-4
  - url: http://127.0.0.1:1/api/v1/write
    oauth2:
      client_id: id
      client_secret: pw-oauth-5
      token_url: http://127.0.0.1:1/token
  - url: http://127.0.0.1:1/api/v1/write
    sigv4:
      region: eu-west-1
      access_key: AKIDEXAMPLE
      secret_key: pw-sigv4-9
remote_read:
  - url: http://127.0.0.1:1/api/v1/read
    bearer_token: pw-rr-7
alerting:
  alertmanagers:
    - basic_auth:
        username: am
        password: pw-am-6
      static_configs: [{ targets: ["127.0.0.1:1"] }]
`;

/** What Shoal runs: the file without the sections it refuses (sigv4 signing, remote_read). */
const CONFIG = FULL_CONFIG.replace(/  - url: [^\n]*\n    sigv4:\n(      [^\n]*\n)+/, "").replace(/remote_read:\n(  [^\n]*\n)+/, "");

/** Dotted paths of every `<secret>` value in a parsed YAML tree. */
function secretPaths(node: unknown, path = ""): string[] {
  if (node === "<secret>") return [path];
  if (Array.isArray(node)) return node.flatMap((v, i) => secretPaths(v, `${path}[${i}]`));
  if (node !== null && typeof node === "object") return Object.entries(node).flatMap(([k, v]) => secretPaths(v, path === "" ? k : `${path}.${k}`));
  return [];
}

function expectNoSecret(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe("secrets in the config", () => {
  const dir = tempDir("secrets");
  const cfgPath = join(dir, "shoal.yml");
  let shoal: ShoalNode;

  beforeAll(async () => {
    writeFileSync(cfgPath, CONFIG);
    shoal = await startShoal({ args: ["--config.file", cfgPath] });
  }, 30_000);
  afterAll(async () => {
    await shoal?.stop("SIGKILL"); // its remote_write and Alertmanager are unreachable: a graceful stop waits out their flush deadlines
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const served = async (base: string) => {
    const r = await fetch(`${base}/api/v1/status/config`);
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: { yaml: string } }).data.yaml;
  };

  test("/api/v1/status/config shows <secret> at the same places as Prometheus 2.42, and nothing else changes", async () => {
    const yaml = await served(shoal.url);
    expectNoSecret(yaml);
    const cfg = parse(yaml) as {
      global: { external_labels: Record<string, string> };
      scrape_configs: { basic_auth?: { username: string; password: string } }[];
    };
    expect(cfg.scrape_configs[0]!.basic_auth).toEqual({ username: "alice", password: "<secret>" });
    // A label named like a secret field is data, not a secret.
    expect(cfg.global.external_labels.password).toBe("shown-as-written");

    let prom: PrometheusServer | undefined;
    try {
      prom = await startPrometheus(CONFIG);
      await waitFor("prometheus ready", async () => (await fetch(`${prom!.url}/-/ready`)).ok, { timeoutMs: 20_000 });
      const promYaml = await served(prom.url);
      expect(promYaml).not.toContain("pw-");
      const want = secretPaths(parse(promYaml)).sort();
      expect(want.length).toBe(6);
      expect(secretPaths(cfg).sort()).toEqual(want);
    } finally {
      await prom?.stop();
    }
  }, 60_000);

  test("the UI's status page shows the config with <secret>", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${shoal.url}/config`);
      const pre = page.locator("pre.config-yaml");
      await pre.waitFor({ timeout: 20_000 });
      const text = await pre.innerText();
      expect(text).toContain("job_name: legacy");
      expect(text).toContain("password: <secret>");
      expectNoSecret(await page.content());
    } finally {
      await browser.close();
    }
  }, 60_000);

  test("a failed reload logs the error without the secrets, and shoal check config prints none", async () => {
    const broken = CONFIG.replace("scrape_interval: 5s", "scrape_interval: banana");
    writeFileSync(cfgPath, broken);
    shoal.proc.kill("SIGHUP");
    await waitFor("reload failure logged", async () => shoal.output().includes("Error reloading config"), { timeoutMs: 10_000 });
    expect(shoal.output()).toContain("banana");
    expectNoSecret(shoal.output());

    const check = await run([BUN, "src/cli.ts", "check", "config", cfgPath]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("banana");
    expectNoSecret(check.stdout + check.stderr);
  }, 30_000);

  test("the sections Shoal refuses are named without their secrets", async () => {
    expect(CONFIG).not.toContain("sigv4");
    expect(CONFIG).not.toContain("remote_read");
    const full = join(dir, "full.yml");
    writeFileSync(full, FULL_CONFIG);
    const check = await run([BUN, "src/cli.ts", "check", "config", full]);
    expect(check.code).toBe(1);
    expect(check.stdout + check.stderr).toContain("not supported by Shoal");
    expectNoSecret(check.stdout + check.stderr);
  }, 30_000);
});
