/**
 * Label-matcher regexes over many label values: JavaScript's backtracking RegExp (what matchers
 * ran on before, `^(?:re)$` with flags "su") against re2js alone and against Shoal's Matcher (RE2
 * with its literal fast paths), and a head postings selection with the same matcher.
 *
 *   bun bench/regex/run.ts [--values 100000] [--runs 5] [--seed 1]
 *
 * Each figure is the median of --runs passes over all values, after one warm-up pass.
 */
import { RE2JS } from "re2js";
import { labelsFromRecord, Matcher } from "../../src/model/index.ts";
import { MemPostings, postingsForMatchers } from "../../src/storage/postings.ts";
import { Flags, fmtNum, machineLine, markdownTable, median } from "../lib.ts";

const flags = new Flags();
const N = flags.num("values", 100_000);
const RUNS = flags.num("runs", 5);
let seed = flags.num("seed", 1) >>> 0;

/** mulberry32: small, fast, seedable. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** Metric-name-like values: a few prefixes, words, ids and suffixes. */
const PREFIXES = ["api", "node", "http", "process", "go", "a", "b", "c", "foo", "grpc", "kube"];
const WORDS = ["requests", "cpu", "memory", "handler", "foo", "bar", "seconds", "bytes", "errors", "queue"];
const SUFFIXES = ["_total", "_count", "_sum", "_bucket", "", ""];
const values: string[] = [];
const seen = new Set<string>();
while (values.length < N) {
  const v = `${pick(PREFIXES)}_${pick(WORDS)}_${Math.floor(random() * N)}${pick(SUFFIXES)}`;
  if (!seen.has(v)) {
    seen.add(v);
    values.push(v);
  }
}
// Exact hits for the set patterns.
for (const v of ["a_total", "b_total", "c_total"]) values[Math.floor(random() * N)] = v;

const PATTERNS = [".*foo.*", "api_.+", "(a|b|c)_total", ".*_total", "node_(cpu|memory)_.*", "(?i)NODE_.*_TOTAL", "[a-z]+_[a-z]+_[0-9]+", "(a+)+b"];

function time(pass: () => number): { ms: number; hits: number } {
  let hits = pass();
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    hits = pass();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), hits };
}

/** The JavaScript RegExp matchers compiled before: a leading flag group became a flag. */
function jsRegex(p: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(p);
  const flags = "su" + (m?.[1]?.includes("i") ? "i" : "");
  return new RegExp(`^(?:${m ? p.slice(m[0].length) : p})$`, flags);
}

const postings = new MemPostings();
values.forEach((v, id) => postings.add(id, labelsFromRecord({ __name__: "m", v })));

const rows: string[][] = [];
for (const p of PATTERNS) {
  const js = jsRegex(p);
  const re2 = RE2JS.compile(`^(?s:${p})$`);
  const m = new Matcher("=~", "v", p);
  const a = time(() => values.reduce((n, v) => (js.test(v) ? n + 1 : n), 0));
  const b = time(() => values.reduce((n, v) => (re2.testExact(v) ? n + 1 : n), 0));
  const c = time(() => values.reduce((n, v) => (m.matches(v) ? n + 1 : n), 0));
  const d = time(() => postingsForMatchers(postings, [m]).length);
  if (a.hits !== b.hits || b.hits !== c.hits || c.hits !== d.hits) throw new Error(`${p}: the engines disagree (${a.hits}, ${b.hits}, ${c.hits}, ${d.hits})`);
  rows.push([`\`${p}\``, String(c.hits), fmtNum(a.ms, 1), fmtNum(b.ms, 1), fmtNum(c.ms, 1), fmtNum(d.ms, 1)]);
  process.stderr.write(`${p} done\n`);
}

console.log(`${machineLine()}; ${N} distinct values, median of ${RUNS} passes\n`);
console.log(markdownTable(["pattern", "matches", "JS RegExp ms", "re2js ms", "Matcher ms", "postings ms"], rows));
