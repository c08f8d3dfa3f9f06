/**
 * The fan-out `Queryable`: asks every live member (this node directly, the others over the select
 * protocol) and merges what they hold. Replicas of a series are merged sample by sample, equal
 * timestamps kept once. When some range of the ring had no member that answered, the result
 * carries a partial-result warning saying which members were missing, never a silent hole.
 */
import {
  compareLabels,
  Matcher,
  type LabelQueryResult,
  type Clock,
  type Logger,
  type MatchType,
  type MemberReadStats,
  type Querier,
  type Queryable,
  type SelectHints,
  type Series,
  type SeriesSet,
  type ShardedEvalAnswer,
  type ShardedEvalRequest,
} from "../model/index.ts";
import type { Pushdown } from "./pushdown.ts";
import { encodeBatch } from "./batch.ts";
import type { Membership } from "./membership.ts";
import type { AppliedLog } from "./applied_log.ts";
import { plannedSelect, withHashRanges } from "./planned_select.ts";
import { coverageGaps, liveOwnersOf, type CoverageGaps } from "./read_plan.ts";
import { HashRanges } from "./ring.ts";
import { Histogram, LabelledCounter } from "./metrics.ts";
import type { Rpc } from "./rpc.ts";
import { selectFrames } from "./select_frame.ts";
import { SelectWire, type MemberAnswer } from "./select_wire.ts";

/** Every partial-result warning starts with this, so a reader can tell an incomplete answer from PromQL's own warnings. */
export const PARTIAL_RESULT_WARNING_PREFIX = "cluster: partial result:";

type WireMatcher = [MatchType, string, string];

interface SelectRequest {
  /** `late`: the oldest and newest sample timestamps this member stored during the intervals `ls`, as `{ o, n }`. */
  op: "select" | "names" | "values" | "late";
  mint: number;
  maxt: number;
  m: WireMatcher[];
  h?: SelectHints;
  name?: string;
  /** Only series in these ranges of the hash ring (HashRanges.toWire); absent: every series. */
  r?: number[];
  /**
   * Widen `mint` down to the oldest sample this member stored during these wall-time intervals
   * ([from, to, …], see AppliedLog), but not below `lm`: those writes may not have reached every
   * replica.
   */
  ls?: number[];
  lm?: number;
}

/**
 * The windows a member reads for a request: [mint, maxt], and for a widened request also the
 * span of sample timestamps it stored during the intervals `ls` (not below `lm`, not above
 * maxt). One window when they touch, two when the stored span lies before [mint, maxt].
 */
function requestWindows(req: SelectRequest, applied: AppliedLog | null): [number, number][] {
  const mint = Number(req.mint);
  const maxt = Number(req.maxt);
  if (!Array.isArray(req.ls) || applied === null) return [[mint, maxt]];
  if (!req.ls.every((x) => typeof x === "number")) throw new Error("malformed select request: ls must be numbers");
  const { oldest, newest } = applied.storedIn(req.ls);
  const lo = Math.max(Number(req.lm ?? mint), oldest);
  const hi = Math.min(maxt, newest);
  if (lo > hi || lo >= mint) return [[mint, maxt]];
  return hi >= mint - 1 ? [[lo, maxt]] : [[lo, hi], [mint, maxt]];
}

/** The select hints of one window of a request: its time bounds, and the hash ranges asked for. */
function windowHints(h: SelectHints | undefined, mint: number, maxt: number, ranges: HashRanges | null): SelectHints | undefined {
  if (h === undefined && ranges === null) return undefined;
  const out: SelectHints = { ...h, start: mint, end: maxt };
  if (h?.signal) Object.defineProperty(out, "signal", { value: h.signal, enumerable: false });
  return ranges === null ? out : withHashRanges(out, ranges);
}

/** One select per window, merged (a series in two windows has disjoint samples in each). */
async function selectWindows(windows: readonly [number, number][], run: (mint: number, maxt: number) => Promise<SeriesSet>): Promise<SeriesSet> {
  if (windows.length === 1) return run(windows[0]![0], windows[0]![1]);
  return mergeSets(await Promise.all(windows.map(([lo, hi]) => run(lo, hi))));
}

function mergeSets(sets: readonly SeriesSet[]): SeriesSet {
  return { series: mergeAnswers(sets.map((s) => s.series)), warnings: [...new Set(sets.flatMap((s) => s.warnings))] };
}

/** Series per streamed part of /1: keeps frames around a few MB. */
const SERIES_PER_PART = 2000;

function toWire(ms: readonly Matcher[] | undefined): WireMatcher[] {
  return (ms ?? []).map((m) => [m.type, m.name, m.value]);
}

function fromWire(ms: unknown): Matcher[] {
  if (!Array.isArray(ms)) throw new Error("malformed matchers");
  return ms.map((m: WireMatcher) => new Matcher(m[0], m[1], m[2]));
}

/**
 * Server side of the select protocol: answers from this node's own storage only. Version 2
 * streams binary select frames, version 1 CBOR batches (for members not upgraded yet); version 3
 * is version 2 plus `batch`: several requests in one exchange, each one's frames after a
 * `{ i }` part naming it, the final answer listing each one's (an error as `{ e }`).
 */
export function selectHandler(
  local: Queryable,
  version: 1 | 2 | 3,
  applied: AppliedLog | null = null,
): (req: unknown, ctx: { send(part: unknown): Promise<void>; sendBytes(part: Uint8Array): Promise<void> }) => Promise<unknown> {
  const one = async (raw: unknown, ctx: { send(part: unknown): Promise<void>; sendBytes(part: Uint8Array): Promise<void> }): Promise<unknown> => {
    const req = raw as SelectRequest;
    if (req.op === "late") {
      if (!Array.isArray(req.ls) || !req.ls.every((x) => typeof x === "number")) throw new Error("malformed late request: ls must be numbers");
      const { oldest, newest } = applied === null ? { oldest: Infinity, newest: -Infinity } : applied.storedIn(req.ls);
      return { o: oldest, n: newest };
    }
    const matchers = fromWire(req.m);
    if (req.op === "select") {
      const ranges = req.r === undefined ? null : HashRanges.fromWire(req.r);
      const set = await selectWindows(requestWindows(req, applied), async (mint, maxt) => {
        const q = local.querier(mint, maxt);
        try {
          return await q.select(matchers, windowHints(req.h, mint, maxt, ranges));
        } finally {
          q.close();
        }
      });
      if (version === 1) {
        for (let i = 0; i < set.series.length; i += SERIES_PER_PART) {
          await ctx.send({ b: encodeBatch(set.series.slice(i, i + SERIES_PER_PART), { xor: true }) });
        }
      } else {
        for (const frame of selectFrames(set.series)) await ctx.sendBytes(frame);
      }
      return { w: set.warnings };
    }
    const q = local.querier(Number(req.mint), Number(req.maxt));
    try {
      if (req.op === "names") {
        const r = await q.labelNames(matchers.length ? matchers : undefined);
        return { vals: r.values, w: r.warnings };
      }
      const r = await q.labelValues(String(req.name), matchers.length ? matchers : undefined);
      return { vals: r.values, w: r.warnings };
    } finally {
      q.close();
    }
  };
  return async (raw, ctx) => {
    const batch = (raw as { op?: unknown; reqs?: unknown }).op === "batch" ? (raw as { reqs?: unknown }).reqs : null;
    if (version < 3 || batch === null) return one(raw, ctx);
    if (!Array.isArray(batch)) throw new Error("malformed batch request: reqs must be a list");
    const finals: unknown[] = [];
    for (let i = 0; i < batch.length; i++) {
      await ctx.send({ i });
      try {
        finals.push(await one(batch[i], ctx));
      } catch (err) {
        finals.push({ e: err instanceof Error ? err.message : String(err) });
      }
    }
    return { batch: finals };
  };
}

/**
 * The members' answers as one list sorted by labels, replicas of a series merged. Each member
 * answers in label order (the storage's contract), so the lists are merged in one pass each,
 * and an answer that is the only one with series (one replica read per range, this node holding
 * them all) is taken as it is.
 */
export function mergeAnswers(lists: readonly (readonly Series[])[]): Series[] {
  let acc: Series[] | null = null;
  for (const list of lists) {
    if (list.length === 0) continue;
    const sorted = inLabelOrder(list);
    acc = acc === null ? sorted : mergeTwo(acc, sorted);
  }
  return acc ?? [];
}

function inLabelOrder(list: readonly Series[]): Series[] {
  for (let i = 1; i < list.length; i++) {
    if (compareLabels(list[i - 1]!.labels, list[i]!.labels) > 0) return [...list].sort((a, b) => compareLabels(a.labels, b.labels));
  }
  return list as Series[];
}

function mergeTwo(a: readonly Series[], b: readonly Series[]): Series[] {
  const out: Series[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c = compareLabels(a[i]!.labels, b[j]!.labels);
    if (c < 0) out.push(a[i++]!);
    else if (c > 0) out.push(b[j++]!);
    else out.push(mergeReplicas([a[i++]!, b[j++]!]));
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
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
    // Values are copied as their two 32-bit words, so stale markers keep their bits (a NaN read
    // as a number may not), without an object per sample.
    const aw = new Uint32Array(av.buffer, av.byteOffset, 2 * av.length);
    const bw = new Uint32Array(bv.buffer, bv.byteOffset, 2 * bv.length);
    const vw = new Uint32Array(v.buffer);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < at.length || j < bt.length) {
      if (j >= bt.length || (i < at.length && at[i]! <= bt[j]!)) {
        if (j < bt.length && at[i] === bt[j]) j++;
        t[n] = at[i]!;
        vw[2 * n] = aw[2 * i]!;
        vw[2 * n + 1] = aw[2 * i + 1]!;
        i++;
      } else {
        t[n] = bt[j]!;
        vw[2 * n] = bw[2 * j]!;
        vw[2 * n + 1] = bw[2 * j + 1]!;
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
  private readonly wire: SelectWire;
  /**
   * Turns which member a planned select asks first, once per turn of the event loop: the selects
   * of one query ask the same member (one batch, see SelectWire), the next query another.
   */
  private turn = 0;
  private turnTaken = false;

  private nextTurn(): number {
    if (!this.turnTaken) {
      this.turnTaken = true;
      this.turn++;
      queueMicrotask(() => (this.turnTaken = false));
    }
    return this.turn;
  }

  constructor(
    private readonly membership: Membership,
    rpc: Rpc,
    private readonly local: Queryable,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /**
     * Reads one replica known complete per range (read_plan.ts) for samples older than
     * `wallNow() − settleMs` (how long an acknowledged write may take to reach every replica
     * or be hinted); null: every select asks every member.
     */
    private readonly oneReplica: { clock: Clock; writeTimeoutMs: number; heartbeatIntervalMs: number; quietMs: number; applied: AppliedLog } | null = null,
  ) {
    this.wire = new SelectWire(rpc);
  }

  querier(mint: number, maxt: number): Querier {
    return new FanoutQuerier(this, mint, maxt);
  }

  /** Aggregation pushdown (pushdown.ts), set by the cluster; declines while unset. */
  pushdown: Pushdown | null = null;

  evalSharded(req: ShardedEvalRequest, signal?: AbortSignal): Promise<ShardedEvalAnswer | null> {
    return this.pushdown ? this.pushdown.evalSharded(req, signal) : Promise.resolve(null);
  }

  /**
   * Runs a request on every live member; returns answers by member, what each sent (`reads`,
   * in the order of `answers`; series and samples counted by `count`) and the coverage warning.
   */
  async ask<T>(
    localRun: (q: Querier) => Promise<T>,
    req: SelectRequest,
    remoteDecode: (answer: MemberAnswer) => T,
    count: (answer: T) => { series: number; samples: number } = () => ({ series: 0, samples: 0 }),
  ): Promise<{ answers: T[]; warnings: string[]; reads: MemberReadStats[] }> {
    const start = performance.now();
    const targets = this.aliveMembers();
    const answered = new Set<string>();
    const answers: T[] = [];
    const reads: MemberReadStats[] = [];
    await Promise.all(
      targets.map(async (m) => {
        if (await this.askMember(m.id, localRun, req, remoteDecode, count, answers, reads)) answered.add(m.id);
      }),
    );
    const warnings: string[] = [];
    const coverage = this.membership.coverageRing();
    const unknown = this.unknownMembersWarning();
    if (unknown !== null) warnings.push(unknown);
    else {
      const all = [...answered].map((member) => ({ member, ranges: null, complete: false }));
      warnings.push(...this.gapWarnings(coverageGaps(coverage, this.membership.readRing(), [all])));
    }
    this.metrics.latency.observe((performance.now() - start) / 1000);
    return { answers, warnings, reads };
  }

  /** This node and every alive member. */
  private aliveMembers() {
    return this.membership.all().filter((m) => m.self || m.health === "alive");
  }

  /**
   * Runs a request on one member (this node in-process), adding its answer and what it sent to
   * `answers` and `reads`; false when a member did not answer (logged). This node's own
   * failures are thrown: they are the query's (an abort, a storage error).
   */
  private async askMember<T>(
    id: string,
    localRun: (q: Querier) => Promise<T>,
    req: SelectRequest,
    remoteDecode: (answer: MemberAnswer) => T,
    count: (answer: T) => { series: number; samples: number },
    answers: T[],
    reads: MemberReadStats[],
  ): Promise<boolean> {
    const asked = performance.now();
    const name = this.membership.get(id)?.name ?? id;
    try {
      let answer: T;
      let bytes = 0;
      if (id === this.membership.selfId) {
        // The members' requests go out first (SelectWire sends those made in this turn as one
        // batch when it ends): they work while this node reads.
        await null;
        // Only selects are widened (the one request kind that has more than one window).
        const parts = await Promise.all(
          requestWindows(req, this.oneReplica?.applied ?? null).map(async ([mint, maxt]) => {
            const q = this.local.querier(mint, maxt);
            try {
              return await localRun(q);
            } finally {
              q.close();
            }
          }),
        );
        answer = parts.length === 1 ? parts[0]! : (mergeSets(parts as SeriesSet[]) as T);
      } else {
        const a = await this.wire.call(id, req, this.timeoutMs);
        bytes = a.bytes;
        answer = remoteDecode(a);
      }
      answers.push(answer);
      reads.push({ member: name, ...count(answer), bytes, seconds: (performance.now() - asked) / 1000, pushdown: false });
      return true;
    } catch (err) {
      if (id === this.membership.selfId) throw err;
      this.metrics.memberErrors.inc([name]);
      this.logger.warn("member did not answer a query", { member: name, err });
      return false;
    }
  }

  /**
   * A select read from one replica known complete per range for samples older than the writes
   * still in flight (planned_select.ts); null when this node's view of the membership cannot be
   * trusted for that (it then asks every member, as `ask` does).
   */
  async selectPlanned(
    localRun: (q: Querier, hints: SelectHints | undefined) => Promise<SeriesSet>,
    req: SelectRequest,
    remoteDecode: (answer: MemberAnswer) => SeriesSet,
  ): Promise<{ answers: SeriesSet[]; warnings: string[]; reads: MemberReadStats[] } | null> {
    if (this.oneReplica === null || !this.membership.quietFor(this.oneReplica.quietMs)) return null;
    if (this.membership.coverageRing().size === 0 || this.membership.unheardMembers().length > 0) return null;
    const start = performance.now();
    const m = this.membership;
    const answers: SeriesSet[] = [];
    const reads: MemberReadStats[] = [];
    // Hints may narrow the window further; the split is judged on what will be read.
    const mint = Math.max(req.mint, req.h?.start ?? -Infinity);
    const maxt = Math.min(req.maxt, req.h?.end ?? Infinity);
    const view = { table: m.table, views: m.views };
    const gaps = await plannedSelect({
      plan: m.readPlan(),
      selfId: m.selfId,
      alive: this.aliveMembers().map((x) => x.id),
      liveOwnersOf: (ranges) => liveOwnersOf(view, ranges),
      coverage: m.coverageRing(),
      read: m.readRing(),
      mint,
      maxt,
      cut: this.oneReplica.clock.wallNow() - this.settleMs(),
      turn: this.nextTurn(),
      call: (id, lo, hi, ranges, widen) => {
        const part: SelectRequest = { ...req, mint: lo, maxt: hi };
        if (ranges !== null) part.r = ranges.toWire();
        if (widen) {
          part.ls = this.unsettledWindows();
          part.lm = mint;
        }
        const local = (q: Querier) => localRun(q, ranges === null ? req.h : withHashRanges(req.h ?? { start: lo, end: hi }, ranges));
        return this.askMember(id, local, part, remoteDecode, countSamples, answers, reads);
      },
    });
    const warnings = this.gapWarnings(gaps);
    this.metrics.latency.observe((performance.now() - start) / 1000);
    return { answers, warnings, reads };
  }

  /**
   * The span of sample timestamps the live members stored while writes may not have settled on
   * every replica (see unsettledWindows): work that reads one replica per range, as a
   * pushed-down aggregation does, is exact only for samples outside it. Unbounded when a member
   * did not say (nothing can be read from one replica then); empty (oldest Infinity) when
   * nothing was stored then.
   */
  async unsettledSpan(): Promise<{ oldest: number; newest: number }> {
    const unknown = { oldest: -Infinity, newest: Infinity };
    const o = this.oneReplica;
    if (o === null) return unknown;
    const ls = this.unsettledWindows();
    const alive = this.aliveMembers();
    const spans = await Promise.all(
      alive.map(async (m) => {
        if (m.self) return o.applied.storedIn(ls);
        try {
          const a = await this.wire.call(m.id, { op: "late", mint: 0, maxt: 0, m: [], ls }, this.timeoutMs);
          const { o: oldest, n: newest } = a.final as { o?: unknown; n?: unknown };
          return typeof oldest === "number" && typeof newest === "number" ? { oldest, newest } : unknown;
        } catch {
          return unknown;
        }
      }),
    );
    return { oldest: Math.min(...spans.map((x) => x.oldest)), newest: Math.max(...spans.map((x) => x.newest)) };
  }

  /** How long an acknowledged write may take to reach every replica or be named in published hints. */
  private settleMs(): number {
    const o = this.oneReplica!;
    return o.writeTimeoutMs + 2 * o.heartbeatIntervalMs;
  }

  /**
   * The wall-time interval during which a write may not have settled on every replica ([from,
   * to]); each member is asked for the samples it stored then. A write is on every replica, or
   * named in the hints of the heartbeats that follow, a write timeout after it was sent: so
   * whatever was stored since a write timeout before the oldest heartbeat this node holds (and
   * the settle window before now) may still be missing on a replica nobody has named yet. Older
   * changes in the membership are covered by the quiet period (Membership.quietFor).
   */
  private unsettledWindows(): number[] {
    const o = this.oneReplica!;
    const wallNow = o.clock.wallNow();
    let horizon = wallNow;
    for (const m of this.membership.all()) {
      // A dead member whose ranges are on the others again changed the membership: what it may
      // have left unsent was repaired within the quiet period the read waited for.
      if (m.self || m.state === "left" || (m.health === "dead" && m.replaced)) continue;
      const published = m.lastPublishedWall ?? wallNow - (o.clock.now() - m.lastHeartbeat);
      if (published < horizon) horizon = published;
    }
    const before = 2 * o.writeTimeoutMs + o.heartbeatIntervalMs;
    return [Math.min(wallNow - this.settleMs() - o.writeTimeoutMs, horizon - before), Infinity];
  }

  /** The warning for a view of the membership too partial to judge coverage by, or null. */
  private unknownMembersWarning(): string | null {
    if (this.membership.coverageRing().size === 0) {
      // A node that is joining (just started or restarted) and has not heard from any member
      // that holds data yet: an empty ring has no uncovered range, but nothing is covered.
      this.metrics.partialResults++;
      return (
        `${PARTIAL_RESULT_WARNING_PREFIX} this node does not know yet which members hold the data ` +
        `(it is joining the cluster); series or samples may be missing`
      );
    }
    const unheard = this.membership.unheardMembers();
    if (unheard.length > 0) {
      // A node that has just started knows only the members it has heard so far: the ring it
      // judges coverage by may lack the owners of some ranges.
      this.metrics.partialResults++;
      return (
        `${PARTIAL_RESULT_WARNING_PREFIX} this node has not heard from every cluster member yet ` +
        `(${unheard.length} not heard); series or samples may be missing`
      );
    }
    return null;
  }

  private gapWarnings(gaps: CoverageGaps): string[] {
    const names = (ids: readonly string[]) => ids.map((id) => this.membership.get(id)?.name ?? id).sort();
    if (gaps.none.fraction > 0) {
      this.metrics.partialResults++;
      return [
        `${PARTIAL_RESULT_WARNING_PREFIX} no replica answered for ${(gaps.none.fraction * 100).toFixed(1)}% of the ` +
          `series hash ring (unavailable members: ${names(gaps.none.missing).join(", ")}); series or samples may be missing`,
      ];
    }
    // A write is acknowledged by a quorum (⌊R/2⌋+1) of its R replicas; the others may receive
    // it later (hinted handoff). Where fewer than R − ⌊R/2⌋ replicas answered and none of them
    // was known complete, all of them may be among those that have not received an acknowledged
    // write yet. Judged on the ring as data was written and on the read ring (where writes go
    // now): a member back from a crash counts for the first while it still lacks what was
    // written during its absence.
    if (gaps.thin.fraction > 0) {
      this.metrics.partialResults++;
      const R = this.membership.coverageRing().replicationFactor;
      return [
        `${PARTIAL_RESULT_WARNING_PREFIX} fewer than ${R - Math.floor(R / 2)} of ${R} replicas answered for ${(gaps.thin.fraction * 100).toFixed(1)}% ` +
          `of the series hash ring (unavailable members: ${names(gaps.thin.missing).join(", ")}); the newest samples may be missing`,
      ];
    }
    return [];
  }
}

function countSamples(set: SeriesSet): { series: number; samples: number } {
  let samples = 0;
  for (const s of set.series) samples += s.timestamps.length;
  return { series: set.series.length, samples };
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
    const decode = (a: MemberAnswer): SeriesSet => ({ series: a.series, warnings: (a.final as { w?: string[] }).w ?? [] });
    const { answers, warnings, reads } =
      (await this.f.selectPlanned((q, h) => q.select(matchers, h), req, decode)) ?? (await this.f.ask((q) => q.select(matchers, hints), req, decode, countSamples));
    const allWarnings = new Set<string>(warnings);
    for (const a of answers) for (const w of a.warnings) allWarnings.add(w);
    let series = mergeAnswers(answers.map((a) => a.series));
    if (hints?.limit && series.length > hints.limit) series = series.slice(0, hints.limit);
    return { series, warnings: [...allWarnings], members: reads };
  }

  private async labels(op: "names" | "values", run: (q: Querier) => Promise<LabelQueryResult>, matchers?: readonly Matcher[], name?: string): Promise<LabelQueryResult> {
    const req: SelectRequest = { op, mint: this.mint, maxt: this.maxt, m: toWire(matchers) };
    if (name !== undefined) req.name = name;
    const { answers, warnings } = await this.f.ask(run, req, (a) => {
      const r = a.final as { vals: string[]; w?: string[] };
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
