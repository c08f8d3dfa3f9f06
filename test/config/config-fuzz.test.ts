/** Mutated and random config files: parseConfig either accepts them or throws a ConfigError that names the file. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { ConfigError, parseConfig, parseFileSD, parseRuleFile } from "../../src/config/index.ts";

const VALID = `global:
  scrape_interval: 15s
  external_labels: {region: eu}
rule_files: ["rules/*.yml"]
scrape_configs:
  - job_name: node
    scrape_timeout: 5s
    params: {module: [a]}
    static_configs:
      - targets: ["a:9100"]
        labels: {env: prod}
    file_sd_configs:
      - files: ["sd/*.json"]
    relabel_configs:
      - {source_labels: [__address__], regex: "(.*):.*", target_label: host}
      - {action: hashmod, source_labels: [a], target_label: b, modulus: 3}
    metric_relabel_configs:
      - {action: labeldrop, regex: tmp}
    basic_auth: {username: u, password: p}
    sample_limit: 10
    body_size_limit: 1MB
`;

const RULES = `groups:
  - name: g
    interval: 1m
    rules:
      - record: a:b
        expr: sum(up)
      - alert: X
        expr: up == 0
        for: 5m
        labels: {severity: page}
`;

const mutation = fc.record({
  pos: fc.nat(),
  del: fc.nat({ max: 6 }),
  ins: fc.string({ maxLength: 6, unit: fc.constantFrom(..." :-[]{}#'\"\n\t,.*&!|>?0123456789abxs", "  ", "\n  - ", "? [a]") }),
});

function mutate(text: string, ms: { pos: number; del: number; ins: string }[]): string {
  for (const m of ms) {
    const at = m.pos % (text.length + 1);
    text = text.slice(0, at) + m.ins + text.slice(at + m.del);
  }
  return text;
}

function expectClearError(fn: () => unknown, file: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Misspelt fields are reported in Prometheus's words, which name the file first too.
    const named = [`${file}:`, `${file} `, `parsing YAML file ${file}: `].some((p) => e.message.startsWith(p));
    expect(named).toBe(true);
    expect(e.message.length).toBeGreaterThan(file.length + 3);
  }
}

test("mutated configs: accepted or a ConfigError naming the file", () => {
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => expectClearError(() => parseConfig(mutate(VALID, ms), "prom.yml"), "prom.yml")),
    { numRuns: 600 },
  );
}, 30_000);

test("random text as a config", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => expectClearError(() => parseConfig(text, "prom.yml"), "prom.yml")),
    { numRuns: 1000 },
  );
}, 30_000);

test("mutated rule files: accepted or a ConfigError naming the file", () => {
  const checkExpr = (expr: string) => {
    if (expr.includes("((")) throw new Error("1:1: parse error: nested");
  };
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => expectClearError(() => parseRuleFile(mutate(RULES, ms), "r.yml", checkExpr), "r.yml")),
    { numRuns: 1000 },
  );
}, 30_000);

test("file_sd files: any JSON or YAML gives groups or an error naming the file", () => {
  fc.assert(
    fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 80 }), fc.jsonValue().map((v) => JSON.stringify([{ targets: ["a:1"], labels: v }]))), fc.boolean(), (text, yaml) => {
      const path = yaml ? "/sd/t.yml" : "/sd/t.json";
      try {
        const groups = parseFileSD(path, text);
        for (const g of groups) for (const t of g.targets) expect(t.some((l) => l.name === "__address__")).toBe(true);
      } catch (e) {
        expect((e as Error).message.startsWith(`${path}:`)).toBe(true);
      }
    }),
    { numRuns: 1000 },
  );
});
