/**
 * `shoal check config` through the CLI, and the same files through the real promtool: the
 * verdict (exit status) must agree for every file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/index.ts";

const root = join(import.meta.dir, "../..");
const bun = process.execPath;
let dir = "";

const FILES: Record<string, string> = {
  "full.yml": `
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels: { region: eu }
rule_files: ["rules/*.yml"]
scrape_configs:
  - job_name: node
    scrape_interval: 10s
    scrape_timeout: 5s
    metrics_path: /metrics
    params: { format: [prometheus] }
    honor_labels: true
    honor_timestamps: false
    static_configs:
      - targets: ["localhost:9100"]
        labels: { env: test }
    file_sd_configs:
      - files: ["sd/*.json"]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        regex: "(.*):.*"
        target_label: host
      - action: labelmap
        regex: "__meta_(.+)"
      - action: hashmod
        source_labels: [__address__]
        target_label: __tmp_hash
        modulus: 2
      - action: keepequal
        source_labels: [env]
        target_label: env
      - action: lowercase
        source_labels: [host]
        target_label: host
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: "go_.*"
      - action: labeldrop
        regex: "tmp_.*"
    basic_auth: { username: u, password: p }
    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    body_size_limit: 10MB
remote_write:
  - url: http://localhost:9999/api/v1/write
`,
  "minimal.yml": "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['localhost:1']\n",
  "empty.yml": "",
  "bad-duration.yml": "scrape_configs:\n  - job_name: a\n    scrape_interval: 15x\n",
  "unknown-field.yml": "scrape_configs:\n  - job_name: a\n    scrape_intervall: 15s\n",
  "dup-job.yml": "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
  "timeout.yml": "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
  "bad-action.yml": "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: rename\n",
  "hashmod.yml": "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: hashmod, source_labels: [a], target_label: b}\n",
  "bad-regex.yml": "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: keep, source_labels: [a], regex: '(foo'}\n",
  "yaml-syntax.yml": "scrape_configs:\n  - job_name: a\n   foo: [\n",
  "two-passwords.yml": "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p, password_file: f}\n",
  "labeldrop-extra.yml": "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: labeldrop, regex: x, source_labels: [a]}\n",
  "global-timeout.yml": "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
  "bad-label.yml": "global:\n  external_labels: {'0abc': x}\n",
  "bad-sd-file.yml": "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [broken/*.json]\n",
  "missing-cred.yml": "scrape_configs:\n  - job_name: a\n    authorization: {credentials_file: nope.txt}\n",
  "zero-interval.yml": "global:\n  scrape_interval: 0s\n",
  "metrics-path-no-slash.yml": "scrape_configs:\n  - job_name: a\n    metrics_path: metrics\n",
  "empty-targets.yml": "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: []\n",
  "target-with-scheme.yml": "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://a:1']\n",
  "label-empty-value.yml": "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['a:1']\n        labels: {x: ''}\n",
  "job-name-number.yml": "scrape_configs:\n  - job_name: 123\n",
  "params-not-list.yml": "scrape_configs:\n  - job_name: a\n    params: {a: b}\n",
  "templated-target.yml": "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {source_labels: [a], regex: '(.+)', target_label: '${1}_x'}\n",
  "bearer-token.yml": "scrape_configs:\n  - job_name: a\n    bearer_token: x\n",
  "missing-ca.yml": "scrape_configs:\n  - job_name: a\n    tls_config: {ca_file: nope.pem}\n",
  "sample-limit-string.yml": "scrape_configs:\n  - job_name: a\n    sample_limit: '10'\n",
  "honor-labels-string.yml": "scrape_configs:\n  - job_name: a\n    honor_labels: 'true'\n",
  "duration-float.yml": "global:\n  scrape_interval: 1.5s\n",
  "duration-number.yml": "global:\n  scrape_interval: 15\n",
  "scheme-uppercase.yml": "scrape_configs:\n  - job_name: a\n    scheme: HTTPS\n",
  "null-scrape-config.yml": "scrape_configs:\n  -\n",
  "cert-without-key.yml": "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: full.yml}\n",
  "rule-path-bad.yml": "rule_files: ['a*/b.yml']\n",
  "external-label-dunder.yml": "global:\n  external_labels: {__x__: y}\n",
  "target-limit.yml": "scrape_configs:\n  - job_name: a\n    target_limit: 5\n",
};

/** Rule files, each checked through a config `rf-NAME` whose rule_files names it. */
const RULE_FILES: Record<string, string> = {
  "good.rules": "groups:\n  - name: g\n    interval: 30s\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n        labels: {team: a}\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations: {summary: down}\n",
  "bad-expr.rules": "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up\n",
  "both.rules": "groups:\n  - name: g\n    rules:\n      - {record: a, alert: b, expr: up}\n",
  "record-annotations.rules": "groups:\n  - name: g\n    rules:\n      - {record: a, expr: up, annotations: {x: y}}\n",
  "bad-record-name.rules": "groups:\n  - name: g\n    rules:\n      - {record: 'a-b', expr: up}\n",
  "dup-group.rules": "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n",
  "unknown-field.rules": "groups:\n  - name: g\n    rulez: []\n",
  "no-expr.rules": "groups:\n  - name: g\n    rules:\n      - {alert: a}\n",
};
for (const name of Object.keys(RULE_FILES)) FILES[`rf-${name}.yml`] = `rule_files: ["${name}"]\n`;

const VALID = new Set([
  "full.yml",
  "minimal.yml",
  "empty.yml",
  "rf-good.rules.yml",
  "zero-interval.yml",
  "metrics-path-no-slash.yml",
  "empty-targets.yml",
  "label-empty-value.yml",
  "job-name-number.yml",
  "templated-target.yml",
  "bearer-token.yml",
  "missing-ca.yml",
  "scheme-uppercase.yml",
  "external-label-dunder.yml",
  "target-limit.yml",
]);

beforeAll(() => {
  dir = tempDir("check");
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  for (const [name, text] of Object.entries(RULE_FILES)) writeFileSync(join(dir, name), text);
  Bun.spawnSync(["mkdir", "-p", join(dir, "rules"), join(dir, "sd"), join(dir, "broken")]);
  writeFileSync(join(dir, "rules/a.yml"), "groups: []\n");
  writeFileSync(join(dir, "sd/t.json"), JSON.stringify([{ targets: ["localhost:9101"], labels: { team: "x" } }]));
  writeFileSync(join(dir, "broken/t.json"), "[{targets: nope");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shoalCheck(...files: string[]) {
  const p = Bun.spawnSync([bun, join(root, "src/cli.ts"), "check", "config", ...files], { cwd: dir });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

const promtool = Bun.which("promtool");

describe("shoal check config", () => {
  test("a valid file: promtool's wording, exit 0", () => {
    const r = shoalCheck("minimal.yml");
    expect(r.code).toBe(0);
    expect(r.out).toBe("Checking minimal.yml\n SUCCESS: minimal.yml is valid prometheus config file syntax\n\n");
  });

  test("rule files are counted", () => {
    const r = shoalCheck("full.yml");
    expect(r.code).toBe(0);
    expect(r.out).toContain("  SUCCESS: 1 rule files found\n");
  });

  test("an invalid file: FAILED with file, line and field, exit 1", () => {
    const r = shoalCheck("minimal.yml", "bad-duration.yml");
    expect(r.code).toBe(1);
    expect(r.out).toContain("Checking bad-duration.yml\n");
    expect(r.out).toEndWith("Checking bad-duration.yml\n\n");
    expect(r.err).toBe('  FAILED: bad-duration.yml:3: scrape_configs[0].scrape_interval: invalid duration "15x"\n');
  });

  test("rule files are checked like promtool does", () => {
    const ok = shoalCheck("rf-good.rules.yml");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("Checking good.rules\n  SUCCESS: 2 rules found\n\n");
    const bad = shoalCheck("rf-bad-expr.rules.yml");
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('  FAILED:\n     bad-expr.rules: 5:15: group "g", rule 1, "a:b": could not parse expression: 1:7: parse error: unclosed left parenthesis\n');
  });

  test("a wildcard that matches a directory names it, and reading it fails, as promtool's filepath.Glob does", () => {
    Bun.spawnSync(["mkdir", "-p", join(dir, "globdir/rules/sub.yml"), join(dir, "globdir/sd/sub.json")]);
    writeFileSync(join(dir, "globdir/rules.yml"), 'rule_files: ["rules/*.yml"]\n');
    writeFileSync(join(dir, "globdir/sd.yml"), 'scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: ["sd/*.json"]\n');
    for (const f of ["globdir/rules.yml", "globdir/sd.yml"]) {
      const r = shoalCheck(f);
      expect(r.code).toBe(1);
      expect(r.err).toContain("EISDIR");
      if (promtool) expect(Bun.spawnSync([promtool, "check", "config", f], { cwd: dir }).exitCode).toBe(1);
    }
  });

  test.skipIf(!promtool)("rule files with several errors and duplicate rules: promtool's lines and exit status", () => {
    writeFileSync(join(dir, "two-errors.rules"), "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up\n      - record: c\n");
    writeFileSync(join(dir, "dups.rules"), "groups:\n  - name: g\n    rules:\n      - {record: a, expr: up}\n      - {record: a, expr: up + 1}\n");
    writeFileSync(join(dir, "rf-errors-and-dups.yml"), 'rule_files: ["two-errors.rules", "dups.rules"]\n');
    writeFileSync(join(dir, "rf-dups.yml"), 'rule_files: ["dups.rules"]\n');
    for (const args of [["rf-errors-and-dups.yml"], ["rf-dups.yml"], ["--lint-fatal", "rf-dups.yml"], ["--lint=none", "rf-dups.yml"]]) {
      const ours = Bun.spawnSync([bun, join(root, "src/cli.ts"), "check", "config", ...args], { cwd: dir });
      const real = Bun.spawnSync([promtool!, "check", "config", ...args], { cwd: dir });
      expect([ours.exitCode, ours.stdout.toString(), ours.stderr.toString()]).toEqual([real.exitCode, real.stdout.toString(), real.stderr.toString()]);
    }
  });

  test("--syntax-only skips the files the config refers to, as promtool's does", () => {
    expect(shoalCheck("missing-cred.yml").code).toBe(1);
    expect(shoalCheck("--syntax-only", "missing-cred.yml").code).toBe(0);
    expect(shoalCheck("--syntax-only", "rf-bad-expr.rules.yml").code).toBe(0);
    expect(shoalCheck("--syntax-only", "bad-duration.yml").code).toBe(1);
    if (promtool) {
      for (const f of ["missing-cred.yml", "rf-bad-expr.rules.yml", "bad-duration.yml"]) {
        expect(shoalCheck("--syntax-only", f).code).toBe(Bun.spawnSync([promtool, "check", "config", "--syntax-only", f], { cwd: dir }).exitCode);
      }
    }
    expect(shoalCheck("--bogus", "minimal.yml").code).toBe(2);
  });

  test("a missing file fails", () => {
    const r = shoalCheck("does-not-exist.yml");
    expect(r.code).toBe(1);
    expect(r.err).toContain("FAILED: open does-not-exist.yml: no such file or directory");
  });

  test.skipIf(!promtool)("same verdict as promtool for every file", () => {
    const differences: string[] = [];
    for (const name of Object.keys(FILES)) {
      const ours = shoalCheck(name).code;
      const theirs = Bun.spawnSync([promtool!, "check", "config", name], { cwd: dir }).exitCode;
      expect(theirs === 0).toBe(VALID.has(name));
      if (ours !== theirs) differences.push(`${name}: shoal ${ours}, promtool ${theirs}`);
    }
    expect(differences).toEqual([]);
  }, 60_000);
});
