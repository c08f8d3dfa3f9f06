/**
 * `shoal test rules` through the CLI, side by side with the real promtool (Prometheus 2.42) on
 * the same unit-test files: passing and failing tests of alerts with `for`, templated labels and
 * annotations, recording rules, PromQL expressions, external labels and URL, group order, and
 * broken files. Same verdict, same exit status, same output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { BUN, removeTempDir, runSync, SHOAL_CLI, tempDirWith } from "../support/index.ts";

const promtool = Bun.which("promtool");
let dir = "";

const RULES = `groups:
  - name: rec
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: job:requests:rate2m
        expr: sum by (job) (rate(requests_total[2m]))
  - name: alerts
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
          team: '{{ $labels.job }}-oncall'
        annotations:
          summary: "Instance {{ $labels.instance }} down"
          description: "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes (value {{ $value }})."
      - alert: HighRate
        expr: job:requests:rate2m > 1
        annotations:
          value: '{{ $value | humanize }} requests/s in {{ $externalLabels.region }}, see {{ $externalURL }}'
`;

const ORDERED_RULES = `groups:
  - name: second
    rules:
      - record: doubled
        expr: base * 2
  - name: first
    rules:
      - record: base
        expr: vector(21)
`;

const BROKEN_RULES = `groups:
  - name: g
    rules:
      - record: a:b
        expr: sum(up
      - alert: X
        expr: up
        for: 5m
        annotations: {summary: "{{ $labels.instance "}
`;

const INPUT = `    input_series:
      - series: 'up{job="prometheus", instance="localhost:9090"}'
        values: '0x14'
      - series: 'up{job="node", instance="localhost:9100"}'
        values: '1+0x6 0 0 0 0 0 0 0 0'
      - series: 'requests_total{job="api"}'
        values: '0+120x5 _ 720+120x4 stale'
`;

const FILES: Record<string, string> = {
  "rules.yml": RULES,
  "ordered.yml": ORDERED_RULES,
  "broken.yml": BROKEN_RULES,
  "pass.yml": `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    external_labels: {region: eu}
    external_url: http://shoal.example:9090
${INPUT}    alert_rule_test:
      - eval_time: 10m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, team: prometheus-oncall, instance: "localhost:9090", job: prometheus}
            exp_annotations:
              summary: "Instance localhost:9090 down"
              description: "localhost:9090 of job prometheus has been down for more than 5 minutes (value 0)."
      - eval_time: 4m
        alertname: InstanceDown
        exp_alerts: []
      - eval_time: 14m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, team: prometheus-oncall, instance: "localhost:9090", job: prometheus}
            exp_annotations:
              summary: "Instance localhost:9090 down"
              description: "localhost:9090 of job prometheus has been down for more than 5 minutes (value 0)."
          - exp_labels: {severity: page, team: node-oncall, instance: "localhost:9100", job: node}
            exp_annotations:
              summary: "Instance localhost:9100 down"
              description: "localhost:9100 of job node has been down for more than 5 minutes (value 0)."
      - eval_time: 3m
        alertname: HighRate
        exp_alerts:
          - exp_labels: {job: api}
            exp_annotations:
              value: "2 requests/s in eu, see http://shoal.example:9090"
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 4m
        exp_samples:
          - labels: 'job:up:sum{job="prometheus"}'
            value: 0
          - labels: 'job:up:sum{job="node"}'
            value: 1
      - expr: ALERTS{alertname="InstanceDown", alertstate="pending"}
        eval_time: 9m
        exp_samples:
          - labels: 'ALERTS{alertname="InstanceDown", alertstate="pending", instance="localhost:9100", job="node", severity="page", team="node-oncall"}'
            value: 1
      - expr: count(requests_total)
        eval_time: 12m
      - expr: scalar(job:up:sum{job="node"}) + 0.5
        eval_time: 1m
        exp_samples:
          - value: 1.5
  - name: second group
    interval: 30s
    input_series:
      - series: 'x'
        values: '1 2 3 4'
    promql_expr_test:
      - expr: x
        eval_time: 1m
        exp_samples:
          - labels: x
            value: 3
`,
  "fail.yml": `rule_files: [rules.yml]
tests:
  - interval: 1m
    name: wrong expectations
${INPUT}    alert_rule_test:
      - eval_time: 10m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, team: prometheus-oncall, instance: "localhost:9090", job: prometheus}
            exp_annotations:
              summary: "Instance localhost:9090 down"
              description: "localhost:9090 of job prometheus has been down for more than 5 minutes (value 1)."
      - eval_time: 5m30s
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, team: prometheus-oncall, instance: "localhost:9090", job: prometheus}
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 4m
        exp_samples:
          - labels: 'job:up:sum{job="prometheus"}'
            value: 0
          - labels: 'job:up:sum{job="node"}'
            value: 2
      - expr: job:requests:rate2m
        eval_time: 8m
        exp_samples:
          - labels: '{job="api"}'
            value: 2
`,
  "pending-is-not-firing.yml": `rule_files: [rules.yml]
tests:
  - interval: 1m
${INPUT}    alert_rule_test:
      - eval_time: 4m59s
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, team: prometheus-oncall, instance: "localhost:9090", job: prometheus}
            exp_annotations:
              summary: "Instance localhost:9090 down"
              description: "localhost:9090 of job prometheus has been down for more than 5 minutes (value 0)."
`,
  "group-order.yml": `rule_files: [ordered.yml]
group_eval_order: [first, second]
tests:
  - promql_expr_test:
      - expr: doubled
        eval_time: 0m
        exp_samples:
          - labels: doubled
            value: 42
`,
  "group-order-missing.yml": `rule_files: [ordered.yml]
group_eval_order: [second, first]
tests:
  - promql_expr_test:
      - expr: doubled
        eval_time: 0m
        exp_samples:
          - labels: doubled
            value: 42
`,
  "repeated-order.yml": "rule_files: [ordered.yml]\ngroup_eval_order: [first, first]\ntests: []\n",
  "broken-rules.yml": "rule_files: [broken.yml]\ntests:\n  - interval: 1m\n",
  "unknown-field.yml": "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    foo: 1\n    input_series:\n      - {series: up, valuez: '1'}\n",
  "bad-duration.yml": "tests:\n  - interval: 1m\n    promql_expr_test:\n      - {expr: up, eval_time: xyz}\n",
  "no-alertname.yml": "rule_files: [nomatch*.yml]\ntests:\n  - interval: 1m\n    name: grp\n    alert_rule_test:\n      - eval_time: 1m\n",
  "query-errors.yml": `tests:
  - input_series:
      - series: 'up{job="a"}'
        values: '1 2 3'
    promql_expr_test:
      - expr: 'sum(up'
        eval_time: 1m
      - expr: 'up'
        eval_time: 1m
        exp_samples:
          - labels: 'up{job="a"'
            value: 1
      - expr: 'up'
        eval_time: 1m
        exp_samples:
          - labels: 'up{job="a"}'
            value: 1
      - expr: 'up[5m]'
        eval_time: 1m
`,
  "empty-tests.yml": "rule_files: [rules.yml]\ntests: []\n",
};

beforeAll(() => {
  dir = tempDirWith("test-rules", FILES);
});
afterAll(() => removeTempDir(dir));

const run = (cmd: string[]) => runSync(cmd, dir);

const shoal = (...files: string[]) => run([BUN, SHOAL_CLI, "test", "rules", ...files]);
const theirs = (...files: string[]) => run([promtool!, "test", "rules", ...files]);

describe("shoal test rules", () => {
  test("passing tests: alerts with for and templates, recording rules, PromQL expressions", () => {
    const r = shoal("pass.yml");
    expect(r.err).toBe("");
    expect(r).toEqual({ code: 0, out: "Unit Testing:  pass.yml\n  SUCCESS\n\n", err: "" });
  }, 30_000);

  test("failing tests: every failure with what was expected and what was got, exit 1", () => {
    const r = shoal("fail.yml");
    expect(r.code).toBe(1);
    expect(r.out).toBe("Unit Testing:  fail.yml\n\n\n\n\n\n");
    expect(r.err).toContain("    name: wrong expectations,\n    alertname: InstanceDown, time: 10m, \n        exp:[\n            0:\n");
    expect(r.err).toContain('Annotations:{description="localhost:9090 of job prometheus has been down for more than 5 minutes (value 0).", summary="Instance localhost:9090 down"}\n            ]\n');
    expect(r.err).toContain('    expr: "job:up:sum", time: 4m,\n        exp: {__name__="job:up:sum", job="node"} 2E+00, {__name__="job:up:sum", job="prometheus"} 0E+00\n        got: {__name__="job:up:sum", job="node"} 1E+00, {__name__="job:up:sum", job="prometheus"} 0E+00\n');
  }, 30_000);

  test("the temporary storage is removed afterwards", () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("shoal-test-rules-")).length;
    shoal("pass.yml", "fail.yml");
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("shoal-test-rules-")).length).toBe(before);
  }, 30_000);

  test("a missing file is refused, help names the command", () => {
    expect(shoal("nope.yml")).toEqual({ code: 1, out: "", err: "shoal: error: path 'nope.yml' does not exist, try --help\n" });
    expect(run([BUN, SHOAL_CLI, "test", "rules", "--help"]).out).toContain("usage: shoal test rules FILE...");
    expect(run([BUN, SHOAL_CLI, "help", "test"]).out).toContain("  rules\n");
    expect(run([BUN, SHOAL_CLI, "--help"]).out).toContain("shoal test rules FILE...");
  });
});

describe.skipIf(!promtool)("shoal test rules and promtool 2.42 side by side", () => {
  const files = Object.keys(FILES).filter((f) => !["rules.yml", "ordered.yml", "broken.yml"].includes(f));
  for (const file of files) {
    test(`${file}: same verdict, exit status and output`, () => {
      const ours = shoal(file);
      const real = theirs(file);
      expect(ours).toEqual(real);
    }, 30_000);
  }

  test("several files at once", () => {
    expect(shoal("pass.yml", "fail.yml", "empty-tests.yml")).toEqual(theirs("pass.yml", "fail.yml", "empty-tests.yml"));
  }, 30_000);
});
