/**
 * promtool's rule unit-test file (`rule_files`, `evaluation_interval`, `group_eval_order`,
 * `tests` with `input_series`, `alert_rule_test`, `promql_expr_test` …), decoded as promtool's
 * strict YAML decoding does: unknown fields and wrong types are reported together with their
 * lines (`yaml: unmarshal errors:`), a bad duration stops decoding with Prometheus's message.
 */
import { DecodeAbort, GoYamlDecoder, YamlDoc } from "../../config/index.ts";

export interface InputSeries {
  series: string;
  values: string;
}

export interface ExpectedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertTestCase {
  /** ms after the start of the test (time 0). */
  evalTime: number;
  alertname: string;
  expAlerts: ExpectedAlert[];
}

export interface ExpectedSample {
  labels: string;
  value: number;
}

export interface PromqlTestCase {
  expr: string;
  evalTime: number;
  expSamples: ExpectedSample[];
}

export interface TestGroup {
  /** Step between input values, ms (0: every value at time 0, as promtool loads it). */
  interval: number;
  inputSeries: InputSeries[];
  alertRuleTests: AlertTestCase[];
  promqlExprTests: PromqlTestCase[];
  externalLabels: Record<string, string>;
  externalURL: string;
  name: string;
}

export interface UnitTestFile {
  ruleFiles: string[];
  /** ms; 0 when not set (promtool then takes 1m). */
  evaluationInterval: number;
  groupEvalOrder: string[];
  tests: TestGroup[];
}

function testGroup(d: GoYamlDecoder, n: unknown): TestGroup {
  const tg: TestGroup = { interval: 0, inputSeries: [], alertRuleTests: [], promqlExprTests: [], externalLabels: {}, externalURL: "", name: "" };
  d.struct(n, "main.testGroup", {
    interval: (v) => (tg.interval = d.duration(v)),
    input_series: (v) =>
      (tg.inputSeries = d.list(v, "[]main.series", (it) => {
        const s: InputSeries = { series: "", values: "" };
        d.struct(it, "main.series", { series: (x) => (s.series = d.string(x)), values: (x) => (s.values = d.string(x)) });
        return s;
      })),
    alert_rule_test: (v) =>
      (tg.alertRuleTests = d.list(v, "[]main.alertTestCase", (it) => {
        const a: AlertTestCase = { evalTime: 0, alertname: "", expAlerts: [] };
        d.struct(it, "main.alertTestCase", {
          eval_time: (x) => (a.evalTime = d.duration(x)),
          alertname: (x) => (a.alertname = d.string(x)),
          exp_alerts: (x) =>
            (a.expAlerts = d.list(x, "[]main.alert", (e) => {
              const exp: ExpectedAlert = { labels: {}, annotations: {} };
              d.struct(e, "main.alert", { exp_labels: (y) => (exp.labels = d.stringMap(y)), exp_annotations: (y) => (exp.annotations = d.stringMap(y)) });
              return exp;
            })),
        });
        return a;
      })),
    promql_expr_test: (v) =>
      (tg.promqlExprTests = d.list(v, "[]main.promqlTestCase", (it) => {
        const p: PromqlTestCase = { expr: "", evalTime: 0, expSamples: [] };
        d.struct(it, "main.promqlTestCase", {
          expr: (x) => (p.expr = d.string(x)),
          eval_time: (x) => (p.evalTime = d.duration(x)),
          exp_samples: (x) =>
            (p.expSamples = d.list(x, "[]main.sample", (s) => {
              const smp: ExpectedSample = { labels: "", value: 0 };
              d.struct(s, "main.sample", { labels: (y) => (smp.labels = d.string(y)), value: (y) => (smp.value = d.float(y)) });
              return smp;
            })),
        });
        return p;
      })),
    external_labels: (v) => (tg.externalLabels = d.stringMap(v)),
    external_url: (v) => (tg.externalURL = d.string(v)),
    name: (v) => (tg.name = d.string(v)),
  });
  return tg;
}

/** Decodes a unit-test file; throws an Error worded as promtool's when it does not decode. */
export function parseUnitTestFile(text: string, filename: string): UnitTestFile {
  const yaml = YamlDoc.parse(text, filename);
  const d = new GoYamlDecoder(yaml);
  const file: UnitTestFile = { ruleFiles: [], evaluationInterval: 0, groupEvalOrder: [], tests: [] };
  try {
    d.struct(yaml.root, "main.unitTestFile", {
      rule_files: (v) => (file.ruleFiles = d.list(v, "[]string", (it) => d.string(it))),
      evaluation_interval: (v) => (file.evaluationInterval = d.duration(v)),
      group_eval_order: (v) => (file.groupEvalOrder = d.list(v, "[]string", (it) => d.string(it))),
      tests: (v) => (file.tests = d.list(v, "[]main.testGroup", (it) => testGroup(d, it))),
    });
  } catch (e) {
    if (e instanceof DecodeAbort) throw new Error(e.message);
    throw e;
  }
  if (d.errors.length > 0) throw new Error(`yaml: unmarshal errors:\n  ${d.errors.join("\n  ")}`);
  return file;
}
