/**
 * Randomized data and PromQL queries for the pushdown property tests: counters with resets and
 * gauges with the odd NaN over 40 minutes, and aggregations (shardable or not) over selectors and
 * range functions with groupings, offsets and outer expressions; answers compared point by point.
 */
import { expect } from "bun:test";
import fc from "fast-check";
import { labelsFromRecord, labelsKey, type Appendable, type Labels } from "../../src/model/index.ts";
import type { QueryResult } from "../../src/promql/index.ts";

export const MIN = 60_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counters (with resets) and gauges (with the odd NaN) of a few jobs, irregular scrapes with gaps, over 40 minutes. */
export async function fill(appendable: Appendable, seed: number, seriesCount: number, extra: Record<string, string> = {}, base = 0): Promise<void> {
  const rnd = mulberry32(seed);
  const app = appendable.appender();
  for (let i = 0; i < seriesCount; i++) {
    const counter = rnd() < 0.5;
    const ls = labelsFromRecord({
      __name__: counter ? "req_total" : "temp",
      job: ["a", "b", "c"][Math.floor(rnd() * 3)]!,
      instance: `i${i}`,
      ...extra,
      ...(rnd() < 0.3 ? { zone: rnd() < 0.5 ? "x" : "y" } : {}),
    });
    let v = Math.floor(rnd() * 100);
    const start = Math.floor(rnd() * 10) * MIN;
    const stop = 40 * MIN - Math.floor(rnd() * 10) * MIN;
    for (let t = start + Math.floor(rnd() * 15_000); t < stop; t += 5_000 + Math.floor(rnd() * 20_000)) {
      if (rnd() < 0.1) continue;
      if (counter) v = rnd() < 0.02 ? Math.floor(rnd() * 10) : v + rnd() * 50;
      else v = rnd() < 0.01 ? NaN : (rnd() - 0.5) * 1000;
      app.append(ls, base + t, v);
    }
  }
  await app.commit();
}

const inners = [
  "req_total",
  "temp",
  "rate(req_total[5m])",
  "increase(req_total[3m])",
  "irate(req_total[2m])",
  "delta(temp[4m])",
  "avg_over_time(temp[5m])",
  "max_over_time(temp[3m])",
  "min_over_time(temp[3m])",
  "sum_over_time(temp[2m])",
  "count_over_time({job=~\".+\"}[10m])",
  "last_over_time(temp[5m])",
  "quantile_over_time(0.9, temp[6m])",
];
const groupings = ["", " by (job)", " by (instance)", " without (instance)", " by (job, zone)", " without (zone)"];
const offsets = ["", " offset 1m", " offset 5m"];

/** The inner with an offset on its selector (after a range, or on a plain selector). */
function withOffset(inner: string, offset: string): string {
  if (!offset) return inner;
  if (inner.includes("]")) return inner.replace("]", `]${offset}`);
  return `${inner}${offset}`;
}

export const queryArb = fc
  .record({
    op: fc.constantFrom("sum", "count", "min", "max", "avg", "group", "topk", "bottomk", "count_values", "quantile", "stddev"),
    inner: fc.constantFrom(...inners),
    grouping: fc.constantFrom(...groupings),
    offset: fc.constantFrom(...offsets),
    k: fc.integer({ min: 1, max: 4 }),
    outer: fc.constantFrom("%s", "%s / 2", "sort_desc(%s)", "%s > 0", "histogram_quantile(0.5, %s)", "%s + on() group_left() vector(1)"),
  })
  .map(({ op, inner, grouping, offset, k, outer }) => {
    const arg = withOffset(inner, offset);
    const param = op === "topk" || op === "bottomk" ? `${k}, ` : op === "count_values" ? '"value", ' : op === "quantile" ? "0.5, " : "";
    const agg = `${op}${grouping} (${param}${arg})`;
    // Outer shapes that need particular labels only make sense for some aggregations.
    const o = outer.startsWith("histogram_quantile") || op === "topk" || op === "bottomk" ? "%s" : outer;
    return { query: o.replace("%s", agg), op, shardable: op !== "quantile" && op !== "stddev" && op !== "topk" && op !== "bottomk" };
  });

type Point = [string, number, number];

/** Every (series, time, value) of an answer, sorted; for topk/bottomk, per time the values and group (ties may pick either series). */
function points(r: QueryResult, byValueOnly: boolean): Point[] {
  const out: Point[] = [];
  const v = r.value;
  const name = (ls: Labels) => (byValueOnly ? "" : labelsKey(ls));
  if (v.resultType === "vector") for (const s of v.result) out.push([name(s.labels), s.t, s.v]);
  if (v.resultType === "matrix") for (const s of v.result) for (let i = 0; i < s.timestamps.length; i++) out.push([name(s.labels), s.timestamps[i]!, s.values[i]!]);
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2]));
  return out;
}

function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

export function expectSameAnswer(got: QueryResult, want: QueryResult, byValueOnly: boolean, query: string): void {
  expect(got.value.resultType).toBe(want.value.resultType);
  const g = points(got, byValueOnly);
  const w = points(want, byValueOnly);
  const describe = (p: Point[]) => p.slice(0, 8).map((x) => x.join(" ")).join("\n");
  if (g.length !== w.length) throw new Error(`${query}: ${g.length} points, single node ${w.length}\n${describe(g)}\n--\n${describe(w)}`);
  for (let i = 0; i < g.length; i++) {
    const [gl, gt, gv] = g[i]!;
    const [wl, wt, wv] = w[i]!;
    if (gl !== wl || gt !== wt || !sameValue(gv, wv)) throw new Error(`${query}: point ${i}: ${gl} ${gt} ${gv}, single node ${wl} ${wt} ${wv}`);
  }
}

