import { describe, expect, test } from "bun:test";
import {
  ConfigError,
  DEFAULT_CONFIG_YAML,
  defaultConfig,
  parseConfig,
} from "../../src/config/index.ts";
import { labelsToRecord } from "../../src/model/index.ts";

function errorOf(text: string, file = "config.yml"): string {
  try {
    parseConfig(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("parseConfig", () => {
  test("an empty file gives Prometheus's defaults", () => {
    const cfg = parseConfig("", "empty.yml");
    expect(cfg.global.scrapeInterval).toBe(60_000);
    expect(cfg.global.scrapeTimeout).toBe(10_000);
    expect(cfg.global.evaluationInterval).toBe(60_000);
    expect(cfg.scrapeConfigs).toEqual([]);
  });

  test("every supported field", () => {
    const cfg = parseConfig(
      `
global:
  scrape_interval: 30s
  scrape_timeout: 5s
  evaluation_interval: 1m
  external_labels:
    region: eu
rule_files: ["rules/*.yml"]
remote_write:
  - url: http://example.com/api/v1/write
    queue_config: { max_shards: 2 }
scrape_configs:
  - job_name: node
    scrape_interval: 1h30m
    metrics_path: /probe
    scheme: https
    params: { module: [http_2xx] }
    honor_labels: true
    honor_timestamps: false
    static_configs:
      - targets: ["a:9100", "b:9100"]
        labels: { env: prod }
    file_sd_configs:
      - files: ["sd/*.json"]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
      - action: LabelDrop
        regex: "tmp_.*"
    metric_relabel_configs:
      - action: hashmod
        source_labels: [instance]
        target_label: shard
        modulus: 4
    basic_auth: { username: u, password_file: pw.txt }
    tls_config: { ca_file: /etc/ca.pem, server_name: x, insecure_skip_verify: true }
    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    body_size_limit: 10MB
    enable_compression: false
  - job_name: other
    authorization: { credentials: secret }
`,
      "/etc/shoal/config.yml",
    );
    expect(cfg.global).toMatchObject({ scrapeInterval: 30_000, scrapeTimeout: 5_000, evaluationInterval: 60_000 });
    expect(labelsToRecord(cfg.global.externalLabels)).toEqual({ region: "eu" });
    expect(cfg.ruleFiles).toEqual(["/etc/shoal/rules/*.yml"]);
    expect(cfg.remoteWrite[0]!.url).toBe("http://example.com/api/v1/write");
    const [node, other] = cfg.scrapeConfigs;
    expect(node).toMatchObject({
      jobName: "node",
      scrapeInterval: 5_400_000,
      scrapeTimeout: 5_000,
      metricsPath: "/probe",
      scheme: "https",
      params: { module: ["http_2xx"] },
      honorLabels: true,
      honorTimestamps: false,
      staticConfigs: [{ targets: ["a:9100", "b:9100"], labels: { env: "prod" } }],
      fileSDConfigs: [{ files: ["/etc/shoal/sd/*.json"], refreshInterval: 60_000 }],
      basicAuth: { username: "u", passwordFile: "/etc/shoal/pw.txt" },
      tlsConfig: { caFile: "/etc/ca.pem", serverName: "x", insecureSkipVerify: true },
      sampleLimit: 1000,
      labelLimit: 30,
      labelNameLengthLimit: 100,
      labelValueLengthLimit: 200,
      bodySizeLimit: 10 * 1024 * 1024,
      enableCompression: false,
    });
    expect(node!.relabelConfigs[0]).toEqual({
      sourceLabels: ["__address__"],
      separator: ";",
      regex: "(.*)",
      modulus: 0,
      targetLabel: "instance",
      replacement: "$1",
      action: "replace",
    });
    expect(node!.relabelConfigs[1]!.action).toBe("labeldrop");
    expect(node!.metricRelabelConfigs[0]).toMatchObject({ action: "hashmod", modulus: 4, targetLabel: "shard" });
    expect(other).toMatchObject({ scrapeInterval: 30_000, scrapeTimeout: 5_000, metricsPath: "/metrics", scheme: "http", honorTimestamps: true, enableCompression: true });
    expect(other!.authorization).toEqual({ type: "Bearer", credentials: "secret", credentialsFile: undefined });
  });

  test("a job's timeout defaults to the smaller of global timeout and its interval", () => {
    const cfg = parseConfig("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n", "c.yml");
    expect(cfg.scrapeConfigs[0]!.scrapeTimeout).toBe(5_000);
  });

  test.each([
    ["scrape_configs:\n  - job_name: a\n    scrape_interval: 15x\n", 'config.yml:3: scrape_configs[0].scrape_interval: invalid duration "15x"'],
    ["global:\n  scrape_interval: 10s\n  foo: 1\n", "parsing YAML file config.yml: yaml: unmarshal errors:\n  line 3: field foo not found in type config.plain"],
    ["scrape_configs:\n  - job_name: a\n  - job_name: a\n", 'config.yml:3: scrape_configs[1].job_name: found multiple scrape configs with job name "a"'],
    ["scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n", "config.yml:4: scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval"],
    ["global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n", "config.yml:3: global.scrape_timeout: global scrape timeout greater than scrape interval"],
    ["scrape_configs:\n  - scrape_interval: 5s\n", "config.yml:2: scrape_configs[0]: job_name is empty"],
    ["scrape_configs:\n  - job_name: a\n    scheme: ftp\n", "config.yml:3: scrape_configs[0].scheme: URL scheme must be 'http' or 'https'"],
    ["scrape_configs:\n  - job_name: a\n    sample_limit: -1\n", "config.yml:3: scrape_configs[0].sample_limit:"],
    ["scrape_configs:\n  - job_name: a\n    honor_labels: 3\n", "config.yml:3: scrape_configs[0].honor_labels:"],
    ["scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['a/b:1']\n", 'config.yml:4: scrape_configs[0].static_configs[0].targets[0]: "a/b:1" is not a valid hostname'],
    ["scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {'a-b': x}\n", 'scrape_configs[0].static_configs[0].labels.a-b: "a-b" is not a valid label name'],
    ["scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [x.txt]\n", 'config.yml:4: scrape_configs[0].file_sd_configs[0].files[0]: path name "x.txt" is not valid for file discovery'],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: foo\n", 'config.yml:4: scrape_configs[0].relabel_configs[0].action: unknown relabel action "foo"'],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '('\n", "config.yml:4: scrape_configs[0].relabel_configs[0].regex: error parsing regexp"],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: replace\n", "relabel configuration for replace action requires 'target_label' value"],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: hashmod, target_label: x}\n", "relabel configuration for hashmod requires non-zero modulus"],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: labeldrop, regex: x, target_label: y}\n", "labeldrop action requires only 'regex', and no other fields"],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: keepequal, source_labels: [a], target_label: b, regex: x}\n", "keepequal action requires only 'source_labels' and `target_label`, and no other fields"],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: lowercase, source_labels: [a], target_label: '${1}'}\n", `"\${1}" is invalid 'target_label' for lowercase action`],
    ["scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: labelmap, regex: x, replacement: '-'}\n", `"-" is invalid 'replacement' for labelmap action`],
    ["scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p, password_file: f}\n", "at most one of basic_auth password & password_file must be configured"],
    ["scrape_configs:\n  - job_name: a\n    authorization: {type: Basic}\n", 'authorization type cannot be set to "basic"'],
    ["scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: c}\n", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"],
    ["scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n", 'config.yml:3: scrape_configs[0].body_size_limit: invalid size "10XB"'],
    ["remote_write:\n  - name: x\n", "config.yml:2: remote_write[0]: url for remote_write is empty"],
    ["scrape_configs:\n  - job_name: a\n    job_name: b\n", "config.yml:3:"],
    ["scrape_configs: [\n", "config.yml:"],
    ["bogus: 1\n", "parsing YAML file config.yml: yaml: unmarshal errors:\n  line 1: field bogus not found in type config.plain"],
    ["global:\n  ? [a]\n  : 1\n", "config.yml:2: mapping keys must be plain values"],
    ["a: *nope\n", "config.yml"],
    ["scrape_configs:\n  - job_name: a\n    ec2_sd_configs: []\n", 'config.yml:3: scrape_configs[0].ec2_sd_configs: field "ec2_sd_configs" is not supported by Shoal: EC2 service discovery is not implemented'],
  ])("rejects %j", (text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  test("relabel action names are case-insensitive and every action is accepted", () => {
    const actions = [
      "{action: Replace, target_label: a}",
      "{action: KEEP}",
      "{action: drop}",
      "{action: keepequal, source_labels: [a], target_label: b}",
      "{action: dropequal, source_labels: [a], target_label: b}",
      "{action: hashmod, source_labels: [a], target_label: b, modulus: 3}",
      "{action: labelmap, regex: 'x_(.+)', replacement: '$1'}",
      "{action: labeldrop, regex: x}",
      "{action: labelkeep, regex: x}",
      "{action: lowercase, source_labels: [a], target_label: b}",
      "{action: uppercase, source_labels: [a], target_label: b}",
    ];
    const text = `scrape_configs:\n  - job_name: a\n    relabel_configs:\n${actions.map((a) => `      - ${a}\n`).join("")}`;
    const cfg = parseConfig(text, "c.yml");
    expect(cfg.scrapeConfigs[0]!.relabelConfigs.map((r) => r.action)).toEqual([
      "replace",
      "keep",
      "drop",
      "keepequal",
      "dropequal",
      "hashmod",
      "labelmap",
      "labeldrop",
      "labelkeep",
      "lowercase",
      "uppercase",
    ]);
  });
});

describe("default config", () => {
  test("scrapes the node itself every 15s", () => {
    const cfg = parseConfig(DEFAULT_CONFIG_YAML, "default.yml");
    expect(cfg.scrapeConfigs.map((s) => [s.jobName, s.scrapeInterval, s.staticConfigs[0]!.targets])).toEqual([
      ["shoal", 15_000, ["localhost:9090"]],
    ]);
  });
  test("targets the real listen address", () => {
    expect(defaultConfig("127.0.0.1:9191").scrapeConfigs[0]!.staticConfigs[0]!.targets).toEqual(["127.0.0.1:9191"]);
    expect(defaultConfig(":9191").scrapeConfigs[0]!.staticConfigs[0]!.targets).toEqual(["localhost:9191"]);
    expect(defaultConfig("0.0.0.0:9092").scrapeConfigs[0]!.staticConfigs[0]!.targets).toEqual(["localhost:9092"]);
  });
});

describe("file_sd files", () => {
  test("JSON and YAML target groups, with __meta_filepath", async () => {
    const { parseFileSD } = await import("../../src/config/index.ts");
    const yaml = parseFileSD("/sd/a.yml", "- targets: ['h1:9100', 'h2:9100']\n  labels: {env: prod}\n- targets: []\n");
    expect(yaml.map((g) => [g.source, g.targets.map(labelsToRecord), labelsToRecord(g.labels)])).toEqual([
      ["/sd/a.yml:0", [{ __address__: "h1:9100" }, { __address__: "h2:9100" }], { __meta_filepath: "/sd/a.yml", env: "prod" }],
      ["/sd/a.yml:1", [], { __meta_filepath: "/sd/a.yml" }],
    ]);
    const json = parseFileSD("/sd/b.json", JSON.stringify([{ targets: ["h3:1"] }]));
    expect(json[0]!.targets.map(labelsToRecord)).toEqual([{ __address__: "h3:1" }]);
    expect(() => parseFileSD("/sd/c.json", '[{"targets": ["a/b:1"]}]')).toThrow('"a/b:1" is not a valid hostname');
    expect(() => parseFileSD("/sd/c.json", '[{"targets": ["a:1"], "labels": {"a-b": "x"}}]')).toThrow('"a-b" is not a valid label name');
    expect(() => parseFileSD("/sd/c.json", '[{"target": ["a:1"]}]')).toThrow('unknown field "target"');
    expect(() => parseFileSD("/sd/c.json", "{")).toThrow("/sd/c.json: ");
  });
});
