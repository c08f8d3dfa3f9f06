/**
 * Regexes through a real node's HTTP API: label matchers, label_replace and relabeling speak RE2
 * (Go's regexp) and run in linear time, as Prometheus's do. The same data goes to Debian's
 * Prometheus 2.42, and RE2-only syntax must select what it selects. A pattern that makes a
 * backtracking engine take exponential time answers at once while the node stays healthy; an
 * invalid or oversized pattern is a 400 whose message quotes a bounded part of it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BUN, REPO_ROOT, run, startPrometheus, startShoal, tempDir, type PrometheusServer, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";

const T = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

/** `redos2{v="a"×n}` for n = 10, 15 … 40: seven series. */
const REDOS2 = [10, 15, 20, 25, 30, 35, 40].map((n) => "a".repeat(n));
/** `x{v="a"×30 + "c"×k}`: (a+)+b backtracks 2^30 ways on each before failing. */
const REDOS_X = Array.from({ length: 50 }, (_, k) => "a".repeat(30) + "c".repeat(k + 1));
/** Values for the syntax cases: ASCII and Greek letters, case, digits and regex metacharacters. */
const SYNTAX = ["FooBar", "fooBAR", "foobar", ".*", "x.*", "abc", "abc123", "αβγ", "Ωmega", "a+b", "AbC"];

/** Target relabeling with RE2-only syntax; the targets are never scraped (interval 1h). */
const CONFIG = `
global:
  scrape_interval: 1h
scrape_configs:
  - job_name: re2
    static_configs:
      - targets: ['Alpha.example:9100', 'beta-2.example:9200', 'γάμμα:9300']
    relabel_configs:
      - {source_labels: [__address__], regex: '[[:upper:]].*', action: drop}
      - source_labels: [__address__]
        regex: '(?P<host>[^:]+)\\Q:\\E(?P<port>\\d+)'
        target_label: hostport
        replacement: '\${port}@\${host}$$'
      - {source_labels: [__address__], regex: '(\\pL+).*', target_label: letters}
      - {source_labels: [__address__], regex: '([[:alpha:]]+).*', target_label: ascii}
      - {source_labels: [__address__], regex: '(?U)(.+)(\\d*)', target_label: lazy}
      - {source_labels: [__address__], regex: 'beta(?i)-2\\.EXAMPLE:.*', target_label: mid_flag, replacement: x}
      - {source_labels: [__address__], regex: 'BETA(?i)-2\\.EXAMPLE:.*', target_label: mid_flag_upper, replacement: x}
      - {source_labels: [__address__], regex: '(?i)BETA-2\\.EXAMPLE:.*', target_label: case_flag, replacement: y}
`;

let shoal: ShoalNode;
let prom: PrometheusServer;
let dir = "";

function series(name: string, values: string[]): TestSeries[] {
  return values.map((v) => ({ labels: { __name__: name, v }, samples: [[T, 1]] }));
}

beforeAll(async () => {
  dir = tempDir("regex-http");
  const cfg = join(dir, "shoal.yml");
  await Bun.write(cfg, CONFIG);
  [shoal, prom] = await Promise.all([
    startShoal({ args: ["--config.file", cfg, "--log.level=error"] }),
    startPrometheus("global:\n  scrape_interval: 1h\nscrape_configs: []\n"),
  ]);
  const body = writeRequestBody([...series("redos2", REDOS2), ...series("x", REDOS_X), ...series("syn", SYNTAX)]);
  for (const url of [shoal.url, prom.url]) expect((await remoteWrite(url, body)).status).toBeLessThan(300);
}, 90_000);

afterAll(async () => {
  await Promise.all([shoal?.stop(), prom?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
  ms: number;
}

async function query(base: string, q: string, extra: Record<string, string> = {}): Promise<Answer> {
  const began = performance.now();
  const r = await fetch(`${base}/api/v1/query`, {
    method: "POST",
    body: new URLSearchParams({ query: q, time: String(T / 1000), ...extra }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const text = await r.text();
  return { status: r.status, text, ms: performance.now() - began };
}

/** The series' label sets of a successful instant query, sorted. */
async function labelSets(base: string, q: string): Promise<Record<string, string>[]> {
  const a = await query(base, q);
  expect(a.status, `${q}: ${a.text}`).toBe(200);
  const body = JSON.parse(a.text) as { data: { result: { metric: Record<string, string> }[] } };
  return body.data.result.map((r) => r.metric).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
}

function values(sets: Record<string, string>[], label = "v"): string[] {
  return sets.map((s) => s[label] ?? "").sort();
}

describe("linear time", () => {
  test('redos2{v=~"(a+)+b|a*"} selects all seven series', async () => {
    expect(values(await labelSets(shoal.url, 'redos2{v=~"(a+)+b|a*"}'))).toEqual([...REDOS2].sort());
    // Asked again (a cache must not keep a wrong answer either).
    expect(values(await labelSets(shoal.url, 'redos2{v=~"(a+)+b|a*"}'))).toHaveLength(7);
  });

  test("an exponential-backtracking pattern answers at once, and /-/healthy stays responsive", async () => {
    const heavy = query(shoal.url, 'count(x{v=~"(a+)+b"})', { timeout: "2s" });
    await Bun.sleep(20);
    const began = performance.now();
    const healthy = await fetch(`${shoal.url}/-/healthy`);
    const healthyMs = performance.now() - began;
    const a = await heavy;
    expect(a.status, a.text).toBe(200);
    expect(JSON.parse(a.text).data.result).toEqual([]);
    expect(a.ms).toBeLessThan(1500);
    expect(healthy.status).toBe(200);
    expect(healthyMs).toBeLessThan(1000);
    // The values exist and a linear pattern over them selects all fifty.
    const all = await query(shoal.url, 'count(x{v=~"(a+)+c+"})');
    expect(JSON.parse(all.text).data.result[0].value[1]).toBe("50");
  });
});

describe("RE2 syntax selects what Prometheus selects", () => {
  const cases: [string, string[]][] = [
    ['syn{v=~"foo(?i)bar"}', ["fooBAR", "foobar"]],
    ['syn{v=~"(?i)foobar"}', ["FooBar", "fooBAR", "foobar"]],
    ['syn{v=~"\\\\Q.*\\\\E"}', [".*"]],
    ['syn{v=~"[[:alpha:]]+"}', ["AbC", "FooBar", "abc", "fooBAR", "foobar"]],
    ['syn{v=~"[[:^alpha:][:digit:]]+"}', [".*", "αβγ"]],
    ['syn{v=~"\\\\pL+"}', ["AbC", "FooBar", "abc", "fooBAR", "foobar", "Ωmega", "αβγ"]],
    ['syn{v=~"\\\\p{Greek}+"}', ["αβγ"]],
    ['syn{v=~"\\\\PL+"}', [".*"]],
    ['syn{v=~"(?P<word>[a-z]+)\\\\d+"}', ["abc123"]],
    ['syn{v!~"(?i)a.*"}', [".*", "FooBar", "fooBAR", "foobar", "x.*", "Ωmega", "αβγ"]],
  ];
  for (const [q, want] of cases) {
    test(q, async () => {
      const got = values(await labelSets(shoal.url, q));
      expect(got).toEqual([...want].sort());
      expect(got).toEqual(values(await labelSets(prom.url, q)));
    });
  }

  test("label_replace: (?U) makes repetitions lazy, named groups expand as ${name}", async () => {
    const q = 'label_replace(label_replace(syn{v="abc123"}, "lazy", "$1|$2", "v", "(?U)(.+)(\\\\d*)"), "word", "${w}-$$", "v", "(?P<w>[[:alpha:]]+)\\\\d+")';
    const got = await labelSets(shoal.url, q);
    expect(got).toEqual([{ __name__: "syn", v: "abc123", lazy: "abc|123", word: "abc-$" }]);
    expect(got).toEqual(await labelSets(prom.url, q));
  });
});

describe("invalid RE2 is a 400 naming the problem", () => {
  const cases: [string, string][] = [
    ['syn{v=~"(a)\\\\1"}', "error parsing regexp: invalid escape sequence: `\\1`"],
    ['syn{v=~"(?=a)b"}', "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
    ['syn{v=~"a{1001}"}', "error parsing regexp: invalid repeat count: `{1001}`"],
  ];
  for (const [q, msg] of cases) {
    test(q, async () => {
      const a = await query(shoal.url, q);
      expect(a.status).toBe(400);
      const body = JSON.parse(a.text) as { errorType: string; error: string };
      expect(body.errorType).toBe("bad_data");
      expect(body.error).toContain(msg);
      // Prometheus refuses it with the same words.
      const p = await query(prom.url, q);
      expect(p.status).toBe(400);
      expect(JSON.parse(p.text).error).toContain(msg);
    });
  }

  test("label_replace with an invalid regex", async () => {
    const q = 'label_replace(syn, "a", "$1", "v", "(?!x)")';
    const [a, p] = await Promise.all([query(shoal.url, q), query(prom.url, q)]);
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBe(p.status);
    expect(JSON.parse(a.text).error).toBe(JSON.parse(p.text).error);
  });
});

describe("a huge pattern's error quotes only a bounded prefix of it", () => {
  const bounded = (a: Answer) => {
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(a.text.length).toBeLessThan(1000);
    const err = JSON.parse(a.text).error as string;
    expect(err).toContain("…");
    return err;
  };

  test("over the size limit (1 MiB)", async () => {
    const a = await query(shoal.url, `syn{v=~"${"a|".repeat(1 << 19)}("}`);
    expect(bounded(a)).toContain("expression too large");
  });

  test("a long pattern with a syntax error", async () => {
    const a = await query(shoal.url, `syn{v=~"(${"ab".repeat(50_000)}"}`);
    expect(bounded(a)).toContain("error parsing regexp: missing closing ): `^(?s:(abab");
  });

  test("label_replace", async () => {
    const a = await query(shoal.url, `label_replace(syn, "a", "$1", "v", "(${"ab".repeat(50_000)}")`);
    expect(bounded(a)).toContain("invalid regular expression in label_replace(): (abab");
  });
});

describe("a costly program is refused before it can hold the node", () => {
  test("a small pathological pattern answers 400 expression too large at once, and /-/healthy keeps answering", async () => {
    // 7 KB of RE2 that compiles to 1.2M instructions: within Go's limits, minutes in re2js.
    const pattern = "(?:.?){1000}".repeat(600);
    const heavy = query(shoal.url, `count(syn{v=~"${pattern}"})`);
    const began = performance.now();
    const healthy = await fetch(`${shoal.url}/-/healthy`);
    const healthyMs = performance.now() - began;
    const a = await heavy;
    expect(a.status, a.text).toBe(400);
    expect(JSON.parse(a.text).error).toContain("error parsing regexp: expression too large: `^(?s:(?:.?){1000}");
    expect(a.ms).toBeLessThan(1000);
    expect(healthy.status).toBe(200);
    expect(healthyMs).toBeLessThan(1000);
    const relabel = await query(shoal.url, `label_replace(syn, "a", "$1", "v", "${"\\\\pL{1000}".repeat(24)}")`);
    // An execution error for Prometheus too (422), raised before the engine compiles anything.
    expect(relabel.status, relabel.text).toBe(422);
    expect(JSON.parse(relabel.text).error).toContain("invalid regular expression in label_replace(): \\pL{1000}");
    expect(relabel.ms).toBeLessThan(1000);
  }, 20_000);

  test("a 2000-name alternation is accepted and selects quickly", async () => {
    const names = Array.from({ length: 2000 }, (_, i) => `name${i}`);
    for (const p of [
      `${names.join("|")}|FooBar|abc`, // a literal set
      `(?i)(?:${names.join("|")}|foobar|ABC)`, // the engine
    ]) {
      const a = await query(shoal.url, `syn{v=~"${p}"}`);
      expect(a.status, a.text).toBe(200);
      expect(a.ms).toBeLessThan(3000);
      const got = (JSON.parse(a.text).data.result as { metric: { v: string } }[]).map((r) => r.metric.v).sort();
      expect(got).toEqual(p.startsWith("(?i)") ? ["AbC", "FooBar", "abc", "fooBAR", "foobar"] : ["FooBar", "abc"]);
    }
  });
});

describe("relabeling speaks RE2", () => {
  test("target relabeling: classes, \\Q…\\E, \\pL, (?U), (?i) mid-pattern, ${name} and $$", async () => {
    const r = await fetch(`${shoal.url}/api/v1/targets`);
    const body = (await r.json()) as { data: { activeTargets: { labels: Record<string, string> }[]; droppedTargets: { discoveredLabels: Record<string, string> }[] } };
    const active = body.data.activeTargets.map((t) => t.labels).sort((a, b) => (a.instance! < b.instance! ? -1 : 1));
    expect(body.data.droppedTargets.map((t) => t.discoveredLabels.__address__)).toEqual(["Alpha.example:9100"]);
    expect(active.map((l) => l.instance)).toEqual(["beta-2.example:9200", "γάμμα:9300"]);
    const [beta, gamma] = active as [Record<string, string>, Record<string, string>];
    expect(beta.hostport).toBe("9200@beta-2.example$");
    expect(gamma.hostport).toBe("9300@γάμμα$");
    expect(beta.letters).toBe("beta");
    expect(gamma.letters).toBe("γάμμα");
    expect(beta.ascii).toBe("beta");
    expect(gamma.ascii).toBeUndefined();
    expect(beta.lazy).toBe("beta-2.example:");
    expect(beta.mid_flag).toBe("x");
    expect(beta.mid_flag_upper).toBeUndefined();
    expect(beta.case_flag).toBe("y");
  });

  test("shoal check config: RE2 syntax passes, a backreference or lookahead fails with Go's message", async () => {
    const ok = join(dir, "ok.yml");
    await Bun.write(ok, CONFIG);
    const good = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "check", "config", ok]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    for (const [regex, msg] of [
      ["(a)\\\\1", "error parsing regexp: invalid escape sequence: `\\1`"],
      ["a(?=b)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
    ] as const) {
      const bad = join(dir, "bad.yml");
      await Bun.write(bad, `scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {source_labels: [a], regex: "${regex}", action: drop}\n`);
      const res = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "check", "config", bad]);
      expect(res.code).not.toBe(0);
      expect(res.stdout + res.stderr).toContain(msg);
    }
  });
});
