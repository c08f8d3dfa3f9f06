/**
 * One test group of a rule unit-test file, run as promtool runs it: the input series go into a
 * temporary local TSDB step by step (each sample once its time is reached), every rule group is
 * evaluated at 0, interval, 2·interval … up to the latest eval_time, alerts are compared at the
 * evaluation at or just before each alert test's eval_time, then each PromQL test is queried.
 * The result is promtool's list of failure messages (empty: the group passed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareLabels, formatDuration, goQuoteString, labelsFromRecord, labelsKey, nopLogger, realClock, type Labels } from "../../model/index.ts";
import { Engine, parseExpr, parseSeriesDesc, parseSeriesLabels, type QueryValue, type SeqValue } from "../../promql/index.ts";
import { buildGroup, vectorQuery, type LoadedFile, type RuleGroup } from "../../rules/index.ts";
import { openTSDB, type TSDB } from "../../storage/index.ts";
import type { TestGroup } from "./file.ts";
import { alertListString, goDurationString, goFloatE, goLabelsString, indentLines, type LabelsAndAnnotations } from "./format.ts";

/** promtool's test engine limits (its LazyLoader's EngineOpts). */
const MAX_SAMPLES = 10_000;
const QUERY_TIMEOUT_MS = 100_000;

interface PendingSeries {
  labels: Labels;
  times: number[];
  values: SeqValue[];
  next: number;
}

/** The input series as promtool's loader lays them out: value i at i·interval, `_` skipped. */
function inputSeries(tg: TestGroup): PendingSeries[] {
  const byKey = new Map<string, PendingSeries>();
  for (const s of tg.inputSeries) {
    const desc = parseSeriesDesc(`${s.series} ${s.values}`);
    const times: number[] = [];
    const values: SeqValue[] = [];
    let last = -Infinity;
    desc.values.forEach((v, i) => {
      const t = i * tg.interval;
      // With interval 0 every value lands at time 0: the head keeps the first one.
      if (v.omitted || t <= last) return;
      times.push(t);
      values.push(v);
      last = t;
    });
    // A series given twice keeps its last definition, as promtool's loader does.
    byKey.set(labelsKey(desc.labels), { labels: desc.labels, times, values, next: 0 });
  }
  return [...byKey.values()];
}

async function appendTill(db: TSDB, series: PendingSeries[], ts: number): Promise<void> {
  const app = db.appender();
  for (const s of series) {
    while (s.next < s.times.length && s.times[s.next]! <= ts) {
      const v = s.values[s.next]!;
      app.append(s.labels, s.times[s.next]!, v.value, v.stale);
      s.next++;
    }
  }
  await app.commit();
}

/** parser.ParseMetric of an expected sample's `labels` ("" is the empty label set). */
function expectedLabels(text: string): Labels {
  if (text.trim() === "") return [];
  try {
    const { labels, rest } = parseSeriesLabels(text.trim());
    if (rest.trim() === "") return labels;
  } catch {
    // Worded below by the PromQL parser, as Prometheus's shared lexer words it.
  }
  parseExpr(text);
  throw new Error(`could not parse ${JSON.stringify(text)} as a metric`);
}

function sameLabels(a: Labels, b: Labels): boolean {
  return labelsKey(a) === labelsKey(b);
}

function compareAlerts(a: LabelsAndAnnotations, b: LabelsAndAnnotations): number {
  return compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations);
}

interface Sample {
  labels: Labels;
  value: number;
}

function samplesString(samples: readonly Sample[]): string {
  if (samples.length === 0) return "nil";
  return samples.map((s) => `${goLabelsString(s.labels)} ${goFloatE(s.value)}`).join(", ");
}

function vectorOf(value: QueryValue): Sample[] {
  if (value.resultType === "vector") return value.result.map((s) => ({ labels: s.labels, value: s.v }));
  if (value.resultType === "scalar") return [{ labels: [], value: value.v }];
  throw new Error("rule result is not a vector or scalar");
}

export interface GroupRunOptions {
  /** The unit-test file's evaluation_interval (ms). */
  evalIntervalMs: number;
  /** Rule files already parsed (every file that matched rule_files). */
  ruleFiles: readonly LoadedFile[];
  /** Group name → position in group_eval_order. */
  groupOrder: ReadonlyMap<string, number>;
}

/** Runs one test group; resolves to promtool's failure messages (none: it passed). */
export async function runTestGroup(tg: TestGroup, opts: GroupRunOptions): Promise<string[]> {
  const series = inputSeries(tg);
  const dir = mkdtempSync(join(tmpdir(), "shoal-test-rules-"));
  let db: TSDB | null = null;
  try {
    db = await openTSDB({ dir, walFsyncIntervalMs: 3_600_000 });
    return await evaluate(tg, opts, series, db);
  } finally {
    if (db) await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function evaluate(tg: TestGroup, opts: GroupRunOptions, series: PendingSeries[], db: TSDB): Promise<string[]> {
  const { evalIntervalMs } = opts;
  const engine = new Engine({ maxSamples: MAX_SAMPLES, timeout: QUERY_TIMEOUT_MS, defaultSubqueryStep: evalIntervalMs });
  const instant = async (expr: string, t: number): Promise<QueryValue> => (await engine.instantQuery(db, expr, t)).value;
  const externalLabels = labelsFromRecord(tg.externalLabels);
  const env = {
    query: vectorQuery(instant),
    queryable: db,
    appendable: db,
    notify: () => {},
    clock: realClock,
    defaultQueryOffsetMs: () => 0,
    externalURL: tg.externalURL,
    forOutageToleranceMs: 3_600_000,
    forGracePeriodMs: 600_000,
    resendDelayMs: 60_000,
    logger: nopLogger,
  };
  const groups: RuleGroup[] = [];
  for (const f of opts.ruleFiles) {
    for (const g of f.groups) groups.push(buildGroup(f.file, g, tg.interval > 0 ? tg.interval : evalIntervalMs, env, () => externalLabels, tg.externalURL));
  }
  // Groups not in group_eval_order count as position 0, as in promtool.
  groups.sort((a, b) => (opts.groupOrder.get(a.name) ?? 0) - (opts.groupOrder.get(b.name) ?? 0));

  const errs: string[] = [];
  const testName = tg.name !== "" ? `    name: ${tg.name},\n` : "";
  for (const a of tg.alertRuleTests) {
    if (a.alertname === "") {
      const where = tg.name !== "" ? ` (in TestGroup ${tg.name})` : "";
      return [`an item under alert_rule_test misses required attribute alertname at eval_time ${formatDuration(a.evalTime)}${where}`];
    }
  }
  const alertTimes = [...new Set(tg.alertRuleTests.map((a) => a.evalTime))].sort((x, y) => x - y);
  const maxt = Math.max(0, ...tg.alertRuleTests.map((a) => a.evalTime), ...tg.promqlExprTests.map((p) => p.evalTime));
  let curr = 0;
  for (let ts = 0; ts <= maxt; ts += evalIntervalMs) {
    let loadedTill = true;
    try {
      await appendTill(db, series, ts);
    } catch (e) {
      // As promtool: the step is not evaluated, its alert tests still compare.
      errs.push((e as Error).message);
      loadedTill = false;
    }
    const evalErrs: string[] = [];
    for (const g of loadedTill ? groups : []) {
      await g.evaluate(ts);
      for (const r of g.rules) {
        if (r.state.lastError !== "") evalErrs.push(`    rule: ${r.name}, time: ${goDurationString(ts)}, err: ${r.state.lastError}`);
      }
    }
    errs.push(...evalErrs);
    if (evalErrs.length > 0) return errs;

    // Alert tests whose eval_time falls in [ts, ts + interval) compare with this evaluation.
    while (curr < alertTimes.length && ts <= alertTimes[curr]! && alertTimes[curr]! < ts + evalIntervalMs) {
      const t = alertTimes[curr]!;
      const cases = tg.alertRuleTests.filter((a) => a.evalTime === t);
      for (const c of cases) {
        const got: LabelsAndAnnotations[] = [];
        for (const g of groups) {
          for (const r of g.alertingRules()) {
            if (r.name !== c.alertname) continue;
            for (const a of r.activeAlerts()) if (a.state === "firing") got.push({ labels: a.labels, annotations: labelsFromRecord(a.annotations) });
          }
        }
        const exp = c.expAlerts.map((a) => ({ labels: labelsFromRecord({ ...a.labels, alertname: c.alertname }), annotations: labelsFromRecord(a.annotations) }));
        got.sort(compareAlerts);
        exp.sort(compareAlerts);
        const equal = got.length === exp.length && got.every((g, i) => sameLabels(g.labels, exp[i]!.labels) && sameLabels(g.annotations, exp[i]!.annotations));
        if (!equal) {
          const pad = "            ";
          errs.push(
            `${testName}    alertname: ${c.alertname}, time: ${formatDuration(c.evalTime)}, \n        exp:${indentLines(alertListString(exp), pad)}, \n        got:${indentLines(alertListString(got), pad)}`,
          );
        }
      }
      curr++;
    }
  }

  for (const p of tg.promqlExprTests) {
    const where = `    expr: ${goQuoteString(p.expr)}, time: ${formatDuration(p.evalTime)}`;
    let got: Sample[];
    try {
      got = vectorOf(await instant(p.expr, p.evalTime));
    } catch (e) {
      errs.push(`${where}, err: ${(e as Error).message}`);
      continue;
    }
    const exp: Sample[] = [];
    let bad = false;
    for (const s of p.expSamples) {
      try {
        exp.push({ labels: expectedLabels(s.labels), value: s.value });
      } catch (e) {
        errs.push(`${where}, err: labels ${goQuoteString(s.labels)}: ${(e as Error).message}`);
        bad = true;
        break;
      }
    }
    if (bad) continue;
    const byLabels = (a: Sample, b: Sample) => compareLabels(a.labels, b.labels);
    exp.sort(byLabels);
    got.sort(byLabels);
    // Go's reflect.DeepEqual on floats: NaN never equals NaN.
    const equal = got.length === exp.length && got.every((g, i) => sameLabels(g.labels, exp[i]!.labels) && g.value === exp[i]!.value);
    if (!equal) errs.push(`${where},\n        exp: ${samplesString(exp)}\n        got: ${samplesString(got)}`);
  }
  return errs;
}
