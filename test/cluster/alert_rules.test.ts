/**
 * The built-in cluster alert rules: a valid Prometheus rule file for promtool and for our own
 * parser, expressions over metrics a real node exports, one alert per problem however many
 * members report it (checked by promtool's rule unit tests, i.e. by Prometheus's own evaluator),
 * the flag that turns them off, and a README runbook line for each.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_ALERT_RULES_FILE, CLUSTER_ALERT_RULES_YAML, CLUSTER_FLAGS, clusterAlertRuleFiles, clusterConfigFromFlagValues } from "../../src/cluster/index.ts";
import { parseRuleFile } from "../../src/config/index.ts";
import { parseExpr } from "../../src/promql/index.ts";
import { removeTempDirs, run, startShoal, tempDir } from "../support/index.ts";

afterAll(removeTempDirs);

const PROMTOOL = "/usr/bin/promtool";

function ruleFile(): string {
  const path = join(tempDir("alert-rules"), "cluster_alerts.yml");
  writeFileSync(path, CLUSTER_ALERT_RULES_YAML);
  return path;
}

const groups = parseRuleFile(CLUSTER_ALERT_RULES_YAML, CLUSTER_ALERT_RULES_FILE, (expr) => void parseExpr(expr));
const alerts = groups.flatMap((g) => g.rules);
const ALERT_NAMES = [
  "ShoalClusterMemberDown",
  "ShoalClusterRangesUnderReplicated",
  "ShoalClusterRangesUnavailable",
  "ShoalClusterHintedHandoffBacklogGrowing",
  "ShoalClusterHandoffStalled",
  "ShoalClusterWriteQuorumFailures",
  "ShoalStorageDiskNearlyFull",
  "ShoalScrapeTargetsUnscraped",
];

test("our parser reads one group with every alert, each with a severity, a summary and a description", () => {
  expect(groups.map((g) => g.name)).toEqual(["shoal-cluster"]);
  expect(alerts.map((r) => r.alert)).toEqual(ALERT_NAMES);
  for (const r of alerts) {
    expect({ alert: r.alert, severity: ["warning", "critical"].includes(r.labels.severity ?? "") }).toEqual({ alert: r.alert, severity: true });
    expect(Object.keys(r.annotations).sort()).toEqual(["description", "summary"]);
    expect(r.for).toBeGreaterThan(0);
  }
});

test("promtool check rules accepts the file (expressions and templates)", async () => {
  const r = await run([PROMTOOL, "check", "rules", ruleFile()]);
  expect(r.stderr + r.stdout).toContain(`SUCCESS: ${ALERT_NAMES.length} rules found`);
  expect(r.code).toBe(0);
});

test("every metric the expressions read is exported by a real node", async () => {
  const node = await startShoal({ name: "alert-rules-metrics" });
  try {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const used = new Set(alerts.flatMap((r) => [...r.expr.matchAll(/\b(?:shoal|prometheus)_[a-z0-9_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  } finally {
    await node.stop();
  }
}, 60_000);

test("--cluster.alert-rules: on by default, off with false", () => {
  expect(CLUSTER_FLAGS.find((f) => f.name === "cluster.alert-rules")?.def).toBe("true");
  expect(clusterAlertRuleFiles(clusterConfigFromFlagValues(new Map()))).toEqual([{ file: CLUSTER_ALERT_RULES_FILE, text: CLUSTER_ALERT_RULES_YAML }]);
  expect(clusterAlertRuleFiles(clusterConfigFromFlagValues(new Map([["cluster.alert-rules", "false"]])))).toEqual([]);
  expect(() => clusterConfigFromFlagValues(new Map([["cluster.alert-rules", "maybe"]]))).toThrow("--cluster.alert-rules: expected true or false");
});

test("the README has a runbook line for every built-in alert", () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const at = readme.indexOf("### Built-in cluster alerts");
  expect(at).toBeGreaterThanOrEqual(0);
  const section = readme.slice(at);
  for (const name of ALERT_NAMES) expect({ name, listed: new RegExp(`\\|\\s*\`${name}\`\\s*\\|`).test(section) }).toEqual({ name, listed: true });
});

/** The annotations Prometheus expands for `name` with these labels and value (our text, Go's templating done by hand). */
function annotations(name: string, labels: Record<string, string>, value: string): Record<string, string> {
  const r = alerts.find((a) => a.alert === name)!;
  const out: Record<string, string> = {};
  for (const [k, text] of Object.entries(r.annotations)) {
    out[k] = text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? "")
      .replace(/\{\{ \$value \| humanizePercentage \}\}/g, `${Number((Number(value) * 100).toPrecision(4))}%`)
      .replace(/\{\{ \$value( \| humanize)? \}\}/g, value);
  }
  return out;
}

test("promtool's rule unit tests: one alert per problem over three members' views", async () => {
  const dir = tempDir("alert-rules-unit");
  writeFileSync(join(dir, "rules.yml"), CLUSTER_ALERT_RULES_YAML);
  const views = ["a:9090", "b:9090", "c:9090"];
  const series = (name: string, labels: Record<string, string>, values: string) =>
    `      - series: '${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}'\n        values: '${values}'\n`;
  let input = "";
  // Member c dies after 1m: a and b hold it dead; c's own last view stops (it said nothing of itself).
  for (const v of ["a:9090", "b:9090"]) {
    const others = views.filter((o) => o !== v);
    for (const o of others) input += series("shoal_cluster_member_up", { instance: v, job: "shoal", member: o[0]!, id: o[0]!.toUpperCase() }, o === "c:9090" ? "1x4 0x55" : "1x60");
    input += series("shoal_cluster_ranges_under_replicated", { instance: v, job: "shoal" }, "0x4 384x55");
    input += series("shoal_storage_fs_available_bytes", { instance: v, job: "shoal", path: "data/" }, v === "a:9090" ? "50x60" : "500x60");
    input += series("shoal_storage_fs_size_bytes", { instance: v, job: "shoal", path: "data/" }, "1000x60");
    // Every member's config yields 3 node targets; b scrapes 1, a scrapes 1, the third's owner (c) is gone.
    input += series("shoal_scrape_pool_unsharded_targets", { instance: v, job: "shoal", scrape_job: "node" }, "3x60");
    input += series("prometheus_target_scrape_pool_targets", { instance: v, job: "shoal", scrape_job: "node" }, "1x60");
  }
  input += series("shoal_cluster_member_up", { instance: "c:9090", job: "shoal", member: "a", id: "A" }, "1x4");
  input += series("shoal_cluster_member_up", { instance: "c:9090", job: "shoal", member: "b", id: "B" }, "1x4");
  input += series("shoal_cluster_ranges_under_replicated", { instance: "c:9090", job: "shoal" }, "0x4");
  input += series("shoal_scrape_pool_unsharded_targets", { instance: "c:9090", job: "shoal", scrape_job: "node" }, "3x4");
  input += series("prometheus_target_scrape_pool_targets", { instance: "c:9090", job: "shoal", scrape_job: "node" }, "1x4");
  const expAlert = (name: string, labels: Record<string, string>, value: string) => {
    const sev = alerts.find((a) => a.alert === name)!.labels.severity!;
    return `          - exp_labels: ${JSON.stringify({ severity: sev, ...labels })}\n            exp_annotations: ${JSON.stringify(annotations(name, labels, value))}\n`;
  };
  const check = (at: string, name: string, exp: string) => `      - eval_time: ${at}\n        alertname: ${name}\n        exp_alerts:${exp === "" ? " []\n" : "\n" + exp}`;
  const unit =
    `rule_files: [rules.yml]\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n${input}    alert_rule_test:\n` +
    // Pending before `for` has passed, then exactly one alert, whatever the number of views.
    check("1m15s", "ShoalClusterMemberDown", "") +
    check("2m", "ShoalClusterMemberDown", expAlert("ShoalClusterMemberDown", { member: "c", id: "C" }, "0")) +
    check("2m", "ShoalClusterRangesUnderReplicated", expAlert("ShoalClusterRangesUnderReplicated", {}, "384")) +
    check("30s", "ShoalClusterRangesUnderReplicated", "") +
    // c's last figures count until the lookback delta has passed (6m); then a and b scrape 2 of
    // the 3 targets, and after `for` the alert fires.
    check("12m", "ShoalScrapeTargetsUnscraped", expAlert("ShoalScrapeTargetsUnscraped", { scrape_job: "node" }, "1")) +
    check("2m", "ShoalScrapeTargetsUnscraped", "") +
    check("9m", "ShoalScrapeTargetsUnscraped", "") +
    check("6m", "ShoalStorageDiskNearlyFull", expAlert("ShoalStorageDiskNearlyFull", { instance: "a:9090", job: "shoal", path: "data/" }, "0.05"));
  writeFileSync(join(dir, "unit.yml"), unit);
  const r = await run([PROMTOOL, "test", "rules", join(dir, "unit.yml")]);
  if (r.code !== 0) console.log(unit);
  expect(r.stdout + r.stderr).toContain("SUCCESS");
  expect(r.code).toBe(0);
});
