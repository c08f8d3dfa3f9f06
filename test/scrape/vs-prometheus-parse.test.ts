/**
 * Differential test of the exposition parsers: the real Prometheus (2.42, Debian) and Shoal
 * scrape the same set of tricky bodies, one target each. Each body must be accepted or
 * rejected by both alike, with the same number of samples when accepted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { ScrapeManager } from "../../src/scrape/index.ts";
import { openTempDB, readSeries, type TempDB } from "./helpers.ts";
import { startPrometheus, waitFor, type PrometheusServer } from "../support/index.ts";

const TEXT = "text/plain; version=0.0.4";
const OM = "application/openmetrics-text; version=1.0.0";

/** [content type, body] by path. */
const BODIES: Record<string, [string, string]> = {
  valid: [TEXT, "a 1\nb{c=\"d\"} 2 1700000000000\n"],
  "trailing-comma": [TEXT, 'a{b="c",} 1\n'],
  "float-timestamp": [TEXT, "a 1 1.5\n"],
  "no-space-after-labels": [TEXT, 'a{b="c"}1\n'],
  "leading-blanks": [TEXT, "  a 1\n"],
  "hash-no-space": [TEXT, "#HELP a x\na 1\n"],
  "specials": [TEXT, "a NaN\nb Inf\nc -Inf\nd +Inf\ne nan\nf inf\n"],
  "underscore-number": [TEXT, "a 1_000\n"],
  "unknown-escape": [TEXT, 'a{b="\\x"} 1\n'],
  "bad-type": [TEXT, "# TYPE a foo\na 1\n"],
  crlf: [TEXT, "a 1\r\nb 2\r\n"],
  "missing-comma": [TEXT, 'a{b="c" d="e"} 1\n'],
  "duplicate-label": [TEXT, 'a{b="1",b="2"} 1\n'],
  "exponent-missing": [TEXT, "a 1e\n"],
  "lone-dot": [TEXT, "a .\n"],
  "empty-braces": [TEXT, "a{} 1\n"],
  "empty-value-label": [TEXT, 'a{b=""} 1\n'],
  "empty-body": [TEXT, ""],
  "name-only": [TEXT, "a\n"],
  "label-without-value": [TEXT, "a{b} 1\n"],
  "space-in-braces": [TEXT, 'a{ b = "c" } 1\n'],
  "tab-separated": [TEXT, "a\t1\n"],
  "help-escapes": [TEXT, "# HELP a x\\ny\\\\z\na 1\n"],
  "comment-lines": [TEXT, "# just a comment\n#\na 1\n"],
  "om-valid": [OM, "# TYPE a gauge\na 1\n# EOF\n"],
  "om-no-eof": [OM, "a 1\n"],
  "om-double-space": [OM, "a  1\n# EOF\n"],
  "om-exemplar": [OM, "# TYPE a counter\na_total 1 # {x=\"y\"} 1\n# EOF\n"],
  "om-float-ts": [OM, "a 1 1700000000.123\n# EOF\n"],
  "om-comment": [OM, "# hello\na 1\n# EOF\n"],
  "om-empty-line": [OM, "a 1\n\n# EOF\n"],
  "om-after-eof": [OM, "a 1\n# EOF\nb 2\n"],
  "om-untyped": [OM, "# TYPE a untyped\na 1\n# EOF\n"],
  "om-unit-mismatch": [OM, "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\na_seconds 1\n# EOF\n"],
  "om-eof-no-newline": [OM, "a 1\n# EOF"],
  "whitespace-only-line": [TEXT, "a 1\n   \nb 2\n"],
  "float-overflow": [TEXT, "a 1e400\n"],
  "float-underflow": [TEXT, "a 1e-400\n"],
  "timestamp-overflow": [TEXT, "a 1 9223372036854775808\n"],
  "timestamp-max": [TEXT, "a 1 9223372036854775807\n"],
  "hex-float": [TEXT, "a 0x1p-2\n"],
  "plus-nan": [TEXT, "a +NaN\n"],
  "infinity-word": [TEXT, "a +Infinity\n"],
  "indented-comment": [TEXT, "  # a comment\na 1\n"],
  "comma-only": [TEXT, "a{,} 1\n"],
  "double-comma": [TEXT, 'a{b="c",,d="e"} 1\n'],
  "space-before-brace": [TEXT, 'a {b="c"} 1\n'],
  "trailing-blanks": [TEXT, "a 1 \nb 2 3\t\n"],
  "no-final-newline": [TEXT, "a 1"],
  "help-no-text": [TEXT, "# HELP a\na 1\n"],
  "type-extra-token": [TEXT, "# TYPE a counter extra\na 1\n"],
  "type-invalid-name": [TEXT, "# TYPE 0a counter\na 1\n"],
  "om-missing-comma": [OM, 'a{b="c" d="e"} 1\n# EOF\n'],
  "om-trailing-comma": [OM, 'a{b="c",} 1\n# EOF\n'],
  "om-space-in-braces": [OM, 'a{ b="c"} 1\n# EOF\n'],
  "om-int-ts": [OM, "a 1 1700000000\n# EOF\n"],
  "om-help-no-text": [OM, "# HELP a\na 1\n# EOF\n"],
  "om-trailing-space": [OM, "a 1 \n# EOF\n"],
  "om-no-space-after-labels": [OM, 'a{b="c"}1\n# EOF\n'],
  "om-exemplar-no-space": [OM, 'a_total 1 #{x="y"} 1\n# EOF\n'],
};

const prometheus = Bun.which("prometheus");
let server: ReturnType<typeof Bun.serve>;
let prom: PrometheusServer | null = null;
let promURL = "";
let t: TempDB;

function config(port: number): string {
  return `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${Object.keys(BODIES)
    .map((name) => `  - job_name: ${name}\n    metrics_path: /${name}\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`)
    .join("")}`;
}

beforeAll(async () => {
  if (!prometheus) return;
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const [type, body] = BODIES[new URL(req.url).pathname.slice(1)] ?? [TEXT, ""];
      return new Response(body, { headers: { "content-type": type } });
    },
  });
  prom = await startPrometheus(config(server.port!));
  promURL = prom.url;
  t = await openTempDB();
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  server?.stop(true);
  await t?.close();
});

type PromTarget = { scrapePool: string; health: string; lastError: string };

test.skipIf(!prometheus)("each body is accepted or rejected alike, with the same sample count", async () => {
  const mgr = new ScrapeManager({ appendable: t.db });
  try {
    await mgr.applyConfig(parseConfig(config(server.port!), "p.yml"));
    const n = Object.keys(BODIES).length;
    const theirs = await waitFor("prometheus scraped every target", async () => {
      const res = await fetch(`${promURL}/api/v1/targets`);
      const d = ((await res.json()) as { data: { activeTargets: PromTarget[] } }).data.activeTargets;
      return d.length === n && d.every((x) => x.health !== "unknown") ? d : undefined;
    }, { timeoutMs: 30_000 });
    await waitFor("shoal scraped every target", () => mgr.activeTargets().length === n && mgr.activeTargets().every((x) => x.health !== "unknown"), { timeoutMs: 30_000 });
    const promCount = async (job: string) => {
      const res = await fetch(`${promURL}/api/v1/query?${new URLSearchParams({ query: `scrape_samples_scraped{job="${job}"}` })}`);
      const r = ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
      return r.length ? Number(r[0]!.value[1]) : -1;
    };
    const rows: string[] = [];
    const differences: string[] = [];
    for (const name of Object.keys(BODIES)) {
      const p = theirs.find((x) => x.scrapePool === name)!;
      const s = mgr.activeTargets().find((x) => x.scrapePool === name)!;
      const ourCount = [...(await readSeries(t.db, "scrape_samples_scraped", { job: name })).values()][0]!.at(-1)!.v;
      const theirCount = await promCount(name);
      rows.push(`${name}: prometheus ${p.health} ${JSON.stringify(p.lastError)} | shoal ${s.health} ${JSON.stringify(s.lastError)}`);
      if (p.health !== s.health) differences.push(`${name}: prometheus ${p.health} (${p.lastError}), shoal ${s.health} (${s.lastError})`);
      else if (s.health === "up" && ourCount !== theirCount) differences.push(`${name}: ${theirCount} samples in prometheus, ${ourCount} in shoal`);
    }
    if (process.env.SHOAL_TEST_VERBOSE) console.log(rows.join("\n"));
    expect(differences).toEqual([]);
  } finally {
    await mgr.stop();
  }
}, 90_000);
