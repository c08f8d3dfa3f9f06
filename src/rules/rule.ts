/**
 * What recording and alerting rules share: how they query, what they return, and the health
 * fields /api/v1/rules reports for each rule.
 */
import type { Labels, RuleHealth } from "../model/index.ts";
import type { QueryValue } from "../promql/index.ts";

/** One sample of a rule's output (or of its query's result). */
export interface RuleSample {
  labels: Labels;
  t: number;
  v: number;
}

/** An instant query whose result is a vector (a scalar becomes one sample without labels). */
export type RuleQueryFunc = (expr: string, timeMs: number) => Promise<RuleSample[]>;

/** What node.ts hands in: the engine's instant query over the cluster's reads. */
export type InstantQueryFunc = (expr: string, timeMs: number) => Promise<QueryValue>;

/** Prometheus's EngineQueryFunc: vectors as they are, a scalar as one sample, anything else an error. */
export function vectorQuery(query: InstantQueryFunc): RuleQueryFunc {
  return async (expr, timeMs) => {
    const value = await query(expr, timeMs);
    switch (value.resultType) {
      case "vector":
        return value.result;
      case "scalar":
        return [{ labels: [], t: value.t, v: value.v }];
      default:
        throw new Error("rule result is not a vector or scalar");
    }
  };
}

/** What one evaluation of a rule works with, handed in by its group. */
export interface RuleEvalContext {
  /** The group's slotted evaluation time. */
  tsMs: number;
  /** Queries run at tsMs - queryOffsetMs and output is written there. */
  queryOffsetMs: number;
  /** The group's `limit` (0: none). */
  limit: number;
  query: RuleQueryFunc;
}

/** The per-rule figures that /api/v1/rules shows. */
export class RuleHealthState {
  health: RuleHealth = "unknown";
  lastError = "";
  /** Seconds the latest evaluation took. */
  evaluationTimeSeconds = 0;
  /** Wall-clock ms when the latest evaluation started; 0 before the first. */
  lastEvaluationMs = 0;

  succeeded(): void {
    this.health = "ok";
    this.lastError = "";
  }

  failed(err: unknown): void {
    this.health = "err";
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}
