/** Relabeling as Prometheus documents it (and as its relabel tests pin it down). */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, labelsToRecord, relabel, type RelabelConfig } from "../../src/model/index.ts";
import { buildTarget, buildTargets } from "../../src/scrape/targets.ts";

/** Rules written as YAML go through the config parser, so defaults come from there. */
function rules(yaml: string): RelabelConfig[] {
  const indented = yaml
    .trim()
    .split("\n")
    .map((l) => "      " + l)
    .join("\n");
  return parseConfig(`scrape_configs:\n  - job_name: t\n    relabel_configs:\n${indented}\n`, "r.yml").scrapeConfigs[0]!.relabelConfigs;
}

function run(input: Record<string, string>, yaml: string): Record<string, string> | null {
  const out = relabel(labelsFromRecord(input), rules(yaml));
  return out === null ? null : labelsToRecord(out);
}

const abc = { a: "foo", b: "bar", c: "baz" };

describe("replace", () => {
  test("capture groups in the replacement", () => {
    expect(run(abc, `- source_labels: [a]\n  regex: "f(.*)"\n  target_label: d\n  replacement: "ch\${1}-ch\${1}"`)).toEqual({ ...abc, d: "choo-choo" });
  });
  test("source labels joined by the separator", () => {
    expect(run(abc, `- source_labels: [a, b]\n  regex: "f(.*);(.*)r"\n  target_label: a\n  replacement: "b\${1}\${2}m"`)).toEqual({ ...abc, a: "boobam" });
    expect(run(abc, `- source_labels: [a, b]\n  separator: "|"\n  regex: "(.*)"\n  target_label: d`)).toEqual({ ...abc, d: "foo|bar" });
  });
  test("defaults: regex (.*), replacement $1, action replace", () => {
    expect(run(abc, `- source_labels: [c]\n  target_label: d`)).toEqual({ ...abc, d: "baz" });
  });
  test("the regex is anchored at both ends", () => {
    expect(run(abc, `- source_labels: [a]\n  regex: "o+"\n  target_label: d\n  replacement: x`)).toEqual(abc);
  });
  test("no match leaves the labels alone", () => {
    expect(run(abc, `- source_labels: [a]\n  regex: "x(.*)"\n  target_label: d`)).toEqual(abc);
  });
  test("an empty result deletes the target label", () => {
    expect(run(abc, `- source_labels: [z]\n  target_label: a`)).toEqual({ b: "bar", c: "baz" });
  });
  test("named groups ((?P<name>)) and Go's $name rule ($1_x is the group named 1_x)", () => {
    expect(run(abc, `- source_labels: [a]\n  regex: "(?P<head>f)(?P<rest>.*)"\n  target_label: d\n  replacement: "$rest-\${head}"`)).toEqual({ ...abc, d: "oo-f" });
    expect(run(abc, `- source_labels: [a]\n  regex: "(f)(.*)"\n  target_label: d\n  replacement: "$1_x"`)).toEqual(abc);
    expect(run(abc, `- source_labels: [a]\n  regex: "(f)(.*)"\n  target_label: d\n  replacement: "\${1}_x $$"`)).toEqual({ ...abc, d: "f_x $" });
  });
  test("the target label may be a template; an invalid result changes nothing", () => {
    const input = { a: "some-name-value" };
    expect(run(input, `- source_labels: [a]\n  regex: "some-([^-]+)-([^,]+)"\n  target_label: "\${1}"\n  replacement: "\${2}"`)).toEqual({ ...input, name: "value" });
    expect(run({ a: "some-1-value" }, `- source_labels: [a]\n  regex: "some-([^-]+)-([^,]+)"\n  target_label: "\${1}"\n  replacement: "\${2}"`)).toEqual({ a: "some-1-value" });
  });
  test("rules see the result of earlier rules", () => {
    expect(run(abc, `- {source_labels: [a], target_label: x}\n- {source_labels: [x], regex: "(fo).*", target_label: y}`)).toEqual({ ...abc, x: "foo", y: "fo" });
  });
});

describe("keep and drop", () => {
  test("drop on match, keep on no match", () => {
    expect(run(abc, `- {source_labels: [a], regex: ".*o.*", action: drop}`)).toBeNull();
    expect(run(abc, `- {source_labels: [a], regex: ".*x.*", action: drop}`)).toEqual(abc);
    expect(run(abc, `- {source_labels: [a], regex: "no", action: keep}`)).toBeNull();
    expect(run(abc, `- {source_labels: [a], regex: "f.*", action: keep}`)).toEqual(abc);
  });
  test("a missing label is the empty string", () => {
    expect(run(abc, `- {source_labels: [z], regex: "", action: keep}`)).toEqual(abc);
  });
  test("keepequal / dropequal compare with the target label", () => {
    expect(run({ a: "x", b: "x" }, `- {source_labels: [a], target_label: b, action: keepequal}`)).toEqual({ a: "x", b: "x" });
    expect(run({ a: "x", b: "y" }, `- {source_labels: [a], target_label: b, action: keepequal}`)).toBeNull();
    expect(run({ a: "x", b: "x" }, `- {source_labels: [a], target_label: b, action: dropequal}`)).toBeNull();
    expect(run({ a: "x", b: "y" }, `- {source_labels: [a], target_label: b, action: dropequal}`)).toEqual({ a: "x", b: "y" });
  });
});

describe("label name actions", () => {
  const input = { a: "foo", b1: "bar", b2: "baz" };
  test("labelmap copies matching labels under the replaced name", () => {
    expect(run(input, `- {action: labelmap, regex: "(b.*)", replacement: "bar_\${1}"}`)).toEqual({ ...input, bar_b1: "bar", bar_b2: "baz" });
    expect(run({ __meta_x: "1", a: "2" }, `- {action: labelmap, regex: "__meta_(.+)"}`)).toEqual({ __meta_x: "1", a: "2", x: "1" });
  });
  test("labeldrop and labelkeep", () => {
    expect(run(input, `- {action: labeldrop, regex: "b.*"}`)).toEqual({ a: "foo" });
    expect(run(input, `- {action: labelkeep, regex: "b.*"}`)).toEqual({ b1: "bar", b2: "baz" });
  });
  test("lowercase and uppercase", () => {
    expect(run({ foo: "bAr123Foo" }, `- {source_labels: [foo], target_label: foo_lower, action: lowercase}`)).toEqual({ foo: "bAr123Foo", foo_lower: "bar123foo" });
    expect(run({ foo: "bAr123Foo" }, `- {source_labels: [foo], target_label: foo_upper, action: uppercase}`)).toEqual({ foo: "bAr123Foo", foo_upper: "BAR123FOO" });
  });
});

describe("hashmod", () => {
  test("md5 of the value, last 8 bytes big-endian, modulo", () => {
    expect(run(abc, `- {source_labels: [c], target_label: d, modulus: 1000, action: hashmod}`)).toEqual({ ...abc, d: "976" });
  });
  test("is stable and below the modulus", () => {
    for (let i = 0; i < 200; i++) {
      const d = Number(run({ a: `host${i}:9100` }, `- {source_labels: [a], target_label: d, modulus: 7, action: hashmod}`)!.d);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(7);
    }
  });
});

describe("targets (populateLabels)", () => {
  const cfg = parseConfig(
    `scrape_configs:
  - job_name: node
    scrape_interval: 30s
    scrape_timeout: 5s
    params: { module: [a, b] }
    static_configs:
      - targets: ["h1:9100", "h2:9100"]
        labels: { env: prod }
    relabel_configs:
      - {source_labels: [__address__], regex: "h2:.*", action: drop}
      - {source_labels: [__meta_x], target_label: mx}
      - {target_label: __param_target, replacement: probe-me}
`,
    "t.yml",
  ).scrapeConfigs[0]!;

  test("defaults, params, instance, and dropped targets", () => {
    const groups = [{ source: "s", targets: [labelsFromRecord({ __address__: "h1:9100", __meta_x: "m" }), labelsFromRecord({ __address__: "h2:9100" })], labels: labelsFromRecord({ env: "prod" }) }];
    const built = buildTargets(groups, cfg);
    expect(built.errors).toEqual([]);
    expect(built.active.length).toBe(1);
    const t = built.active[0]!;
    expect(labelsToRecord(t.discoveredLabels)).toEqual({
      __address__: "h1:9100",
      __meta_x: "m",
      __metrics_path__: "/metrics",
      __param_module: "a",
      __scheme__: "http",
      __scrape_interval__: "30s",
      __scrape_timeout__: "5s",
      env: "prod",
      job: "node",
    });
    expect(labelsToRecord(t.publicLabels)).toEqual({ env: "prod", instance: "h1:9100", job: "node", mx: "m" });
    expect(t.url).toBe("http://h1:9100/metrics?module=a&module=b&target=probe-me");
    expect([t.interval, t.timeout]).toEqual([30_000, 5_000]);
    expect(built.dropped.map((d) => labelsToRecord(d.discoveredLabels).__address__)).toEqual(["h2:9100"]);
  });

  test("relabeling may set the interval, timeout and instance", () => {
    const c2 = parseConfig(
      `scrape_configs:\n  - job_name: x\n    relabel_configs:\n      - {target_label: __scrape_interval__, replacement: 2m}\n      - {target_label: instance, replacement: me}\n`,
      "t.yml",
    ).scrapeConfigs[0]!;
    const t = buildTarget(labelsFromRecord({ __address__: "a:1" }), [], c2)!;
    expect(t.interval).toBe(120_000);
    expect(labelsToRecord(t.publicLabels).instance).toBe("me");
    const c3 = parseConfig(`scrape_configs:\n  - job_name: x\n    relabel_configs:\n      - {target_label: __scrape_timeout__, replacement: 2m}\n`, "t.yml").scrapeConfigs[0]!;
    expect(() => buildTarget(labelsFromRecord({ __address__: "a:1" }), [], c3)).toThrow("scrape timeout cannot be greater than scrape interval");
    const c4 = parseConfig(`scrape_configs:\n  - job_name: x\n    relabel_configs:\n      - {target_label: __address__, replacement: ""}\n`, "t.yml").scrapeConfigs[0]!;
    expect(() => buildTarget(labelsFromRecord({ __address__: "a:1" }), [], c4)).toThrow("no address");
  });
});
