/**
 * The fan-out `Queryable`: asks every live member (this node directly, the others over the select
 * protocol) and merges what they hold. Replicas of a series are merged sample by sample, equal
 * timestamps kept once. When some range of the ring had no member that answered, the result
 * carries a partial-result warning saying which members were missing, never a silent hole.
 */
import {
  compareLabels,
  labelsKey,
  Matcher,
  type LabelQueryResult,
  type Logger,
  type MatchType,
  type Querier,
  type Queryable,
  type SelectHints,
  type Series,
  type SeriesSet,
} from "../model/index.ts";
import { decodeBatch, encodeBatch, type WireBatch } from "./batch.ts";
import type { Membership } from "./membership.ts";
import type { Ring } from "./ring.ts";
import { Histogram, LabelledCounter } from "./metrics.ts";
import type { Rpc } from "./rpc.ts";

export const SELECT_PROTOCOL = "/shoal/select/1";

/** Every partial-result warning starts with this, so a reader can tell an incomplete answer from PromQL's own warnings. */
export const PARTIAL_RESULT_WARNING_PREFIX = "cluster: partial result:";

type WireMatcher = [MatchType, string, string];

interface SelectRequest {
  op: "select" | "names" | "values";
  mint: number;
  maxt: number;
  m: WireMatcher[];
  h?: SelectHints;
  name?: string;
}

/** Series per streamed part: keeps frames around a few MB. */
const SERIES_PER_PART = 2000;

function toWire(ms: readonly Matcher[] | undefined): WireMatcher[] {
  return (ms ?? []).map((m) => [m.type, m.name, m.value]);
}

function fromWire(ms: unknown): Matcher[] {
  if (!Array.isArray(ms)) throw new Error("malformed matchers");
  return ms.map((m: WireMatcher) => new Matcher(m[0], m[1], m[2]));
}

/** Server side of the select protocol: answers from this node's own storage only. */
export function selectHandler(local: Queryable): (req: unknown, ctx: { send(part: unknown): Promise<void> }) => Promise<unknown> {
  return async (raw, ctx) => {
    const req = raw as SelectRequest;
    const matchers = fromWire(req.m);
    const q = local.querier(Number(req.mint), Number(req.maxt));
    try {
      if (req.op === "names") {
        const r = await q.labelNames(matchers.length ? matchers : undefined);
        return { vals: r.values, w: r.warnings };
      }
      if (req.op === "values") {
        const r = await q.labelValues(String(req.name), matchers.length ? matchers : undefined);
        return { vals: r.values, w: r.warnings };
      }
      const set = await q.select(matchers, req.h);
      for (let i = 0; i < set.series.length; i += SERIES_PER_PART) {
        await ctx.send({ b: encodeBatch(set.series.slice(i, i + SERIES_PER_PART), { xor: true }) });
      }
      return { w: set.warnings };
    } finally {
      q.close();
    }
  };
}

/** Merges replicas of one series: union of samples by timestamp, the first replica winning. */
export function mergeReplicas(list: readonly Series[]): Series {
  let acc = list[0]!;
  for (let k = 1; k < list.length; k++) {
    const b = list[k]!;
    if (sameTimestamps(acc.timestamps, b.timestamps)) continue;
    const at = acc.timestamps;
    const av = acc.values;
    const bt = b.timestamps;
    const bv = b.values;
    const t = new Float64Array(at.length + bt.length);
    const v = new Float64Array(at.length + bt.length);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < at.length || j < bt.length) {
      // subarray+set copies bits, so stale markers survive the merge.
      if (j >= bt.length || (i < at.length && at[i]! <= bt[j]!)) {
        if (j < bt.length && at[i] === bt[j]) j++;
        t[n] = at[i]!;
        v.set(av.subarray(i, i + 1), n);
        i++;
      } else {
        t[n] = bt[j]!;
        v.set(bv.subarray(j, j + 1), n);
        j++;
      }
      n++;
    }
    acc = { labels: acc.labels, timestamps: t.slice(0, n), values: v.slice(0, n) };
  }
  return acc;
}

function sameTimestamps(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class FanoutMetrics {
  readonly latency = new Histogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  partialResults = 0;
  readonly memberErrors = new LabelledCounter(["peer"]);
}

export class FanoutQueryable implements Queryable {
  readonly metrics = new FanoutMetrics();

  constructor(
    private readonly membership: Membership,
    private readonly rpc: Rpc,
    private readonly local: Queryable,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  querier(mint: number, maxt: number): Querier {
    return new FanoutQuerier(this, mint, maxt);
  }

  /** Runs a request on every live member; returns answers by member and the coverage warning. */
  async ask<T>(
    localRun: (q: Querier) => Promise<T>,
    req: SelectRequest,
    remoteDecode: (final: unknown, parts: unknown[]) => T,
  ): Promise<{ answers: T[]; warnings: string[] }> {
    const start = performance.now();
    const selfId = this.membership.selfId;
    const targets = this.membership.all().filter((m) => m.self || m.health === "alive");
    const answered = new Set<string>();
    const answers: T[] = [];
    await Promise.all(
      targets.map(async (m) => {
        try {
          if (m.id === selfId) {
            const q = this.local.querier(req.mint, req.maxt);
            try {
              answers.push(await localRun(q));
            } finally {
              q.close();
            }
          } else {
            const parts: unknown[] = [];
            const final = await this.rpc.call(m.id, SELECT_PROTOCOL, req, this.timeoutMs, (p) => parts.push(p));
            answers.push(remoteDecode(final, parts));
          }
          answered.add(m.id);
        } catch (err) {
          if (m.id === selfId) throw err;
          this.metrics.memberErrors.inc([m.name]);
          this.logger.warn("member did not answer a query", { member: m.name, err });
        }
      }),
    );
    const warnings: string[] = [];
    const coverage = this.membership.coverageRing();
    const gap = coverage.uncovered(answered);
    let unheard: string[] = [];
    if (coverage.size === 0) {
      // A node that is joining (just started or restarted) and has not heard from any member
      // that holds data yet: an empty ring has no uncovered range, but nothing is covered.
      this.metrics.partialResults++;
      warnings.push(
        `${PARTIAL_RESULT_WARNING_PREFIX} this node does not know yet which members hold the data ` +
          `(it is joining the cluster); series or samples may be missing`,
      );
    } else if ((unheard = this.membership.unheardMembers()).length > 0) {
      // A node that has just started knows only the members it has heard so far: the ring it
      // judges coverage by may lack the owners of some ranges.
      this.metrics.partialResults++;
      warnings.push(
        `${PARTIAL_RESULT_WARNING_PREFIX} this node has not heard from every cluster member yet ` +
          `(${unheard.length} not heard); series or samples may be missing`,
      );
    } else if (gap.fraction > 0) {
      this.metrics.partialResults++;
      const names = gap.missing.map((id) => this.membership.get(id)?.name ?? id);
      warnings.push(
        `${PARTIAL_RESULT_WARNING_PREFIX} no replica answered for ${(gap.fraction * 100).toFixed(1)}% of the ` +
          `series hash ring (unavailable members: ${names.join(", ")}); series or samples may be missing`,
      );
    } else {
      // A write is acknowledged by a quorum (⌊R/2⌋+1) of its R replicas; the others may receive
      // it later (hinted handoff). Where fewer than R − ⌊R/2⌋ replicas answered, all of them may
      // be among those that have not received an acknowledged write yet. Checked on the ring as
      // data was written and on the read ring (where writes go now): a member back from a crash
      // counts for the first while it still lacks what was written during its absence.
      const then = thinRanges(coverage, answered);
      const now = thinRanges(this.membership.readRing(), answered);
      // The larger of the two parts (they overlap, so their sum would overstate it).
      const fraction = Math.max(then.fraction, now.fraction);
      if (fraction > 0) {
        this.metrics.partialResults++;
        const names = [...new Set([...then.missing, ...now.missing])].map((id) => this.membership.get(id)?.name ?? id).sort();
        const R = coverage.replicationFactor;
        warnings.push(
          `${PARTIAL_RESULT_WARNING_PREFIX} fewer than ${R - Math.floor(R / 2)} of ${R} replicas answered for ${(fraction * 100).toFixed(1)}% ` +
            `of the series hash ring (unavailable members: ${names.join(", ")}); the newest samples may be missing`,
        );
      }
    }
    this.metrics.latency.observe((performance.now() - start) / 1000);
    return { answers, warnings };
  }
}

function decodeSeries(parts: unknown[]): Series[] {
  const out: Series[] = [];
  for (const p of parts) for (const s of decodeBatch((p as { b: WireBatch }).b)) out.push(s);
  return out;
}

function mergeSorted(lists: readonly string[][], extra: readonly string[][]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const v of l) set.add(v);
  for (const l of extra) for (const v of l) set.add(v);
  return [...set].sort();
}

class FanoutQuerier implements Querier {
  constructor(
    private readonly f: FanoutQueryable,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  async select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesSet> {
    const req: SelectRequest = { op: "select", mint: this.mint, maxt: this.maxt, m: toWire(matchers) };
    if (hints) req.h = hints;
    const { answers, warnings } = await this.f.ask(
      (q) => q.select(matchers, hints),
      req,
      (final, parts) => ({ series: decodeSeries(parts), warnings: (final as { w?: string[] }).w ?? [] }),
    );
    const byKey = new Map<string, Series[]>();
    const allWarnings = new Set<string>(warnings);
    for (const a of answers) {
      for (const w of a.warnings) allWarnings.add(w);
      for (const s of a.series) {
        const k = labelsKey(s.labels);
        const l = byKey.get(k);
        if (l) l.push(s);
        else byKey.set(k, [s]);
      }
    }
    let series: Series[] = [];
    for (const list of byKey.values()) series.push(list.length === 1 ? list[0]! : mergeReplicas(list));
    series.sort((a, b) => compareLabels(a.labels, b.labels));
    if (hints?.limit && series.length > hints.limit) series = series.slice(0, hints.limit);
    return { series, warnings: [...allWarnings] };
  }

  private async labels(op: "names" | "values", run: (q: Querier) => Promise<LabelQueryResult>, matchers?: readonly Matcher[], name?: string): Promise<LabelQueryResult> {
    const req: SelectRequest = { op, mint: this.mint, maxt: this.maxt, m: toWire(matchers) };
    if (name !== undefined) req.name = name;
    const { answers, warnings } = await this.f.ask(run, req, (final) => {
      const r = final as { vals: string[]; w?: string[] };
      return { values: r.vals, warnings: r.w ?? [] };
    });
    const ws = new Set<string>(warnings);
    for (const a of answers) for (const w of a.warnings) ws.add(w);
    return { values: mergeSorted(answers.map((a) => a.values), []), warnings: [...ws] };
  }

  labelNames(matchers?: readonly Matcher[]): Promise<LabelQueryResult> {
    return this.labels("names", (q) => q.labelNames(matchers), matchers);
  }

  labelValues(name: string, matchers?: readonly Matcher[]): Promise<LabelQueryResult> {
    return this.labels("values", (q) => q.labelValues(name, matchers), matchers, name);
  }

  close(): void {}
}

/** The part of a ring where fewer than R − ⌊R/2⌋ owners answered (empty when R < 3). */
function thinRanges(ring: Ring, answered: ReadonlySet<string>): { fraction: number; missing: string[] } {
  const R = ring.replicationFactor;
  const readQuorum = R - Math.floor(R / 2);
  return readQuorum > 1 ? ring.uncovered(answered, readQuorum) : { fraction: 0, missing: [] };
}
