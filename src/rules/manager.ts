/**
 * The rule manager: loads rule files into groups, runs every group on its slots on every member
 * (each member evaluates the groups the cluster's ownership predicate gives it), swaps groups on
 * reload keeping the state of unchanged ones, and reports them all for /api/v1/rules.
 */
import type { Labels, RuleGroupStatus, RulesSource } from "../model/index.ts";
import { RuleGroup, type RuleGroupEnv } from "./group.ts";
import { GroupRunner } from "./group_runner.ts";
import { buildGroup, loadRuleConfigs, type InlineRules } from "./load.ts";
import { vectorQuery, type InstantQueryFunc } from "./rule.ts";
import { groupStatus } from "./status.ts";

/** The groups' shared environment, but the manager makes the vector query and keeps the global query offset. */
export interface RuleManagerOptions extends Omit<RuleGroupEnv, "query" | "defaultQueryOffsetMs"> {
  /** An instant query (node.ts: the engine over the cluster's reads). */
  query: InstantQueryFunc;
  /** Whether this member evaluates the group `${file};${name}` now (asked at every slot). */
  ownsGroup(key: string): boolean;
  /** Shown as `evaluatedBy` for the groups this member evaluates. */
  nodeName: string;
  externalLabels(): Labels;
}

/** One group's figures for the prometheus_rule_group_* metrics (labels rule_group = key). */
export interface RuleGroupStats {
  key: string;
  evaluationsTotal: number;
  evaluationFailuresTotal: number;
  iterationsTotal: number;
  iterationsMissedTotal: number;
  intervalSeconds: number;
  lastEvaluationTimestampSeconds: number;
  lastDurationSeconds: number;
  rules: number;
  lastEvaluationSamples: number;
}

export class RuleManager implements RulesSource {
  private readonly opts: RuleManagerOptions;
  private readonly env: RuleGroupEnv;
  /** In file order, then group order within the file. */
  private runners: GroupRunner[] = [];
  private queryOffsetMs = 0;
  private stopped = false;
  private readonly pendingStale = new Set<{ cancel(): void }>();
  /** Serializes update/stop. */
  private updating: Promise<void> = Promise.resolve();

  constructor(opts: RuleManagerOptions) {
    this.opts = opts;
    this.env = {
      query: vectorQuery(opts.query),
      queryable: opts.queryable,
      appendable: opts.appendable,
      notify: (alerts) => opts.notify(alerts),
      clock: opts.clock,
      defaultQueryOffsetMs: () => this.queryOffsetMs,
      externalURL: opts.externalURL,
      forOutageToleranceMs: opts.forOutageToleranceMs,
      forGracePeriodMs: opts.forGracePeriodMs,
      resendDelayMs: opts.resendDelayMs,
      logger: opts.logger.with({ component: "rule manager" }),
      ...(opts.observers ? { observers: opts.observers } : {}),
    };
  }

  /**
   * Loads every file (globs already expanded) plus inline rule texts. On any error throws a
   * RuleLoadError listing all of them and keeps the running groups. Unchanged groups go on as
   * they are; changed ones take over their predecessor's alerts and series; removed ones get
   * staleness markers for what they wrote (after two intervals, so that a renamed rule's new
   * series exist first, as Prometheus does). `ruleQueryOffsetMs` is the global rule_query_offset.
   */
  update(files: readonly string[], globalIntervalMs: number, inline: readonly InlineRules[] = [], ruleQueryOffsetMs = 0): Promise<void> {
    const run = this.updating.then(() => this.apply(files, globalIntervalMs, inline, ruleQueryOffsetMs));
    this.updating = run.catch(() => {});
    return run;
  }

  private async apply(files: readonly string[], globalIntervalMs: number, inline: readonly InlineRules[], ruleQueryOffsetMs: number): Promise<void> {
    if (this.stopped) return;
    const loaded = loadRuleConfigs(files, inline);
    const groups: RuleGroup[] = [];
    for (const { file, groups: configs } of loaded) {
      for (const c of configs) groups.push(buildGroup(file, c, globalIntervalMs, this.env, () => this.opts.externalLabels(), this.opts.externalURL));
    }
    this.queryOffsetMs = ruleQueryOffsetMs;
    const old = new Map(this.runners.map((r) => [r.group.key, r]));
    const next: GroupRunner[] = [];
    const starting: GroupRunner[] = [];
    for (const g of groups) {
      const prev = old.get(g.key);
      old.delete(g.key);
      if (prev && prev.group.equals(g)) {
        next.push(prev);
        continue;
      }
      let owned = false;
      if (prev) {
        owned = prev.evaluating;
        await prev.stop();
        g.copyState(prev.group);
      }
      const runner = new GroupRunner(g, { clock: this.opts.clock, owns: () => this.opts.ownsGroup(g.key), logger: this.env.logger.with({ file: g.file, group: g.name }), owned });
      next.push(runner);
      starting.push(runner);
    }
    for (const removed of old.values()) await this.retire(removed);
    this.runners = next;
    for (const r of starting) r.start();
  }

  /** Stops a group a reload removed and marks its series stale two intervals later. */
  private async retire(runner: GroupRunner): Promise<void> {
    const wasEvaluating = runner.evaluating;
    await runner.stop();
    if (!wasEvaluating) return;
    const clock = this.opts.clock;
    const stoppedAt = clock.wallNow();
    const g = runner.group;
    const handle = {
      timer: clock.setTimeout(() => {
        this.pendingStale.delete(handle);
        g.markAllStale(stoppedAt - g.queryOffsetMs()).catch((e: unknown) => this.env.logger.warn("Stale sample appending for removed rule group failed", { err: e }));
      }, 2 * g.intervalMs),
      cancel: () => clock.clearTimeout(handle.timer),
    };
    handle.timer.unref?.();
    this.pendingStale.add(handle);
  }

  /** Ownership may have changed: groups this member lost stop at once, gained ones start at their next slot. */
  reshard(): void {
    for (const r of this.runners) r.reshard();
  }

  /** Resolves when no group is evaluating (tests drive a manual clock, then wait for this). */
  async idle(): Promise<void> {
    await this.updating;
    await Promise.all(this.runners.map((r) => r.idle()));
  }

  ruleGroups(): RuleGroupStatus[] {
    return this.runners.map((r) => groupStatus(r.group, r.reportable ? this.opts.nodeName : ""));
  }

  /** Every loaded group (for `shoal test rules`-like drivers and tests). */
  groups(): RuleGroup[] {
    return this.runners.map((r) => r.group);
  }

  stats(): RuleGroupStats[] {
    return this.runners.map(({ group: g }) => ({
      key: g.key,
      evaluationsTotal: g.counters.evaluations,
      evaluationFailuresTotal: g.counters.evaluationFailures,
      iterationsTotal: g.counters.iterations,
      iterationsMissedTotal: g.counters.iterationsMissed,
      intervalSeconds: g.intervalMs / 1000,
      lastEvaluationTimestampSeconds: g.lastEvaluationMs / 1000,
      lastDurationSeconds: g.evaluationTimeSeconds,
      rules: g.rules.length,
      lastEvaluationSamples: g.lastEvaluationSamples,
    }));
  }

  /** Stops every group (evaluations in flight finish); pending staleness markers of removed groups are dropped, as Prometheus does on shutdown. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.updating;
    for (const h of this.pendingStale) h.cancel();
    this.pendingStale.clear();
    await Promise.all(this.runners.map((r) => r.stop()));
  }
}
