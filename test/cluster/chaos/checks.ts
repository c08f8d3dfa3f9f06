/**
 * Comparing what the cluster answers with the acknowledged ground truth. During the run a query
 * over a closed time window (every round in it was acknowledged) must equal the truth exactly or
 * carry a warning; at the end every node's answer must equal it, each sample once, and every
 * acknowledged sample must be in exactly R nodes' own storage.
 */
import type { AckedLog } from "./acked.ts";

interface PromResponse {
  status: string;
  error?: string;
  warnings?: string[];
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] };
}

export type QueryOutcome =
  | { kind: "ok" }
  | { kind: "warned"; warnings: string[]; short: boolean }
  | { kind: "error"; error: string }
  | { kind: "short"; diffs: string[] };

export async function promQuery(url: string, query: string, timeMs: number, timeoutMs: number): Promise<PromResponse> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${(timeMs / 1000).toFixed(3)}`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  try {
    return JSON.parse(text) as PromResponse;
  } catch {
    return { status: "error", error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
  }
}

function seriesIndex(log: AckedLog, labels: Record<string, string>): number {
  const s = labels.series;
  if (!s || !s.startsWith("s")) return -1;
  const i = Number(s.slice(1));
  return Number.isInteger(i) && i >= 0 && i < log.seriesCount ? i : -1;
}

/** Differences between a raw range-vector answer and the truth for rounds [from, to). */
export function diffRaw(log: AckedLog, body: PromResponse, from: number, to: number, limit = 8, lo = NaN, hi = NaN): string[] {
  const out: string[] = [];
  const seen = new Uint8Array(log.seriesCount);
  for (const r of body.data?.result ?? []) {
    const i = seriesIndex(log, r.metric);
    if (i < 0) {
      out.push(`unexpected series ${JSON.stringify(r.metric)}`);
      continue;
    }
    if (seen[i]) out.push(`series s${i} returned twice`);
    seen[i] = 1;
    const values = r.values ?? [];
    let missing = 0;
    let firstMissing = -1;
    let wrong = 0;
    let extra = 0;
    let dup = 0;
    let k = 0;
    let prev = -Infinity;
    let firstExtra = NaN;
    for (let round = from; round < to; round++) {
      const t = log.timestamp(round);
      while (k < values.length && Math.round(values[k]![0] * 1000) < t) {
        if (extra++ === 0) firstExtra = Math.round(values[k]![0] * 1000);
        k++;
      }
      if (k < values.length && Math.round(values[k]![0] * 1000) === t) {
        if (Number(values[k]![1]) !== log.value(round, i)) wrong++;
        k++;
        while (k < values.length && Math.round(values[k]![0] * 1000) === t) k++; // duplicates: counted below
      } else {
        if (missing++ === 0) firstMissing = round;
      }
    }
    if (k < values.length && extra === 0) firstExtra = Math.round(values[k]![0] * 1000);
    extra += values.length - k;
    for (const [ts] of values) {
      const t = Math.round(ts * 1000);
      if (t === prev) dup++;
      prev = t;
    }
    if (missing || wrong || extra || dup) {
      const where = missing ? ` (first missing: round ${firstMissing} @${log.timestamp(firstMissing)})` : "";
      const what = extra ? ` (first extra @${firstExtra}, window (${lo}, ${hi}])` : "";
      out.push(`s${i}: ${missing} missing${where}, ${wrong} wrong, ${extra} extra${what}, ${dup} duplicated of ${to - from}`);
    }
  }
  if (to > from) for (let i = 0; i < log.seriesCount; i++) if (!seen[i]) out.push(`s${i} missing (${to - from} samples)`);
  return out.slice(0, limit).concat(out.length > limit ? [`… ${out.length - limit} more`] : []);
}

/** Differences between a per-series aggregate (count or sum over the window) and the truth. */
function diffAgg(log: AckedLog, body: PromResponse, from: number, to: number, agg: "count" | "sum"): string[] {
  const out: string[] = [];
  const n = to - from;
  // Σ (round × 1000 + i) over the rounds = 1000 × Σ rounds + n × i
  const roundSum = ((from + to - 1) * n) / 2;
  const got = new Map<number, number>();
  for (const r of body.data?.result ?? []) {
    const i = seriesIndex(log, r.metric);
    if (i < 0) out.push(`unexpected series ${JSON.stringify(r.metric)}`);
    else got.set(i, Number(r.value?.[1]));
  }
  for (let i = 0; i < log.seriesCount; i++) {
    const want = agg === "count" ? n : 1000 * roundSum + n * i;
    const have = got.get(i);
    if (n === 0 && have === undefined) continue;
    if (have !== want) out.push(`${agg} of s${i}: ${have ?? "absent"}, want ${want}`);
  }
  return out.slice(0, 8).concat(out.length > 8 ? [`… ${out.length - 8} more`] : []);
}

function outcome(body: PromResponse, diffs: string[]): QueryOutcome {
  if (body.status !== "success") return { kind: "error", error: body.error ?? "no error text" };
  const warnings = body.warnings ?? [];
  if (warnings.length) return { kind: "warned", warnings, short: diffs.length > 0 };
  return diffs.length ? { kind: "short", diffs } : { kind: "ok" };
}

export type WindowKind = "recent" | "older" | "whole";

/**
 * One query of the kind over a closed window ending at the newest acknowledged round:
 * `recent` and `older` are raw samples over 10 s windows (compared sample by sample), `whole`
 * compares count_over_time and sum_over_time of every series since the first round.
 */
export async function checkWindow(url: string, log: AckedLog, kind: WindowKind, pick: () => number, timeoutMs: number): Promise<{ outcome: QueryOutcome; what: string }> {
  const end = log.closedT();
  const first = log.firstT();
  const m = log.metric;
  try {
    if (kind === "whole") {
      const rangeS = Math.ceil((end - first) / 1000) + 2;
      const [from, to] = log.roundsIn(end - rangeS * 1000, end);
      const what = `count/sum_over_time(${m}[${rangeS}s]) @${end}`;
      const c = await promQuery(url, `count_over_time(${m}[${rangeS}s])`, end, timeoutMs);
      if (c.status !== "success" || c.warnings?.length) return { outcome: outcome(c, diffAgg(log, c, from, to, "count")), what };
      const s = await promQuery(url, `sum_over_time(${m}[${rangeS}s])`, end, timeoutMs);
      const d = diffAgg(log, c, from, to, "count").concat(diffAgg(log, s, from, to, "sum"));
      const o = outcome(s, d);
      if (o.kind === "short") {
        // Which samples: the same window raw (moments later; a repair may have run meanwhile).
        const raw = await promQuery(url, `${m}[${rangeS}s]`, end, timeoutMs);
        const rd = raw.status === "success" ? diffRaw(log, raw, from, to, 4, end - rangeS * 1000, end) : [`failed: ${raw.error}`];
        o.diffs.push(`raw re-query${raw.warnings?.length ? " (warned)" : ""}: ${rd.length ? rd.join("; ") : "complete"}`);
      }
      return { outcome: o, what };
    }
    // Whole milliseconds: the query's evaluation time is what the window is computed from.
    const at = kind === "recent" ? end : Math.round(first + pick() * Math.max(0, end - first));
    const [from, to] = log.roundsIn(at - 10_000, at);
    const what = `${m}[10s] @${at} (${to - from} rounds)`;
    const body = await promQuery(url, `${m}[10s]`, at, timeoutMs);
    return { outcome: outcome(body, diffRaw(log, body, from, to, 8, at - 10_000, at)), what };
  } catch (err) {
    return { outcome: { kind: "error", error: (err as Error).message }, what: kind };
  }
}

/** Every sample, in windows of `chunkMs`, compared with the truth sample by sample. */
export async function checkEverything(url: string, log: AckedLog, chunkMs: number, timeoutMs: number): Promise<string[]> {
  const out: string[] = [];
  const chunkS = Math.round(chunkMs / 1000);
  for (let hi = log.firstT() - 1 + chunkS * 1000; ; hi += chunkS * 1000) {
    const [from, to] = log.roundsIn(hi - chunkS * 1000, hi);
    const body = await promQuery(url, `${log.metric}[${chunkS}s]`, hi, timeoutMs);
    if (body.status !== "success") out.push(`window ending ${hi}: ${body.error}`);
    else {
      if (body.warnings?.length) out.push(`window ending ${hi}: warnings ${JSON.stringify(body.warnings)}`);
      for (const d of diffRaw(log, body, from, to, 8, hi - chunkS * 1000, hi)) out.push(`window ending ${hi}: ${d}`);
    }
    if (hi >= log.closedT()) break;
  }
  return out;
}

/**
 * Counts, for every acknowledged sample, how many nodes' own data hold it. `lines` are
 * `shoal tsdb dump` lines (`{labels} value timestamp`). Returns copies per sample (index
 * round × seriesCount + series) and the problems seen (wrong values, unacknowledged samples).
 */
export class CopyCounter {
  readonly copies: Uint8Array;
  readonly problems: string[] = [];

  constructor(private readonly log: AckedLog) {
    this.copies = new Uint8Array(log.samples());
  }

  /** Adds one node's dump; a sample listed twice by one node counts as a problem, once as a copy. */
  addDump(node: string, text: string): number {
    const mine = new Uint8Array(this.copies.length);
    let n = 0;
    for (const line of text.split("\n")) {
      if (!line.includes(this.log.metric)) continue;
      const m = /series="s(\d+)"\} (\S+) (\d+)$/.exec(line);
      if (!m) {
        this.problem(`${node}: unparsed dump line ${line}`);
        continue;
      }
      const i = Number(m[1]);
      const v = Number(m[2]);
      const t = Number(m[3]);
      const round = this.log.roundAt(t);
      if (round < 0 || i >= this.log.seriesCount) {
        this.problem(`${node}: holds a sample that was never acknowledged: ${line}`);
        continue;
      }
      if (v !== this.log.value(round, i)) this.problem(`${node}: wrong value ${line} (want ${this.log.value(round, i)})`);
      const k = round * this.log.seriesCount + i;
      if (mine[k]) {
        this.problem(`${node}: sample listed twice: ${line}`);
        continue;
      }
      mine[k] = 1;
      this.copies[k]!++;
      n++;
    }
    return n;
  }

  private problem(p: string): void {
    if (this.problems.length < 20) this.problems.push(p);
    else if (this.problems.length === 20) this.problems.push("… more");
  }

  /** Samples not held by exactly `r` nodes, summarised by copy count, with examples. */
  wrongCopies(r: number): string[] {
    const byCount = new Map<number, number>();
    const examples: string[] = [];
    for (let k = 0; k < this.copies.length; k++) {
      const c = this.copies[k]!;
      if (c === r) continue;
      byCount.set(c, (byCount.get(c) ?? 0) + 1);
      if (examples.length < 10) {
        const round = Math.floor(k / this.log.seriesCount);
        examples.push(`s${k % this.log.seriesCount} @${this.log.timestamp(round)} (round ${round}): ${c} copies`);
      }
    }
    if (byCount.size === 0) return [];
    return [`samples not on exactly ${r} nodes: ${[...byCount].map(([c, n]) => `${n} with ${c} copies`).join(", ")}`, ...examples];
  }
}
