/**
 * One rule group: its rules evaluated in order at a given slotted time (each rule sees the
 * output of the rules before it), output written through the Appendable, staleness markers for
 * series a rule no longer returns, alerts sent through `notify`. `evaluate(ts)` needs no timer:
 * the scheduler (group_runner.ts) and `shoal test rules` both drive it. The semantics are
 * Prometheus's rules.Group.Eval.
 */
import { AppendError, labelsKey, nopObserver, type Appendable, type Clock, type Labels, type Logger, type Observer, type Queryable, type RejectReason } from "../model/index.ts";
import { AlertingRule } from "./alerting_rule.ts";
import { groupKey, slotOffsetMs } from "./eval_slot.ts";
import { readForState } from "./for_state.ts";
import type { NotifierAlert } from "./notifier/alert.ts";
import { RecordingRule } from "./recording_rule.ts";
import type { RuleQueryFunc, RuleSample } from "./rule.ts";

export type Rule = RecordingRule | AlertingRule;

/** Durations the telemetry room records (Prometheus's summaries). */
export interface RuleObservers {
  /** prometheus_rule_evaluation_duration_seconds: one rule's evaluation. */
  ruleEvaluationDuration: Observer;
  /** prometheus_rule_group_duration_seconds: one whole group iteration. */
  groupDuration: Observer;
}

/** Counters that survive a reload that changes the group (Prometheus keeps them by group key). */
export interface RuleGroupCounters {
  evaluations: number;
  evaluationFailures: number;
  iterations: number;
  iterationsMissed: number;
}

/** What the group shares with every other group of its manager. */
export interface RuleGroupEnv {
  query: RuleQueryFunc;
  /** Where `for` state is restored from (the node: the cluster's reads, so a new owner sees the old one's writes). */
  queryable: Queryable;
  /** Rule output, ALERTS and ALERTS_FOR_STATE (the node: the distributor). */
  appendable: Appendable;
  notify(alerts: NotifierAlert[]): void;
  clock: Clock;
  /** The global rule_query_offset, read at every evaluation (it can change on reload). */
  defaultQueryOffsetMs(): number;
  externalURL: string;
  forOutageToleranceMs: number;
  forGracePeriodMs: number;
  resendDelayMs: number;
  logger: Logger;
  observers?: Partial<RuleObservers>;
}

export interface RuleGroupSpec {
  file: string;
  name: string;
  intervalMs: number;
  limit: number;
  /** 0: the global default. */
  queryOffsetMs: number;
  rules: Rule[];
}

/** Go's url.QueryEscape: everything but letters, digits and -_.~ escaped, space as '+'. */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}

/** Where an alert links to: the expression's table view (Prometheus's TableLinkForExpression). */
export function generatorURL(externalURL: string, expr: string): string {
  return `${externalURL.replace(/\/+$/, "")}/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=1`;
}

export class RuleGroup {
  readonly file: string;
  readonly name: string;
  readonly key: string;
  readonly intervalMs: number;
  readonly limit: number;
  readonly ownQueryOffsetMs: number;
  readonly rules: readonly Rule[];
  /** Where in its interval the group is evaluated (eval_slot.ts). */
  readonly slotOffsetMs: number;
  counters: RuleGroupCounters = { evaluations: 0, evaluationFailures: 0, iterations: 0, iterationsMissed: 0 };
  /** Seconds the latest iteration took; wall-clock ms when it started (0: never). */
  evaluationTimeSeconds = 0;
  lastEvaluationMs = 0;
  /** The slot of the latest iteration (0: never). */
  lastEvalTimestampMs = 0;
  lastEvaluationSamples = 0;
  /** Per rule: the series it wrote last time, so that the ones it stops writing get a staleness marker. */
  private previousSeries: Map<string, Labels>[];
  /** Series of rules removed by a reload: marked stale at the next evaluation. */
  private staleSeries: Labels[] = [];
  /** Bumped by `forget`: an evaluation in flight then stops writing and sending. */
  private generation = 0;
  private readonly env: RuleGroupEnv;
  private readonly logger: Logger;

  constructor(spec: RuleGroupSpec, env: RuleGroupEnv) {
    this.file = spec.file;
    this.name = spec.name;
    this.key = groupKey(spec.file, spec.name);
    this.intervalMs = spec.intervalMs;
    this.limit = spec.limit;
    this.ownQueryOffsetMs = spec.queryOffsetMs;
    this.rules = spec.rules;
    this.slotOffsetMs = slotOffsetMs(spec.file, spec.name, spec.intervalMs);
    this.previousSeries = spec.rules.map(() => new Map());
    this.env = env;
    this.logger = env.logger.with({ file: spec.file, group: spec.name });
  }

  queryOffsetMs(): number {
    return this.ownQueryOffsetMs > 0 ? this.ownQueryOffsetMs : this.env.defaultQueryOffsetMs();
  }

  alertingRules(): AlertingRule[] {
    return this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule);
  }

  /**
   * Reads ALERTS_FOR_STATE as of `tsMs` for every alerting rule; the alerts that appear in the
   * next two evaluations take their restored activeAt from it (for_state.ts).
   */
  async restoreForState(tsMs: number): Promise<void> {
    for (const rule of this.alertingRules()) {
      try {
        const candidates = await readForState(this.env.queryable, rule.name, rule.labels, tsMs, this.env.forOutageToleranceMs);
        rule.setRestoreCandidates(candidates, this.env.forGracePeriodMs);
      } catch (e) {
        this.logger.error("Failed to restore 'for' state", { alertname: rule.name, stage: "Select", err: e });
      }
    }
  }

  /** One iteration at the slotted time `tsMs`, with the group's figures updated as Prometheus does. */
  async evaluate(tsMs: number): Promise<void> {
    this.counters.iterations++;
    const startWall = this.env.clock.wallNow();
    const start = this.env.clock.now();
    await this.evalRules(tsMs);
    const seconds = (this.env.clock.now() - start) / 1000;
    (this.env.observers?.groupDuration ?? nopObserver).observe(seconds);
    this.evaluationTimeSeconds = seconds;
    this.lastEvaluationMs = startWall;
    this.lastEvalTimestampMs = tsMs;
  }

  private async evalRules(ts: number): Promise<void> {
    const generation = this.generation;
    const queryOffsetMs = this.queryOffsetMs();
    let samples = 0;
    for (let i = 0; i < this.rules.length; i++) {
      if (generation !== this.generation) return;
      samples += await this.evalRule(i, ts, queryOffsetMs, generation);
    }
    if (generation !== this.generation) return;
    this.lastEvaluationSamples = samples;
    await this.writeStaleSeries(ts - queryOffsetMs);
  }

  /** Evaluates rule i; returns how many samples it produced. */
  private async evalRule(i: number, ts: number, queryOffsetMs: number, generation: number): Promise<number> {
    const rule = this.rules[i]!;
    const clock = this.env.clock;
    const startWall = clock.wallNow();
    const start = clock.now();
    this.counters.evaluations++;
    try {
      let output: RuleSample[];
      try {
        output = await rule.eval({ tsMs: ts, queryOffsetMs, limit: this.limit, query: this.env.query });
      } catch (e) {
        rule.state.failed(e);
        this.counters.evaluationFailures++;
        this.logger.warn("Evaluating rule failed", { name: rule.name, index: i, err: e });
        return 0;
      }
      if (generation !== this.generation) return 0;
      rule.state.succeeded();
      if (rule instanceof AlertingRule) {
        const alerts = rule.alertsToSend(ts, this.env.resendDelayMs, this.intervalMs, generatorURL(this.env.externalURL, rule.expr));
        if (alerts.length > 0) this.env.notify(alerts);
      }
      await this.write(i, rule, output, ts - queryOffsetMs);
      return output.length;
    } finally {
      const seconds = (clock.now() - start) / 1000;
      (this.env.observers?.ruleEvaluationDuration ?? nopObserver).observe(seconds);
      rule.state.evaluationTimeSeconds = seconds;
      rule.state.lastEvaluationMs = startWall;
    }
  }

  /** Appends one rule's output and staleness markers for the series it no longer returns, then commits. */
  private async write(i: number, rule: Rule, output: RuleSample[], staleT: number): Promise<void> {
    const app = this.env.appendable.appender();
    const returned = new Map<string, Labels>();
    const refused: Partial<Record<RejectReason, number>> = {};
    for (const s of output) {
      try {
        app.append(s.labels, s.t, s.v);
        returned.set(labelsKey(s.labels), s.labels);
      } catch (e) {
        if (!(e instanceof AppendError)) throw e;
        rule.state.failed(e);
        refused[e.reason] = (refused[e.reason] ?? 0) + 1;
      }
    }
    for (const [reason, n] of Object.entries(refused)) this.logger.warn("Rule evaluation result discarded", { name: rule.name, reason, num_dropped: n });
    for (const [key, labels] of this.previousSeries[i]!) {
      if (returned.has(key)) continue;
      try {
        app.append(labels, staleT, 0, true);
      } catch (e) {
        // A series written again at this very time, or already past it, needs no marker.
        if (!(e instanceof AppendError)) throw e;
      }
    }
    try {
      await app.commit();
    } catch (e) {
      rule.state.failed(e);
      this.counters.evaluationFailures++;
      this.logger.warn("Rule sample appending failed", { name: rule.name, err: e });
      return;
    }
    this.previousSeries[i] = returned;
  }

  private async writeStaleSeries(t: number): Promise<void> {
    if (this.staleSeries.length === 0) return;
    const app = this.env.appendable.appender();
    for (const labels of this.staleSeries) {
      try {
        app.append(labels, t, 0, true);
      } catch (e) {
        if (!(e instanceof AppendError)) throw e;
      }
    }
    try {
      await app.commit();
      this.staleSeries = [];
    } catch (e) {
      this.logger.warn("Stale sample appending for previous configuration failed", { err: e });
    }
  }

  /**
   * Writes staleness markers at `t` for every series the group wrote in its latest evaluation
   * (the group was removed by a reload).
   */
  async markAllStale(t: number): Promise<void> {
    for (const m of this.previousSeries) this.staleSeries.push(...m.values());
    this.previousSeries = this.rules.map(() => new Map());
    await this.writeStaleSeries(t);
  }

  /**
   * Drops alerts and the memory of written series: another member evaluates the group now and
   * writes the same series at the same timestamps, so no staleness marker and no resolution is due.
   */
  forget(): void {
    this.generation++;
    for (const r of this.alertingRules()) r.forget();
    this.previousSeries = this.rules.map(() => new Map());
    this.staleSeries = [];
  }

  /** Whether a reload leaves this group as it is (Prometheus's Group.Equals). */
  equals(other: RuleGroup): boolean {
    return (
      this.file === other.file &&
      this.name === other.name &&
      this.intervalMs === other.intervalMs &&
      this.limit === other.limit &&
      this.ownQueryOffsetMs === other.ownQueryOffsetMs &&
      this.rules.length === other.rules.length &&
      this.rules.every((r, i) => ruleIdentity(r) === ruleIdentity(other.rules[i]!))
    );
  }

  /**
   * Takes over the state of the group this one replaces on reload (Prometheus's CopyState):
   * figures, and per rule matched by name and labels, the written series and the alerts. Series
   * of rules that are gone are marked stale at the next evaluation.
   */
  copyState(from: RuleGroup): void {
    this.evaluationTimeSeconds = from.evaluationTimeSeconds;
    this.lastEvaluationMs = from.lastEvaluationMs;
    this.lastEvalTimestampMs = from.lastEvalTimestampMs;
    this.counters = from.counters;
    const byName = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const k = nameAndLabels(r);
      byName.set(k, [...(byName.get(k) ?? []), i]);
    });
    this.rules.forEach((r, i) => {
      const k = nameAndLabels(r);
      const fi = byName.get(k)?.shift();
      if (fi === undefined) return;
      this.previousSeries[i] = from.previousSeries[fi]!;
      const old = from.rules[fi]!;
      if (r instanceof AlertingRule && old instanceof AlertingRule) for (const [key, a] of old.active) r.active.set(key, a);
    });
    this.staleSeries = [...from.staleSeries];
    for (const left of byName.values()) for (const fi of left) this.staleSeries.push(...from.previousSeries[fi]!.values());
  }
}

function nameAndLabels(r: Rule): string {
  return r.name + "\x00" + labelsKey(r.labels);
}

function ruleIdentity(r: Rule): string {
  if (r instanceof RecordingRule) return JSON.stringify(["record", r.name, r.expr, r.labels]);
  return JSON.stringify(["alert", r.name, r.expr, r.holdMs, r.keepFiringForMs, r.labels, Object.entries(r.annotations).sort()]);
}
