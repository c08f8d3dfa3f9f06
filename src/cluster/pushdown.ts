/**
 * Aggregation pushdown: the cluster side of `Queryable.evalSharded`. The coordinator splits the
 * hash ring into shards, one chosen member per range, and asks each member to evaluate the
 * engine's expressions over its own storage restricted to its shard (this node's share in
 * process, the others over the pushdown protocol); the engine merges the per-shard results.
 * Each series is in exactly one shard, so replicas never count twice.
 *
 * The ranges each member serves come from the read plan (read_plan.ts: one live replica known
 * complete per range). It declines (the engine then reads raw series) when a hand-off is under
 * way, the membership is not fully known yet, some range has no replica known complete (its
 * holders are down, suspect, catching up on hinted writes), or a chosen member fails. Steps that read samples newer
 * than an acknowledged write may take to reach every replica are left to the raw path, which
 * reads every replica.
 */
import {
  labelsHash32,
  type Labels,
  type LabelQueryResult,
  type Logger,
  type Matcher,
  type Querier,
  type Queryable,
  type SelectHints,
  type SeriesSet,
  type ShardedEvalAnswer,
  type ShardedEvalRequest,
  type ShardEvaluator,
  type ShardMemberStats,
  type ShardVectors,
  type StepVectorSeries,
} from "../model/index.ts";
import { bytesF64, f64Bytes, flattenLabels, unflattenLabels } from "./codec.ts";
import type { Membership } from "./membership.ts";
import { HashRanges } from "./ring.ts";
import type { Rpc } from "./rpc.ts";

export const PUSHDOWN_PROTOCOL = "/shoal/pushdown/1";

/**
 * Below this many series × steps, a node that holds every range reads them alone: the members'
 * RPCs, parses and selects cost more than two thirds of the work save (a Grafana panel of a few
 * hundred series). Measured with bench/cluster-reads (run.ts and dashboard.ts).
 */
const MIN_SHARDED_WORK = 500_000;

interface WireRequest {
  x: string[];
  s: number;
  e: number;
  st: number;
  lb: number;
  /** The shard: flat [lo, hi, …] hash intervals (HashRanges.toWire). */
  r: number[];
}

/** One expression's series: labels, dropName flags, then values and presence, series × steps. */
interface WireVector {
  l: string[][];
  d: Uint8Array;
  v: Uint8Array;
  p: Uint8Array;
}

interface WireAnswer {
  vs: WireVector[];
  w: string[];
  n: number;
}

function encodeVectors(vectors: readonly (readonly StepVectorSeries[])[], steps: number): WireVector[] {
  return vectors.map((series) => {
    const v = new Float64Array(series.length * steps);
    const p = new Uint8Array(series.length * steps);
    const d = new Uint8Array(series.length);
    series.forEach((s, i) => {
      v.set(s.values.subarray(0, steps), i * steps);
      p.set(s.present.subarray(0, steps), i * steps);
      d[i] = s.dropName ? 1 : 0;
    });
    return { l: series.map((s) => flattenLabels(s.labels)), d, v: f64Bytes(v), p };
  });
}

function decodeVectors(wire: unknown, steps: number): StepVectorSeries[][] {
  if (!Array.isArray(wire)) throw new Error("malformed pushdown answer");
  return (wire as WireVector[]).map((w) => {
    const values = bytesF64(w.v);
    const present = w.p;
    if (!Array.isArray(w.l) || values.length !== w.l.length * steps || present.length !== w.l.length * steps) {
      throw new Error("malformed pushdown answer: sizes do not match");
    }
    return w.l.map((flat, i) => ({
      labels: unflattenLabels(flat) as Labels,
      dropName: w.d[i] === 1,
      values: values.subarray(i * steps, (i + 1) * steps),
      present: present.subarray(i * steps, (i + 1) * steps),
    }));
  });
}

/** Roughly the bytes an answer took on the wire (its arrays and label strings). */
function wireBytes(vs: readonly WireVector[]): number {
  let n = 0;
  for (const w of vs) {
    n += w.v.byteLength + w.p.byteLength + w.d.byteLength;
    for (const flat of w.l) for (const str of flat) n += str.length + 1;
  }
  return n;
}

function stepCount(req: { s: number; e: number; st: number }): number {
  return req.st > 0 ? Math.floor((req.e - req.s) / req.st) + 1 : 1;
}

/** A member's storage seen through its shard: only series whose hash lies in `ranges`. */
export class ShardQueryable implements Queryable {
  constructor(
    private readonly local: Queryable,
    private readonly ranges: HashRanges,
  ) {}

  querier(mint: number, maxt: number): Querier {
    const q = this.local.querier(mint, maxt);
    const ranges = this.ranges;
    return {
      async select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesSet> {
        // The storage skips series outside the shard before reading their samples; the check
        // below keeps the shard exact over a storage that ignores the hint.
        const narrowed: SelectHints = { ...(hints ?? { start: mint, end: maxt }), hashRanges: ranges };
        if (hints?.signal) Object.defineProperty(narrowed, "signal", { value: hints.signal, enumerable: false });
        const set = await q.select(matchers, narrowed);
        return { series: set.series.filter((s) => ranges.has(labelsHash32(s.labels))), warnings: set.warnings };
      },
      labelNames: (matchers?: readonly Matcher[]): Promise<LabelQueryResult> => q.labelNames(matchers),
      labelValues: (name: string, matchers?: readonly Matcher[]): Promise<LabelQueryResult> => q.labelValues(name, matchers),
      close: () => q.close(),
    };
  }
}

/** Server side of the pushdown protocol: evaluates over this node's own data in the given shard. */
export function pushdownHandler(local: Queryable, evaluate: ShardEvaluator | null): (req: unknown) => Promise<unknown> {
  return async (raw) => {
    if (!evaluate) throw new Error("this member does not evaluate pushed-down aggregations");
    const req = raw as WireRequest;
    if (!Array.isArray(req.x) || !req.x.every((x) => typeof x === "string")) throw new Error("malformed pushdown request");
    const ranges = HashRanges.fromWire(req.r);
    const r = await evaluate(new ShardQueryable(local, ranges), {
      exprs: req.x,
      start: Number(req.s),
      end: Number(req.e),
      step: Number(req.st),
      lookbackDelta: Number(req.lb),
      readLag: 0,
      readsFrom: -Infinity,
      selectors: [],
    });
    const answer: WireAnswer = { vs: encodeVectors(r.vectors, stepCount(req)), w: [...r.warnings], n: r.samples };
    return answer;
  };
}

export interface PushdownOptions {
  membership: Membership;
  rpc: Rpc;
  local: Queryable;
  evaluate: ShardEvaluator | null;
  timeoutMs: number;
  /** How long an acknowledged write may take to reach every replica (write timeout + two heartbeats). */
  settleMs: () => number;
  /** How long the cluster must have been quiet (Membership.quietFor) before shards are read from one replica. */
  quietMs: number;
  /**
   * The span of sample timestamps the members stored while writes may not have settled on every
   * replica (FanoutQueryable.unsettledSpan): a late write of old samples may be missing from the
   * one replica a shard is read from, so steps reading them are left to the raw path.
   */
  unsettledSpan: () => Promise<{ oldest: number; newest: number }>;
  wallNow: () => number;
  logger: Logger;
}

/** The coordinator: plans the shards, asks the members, hands the engine their partial results. */
export class Pushdown {
  constructor(private readonly o: PushdownOptions) {}

  /**
   * Which member serves which hash ranges: the read plan's one replica known complete per range
   * (read_plan.ts). Declined while ranges move in a hand-off, while not every member has been
   * heard from, or where some range has no replica known complete.
   */
  plan(): { shards: ReadonlyMap<string, HashRanges> } | { declined: string } {
    const m = this.o.membership;
    if (m.pendingChange()) return { declined: "hand-off under way" };
    if (!m.quietFor(this.o.quietMs)) return { declined: "the membership changed lately" };
    if (m.unheardMembers().length > 0) return { declined: "membership not fully known" };
    if (m.coverageRing().size === 0) return { declined: "no ring" };
    // Shares spread evenly over the members known complete: they evaluate in parallel.
    const plan = m.readPlan(true);
    if (plan.fallback.count > 0) return { declined: "a range has no replica known complete" };
    // Only this node can serve (a single node): the engine reads its series directly.
    if (plan.chosen.size === 1 && plan.chosen.has(m.selfId)) return { declined: "only this node holds the ranges complete" };
    return { shards: plan.chosen };
  }

  /** Whether this node holds every range complete (it can answer without any member's samples but the newest). */
  private servesAllAlone(): boolean {
    return (this.o.membership.readPlan().chosen.get(this.o.membership.selfId)?.fraction() ?? 0) >= 1;
  }

  /** Series this node holds for the request's selectors, times the steps: what evaluating it here alone costs. */
  private async work(req: ShardedEvalRequest): Promise<number> {
    const steps = req.step > 0 ? Math.floor((req.end - req.start) / req.step) + 1 : 1;
    const q = this.o.local.querier(req.readsFrom, req.end);
    try {
      let series = 0;
      for (const matchers of req.selectors) series += (await q.select(matchers, { start: req.readsFrom, end: req.end, func: "series" })).series.length;
      return series * steps;
    } finally {
      q.close();
    }
  }

  private decline(reason: string): null {
    this.o.logger.debug("aggregation not pushed down; reading raw series", { reason });
    return null;
  }

  async evalSharded(req: ShardedEvalRequest, signal?: AbortSignal): Promise<ShardedEvalAnswer | null> {
    const evaluate = this.o.evaluate;
    if (!evaluate) return this.decline("no evaluator");
    const plan = this.plan();
    if ("declined" in plan) return this.decline(plan.declined);
    if (this.servesAllAlone() && (await this.work(req)) < MIN_SHARDED_WORK) return this.decline("small enough for this node alone");
    // Steps reading samples an acknowledged write may not have brought to this shard's one
    // replica yet are left to the raw path (every replica). One replica per range needs none.
    const replicated = this.o.membership.readRing().replicationFactor > 1 && plan.shards.size > 1;
    let fresh = replicated ? this.o.wallNow() - this.o.settleMs() : Infinity;
    if (replicated) {
      const late = await this.o.unsettledSpan();
      if (late.newest >= req.readsFrom) fresh = Math.min(fresh, late.oldest);
    }
    const n = req.step > 0 ? Math.floor((req.end - req.start) / req.step) + 1 : 1;
    let k = n;
    if (fresh !== Infinity) {
      const step = req.step > 0 ? req.step : 1;
      k = Math.max(0, Math.min(n, Math.ceil((fresh + req.readLag - req.start) / step)));
    }
    if (k === 0) return this.decline("every step reads samples too new");
    const end = req.step > 0 ? req.start + (k - 1) * req.step : req.start;
    const shardReq: ShardedEvalRequest = { ...req, end };
    const selfId = this.o.membership.selfId;
    const shards: ShardVectors[] = [];
    const members: ShardMemberStats[] = [];
    try {
      // The members' requests go out first: they evaluate while this node does its share.
      const order = [...plan.shards].sort(([a], [b]) => Number(a === selfId) - Number(b === selfId));
      await Promise.all(
        order.map(async ([id, ranges]) => {
          const started = performance.now();
          const name = this.o.membership.get(id)?.name ?? id;
          let result: ShardVectors;
          let bytes = 0;
          if (id === selfId) {
            result = await evaluate(new ShardQueryable(this.o.local, ranges), shardReq, signal);
          } else {
            const wire: WireRequest = { x: [...req.exprs], s: req.start, e: end, st: req.step, lb: req.lookbackDelta, r: ranges.toWire() };
            const final = (await this.o.rpc.call(id, PUSHDOWN_PROTOCOL, wire, this.o.timeoutMs)) as WireAnswer;
            bytes = wireBytes(final.vs);
            result = { vectors: decodeVectors(final.vs, k), warnings: final.w ?? [], samples: Number(final.n) || 0 };
          }
          shards.push(result);
          members.push({
            member: name,
            series: result.vectors.reduce((a, v) => a + v.length, 0),
            samples: result.samples,
            bytes,
            seconds: (performance.now() - started) / 1000,
          });
        }),
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      this.o.logger.warn("pushed-down aggregation failed on a member; reading raw series", { err: String(err) });
      return this.decline("a member failed");
    }
    const warnings = [...new Set(shards.flatMap((s) => s.warnings))];
    members.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    return { steps: k, shards, warnings, members };
  }
}
