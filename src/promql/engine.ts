/**
 * The PromQL engine: parse, prepare (step invariance, `@ start()/end()`), fetch every selector's
 * data once from the Queryable (async), then evaluate synchronously over all steps at once.
 * Limits: a timeout, a cap on samples, and a concurrency queue (queries wait, they do not fail).
 */
import {
  compareLabels,
  labelsKey,
  nopLogger,
  sumMemberReads,
  type Logger,
  type MemberReadStats,
  type Queryable,
  type SelectHints,
  type ShardedEvalAnswer,
  type ShardedEvalRequest,
  type ShardVectors,
} from "../model/index.ts";
import type { AggregateExpr, Expr, VectorSelector } from "./ast.ts";
import { resolveDurationExprs } from "./duration_expr.ts";
import { dropMetricName, Evaluator, makeSteps, mergeSameLabels, prepareSeries, type SelectedSeries } from "./eval/evaluator.ts";
import { preprocess, selectorRanges } from "./eval/preprocess.ts";
import { shardCandidates } from "./eval/sharding.ts";
import { EvalAbort, EvalError, TooManySamples, type StepSeries, type Value } from "./eval/types.ts";
import { positionString } from "./parse_error.ts";
import { parseExpr, ParseError, typeOf, type ParseOptions } from "./parser.ts";
import { documentedType } from "./signatures.ts";
import { QueryError, type MatrixSeries, type PushdownStats, type QueryResult, type QueryStats, type QueryValue, type VectorSample } from "./result.ts";

export interface EngineOptions {
  /** ms, default 5m. */
  lookbackDelta?: number;
  /** ms, default 2m. */
  timeout?: number;
  maxSamples?: number;
  maxConcurrency?: number;
  /** Step of subqueries written without one (`[1h:]`), ms; Prometheus uses the global evaluation interval (1m). */
  defaultSubqueryStep?: number;
  logger?: Logger;
  /** Experimental PromQL syntax, off unless enabled (as Prometheus's `--enable-feature`). */
  features?: PromqlFeatures;
}

/**
 * Prometheus's experimental PromQL features that change what a query may say. Each is off by
 * default, as in Prometheus, so a query written for a stock Prometheus means the same here.
 */
export interface PromqlFeatures {
  /** `anchored` / `smoothed` range selectors (`promql-extended-range-selectors`). */
  extendedRangeSelectors?: boolean;
  /** `fill()`, `fill_left()`, `fill_right()` on binary operators (`promql-binop-fill-modifiers`). */
  binopFillModifiers?: boolean;
}

export interface QueryOptions {
  /** ms; 0 or absent: the engine's timeout. */
  timeout?: number;
  /** ms; 0 or absent: the engine's lookback delta. */
  lookbackDelta?: number;
  signal?: AbortSignal;
}

/** A FIFO semaphore: at most `max` holders, the rest wait their turn. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  /** Waits for a slot; the wait counts towards the query's timeout, as in Prometheus. */
  async acquire(deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const leave = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const go = () => {
        leave();
        resolve();
      };
      const onAbort = () => {
        leave();
        reject(new QueryError("canceled", "query was canceled in query queue"));
      };
      timer = setTimeout(() => {
        leave();
        reject(new QueryError("timeout", "query timed out in query queue"));
      }, Math.max(0, deadline - Date.now()));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(go);
    });
    // The releasing query handed its slot over: `active` is unchanged.
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

export class Engine {
  private readonly lookbackDelta: number;
  private readonly timeout: number;
  private readonly maxSamples: number;
  private subqueryStep: number;
  private readonly logger: Logger;
  private readonly gate: Gate;
  private readonly parseOptions: ParseOptions;

  constructor(opts: EngineOptions = {}) {
    this.lookbackDelta = opts.lookbackDelta ?? 5 * 60_000;
    this.timeout = opts.timeout ?? 2 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.subqueryStep = opts.defaultSubqueryStep ?? 60_000;
    this.logger = opts.logger ?? nopLogger;
    this.gate = new Gate(Math.max(1, opts.maxConcurrency ?? 20));
    this.parseOptions = {
      extendedRangeSelectors: opts.features?.extendedRangeSelectors ?? false,
      binopFillModifiers: opts.features?.binopFillModifiers ?? false,
    };
  }

  /** Parses a query as this engine would run it (with its experimental features); throws ParseError. */
  parse(query: string): Expr {
    return parseExpr(query, this.parseOptions);
  }

  /**
   * The step of subqueries written without one: Prometheus takes the global
   * `evaluation_interval`, and follows it across configuration reloads. Queries started later
   * use the new value.
   */
  setDefaultSubqueryStep(ms: number): void {
    if (!(ms > 0)) throw new RangeError(`default subquery step must be positive, got ${ms}`);
    this.subqueryStep = ms;
  }

  instantQuery(q: Queryable, query: string, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return this.run(q, query, timeMs, timeMs, 0, false, opts);
  }

  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    if (!(stepMs > 0)) return Promise.reject(new QueryError("bad_data", "zero or negative query resolution step widths are not accepted. Try a positive integer"));
    if (endMs < startMs) return Promise.reject(new QueryError("bad_data", "end timestamp must not be before start time"));
    return this.run(q, query, startMs, endMs, stepMs, true, opts);
  }

  /**
   * One shard's part of a sharded evaluation (Queryable.evalSharded): each expression evaluated
   * over `q` at the request's steps, returned before delayed name removal so that the caller
   * merges the shards as one evaluation would. Not queued behind --query.max-concurrency: the
   * query it serves already holds a slot on its own node, and members waiting on each other's
   * slots could deadlock.
   */
  async evalShard(q: Queryable, req: ShardedEvalRequest, signal?: AbortSignal): Promise<ShardVectors> {
    const lookback = req.lookbackDelta > 0 ? req.lookbackDelta : this.lookbackDelta;
    const exprs = req.exprs.map((text) => {
      let parsed: Expr;
      try {
        parsed = this.parse(text);
      } catch (e) {
        throw new QueryError("bad_data", (e as Error).message);
      }
      if (typeOf(parsed) !== "vector") throw new QueryError("bad_data", `sharded evaluation needs instant vector expressions, got ${typeOf(parsed)}: ${text}`);
      return preprocess(parsed, req.start, req.end);
    });
    const deadline = Date.now() + this.timeout;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new QueryError("timeout", "query timed out in expression evaluation")), this.timeout);
    const onCancel = () => stop.abort(new QueryError("canceled", "query was canceled in expression evaluation"));
    if (signal?.aborted) onCancel();
    else signal?.addEventListener("abort", onCancel, { once: true });
    const data = new Map<VectorSelector, SelectedSeries[]>();
    const warnings: string[] = [];
    try {
      const want = new Map<VectorSelector, { mint: number; maxt: number }>();
      for (const e of exprs) for (const [vs, r] of selectorRanges(e, req.start, req.end, lookback, this.subqueryStep)) want.set(vs, r);
      await untilAborted(fetchSelectors(q, want, req.step > 0 ? req.step : undefined, stop.signal, data, warnings), stop.signal);
      const ev = new Evaluator(data, {
        lookbackDelta: lookback,
        subqueryStep: this.subqueryStep,
        maxSamples: this.maxSamples,
        deadline,
        signal: stop.signal,
        queryStart: req.start,
        queryEnd: req.end,
        queryStep: req.step,
        isRangeQuery: req.step > 0,
      });
      const steps = makeSteps(req.start, req.end, req.step);
      const vectors = [];
      for (const e of exprs) {
        try {
          vectors.push((await ev.evalVector(e, steps)).series);
        } catch (err) {
          throw toQueryError(err, this.logger, req.exprs.join("; "));
        }
      }
      for (const a of ev.annotations.all()) warnings.push(`${a.level === "warning" ? "PromQL warning" : "PromQL info"}: ${a.message}`);
      return { vectors, warnings: [...new Set(warnings)], samples: ev.totalSamples };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onCancel);
    }
  }

  private async run(
    q: Queryable,
    query: string,
    start: number,
    end: number,
    step: number,
    isRange: boolean,
    opts: QueryOptions,
  ): Promise<QueryResult> {
    const t0 = performance.now();
    let expr: Expr;
    try {
      expr = this.parse(query);
      resolveDurationExprs(expr, step, end - start);
    } catch (e) {
      if (e instanceof ParseError) throw new QueryError("bad_data", e.message);
      throw new QueryError("bad_data", (e as Error).message);
    }
    const type = typeOf(expr);
    if (isRange && type !== "scalar" && type !== "vector") {
      throw new QueryError("bad_data", `invalid expression type "${documentedType(type)}" for range query, must be Scalar or instant Vector`);
    }
    // The timeout covers the wait in the queue and the execution.
    const timeout = opts.timeout !== undefined && opts.timeout > 0 ? opts.timeout : this.timeout;
    const deadline = Date.now() + timeout;
    await this.gate.acquire(deadline, opts.signal);
    try {
      return await this.exec(q, query, expr, start, end, step, isRange, opts, t0, deadline);
    } finally {
      this.gate.release();
    }
  }

  private async exec(
    q: Queryable,
    query: string,
    parsed: Expr,
    start: number,
    end: number,
    step: number,
    isRange: boolean,
    opts: QueryOptions,
    t0: number,
    deadline: number,
  ): Promise<QueryResult> {
    // 0 (or absent) means the engine's defaults, as the API passes them through.
    const lookback = opts.lookbackDelta !== undefined && opts.lookbackDelta > 0 ? opts.lookbackDelta : this.lookbackDelta;
    const expr = preprocess(parsed, start, end);
    const prepStart = performance.now();
    const storageWarnings: string[] = [];
    const data = new Map<VectorSelector, SelectedSeries[]>();
    const ranges = selectorRanges(expr, start, end, lookback, this.subqueryStep);
    // Aggregations the storage may evaluate per shard of the data (a cluster's members) are
    // asked for first, alongside the raw series of the rest; those it declines, or answers only
    // for the first steps, read raw series for what remains.
    const candidates = q.evalSharded ? shardCandidates(expr) : [];
    const pushed = new Set(candidates.flatMap((c) => c.selectors));
    const steps0 = makeSteps(start, end, step);
    const sharded = new Map<AggregateExpr, ShardedEvalAnswer>();
    const pushdown: PushdownStats[] = [];
    // The storage gets a signal that fires at the deadline (or when the caller cancels): it yields
    // while decoding, so the timer runs, and it stops there instead of finishing a lost query.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new QueryError("timeout", "query timed out in expression evaluation")), Math.max(0, deadline - Date.now()));
    const onCancel = () => stop.abort(new QueryError("canceled", "query was canceled in expression evaluation"));
    if (opts.signal?.aborted) onCancel();
    else opts.signal?.addEventListener("abort", onCancel, { once: true });
    const reads: MemberReadStats[] = [];
    const fetch = (want: Map<VectorSelector, { mint: number; maxt: number }>) =>
      fetchSelectors(q, want, isRange ? step : undefined, stop.signal, data, storageWarnings, reads);
    try {
      await untilAborted(
        Promise.all([
          fetch(new Map([...ranges].filter(([vs]) => !pushed.has(vs)))),
          ...candidates.map(async (c) => {
            const answer = await q.evalSharded!(
              { exprs: c.exprs, start, end, step: isRange ? step : 0, lookbackDelta: lookback, readLag: c.readLag,
                readsFrom: Math.min(...c.selectors.map((vs) => ranges.get(vs)!.mint)),
                selectors: c.selectors.map((vs) => vs.matchers),
              },
              stop.signal,
            ).catch((err: unknown) => {
              if (stop.signal.aborted) throw err;
              this.logger.warn("sharded evaluation failed; reading raw series", { query, err: String(err) });
              return null;
            });
            if (answer && answer.steps >= 1) {
              sharded.set(c.node, answer);
              storageWarnings.push(...answer.warnings);
              pushdown.push({ expr: c.exprs.join("; "), steps: Math.min(answer.steps, steps0.n), members: answer.members });
            }
            // What the shards did not answer: every step, or the last ones.
            const from = answer && answer.steps >= 1 ? start + answer.steps * steps0.step : start;
            if (from > end) return;
            await fetch(from === start ? new Map(c.selectors.map((vs) => [vs, ranges.get(vs)!])) : selectorRanges(c.node, from, end, lookback, this.subqueryStep));
          }),
        ]),
        stop.signal,
      );
    } catch (e) {
      if (e instanceof QueryError) throw e;
      throw new QueryError("execution", `expanding series: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onCancel);
    }
    const prepTime = (performance.now() - prepStart) / 1000;
    const evalStart = performance.now();
    const ev = new Evaluator(data, {
      lookbackDelta: lookback,
      subqueryStep: this.subqueryStep,
      maxSamples: this.maxSamples,
      deadline,
      signal: opts.signal,
      queryStart: start,
      queryEnd: end,
      queryStep: step,
      isRangeQuery: isRange,
    });
    for (const [node, answer] of sharded) ev.sharded.set(node, answer);
    const steps = makeSteps(start, end, step);
    let value: QueryValue;
    try {
      const v = await ev.eval(expr, steps);
      value = toResult(v, steps.start, steps.step, steps.n, isRange);
    } catch (e) {
      throw toQueryError(e, this.logger, query);
    }
    const warnings = [...new Set(storageWarnings)];
    const infos: string[] = [];
    for (const a of ev.annotations.all()) {
      const text = `${a.level === "warning" ? "PromQL warning" : "PromQL info"}: ${a.message} (${positionString(query, a.pos.start)})`;
      if (a.level === "warning") warnings.push(text);
      else infos.push(text);
    }
    const stats: QueryStats = {
      totalQueryableSamples: ev.totalSamples,
      peakSamples: ev.peakSamples,
      execTotalTime: (performance.now() - t0) / 1000,
      queryPreparationTime: prepTime,
      innerEvalTime: (performance.now() - evalStart) / 1000,
    };
    if (pushdown.length > 0) stats.pushdown = pushdown;
    if (reads.length > 0) stats.members = sumMemberReads(reads);
    return { value, warnings, infos, stats };
  }
}

/**
 * Reads the series of `want` (selector → sample range) into `data`. Selectors with the same
 * matchers (`a / ignoring(x) a`, `x or x offset 1h`) are fetched once, over the union of their
 * ranges; each use still reads only its own window.
 */
async function fetchSelectors(
  q: Queryable,
  want: Map<VectorSelector, { mint: number; maxt: number }>,
  step: number | undefined,
  signal: AbortSignal,
  data: Map<VectorSelector, SelectedSeries[]>,
  warnings: string[],
  /** Receives what each cluster member sent, when the Queryable says. */
  reads?: MemberReadStats[],
): Promise<void> {
  const fetches = new Map<string, { matchers: VectorSelector["matchers"]; mint: number; maxt: number; uses: VectorSelector[] }>();
  for (const [vs, r] of want) {
    const key = vs.matchers.map((m) => m.toString()).sort().join("\u0000");
    const f = fetches.get(key);
    if (f) {
      f.mint = Math.min(f.mint, r.mint);
      f.maxt = Math.max(f.maxt, r.maxt);
      f.uses.push(vs);
    } else fetches.set(key, { matchers: vs.matchers, mint: r.mint, maxt: r.maxt, uses: [vs] });
  }
  await Promise.all(
    [...fetches.values()].map(async (f) => {
      const querier = q.querier(f.mint, f.maxt);
      try {
        const hints: SelectHints = { start: f.mint, end: f.maxt, step };
        // Not enumerable: a cluster forwarding the hints to its peers must not serialize it.
        Object.defineProperty(hints, "signal", { value: signal, enumerable: false });
        const set = await querier.select(f.matchers, hints);
        warnings.push(...set.warnings);
        if (set.members && reads) reads.push(...set.members);
        const prepared = set.series.map(prepareSeries);
        for (const vs of f.uses) data.set(vs, prepared);
      } finally {
        querier.close();
      }
    }),
  );
}

/** `p`, or the signal's reason (a QueryError) as soon as it is aborted. */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

function toQueryError(e: unknown, logger: Logger, query: string): QueryError {
  if (e instanceof QueryError) return e;
  if (e instanceof EvalAbort) return new QueryError(e.reason, e.message);
  if (e instanceof TooManySamples) return new QueryError("execution", e.message);
  if (e instanceof EvalError) return new QueryError("execution", e.message);
  logger.error("query evaluation failed", { query, err: String((e as Error)?.stack ?? e) });
  return new QueryError("internal", (e as Error)?.message ?? String(e));
}

/** Applies delayed `__name__` removal and merges series whose label sets became equal. */
function finalSeries(series: StepSeries[], n: number): StepSeries[] {
  const out = series.map((s) => (s.dropName ? { ...s, labels: dropMetricName(s.labels), dropName: false } : s));
  return mergeSameLabels(out, n);
}

/** Merges raw-sample series whose label sets became equal; a shared timestamp is an error. */
function mergeRangeSeries(series: MatrixSeries[]): MatrixSeries[] {
  const byKey = new Map<string, MatrixSeries[]>();
  for (const s of series) {
    const k = labelsKey(s.labels);
    const list = byKey.get(k);
    if (list) list.push(s);
    else byKey.set(k, [s]);
  }
  const out: MatrixSeries[] = [];
  for (const list of byKey.values()) {
    if (list.length === 1) {
      out.push(list[0]!);
      continue;
    }
    const points: [number, number][] = [];
    for (const s of list) for (let i = 0; i < s.timestamps.length; i++) points.push([s.timestamps[i]!, s.values[i]!]);
    points.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < points.length; i++) {
      if (points[i]![0] === points[i - 1]![0]) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
    }
    out.push({
      labels: list[0]!.labels,
      timestamps: Float64Array.from(points, (p) => p[0]),
      values: Float64Array.from(points, (p) => p[1]),
    });
  }
  return out;
}

function toResult(v: Value, start: number, step: number, n: number, isRange: boolean): QueryValue {
  switch (v.kind) {
    case "string":
      if (isRange) throw new QueryError("bad_data", 'invalid expression type "string" for range query, must be Scalar or instant Vector');
      return { resultType: "string", t: start, v: v.value };
    case "scalar":
      if (!isRange) return { resultType: "scalar", t: start, v: v.values[0]! };
      return {
        resultType: "matrix",
        result: [{ labels: [], timestamps: Float64Array.from({ length: n }, (_, i) => start + i * step), values: v.values.slice() }],
      };
    case "matrix": {
      if (isRange) throw new QueryError("bad_data", 'invalid expression type "range vector" for range query, must be Scalar or instant Vector');
      const result = mergeRangeSeries(
        v.series.map((s) => ({ labels: s.dropName ? dropMetricName(s.labels) : s.labels, timestamps: s.timestamps, values: s.values })),
      );
      result.sort((a, b) => compareLabels(a.labels, b.labels));
      return { resultType: "matrix", result };
    }
    case "vector": {
      const series = finalSeries(v.series, n);
      if (!isRange) {
        const result: VectorSample[] = [];
        for (const s of series) if (s.present[0]) result.push({ labels: s.labels, t: start, v: s.values[0]! });
        return { resultType: "vector", result };
      }
      const result: MatrixSeries[] = [];
      for (const s of series) {
        let cnt = 0;
        for (let i = 0; i < n; i++) cnt += s.present[i]!;
        if (cnt === 0) continue;
        const ts = new Float64Array(cnt);
        const vs = new Float64Array(cnt);
        let k = 0;
        for (let i = 0; i < n; i++) {
          if (s.present[i]) {
            ts[k] = start + i * step;
            vs[k++] = s.values[i]!;
          }
        }
        result.push({ labels: s.labels, timestamps: ts, values: vs });
      }
      result.sort((a, b) => compareLabels(a.labels, b.labels));
      return { resultType: "matrix", result };
    }
  }
}
