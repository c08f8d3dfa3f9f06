/**
 * Alert templates against documented facts: Prometheus's template/template_test.go cases (same
 * data, same time, same external URL), the examples of docs/configuration/template_examples.md,
 * Go's text/template rules, and what came after Prometheus 2.42 (which template_promtool.test.ts
 * cannot check against the installed promtool).
 */
import { describe, expect, test } from "bun:test";
import { checkTemplate, expandAlertTemplate, TemplateError, type TemplateSample } from "../../src/rules/index.ts";
import { expandTemplate } from "../../src/rules/template/expander.ts";
import { MAX_OUTPUT_CHARS, MAX_TEMPLATE_DEPTH } from "../../src/rules/template/exec.ts";
import { GoSlice, GoDuration, type GoType, type GoValue } from "../../src/rules/template/values.ts";

const EXTERNAL_URL = "http://testhost:9090/path/prefix";
const TIME_MS = 1353755652000;

function sliceOf(elemName: string, kind: GoType["kind"], items: GoValue[]): GoSlice {
  const elem: GoType = { name: elemName, kind };
  return new GoSlice({ name: `[]${elemName}`, kind: "slice", elem }, items);
}

/** Expands as template_test.go does: name "test", its time and external URL. */
async function expand(text: string, data: GoValue = undefined, result: TemplateSample[] = []): Promise<string> {
  return expandTemplate("test", text, data, { externalURL: EXTERNAL_URL, timeMs: TIME_MS, query: async () => result });
}

async function expandError(text: string, data: GoValue = undefined, result: TemplateSample[] = []): Promise<string> {
  try {
    return `no error: ${await expand(text, data, result)}`;
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return (e as Error).message;
  }
}

const METRIC_A = { __name__: "metric", instance: "a" };

describe("Prometheus's template_test.go cases", () => {
  test("plain text, values and the query functions", async () => {
    expect(await expand("plain text")).toBe("plain text");
    expect(await expand("{{ 1 }}")).toBe("1");
    expect(await expand('{{ "<b>" }}')).toBe("<b>");
    expect(await expand('{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}')).toBe("1 2");
    expect(await expand('{{ query "1.5" | first | value }}', undefined, [{ labels: {}, value: 1.5 }])).toBe("1.5");
    expect(await expand("{{ query \"metric{instance='a'}\" | first | value }}", undefined, [{ labels: METRIC_A, value: 11 }])).toBe("11");
    expect(await expand("{{ query \"metric{instance='a'}\" | first | label \"instance\" }}", undefined, [{ labels: METRIC_A, value: 11 }])).toBe("a");
    expect(await expand("{{ query \"metric{__value__='a'}\" | first | strvalue }}", undefined, [{ labels: { __name__: "metric", __value__: "a" }, value: 11 }])).toBe("a");
    expect(await expand("{{ query \"metric{instance='a'}\" | first | label \"foo\" }}", undefined, [{ labels: METRIC_A, value: 11 }])).toBe("");
    expect(await expand('{{ $x := query "metric" | first }}{{ $x.Labels.foo }}', undefined, [{ labels: METRIC_A, value: 11 }])).toBe("");
    const two = [
      { labels: { __name__: "metric", instance: "b" }, value: 21 },
      { labels: METRIC_A, value: 11 },
    ];
    expect(await expand('{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}', undefined, two)).toBe("a:11: b:21: ");
  });

  test("stripPort and stripDomain", async () => {
    const cases: [string, string, string][] = [
      ["foo.example.com", "foo.example.com", "foo"],
      ["foo.example.com:12345", "foo.example.com", "foo:12345"],
      ["192.0.2.1", "192.0.2.1", "192.0.2.1"],
      ["192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"],
      ["2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"],
      ["[2001:0DB8::1]:12345", "2001:0DB8::1", "[2001:0DB8::1]:12345"],
      ["[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"],
    ];
    for (const [input, port, domain] of cases) {
      expect(await expand(`{{ "${input}" | stripPort }}`)).toBe(port);
      expect(await expand(`{{ "${input}" | stripDomain }}`)).toBe(domain);
    }
  });

  test("missing values, and Go's error messages with their locations", async () => {
    expect(await expand("{{ .Foo }}")).toBe("<no value>");
    expect(await expandError("{{")).toBe("error parsing template test: template: test:1: unclosed action");
    expect(await expandError("{{\u00a0}}")).toBe("error parsing template test: template: test:1: unrecognized character in action: U+00A0");
    expect(await expandError('{{ query "missing" | first }}')).toBe(
      'error executing template test: template: test:1:21: executing "test" at <first>: error calling first: first() called on vector with no elements',
    );
    expect(await expandError('{{ (query "missing").banana }}')).toBe(
      'error executing template test: template: test:1:10: executing "test" at <"missing">: can\'t evaluate field banana in type template.queryResult',
    );
    expect(await expand('{{ reReplaceAll "(a)b" "x$1" "ab" }}')).toBe("xa");
  });

  test("humanize, humanize1024 and humanizeDuration over floats, strings and ints", async () => {
    const floats = (xs: number[]) => sliceOf("float64", "float64", xs);
    const strings = (xs: string[]) => sliceOf("string", "string", xs);
    const ints = (xs: bigint[]) => sliceOf("int64", "int", xs);
    const each = (f: string) => `{{ range . }}{{ ${f} . }}:{{ end }}`;
    expect(await expand(each("humanize"), floats([0, 1, 1234567, 0.12]))).toBe("0:1:1.235M:120m:");
    expect(await expand(each("humanize"), strings(["0.0", "1.0", "1234567.0", ".12"]))).toBe("0:1:1.235M:120m:");
    expect(await expand(each("humanize"), ints([0n, -1n, 1n, 1234567n, 9223372036854775807n]))).toBe("0:-1:1:1.235M:9.223E:");
    expect(await expandError('{{ humanize "one" }}')).toBe(
      'error executing template test: template: test:1:3: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax',
    );
    expect(await expand(each("humanize1024"), floats([0, 1, 1048576, 0.12]))).toBe("0:1:1Mi:0.12:");
    expect(await expand(each("humanize1024"), ints([0n, -1n, 1n, 1234567n, 9223372036854775807n]))).toBe("0:-1:1:1.177Mi:8Ei:");
    expect(await expand(each("humanizeDuration"), floats([0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99]))).toBe(
      "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
    );
    expect(await expand(each("humanizeDuration"), floats([0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]))).toBe(
      "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    );
    expect(await expand(each("humanizeDuration"), strings([".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]))).toBe(
      "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    );
    expect(await expand(each("humanizeDuration"), ints([0n, -1n, 1n, 1234567n]))).toBe("0s:-1s:1s:14d 6h 56m 7s:");
    const all = "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}";
    expect(await expand(all, floats([Infinity, -Infinity, NaN]))).toBe("+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:");
    expect(await expand(all, strings(["+Inf", "-Inf", "NaN"]))).toBe("+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:");
  });

  test("humanizePercentage and humanizeTimestamp", async () => {
    expect(await expand("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}")).toBe(
      "-22.22%:0%:12.35%:123.5%",
    );
    expect(await expand("{{ range . }}{{ humanizePercentage . }}:{{ end }}", sliceOf("int64", "int", [0n, -1n, 1n, 1234567n, 9223372036854775807n]))).toBe(
      "0%:-100%:100%:1.235e+08%:9.223e+20%:",
    );
    expect(await expandError('{{ "one" | humanizePercentage }}')).toBe(
      'error executing template test: template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax',
    );
    expect(await expand("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", sliceOf("int64", "int", [0n, -1n, 1n, 1234567n, 9223372036n]))).toBe(
      "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    );
    expect(await expandError("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", sliceOf("int64", "int", [-9223372036854775808n, 9223372036854775807n]))).toBe(
      'error executing template test: template: test:1:16: executing "test" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64',
    );
    expect(await expand("{{ 1435065584.128 | humanizeTimestamp }}")).toBe("2015-06-23 13:19:44.128 +0000 UTC");
    expect(await expand('{{ "1435065584.128" | humanizeTimestamp }}')).toBe("2015-06-23 13:19:44.128 +0000 UTC");
  });

  test("toTime, toDuration, now and parseDuration (newer than 2.42 in part)", async () => {
    expect(await expand('{{ (1435065584.128 | toTime).Format "2006" }}')).toBe("2015");
    expect(await expand('{{ ("1435065584.128" | toTime).Format "2006" }}')).toBe("2015");
    expect(await expand("{{ (1800 | toDuration).String }}")).toBe("30m0s");
    expect(await expand('{{ ("1800" | toDuration).String }}')).toBe("30m0s");
    expect(await expand("{{ now }}")).toBe("1.353755652e+09");
    expect(await expand('{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}')).toBe("Sat Nov 24 11:14:12 2012");
    expect(await expand('{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}')).toBe("1353753852000");
    expect(await expand('{{ printf "%0.2f" (parseDuration "1h2m10ms") }}')).toBe("3720.01");
    expect(await expand('{{ printf "%0.2f" (parseDuration "-1h2m10ms") }}')).toBe("-3720.01");
    expect(await expand('{{ urlQueryEscape "a b&c=d/é" }}')).toBe("a+b%26c%3Dd%2F%C3%A9");
    // A time.Duration converts to seconds for the humanize functions (prometheus/common's ConvertToFloat).
    expect(await expand("{{ humanizeDuration . }}", new GoDuration(90_000_000_000n, false))).toBe("1m 30s");
  });

  test("strings, regular expressions, links and the external URL", async () => {
    expect(await expand('{{ "aa bb CC" | title }}')).toBe("Aa Bb CC");
    expect(await expand('{{ "aa bb CC" | toUpper }}')).toBe("AA BB CC");
    expect(await expand('{{ "aA bB CC" | toLower }}')).toBe("aa bb cc");
    expect(await expand('{{ match "a+" "aa" }} {{ match "a+" "b" }}')).toBe("true false");
    expect(await expand('{{ graphLink "up" }}')).toBe("/graph?g0.expr=up&g0.tab=0");
    expect(await expand('{{ tableLink "up" }}')).toBe("/graph?g0.expr=up&g0.tab=1");
    expect(await expand("{{ pathPrefix }}")).toBe("/path/prefix");
    expect(await expand("{{ externalURL }}")).toBe("http://testhost:9090/path/prefix");
  });
});

describe("the documented alert and iteration examples", () => {
  const data = { labels: { instance: "host:9100", job: "node" }, externalLabels: {}, externalURL: "", value: 0 };
  const ctx = {
    externalURL: "",
    timeMs: 0,
    query: async (q: string): Promise<TemplateSample[]> =>
      q === "up"
        ? [
            { labels: { __name__: "up", instance: "a:1" }, value: 1 },
            { labels: { __name__: "up", instance: "b:1" }, value: 0 },
          ]
        : [{ labels: { instance: "someinstance" }, value: 2048 }],
  };

  test("simple alert field templates", async () => {
    expect(await expandAlertTemplate("__alert_InstanceDown", "Instance {{$labels.instance}} down", data, ctx)).toBe("Instance host:9100 down");
    expect(await expandAlertTemplate("__alert_InstanceDown", "{{$labels.instance}} of job {{$labels.job}} has been down for more than 5 minutes.", data, ctx)).toBe(
      "host:9100 of job node has been down for more than 5 minutes.",
    );
  });

  test("simple iteration, one value, and templates with several arguments", async () => {
    expect(await expandAlertTemplate("__alert_X", '{{ range query "up" }}\n  {{ .Labels.instance }} {{ .Value }}\n{{ end }}', data, ctx)).toBe("\n  a:1 1\n\n  b:1 0\n");
    expect(await expandAlertTemplate("__alert_X", "{{ with query \"some_metric{instance='someinstance'}\" }}{{ . | first | value | humanize }}{{ end }}", data, ctx)).toBe("2.048k");
    const multi = '{{define "myMultiArgTemplate"}}First argument: {{.arg0}} Second argument: {{.arg1}}{{end}}{{template "myMultiArgTemplate" (args 1 2)}}';
    expect(await expandAlertTemplate("__alert_X", multi, data, ctx)).toBe("First argument: 1 Second argument: 2");
    expect(await expandAlertTemplate("__alert_X", '{{/* Define the template */}}{{define "myTemplate"}}do something{{end}}{{template "myTemplate"}}', data, ctx)).toBe("do something");
  });
});

describe("Go's text/template rules", () => {
  test("variables, scopes, range forms and else with", async () => {
    expect(await expand("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}")).toBe("2");
    expect(await expandError("{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}")).toBe('error parsing template test: template: test:1: undefined variable "$y"');
    expect(await expand("{{ range $i, $c := . }}{{ $i }}{{ $c }}{{ end }}", sliceOf("string", "string", ["a", "b"]))).toBe("0a1b");
    expect(await expand("{{ range 3 }}{{ . }}{{ end }}")).toBe("012");
    expect(await expand("{{ range $i, $v := . }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $v }}{{ end }}", sliceOf("int", "int", [10n, 11n, 12n, 13n, 14n]))).toBe("1012");
    expect(await expand('{{ with "" }}a{{ else with "x" }}{{ . }}{{ end }}')).toBe("x");
    expect(await expand("{{ if 0 }}a{{ else if 0.0 }}b{{ else if \"\" }}c{{ else if . }}d{{ else }}e{{ end }}")).toBe("e");
    expect(await expandError("{{ break }}")).toBe("error parsing template test: template: test:1: {{break}} outside {{range}}");
  });

  test("parse errors name the line", async () => {
    expect(() => checkTemplate("__alert_X", "{{ foo }}")).toThrow('template: __alert_X:1: function "foo" not defined');
    expect(() => checkTemplate("__alert_X", "a\n\n{{ if true }}")).toThrow("template: __alert_X:3: unexpected EOF");
    expect(() => checkTemplate("__alert_X", "{{ end }}")).toThrow("template: __alert_X:1: unexpected {{end}}");
    expect(() => checkTemplate("__alert_X", '{{ "a" | 1 }}')).toThrow("template: __alert_X:1: non executable command in pipeline stage 2");
    expect(() => checkTemplate("__alert_X", "{{ $labels.job }} {{ $value | humanize }}")).not.toThrow();
  });

  test("execution errors carry line and byte column of the node", async () => {
    expect(await expandError("é\n  {{ index . 5 }}", sliceOf("int", "int", [1n]))).toBe(
      'error executing template test: template: test:2:5: executing "test" at <index . 5>: error calling index: index out of range: 5',
    );
    expect(await expandError("{{ template \"nope\" }}")).toBe('error executing template test: template: test:1:12: executing "test" at <{{template "nope"}}>: template "nope" not defined');
  });

  test("a recursive template, a huge output and a long run stop with an error instead of freezing", async () => {
    const recursive = await expandError('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
    expect(recursive).toContain(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const big = await expandError('{{ define "d" }}{{ . }}{{ . }}{{ . }}{{ . }}{{ end }}{{ define "e" }}{{ template "d" . }}{{ template "d" . }}{{ template "d" . }}{{ template "d" . }}{{ end }}{{ range 2000 }}{{ template "e" "0123456789012345678901234567890123456789" }}{{ end }}');
    expect(big).toContain(`template output exceeds ${MAX_OUTPUT_CHARS} characters`);
    const long = await expandError("{{ range 100000 }}{{ range 100 }}{{ end }}{{ end }}");
    expect(long).toContain("template execution exceeded");
  });

  test("a failed query is Go's error calling query; a query runs once per expansion", async () => {
    let calls = 0;
    const out = await expandTemplate("t", '{{ range query "up" }}{{ .Value }}{{ end }}{{ with query "up" }}{{ len . }}{{ end }}', undefined, {
      externalURL: "",
      timeMs: 0,
      query: async () => {
        calls++;
        return [{ labels: {}, value: 1 }];
      },
    });
    expect({ out, calls }).toEqual({ out: "11", calls: 1 });
    await expect(
      expandTemplate("t", '{{ query "bad(" }}', undefined, {
        externalURL: "",
        timeMs: 0,
        query: async () => {
          throw new Error("parse error: unexpected end of input");
        },
      }),
    ).rejects.toThrow('error executing template t: template: t:1:3: executing "t" at <query "bad(">: error calling query: parse error: unexpected end of input');
  });
});
