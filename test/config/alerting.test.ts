/**
 * The `alerting` section: Prometheus's fields and defaults, its refusals with file:line, and
 * `shoal check config` through the CLI agreeing with promtool on the same files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { BUN, removeTempDir, run, SHOAL_CLI, tempDir } from "../support/index.ts";

const FULL = `global:
  external_labels: { region: eu }
alerting:
  alert_relabel_configs:
    - { source_labels: [severity], regex: none, action: drop }
  alertmanagers:
    - static_configs:
        - targets: ["am1:9093", "am2:9093"]
          labels: { dc: a }
      file_sd_configs:
        - files: ["sd/*.json"]
          refresh_interval: 30s
      scheme: HTTPS
      path_prefix: /alertmanager
      timeout: 5s
      api_version: v2
      basic_auth: { username: u, password: p }
      tls_config: { ca_file: ca.pem, server_name: am.example, insecure_skip_verify: true }
      follow_redirects: false
      relabel_configs:
        - { source_labels: [dc], regex: b, action: drop }
      alert_relabel_configs:
        - { target_label: via, replacement: set0 }
    - static_configs: [{ targets: ["am3:9093"] }]
      authorization: { credentials_file: token }
`;

describe("alerting config", () => {
  test("every field is read, relative files resolve against the config's directory, and Prometheus's defaults fill the rest", () => {
    const cfg = parseConfig(FULL, "/etc/shoal/shoal.yml");
    expect(cfg.alerting.alertRelabelConfigs).toEqual([expect.objectContaining({ action: "drop", sourceLabels: ["severity"], regex: "none" })]);
    const [first, second] = cfg.alerting.alertmanagers;
    expect(first).toMatchObject({
      staticConfigs: [{ targets: ["am1:9093", "am2:9093"], labels: { dc: "a" } }],
      fileSDConfigs: [{ files: ["/etc/shoal/sd/*.json"], refreshInterval: 30_000 }],
      scheme: "https",
      pathPrefix: "/alertmanager",
      timeout: 5000,
      apiVersion: "v2",
      basicAuth: { username: "u", password: "p" },
      tlsConfig: { caFile: "/etc/shoal/ca.pem", serverName: "am.example", insecureSkipVerify: true },
      followRedirects: false,
    });
    expect(first!.relabelConfigs).toEqual([expect.objectContaining({ action: "drop", sourceLabels: ["dc"], regex: "b" })]);
    expect(first!.alertRelabelConfigs).toEqual([expect.objectContaining({ action: "replace", targetLabel: "via", replacement: "set0" })]);
    expect(second).toMatchObject({
      scheme: "http",
      pathPrefix: "",
      timeout: 10_000,
      apiVersion: "v2",
      followRedirects: true,
      authorization: { type: "Bearer", credentialsFile: "/etc/shoal/token" },
      relabelConfigs: [],
      alertRelabelConfigs: [],
      fileSDConfigs: [],
    });
  });

  test("no alerting section: no Alertmanagers and no alert relabeling", () => {
    expect(parseConfig("global: {}\n", "a.yml").alerting).toEqual({ alertRelabelConfigs: [], alertmanagers: [] });
    expect(parseConfig("alerting:\n", "a.yml").alerting).toEqual({ alertRelabelConfigs: [], alertmanagers: [] });
  });

  test("a URL in a target is refused unless relabel_configs may still fix it", () => {
    const url = 'alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["http://am:9093"] }]\n';
    expect(() => parseConfig(url, "c.yml")).toThrow('c.yml:3: alerting.alertmanagers[0].static_configs[0].targets[0]: "http://am:9093" is not a valid hostname');
    expect(() => parseConfig(`${url}      relabel_configs: [{ source_labels: [__address__], regex: "http://(.*)", target_label: __address__ }]\n`, "c.yml")).not.toThrow();
  });

  const refusals: [string, string][] = [
    ["alerting:\n  alertmanagers:\n    - api_version: v1\n", "c.yml:3: alerting.alertmanagers[0].api_version: expected Alertmanager api version to be one of [v2] but got v1"],
    ["alerting:\n  alertmanagers:\n    - timeout: 5x\n", 'c.yml:3: alerting.alertmanagers[0].timeout: invalid duration "5x"'],
    ["alerting:\n  alertmanagers:\n    - timeout: 0s\n", "c.yml:3: alerting.alertmanagers[0].timeout: timeout must be greater than 0"],
    ["alerting:\n  alertmanagers:\n    - scheme: ftp\n", `c.yml:3: alerting.alertmanagers[0].scheme: URL scheme must be 'http' or 'https', got "ftp"`],
    ["alerting:\n  alertmanagers:\n    - static_config: []\n", "parsing YAML file c.yml: yaml: unmarshal errors:\n  line 3: field static_config not found in type config.AlertmanagerConfig"],
    ["alerting:\n  alertmanagers:\n    - sigv4: { region: x }\n", 'c.yml:3: alerting.alertmanagers[0].sigv4: field "sigv4" is not supported by Shoal'],
    ["alerting:\n  alertmanagers:\n    - ec2_sd_configs: []\n", 'c.yml:3: alerting.alertmanagers[0].ec2_sd_configs: field "ec2_sd_configs" is not supported by Shoal'],
    ["alerting:\n  alertmanagers:\n    - dns_sd_configs: [{ names: [am.test], type: A }]\n", "c.yml:3: alerting.alertmanagers[0].dns_sd_configs[0]: a port is required in DNS-SD configs for all record types except SRV"],
    ["alerting:\n  alertmanagers:\n    - http_sd_configs: [{ url: ftp://x/sd }]\n", "c.yml:3: alerting.alertmanagers[0].http_sd_configs[0].url: URL scheme must be 'http' or 'https'"],
    ["alerting:\n  alertmanagers:\n    - basic_auth: { username: u }\n      authorization: { credentials: c }\n", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"],
    ["alerting:\n  alertmanagers:\n    - authorization: { type: Basic, credentials: c }\n", 'authorization type cannot be set to "basic", use "basic_auth" instead'],
    ["alerting:\n  alertmanagers:\n    - relabel_configs: [~]\n", "c.yml:3: alerting.alertmanagers[0].relabel_configs[0]: empty or null Alertmanager target relabeling rule"],
    ["alerting:\n  alertmanagers:\n    - alert_relabel_configs: [~]\n", "c.yml:3: alerting.alertmanagers[0].alert_relabel_configs[0]: empty or null Alertmanager alert relabeling rule"],
    ["alerting:\n  alert_relabel_configs: [~]\n", "c.yml:2: alerting.alert_relabel_configs[0]: empty or null alert relabeling rule"],
    ["alerting:\n  alert_relabel_configs:\n    - action: rename\n", 'c.yml:3: alerting.alert_relabel_configs[0].action: unknown relabel action "rename"'],
    ["alerting:\n  alertmanagers:\n    - file_sd_configs: [{ files: [am.txt] }]\n", 'c.yml:3: alerting.alertmanagers[0].file_sd_configs[0].files[0]: path name "am.txt" is not valid for file discovery'],
    ["alerting:\n  alertmanagers:\n    - static_configs: [{ targets: [a], labels: { 0x: y } }]\n", 'c.yml:3: alerting.alertmanagers[0].static_configs[0].labels.0x: "0x" is not a valid label name'],
    ["alerting:\n  alertmanagerz: []\n", "parsing YAML file c.yml: yaml: unmarshal errors:\n  line 2: field alertmanagerz not found in type config.plain"],
  ];
  test.each(refusals)("refused: %j", (text, message) => {
    expect(() => parseConfig(text, "c.yml")).toThrow(message);
  });
});

describe("shoal check config with an alerting section", () => {
  let dir = "";
  const files: Record<string, string> = {
    "good.yml": FULL.replace("      scheme: HTTPS\n", "").replace("      tls_config: { ca_file: ca.pem, server_name: am.example, insecure_skip_verify: true }\n", ""),
    // Per-set alert_relabel_configs came after 2.42: the same file without them, for promtool.
    "good-242.yml": FULL.replace("      scheme: HTTPS\n", "")
      .replace("      tls_config: { ca_file: ca.pem, server_name: am.example, insecure_skip_verify: true }\n", "")
      .replace("      alert_relabel_configs:\n        - { target_label: via, replacement: set0 }\n", ""),
    "v1.yml": "alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs: [{ targets: [am:9093] }]\n",
    "bad-timeout.yml": "alerting:\n  alertmanagers:\n    - timeout: soon\n",
    "url-target.yml": 'alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["http://am:9093"] }]\n',
    "relabel-to-url.yml": "alerting:\n  alertmanagers:\n    - static_configs: [{ targets: [am:9093] }]\n      relabel_configs: [{ target_label: __address__, replacement: 'http://x/y' }]\n",
    "sd-url.yml": "alerting:\n  alertmanagers:\n    - file_sd_configs: [{ files: [url/*.json] }]\n",
    "sd-broken.yml": "alerting:\n  alertmanagers:\n    - file_sd_configs: [{ files: [broken/*.json] }]\n",
    "sd-missing.yml": "alerting:\n  alertmanagers:\n    - file_sd_configs: [{ files: [nothing/*.json] }]\n",
  };
  /** Files promtool 2.42 accepts. */
  const valid = new Set(["good-242.yml", "sd-missing.yml"]);
  /** Newer than 2.42: API v1 is refused by Prometheus 3, per-set alert relabeling unknown to 2.42. */
  const newerThan242 = new Set(["good.yml", "v1.yml"]);

  beforeAll(() => {
    dir = tempDir("check-alerting");
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    for (const sub of ["sd", "url", "broken"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "token"), "t\n");
    writeFileSync(join(dir, "sd/a.json"), JSON.stringify([{ targets: ["am4:9093"] }]));
    writeFileSync(join(dir, "url/a.json"), JSON.stringify([{ targets: ["http://am4:9093"] }]));
    writeFileSync(join(dir, "broken/a.json"), "[{targets: nope");
  });
  afterAll(() => removeTempDir(dir));

  const check = (file: string) => run([BUN, SHOAL_CLI, "check", "config", file], { cwd: dir });

  test("a valid alerting section passes", async () => {
    const r = await check("good.yml");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Checking good.yml\n SUCCESS: good.yml is valid prometheus config file syntax\n\n");
  });

  test("a missing file_sd file only warns, as promtool", async () => {
    const r = await check("sd-missing.yml");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}WARNING: file "[^"]*nothing\/\*\.json" for file_sd in alertmanager config does not exist$/m);
  });

  test("bad sections fail with what and where", async () => {
    const expected: Record<string, string> = {
      "v1.yml": "  FAILED: v1.yml:3: alerting.alertmanagers[0].api_version: expected Alertmanager api version to be one of [v2] but got v1\n",
      "bad-timeout.yml": '  FAILED: bad-timeout.yml:3: alerting.alertmanagers[0].timeout: invalid duration "soon"\n',
      "url-target.yml": '  FAILED: url-target.yml:3: alerting.alertmanagers[0].static_configs[0].targets[0]: "http://am:9093" is not a valid hostname\n',
      "relabel-to-url.yml": '  FAILED: "http://x/y" is not a valid hostname\n',
    };
    for (const [file, err] of Object.entries(expected)) {
      const r = await check(file);
      expect({ file, code: r.code, err: r.stderr }).toEqual({ file, code: 1, err });
    }
    const url = await check("sd-url.yml");
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/^ {2}FAILED: checking SD file "[^"]*url\/\*\.json": .*"http:\/\/am4:9093" is not a valid hostname\n$/);
    const broken = await check("sd-broken.yml");
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^ {2}FAILED: checking SD file "[^"]*broken\/\*\.json": .*broken\/a\.json: JSON Parse error/);
  });

  const promtool = Bun.which("promtool");
  test.skipIf(!promtool)("the same verdict as promtool 2.42 on what 2.42 knows", async () => {
    for (const name of Object.keys(files)) {
      if (newerThan242.has(name)) continue;
      const theirs = await run([promtool!, "check", "config", name], { cwd: dir });
      const ours = await check(name);
      expect({ name, promtool: theirs.code === 0 }).toEqual({ name, promtool: valid.has(name) });
      expect({ name, ours: ours.code }).toEqual({ name, ours: theirs.code });
    }
  }, 60_000);
});
