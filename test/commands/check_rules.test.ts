/**
 * `shoal check rules` through the CLI, side by side with the real promtool (Prometheus 2.42) on
 * the same files: the same exit status and the same lines on stdout and stderr, every error of
 * a file (not only the first), the duplicate-rule lint and its --lint / --lint-fatal settings.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, removeTempDir, runSync, SHOAL_CLI, tempDirWith } from "../support/index.ts";

const promtool = Bun.which("promtool");
let dir = "";

const FILES: Record<string, string> = {
  "good.yml": `groups:
  - name: rec
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: a}
  - name: alerts
    limit: 10
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page, instance: "{{ $labels.instance }}"}
        annotations:
          summary: "Instance {{ $labels.instance }} down"
          description: '{{ $value | humanize }} {{ with query "up" }}{{ . | first | value }}{{ end }}'
`,
  // Every error of the file, in promtool's order, with its line and column.
  "many-errors.yml": `groups:
  - name: g
    rules:
      - record: a:b
        expr: sum(up
      - alert: X
        record: y
        expr: up
      - record: 'bad-name'
        expr: up
        for: 5m
        annotations: {a: b}
      - record: ok
        expr: up
        labels: {__name__: x}
      - alert: Y
        expr: rate(up[5m]
        labels: {"0bad": y}
        annotations: {"a-b": c}
  - name: g
    rules: []
  - name: ""
    rules:
      - expr: ""
      - record: z
`,
  // Templates of alerting rules are parsed (recording rules have none); each error names the label or annotation.
  "templates.yml": `groups:
  - name: g
    rules:
      - alert: Unclosed
        expr: up == 0
        labels: {sev: "{{ $labels.x "}
        annotations: {summary: "{{ nosuch }}"}
      - alert: StrayEnd
        expr: up == 0
        annotations: {d: "{{ end }}"}
      - alert: UndefinedVar
        expr: up == 0
        annotations: {d: "{{ $nothere }}"}
      - alert: Fine
        expr: up == 0
        annotations: {d: '{{ range query "up" }}{{ .Labels.job }} {{ .Value | humanizePercentage }}{{ end }} {{ $externalLabels.a }} {{ $externalURL }} {{ reReplaceAll "a" "b" $labels.x | title | toUpper }}'}
`,
  "unknown-fields.yml": `groups:
  - name: g
    rulez: []
    rules:
      - record: a
        expr: up
        bar: 2
extra: 1
`,
  // A bad duration stops decoding: the unknown field before it is not reported.
  "bad-duration.yml": `groups:
  - name: g
    rulez: []
    rules:
      - alert: a
        expr: up
        for: xyz
`,
  "bad-unit.yml": "groups:\n  - name: g\n    interval: 5x\n    rules: []\n",
  "wrong-types.yml": `groups:
- name: [a]
  limit: abc
  rules: 5
- x
- name: h
  limit: 1.5
  rules:
    - record: r
      expr: up
      labels: {a: [1]}
`,
  "groups-not-a-list.yml": "groups: 5\n",
  "top-level-list.yml": "- a\n",
  "empty.yml": "",
  "no-groups.yml": "groups: []\n",
  "duplicates.yml": `groups:
  - name: g1
    rules:
      - record: a
        expr: up
      - alert: A
        expr: up
        labels: {x: y}
  - name: g2
    rules:
      - record: a
        expr: up + 1
      - alert: A
        expr: up2
        labels: {x: y}
      - record: a
        expr: up * 2
        labels: {x: y}
`,
};

beforeAll(() => {
  dir = tempDirWith("check-rules", FILES);
});
afterAll(() => removeTempDir(dir));

const run = (cmd: string[]) => runSync(cmd, dir);

const shoal = (...args: string[]) => run([BUN, SHOAL_CLI, "check", "rules", ...args]);
const theirs = (...args: string[]) => run([promtool!, "check", "rules", ...args]);

describe("shoal check rules", () => {
  test("a valid file: the rule count on stdout, exit 0", () => {
    const r = shoal("good.yml");
    expect(r).toEqual({ code: 0, out: "Checking good.yml\n  SUCCESS: 2 rules found\n\n", err: "" });
  });

  test("every error of a file is reported with its line and column, not only the first", () => {
    const r = shoal("many-errors.yml");
    expect(r.code).toBe(1);
    expect(r.out).toBe("Checking many-errors.yml\n\n");
    expect(r.err.split("\n")).toEqual([
      "  FAILED:",
      'many-errors.yml: 5:15: group "g", rule 1, "a:b": could not parse expression: 1:7: parse error: unclosed left parenthesis',
      'many-errors.yml: 7:17: 6:16: group "g", rule 2, "X": only one of \'record\' and \'alert\' must be set',
      'many-errors.yml: 9:17: group "g", rule 3, "bad-name": invalid field \'annotations\' in recording rule',
      'many-errors.yml: 9:17: group "g", rule 3, "bad-name": invalid field \'for\' in recording rule',
      'many-errors.yml: 9:17: group "g", rule 3, "bad-name": invalid recording rule name: bad-name',
      'many-errors.yml: group "g", rule 4, "ok": invalid label name: __name__',
      'many-errors.yml: 17:15: group "g", rule 5, "Y": could not parse expression: 1:12: parse error: unclosed left parenthesis',
      'many-errors.yml: group "g", rule 5, "Y": invalid label name: 0bad',
      'many-errors.yml: group "g", rule 5, "Y": invalid annotation name: a-b',
      'many-errors.yml: 20:5: groupname: "g" is repeated in the same file',
      "many-errors.yml: 22:5: Groupname must not be empty",
      'many-errors.yml: 0:0: group "", rule 1, "": one of \'record\' or \'alert\' must be set',
      'many-errors.yml: 24:15: group "", rule 1, "": field \'expr\' must be set in rule',
      'many-errors.yml: 0:0: group "", rule 2, "z": field \'expr\' must be set in rule',
      "",
    ]);
  });

  test("several files: each checked, exit 1 when any failed", () => {
    const r = shoal("good.yml", "bad-duration.yml", "empty.yml");
    expect(r.code).toBe(1);
    expect(r.out).toBe("Checking good.yml\n  SUCCESS: 2 rules found\n\nChecking bad-duration.yml\n\nChecking empty.yml\n  SUCCESS: 0 rules found\n\n");
    expect(r.err).toBe('  FAILED:\nbad-duration.yml: not a valid duration string: "xyz"\n');
  });

  test("duplicate rules are a lint finding: reported, exit 0, 3 with --lint-fatal, none with --lint=none", () => {
    const lint = shoal("duplicates.yml");
    expect(lint.code).toBe(0);
    expect(lint.err).toBe("  FAILED:\nlint error 2 duplicate rule(s) found.\nMetric: A\nLabel(s):\n\tx: y\nMetric: a\nLabel(s):\nMight cause inconsistency while recording expressions\n");
    expect(shoal("--lint-fatal", "duplicates.yml").code).toBe(3);
    expect(shoal("--lint=none", "duplicates.yml")).toEqual({ code: 0, out: "Checking duplicates.yml\n  SUCCESS: 5 rules found\n\n", err: "" });
    expect(shoal("--lint=bogus", "duplicates.yml").out).toBe("WARNING: unknown lint option bogus\nChecking duplicates.yml\n  SUCCESS: 5 rules found\n\n");
  });

  test("a path that is not a file is refused before anything is checked", () => {
    const r = shoal("good.yml", "nope.yml");
    expect(r).toEqual({ code: 1, out: "", err: "shoal: error: path 'nope.yml' does not exist, try --help\n" });
  });

  test("help lists the command and its flags", () => {
    for (const args of [["--help"], []]) {
      const r = run([BUN, SHOAL_CLI, "check", "rules", ...args]);
      expect(r.out + r.err).toContain("shoal check rules [--lint=duplicate-rules] [--lint-fatal] FILE...");
    }
    expect(run([BUN, SHOAL_CLI, "help", "check"]).out).toContain("  rules\n");
    expect(run([BUN, SHOAL_CLI, "check", "rules", "--help"]).out).toContain("--lint-fatal");
  });

  test("Prometheus 3 group fields (query_offset, labels) are accepted", () => {
    writeFileSync(join(dir, "p3.yml"), "groups:\n  - name: g\n    query_offset: 1m\n    labels: {team: a}\n    rules:\n      - {record: r, expr: up}\n");
    expect(shoal("p3.yml").code).toBe(0);
  });
});

describe.skipIf(!promtool)("shoal check rules and promtool 2.42 side by side", () => {
  // The same lines as promtool for every file; files that break YAML syntax are compared by
  // verdict only (the YAML libraries word syntax errors differently).
  const same = ["good.yml", "many-errors.yml", "templates.yml", "unknown-fields.yml", "bad-duration.yml", "wrong-types.yml", "groups-not-a-list.yml", "top-level-list.yml", "empty.yml", "no-groups.yml", "duplicates.yml"];

  for (const file of same) {
    test(`${file}: same exit status and output`, () => {
      const ours = shoal(file);
      const real = theirs(file);
      expect(ours).toEqual(real);
    });
  }

  test("lint settings give the same exit status and output", () => {
    for (const args of [["--lint-fatal"], ["--lint=none"], ["--lint=all"], ["--lint=bogus"], ["--lint=none", "--lint-fatal"]]) {
      expect(shoal(...args, "duplicates.yml")).toEqual(theirs(...args, "duplicates.yml"));
    }
  });

  test("several files at once: same exit status and output", () => {
    const files = ["good.yml", "many-errors.yml", "duplicates.yml", "empty.yml"];
    expect(shoal(...files)).toEqual(theirs(...files));
    expect(shoal("good.yml", "duplicates.yml")).toEqual(theirs("good.yml", "duplicates.yml"));
  });

  test("a duration with an unknown unit fails both (Prometheus 2.42 words it 'not a valid duration string')", () => {
    expect(shoal("bad-unit.yml").code).toBe(theirs("bad-unit.yml").code);
    expect(shoal("bad-unit.yml").err).toBe('  FAILED:\nbad-unit.yml: unknown unit "x" in duration "5x"\n');
  });

  test("a YAML syntax error fails both", () => {
    writeFileSync(join(dir, "syntax.yml"), "groups: [\n");
    expect(shoal("syntax.yml").code).toBe(theirs("syntax.yml").code);
  });

  test("a missing file: the same refusal", () => {
    const ours = shoal("nope.yml");
    const real = theirs("nope.yml");
    expect(ours.code).toBe(real.code);
    expect(ours.err.replace(/^shoal:/, "promtool:")).toBe(real.err);
  });
});
