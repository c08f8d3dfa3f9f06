/**
 * Alert templates rendered by Shoal, checked by the real Prometheus 2.42: the renderings become
 * `exp_annotations` of a promtool rule unit test over the same rule file and series, so
 * `promtool test rules` passes only if Prometheus renders every annotation exactly as we do.
 * What changed after 2.42 (now, toDuration, urlQueryEscape, negative parseDuration, newer Go
 * wording) is covered in template.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expandAlertTemplate, TemplateError, type TemplateSample } from "../../src/rules/index.ts";
import { removeTempDir, run, tempDir } from "../support/index.ts";

const promtool = Bun.which("promtool");

const SDA = { __name__: "disk_free", device: "sda", instance: "h1.example.com:9100", job: "node" };
const SDB = { __name__: "disk_free", device: "sdb", instance: "h2.example.com:9100", job: "node" };
const SDA_VALUE = 1234567.5;
const SDB_VALUE = 0.000123;
const EXTERNAL_URL = "http://prom.example.com:9090/prefix";
const EXTERNAL_LABELS = { cluster: "eu-1" };
const EVAL_SECONDS = 300;

/** What an instant query of the test's series answers at the evaluation time. */
async function query(expr: string): Promise<TemplateSample[]> {
  switch (expr) {
    case "disk_free":
    // Sorted by value, largest first: sda, then sdb.
    case "sort_desc(disk_free)":
      return [
        { labels: SDA, value: SDA_VALUE },
        { labels: SDB, value: SDB_VALUE },
      ];
    case "disk_free{device='sdb'}":
      return [{ labels: SDB, value: SDB_VALUE }];
    case "vector(3)":
      return [{ labels: {}, value: 3 }];
    case "nothing_here":
      return [];
  }
  throw new Error(`unexpected query ${expr}`);
}

/** Annotation name → template; every one of them uses only what Prometheus 2.42 has. */
const TEMPLATES: Record<string, string> = {
  value: "{{ $value }}",
  labels: "{{ $labels.instance }} of {{ $labels.job }}",
  dot_fields: "{{ .Value }} {{ .Labels.device }}",
  humanize: "{{ humanize $value }} {{ humanize 0.000123 }} {{ humanize 0 }} {{ humanize -1234 }} {{ humanize \"2048\" }}",
  humanize1024: "{{ humanize1024 $value }} {{ humanize1024 1023 }} {{ humanize1024 1048576 }}",
  humanize_duration: "{{ humanizeDuration 3723.5 }} {{ humanizeDuration 0.0015 }} {{ humanizeDuration 90061 }} {{ humanizeDuration -75 }}",
  humanize_percentage: "{{ humanizePercentage 0.123456 }} {{ 1.5 | humanizePercentage }}",
  humanize_timestamp: "{{ humanizeTimestamp 1435065584.128 }} {{ humanizeTimestamp \"0\" }}",
  printf_verbs:
    '{{ printf "%.2f|%d|%s|%q|%x|%5.1f|%-6s|%05d|%e|%g|%v|%t|%T|%8.3e|%+d|%X|%o|%c|%U|%6.2f%%" $value 42 "str" "quo\\"te" 255 3.14159 "ab" 42 $value $value 0.1 true $value 1234.5678 7 "hi" 8 65 9731 -1.5 }}',
  printf_errors: '{{ printf "%d %s" 1.5 }}|{{ printf "x" 1 "y" }}|{{ printf "%!" }}|{{ printf "%z" 3 }}',
  float_forms: "{{ 1e6 }} {{ 1e21 }} {{ 123456.0 }} {{ 1234567.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ 100 }} {{ -0.5 }} {{ 1.0 }} {{ 0x1F }} {{ 'a' }}",
  rounding: '{{ printf "%.3g|%.0f|%.1f|%.2f|%.0f|%.1e|%.4g" 0.0001234 2.5 0.25 1.005 3.5 125000.0 1234.5 }}',
  range_labels: "{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}",
  // Where a template depends on the order of a query's result, the query sorts it: Prometheus
  // returns a selector's series in the order they were created, which promtool's loading of
  // input_series leaves to chance (Go map order).
  range_query: '{{ range query "sort_desc(disk_free)" }}{{ .Labels.instance }}:{{ .Value }};{{ end }}',
  with_query: "{{ with query \"disk_free{device='sdb'}\" }}{{ . | first | value | humanize }}{{ end }}",
  sort_by_label: '{{ range query "disk_free" | sortByLabel "instance" }}{{ .Labels.device }} {{ end }}',
  query_scalar: '{{ query "vector(3)" | first | value }}',
  if_else: "{{ if gt $value 1000.0 }}big{{ else if gt $value 1.0 }}medium{{ else }}small{{ end }}",
  trim_and_comment: '{{- "a" -}}   {{- /* comment */ -}}   b {{ "c" }}  {{/* another */}} d',
  define_template: '{{ define "x" }}[{{ .arg0 }} {{ .arg1 }}]{{ end }}{{ template "x" (args 1 "two") }}',
  block: '{{ block "b" $labels.job }}<{{ . }}>{{ end }}',
  regex: '{{ reReplaceAll "h(\\\\d+)\\\\..*" "host-$1" $labels.instance }} {{ match "^h\\\\d" $labels.instance }} {{ reReplaceAll "a*" "-" "baaac" }} {{ match "x" "abc" }}',
  strings: '{{ title "hello wide world" }} {{ toUpper "abc" }} {{ toLower "ABC" }} {{ title "foo-bar baz_qux" }}',
  host_port: '{{ $labels.instance | stripPort }} {{ "[::1]:80" | stripPort }} {{ $labels.instance | stripDomain }} {{ "10.0.0.1:9" | stripDomain }}',
  links: '{{ graphLink "rate(x[5m])" }} {{ tableLink "up{a=\\"b\\"}" }}',
  // promtool 2.42 hands its templates no external URL object, so externalURL and pathPrefix fail there.
  external: "{{ $externalURL }} {{ $externalLabels.cluster }} {{ .ExternalLabels }} {{ .ExternalURL }}",
  to_time: '{{ (1435065584.128 | toTime).Format "2006-01-02T15:04:05Z07:00 Mon Jan _2 3:04PM" }} {{ (toTime 0).Unix }} {{ toTime 1435065584.128 }}',
  // Negative durations came after 2.42.
  parse_duration: '{{ parseDuration "1h2m" }} {{ printf "%.1f" (parseDuration "90s") }} {{ parseDuration "1w" }}',
  builtins:
    '{{ len $labels }} {{ index $labels "job" }} {{ slice "abcdef" 1 3 }} {{ eq $labels.job "x" "node" }} {{ ne 1 2 }} {{ lt 1.5 2.5 }} {{ and 1 0 }} {{ or 0 "x" }} {{ not true }} {{ le "a" "b" }} {{ ge 2 2 }}',
  print_family: '{{ print 1 2 "a" "b" 3 }}|{{ println "x" 1 }}|{{ html "<a&\'b\'>" }}|{{ js "it\'s <x>=" }}|{{ urlquery "a b&c" }}',
  variables: '{{ $x := 1 }}{{ range $i, $e := query "sort_desc(disk_free)" }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $x = $e.Value }}{{ end }}{{ $x }}',
  continue: '{{ range $i, $e := query "sort_desc(disk_free)" }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $e.Labels.device }}{{ end }}',
  range_else: '{{ range $i := query "nothing_here" }}x{{ else }}empty{{ end }}',
  missing_label: "{{ with $labels.nonexistent }}yes{{ else }}no{{ end }} [{{ $labels.nonexistent }}]",
  index_query: '{{ index (query "sort_desc(disk_free)") 1 | value }} {{ (index (query "sort_desc(disk_free)") 0).Labels.device }}',
  multi_line: "line1\n{{ $labels.job }}\n  line3",
  print_sample: '{{ printf "%v" (query "sort_desc(disk_free)" | first) }}',
  action_sample: '{{ query "sort_desc(disk_free)" | first }}',
  print_map: "{{ $labels }}",
  len_and_pipe: '{{ len (query "disk_free") }} {{ "x" | printf "%s-%s" "y" }}',
  with_dot: "{{ with $labels }}{{ .device }}{{ end }}",
  // The data's Value became interface {} after 2.42 (native histograms), so a missing field of
  // the data itself is worded differently there; a missing field of a string is not.
  error_field: "{{ $labels.job.Foo }}",
  error_function: '{{ humanize "one" }}',
  error_index: '{{ index (query "disk_free") 5 }}',
  // Go 1.19 (2.42's) words a float-int comparison without the types; bool ordering is the same in both.
  error_compare: "{{ if lt true false }}x{{ end }}",
  error_first: '{{ query "nothing_here" | first }}',
  error_second_line: "ok\n  {{ $labels.job | printf \"%s\" | humanize }}",
};

/** The annotation value Prometheus stores: the expansion, or `<error expanding template: …>`. */
async function render(text: string): Promise<string> {
  try {
    return await expandAlertTemplate(
      "__alert_TemplateCheck",
      text,
      { labels: SDA, externalLabels: EXTERNAL_LABELS, externalURL: EXTERNAL_URL, value: SDA_VALUE },
      { query, externalURL: EXTERNAL_URL, timeMs: EVAL_SECONDS * 1000 },
    );
  } catch (e) {
    if (e instanceof TemplateError) return `<error expanding template: ${e.message}>`;
    throw e;
  }
}

function rulesYaml(): string {
  const annotations = Object.entries(TEMPLATES)
    .map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`)
    .join("\n");
  return `groups:
  - name: templates
    rules:
      - alert: TemplateCheck
        expr: disk_free{device="sda"} > 0
        labels:
          severity: page
        annotations:
${annotations}
`;
}

function testYaml(expected: Record<string, string>): string {
  const annotations = Object.entries(expected)
    .map(([k, v]) => `              ${k}: ${JSON.stringify(v)}`)
    .join("\n");
  return `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    external_labels:
      cluster: eu-1
    external_url: ${EXTERNAL_URL}
    input_series:
      - series: 'disk_free{device="sda",instance="h1.example.com:9100",job="node"}'
        values: '${SDA_VALUE}+0x10'
      - series: 'disk_free{device="sdb",instance="h2.example.com:9100",job="node"}'
        values: '${SDB_VALUE}+0x10'
    alert_rule_test:
      - eval_time: ${EVAL_SECONDS}s
        alertname: TemplateCheck
        exp_alerts:
          - exp_labels:
              alertname: TemplateCheck
              severity: page
              device: sda
              instance: h1.example.com:9100
              job: node
            exp_annotations:
${annotations}
`;
}

describe.skipIf(!promtool)("alert templates agree with Prometheus 2.42 (promtool test rules)", () => {
  const dir = tempDir("template-promtool");
  afterAll(() => removeTempDir(dir));

  async function promtoolTest(expected: Record<string, string>) {
    writeFileSync(join(dir, "rules.yml"), rulesYaml());
    writeFileSync(join(dir, "test.yml"), testYaml(expected));
    return run([promtool!, "test", "rules", "test.yml"], { cwd: dir });
  }

  test("every annotation renders as Prometheus renders it", async () => {
    const expected: Record<string, string> = {};
    for (const [k, v] of Object.entries(TEMPLATES)) expected[k] = await render(v);
    const r = await promtoolTest(expected);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining("SUCCESS") });
  }, 60_000);

  test("a rendering that differs in one character makes promtool fail", async () => {
    const expected: Record<string, string> = {};
    for (const [k, v] of Object.entries(TEMPLATES)) expected[k] = await render(v);
    expected.value = expected.value!.replace("e+06", "e+6");
    const r = await promtoolTest(expected);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("FAILED");
  }, 60_000);
});
