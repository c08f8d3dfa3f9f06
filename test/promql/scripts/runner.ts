/**
 * Runs one PromQL test script against the real storage and the Engine, the way Prometheus's
 * promqltest runs it: instant evals are re-run in range mode around the evaluation time and,
 * with `@ <time>` appended to every selector, at several other evaluation times.
 */
import { rmSync } from "node:fs";
import { labelsFromPairs, labelsKey, METRIC_NAME, type Labels, type Matcher } from "../../../src/model/index.ts";
import { Engine, parseExpr, QueryError, type Expr, type QueryResult, type QueryValue } from "../../../src/promql/index.ts";
import { openTSDB, type TSDB } from "../../../src/storage/index.ts";
import { checkAnnotations, checkFailure, compareValue, isFail, isOrdered } from "./compare.ts";
import { readScript, type EvalCmd, type LoadCmd } from "./reader.ts";
import { atModifierVariants } from "./at_modifier.ts";
import { SCRIPT_FEATURES } from "./features.ts";
import { tempDir } from "../../support/index.ts";

export type CaseStatus = "passed" | "failed" | "skipped";

export interface CaseResult {
  line: number;
  expr: string;
  status: CaseStatus;
  reason: string;
}

interface LoadedSeries {
  labels: Labels;
  histogram: boolean;
}

/** Why a case needs native histograms (and is skipped), or null. */
function nativeHistogramReason(cmd: EvalCmd, loaded: LoadedSeries[]): string | null {
  if (cmd.expected.some((e) => e.values.some((v) => v.histogram !== null))) return "expected result holds native histograms";
  let expr: Expr;
  try {
    expr = parseExpr(cmd.expr, SCRIPT_FEATURES);
  } catch {
    return null;
  }
  const selectors: Matcher[][] = [];
  const walk = (e: Expr): void => {
    switch (e.type) {
      case "VectorSelector":
        selectors.push(e.matchers);
        return;
      case "MatrixSelector":
        selectors.push(e.vectorSelector.matchers);
        return;
      case "SubqueryExpr":
      case "ParenExpr":
      case "UnaryExpr":
      case "StepInvariantExpr":
        walk(e.expr);
        return;
      case "AggregateExpr":
        walk(e.expr);
        if (e.param) walk(e.param);
        return;
      case "BinaryExpr":
        walk(e.lhs);
        walk(e.rhs);
        return;
      case "Call":
        e.args.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(expr);
  for (const s of loaded) {
    if (!s.histogram) continue;
    const get = (n: string) => s.labels.find((l) => l.name === n)?.value ?? "";
    if (selectors.some((ms) => ms.every((m) => m.matches(get(m.name))))) return "query selects native histogram series";
  }
  return null;
}

/** The series a `load_with_nhcb` command adds as native histograms with custom buckets. */
function nhcbSeries(cmd: LoadCmd): Labels[] {
  const out: Labels[] = [];
  for (const s of cmd.series) {
    const name = s.labels.find((l) => l.name === METRIC_NAME)?.value ?? "";
    const m = /^(.*)_(bucket|count|sum)$/.exec(name);
    if (!m) continue;
    const pairs: [string, string][] = s.labels.filter((l) => l.name !== "le" && l.name !== METRIC_NAME).map((l) => [l.name, l.value]);
    pairs.push([METRIC_NAME, m[1]!]);
    out.push(labelsFromPairs(pairs));
  }
  return out;
}

export class ScriptRunner {
  private db: TSDB | null = null;
  private dir: string | null = null;
  private loaded: LoadedSeries[] = [];
  readonly engine = new Engine({ maxSamples: 50_000_000, timeout: 100_000, features: SCRIPT_FEATURES });

  private async open(): Promise<TSDB> {
    if (!this.db) {
      this.dir = tempDir("promql");
      this.db = await openTSDB({ dir: this.dir, walFsyncIntervalMs: 60_000 });
    }
    return this.db;
  }

  async clear(): Promise<void> {
    if (this.db) await this.db.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.db = null;
    this.dir = null;
    this.loaded = [];
  }

  private async load(cmd: LoadCmd): Promise<void> {
    const db = await this.open();
    const app = db.appender();
    // A series defined twice in one load keeps its last definition, as in promqltest.
    const byLabels = new Map<string, LoadCmd["series"][number]>();
    for (const s of cmd.series) byLabels.set(labelsKey(s.labels), s);
    for (const s of byLabels.values()) {
      let hist = false;
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i]!;
        const t = i * cmd.intervalMs;
        if (v.omitted) continue;
        if (v.histogram !== null) {
          hist = true;
          continue;
        }
        app.append(s.labels, t, v.value, v.stale);
      }
      this.loaded.push({ labels: s.labels, histogram: hist });
    }
    await app.commit();
    if (cmd.withNhcb) for (const ls of nhcbSeries(cmd)) this.loaded.push({ labels: ls, histogram: true });
  }

  async run(input: string): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    try {
      for (const cmd of readScript(input)) {
        if (cmd.kind === "clear") await this.clear();
        else if (cmd.kind === "load") await this.load(cmd);
        else {
          const skip = nativeHistogramReason(cmd, this.loaded);
          if (skip) {
            results.push({ line: cmd.line, expr: cmd.expr, status: "skipped", reason: skip });
            continue;
          }
          let reason: string | null;
          try {
            reason = await this.evalCase(cmd);
          } catch (e) {
            reason = `runner error: ${(e as Error).stack ?? e}`;
          }
          results.push({ line: cmd.line, expr: cmd.expr, status: reason === null ? "passed" : "failed", reason: reason ?? "" });
        }
      }
    } finally {
      await this.clear();
    }
    return results;
  }

  private async evalCase(cmd: EvalCmd): Promise<string | null> {
    const db = await this.open();
    if (cmd.isRange) return this.runRange(db, cmd);
    const variants = [{ expr: cmd.expr, at: cmd.evalMs }, ...atModifierVariants(cmd.expr, cmd.evalMs)];
    for (const v of variants) {
      const r = await this.runInstant(db, cmd, v.expr, v.at);
      if (r !== null) return v.expr === cmd.expr && v.at === cmd.evalMs ? r : `${r} [variant ${v.expr} at ${v.at}ms]`;
    }
    return null;
  }

  private async runRange(db: TSDB, cmd: EvalCmd): Promise<string | null> {
    let res: QueryResult;
    try {
      res = await this.engine.rangeQuery(db, cmd.expr, cmd.startMs, cmd.endMs, cmd.stepMs);
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      if (isFail(cmd)) return checkFailure(cmd, e.message);
      return `error evaluating query: ${e.message}`;
    }
    if (isFail(cmd)) return "expected error but got none";
    return checkAnnotations(cmd, res) ?? compareValue(cmd, res.value, cmd.startMs, cmd.endMs, cmd.stepMs);
  }

  private async runInstant(db: TSDB, cmd: EvalCmd, expr: string, at: number): Promise<string | null> {
    let res: QueryResult;
    try {
      res = await this.engine.instantQuery(db, expr, at);
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      if (isFail(cmd)) return checkFailure(cmd, e.message);
      return `error evaluating query: ${e.message}`;
    }
    if (isFail(cmd)) return "expected error but got none";
    const a = checkAnnotations(cmd, res);
    if (a) return a;
    const c = compareValue(cmd, res.value, cmd.startMs, cmd.endMs, cmd.stepMs);
    if (c) return c;
    if (cmd.excludeFromRangeQuery || /(start|end|range|step)\(\)/.test(expr)) return null;
    // The same query in range mode must give the same result at the evaluation time.
    let rr: QueryResult;
    try {
      rr = await this.engine.rangeQuery(db, expr, at - 60_000, at + 60_000, 60_000);
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      return `error in range mode: ${e.message}`;
    }
    if (isOrdered(cmd)) return null;
    if (rr.value.resultType !== "matrix") return `range mode returned ${rr.value.resultType}`;
    const vec: QueryValue = { resultType: "vector", result: [] };
    for (const s of rr.value.result) {
      const i = s.timestamps.indexOf(at);
      if (i >= 0) vec.result.push({ labels: s.labels, t: at, v: s.values[i]! });
    }
    let rv: QueryValue = vec;
    if (res.value.resultType === "scalar") rv = { resultType: "scalar", t: at, v: vec.result[0]?.v ?? NaN };
    const c2 = compareValue(cmd, rv, cmd.startMs, cmd.endMs, cmd.stepMs);
    return c2 === null ? null : `range mode: ${c2}`;
  }
}
