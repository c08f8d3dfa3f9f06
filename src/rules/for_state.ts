/**
 * Restoring how long alerts have been active from the `ALERTS_FOR_STATE` series (value: the
 * alert's activeAt in Unix seconds), so that a node that starts evaluating a group — after a
 * restart, or because it took the group over from a member that died or left — does not begin
 * every `for` from zero.
 *
 * Prometheus restores once, after a restarted server's second evaluation. A new owner here must
 * keep firing alerts firing at its very first evaluation, so the series are read before that
 * evaluation and kept as candidates for the first two evaluations (an alert over a recording
 * rule's output may only appear in the second); each candidate is applied when its alert first
 * appears. The arithmetic is Prometheus's (see `restoredActiveAtMs`).
 */
import { isStaleAt, labelsKey, labelsWith, Matcher, METRIC_NAME, type Labels, type Queryable } from "../model/index.ts";

export const ALERTS_FOR_STATE = "ALERTS_FOR_STATE";

/** What the previous evaluator last wrote for one alert. */
export interface ForStateCandidate {
  /** Time of the last sample, truncated to seconds as Prometheus does: when the old evaluator stopped. */
  downAtMs: number;
  /** The alert's activeAt as it was written (whole seconds). */
  activeAtMs: number;
}

/** The evaluations during which a read candidate may still be applied. */
export const RESTORE_EVALUATIONS = 2;

/**
 * Reads the latest `ALERTS_FOR_STATE` sample of every alert of one rule within
 * [tsMs - outageToleranceMs, tsMs]. `ruleLabels` are the rule's labels before template
 * expansion: those holding a template cannot be matched and are left out of the selection, as
 * Prometheus does. Keys are `labelsKey` of the alert's labels (the series without `__name__`).
 * Series whose last sample is a staleness marker (the alert had resolved) are not candidates.
 */
export async function readForState(
  queryable: Queryable,
  alertName: string,
  ruleLabels: Labels,
  tsMs: number,
  outageToleranceMs: number,
  signal?: AbortSignal,
): Promise<Map<string, ForStateCandidate>> {
  const matchers = [new Matcher("=", METRIC_NAME, ALERTS_FOR_STATE), new Matcher("=", "alertname", alertName)];
  for (const l of ruleLabels) {
    if (l.name === "alertname" || l.value.includes("{{")) continue;
    matchers.push(new Matcher("=", l.name, l.value));
  }
  const querier = queryable.querier(tsMs - outageToleranceMs, tsMs);
  const out = new Map<string, ForStateCandidate>();
  try {
    const set = await querier.select(matchers, { start: tsMs - outageToleranceMs, end: tsMs, ...(signal ? { signal } : {}) });
    for (const s of set.series) {
      const last = s.timestamps.length - 1;
      if (last < 0 || isStaleAt(s.values, last)) continue;
      out.set(labelsKey(labelsWith(s.labels, METRIC_NAME, "")), {
        downAtMs: Math.floor(s.timestamps[last]! / 1000) * 1000,
        activeAtMs: Math.trunc(s.values[last]!) * 1000,
      });
    }
  } finally {
    querier.close();
  }
  return out;
}

/**
 * The activeAt an alert gets from its candidate when it reappears at `tsMs`, or undefined when
 * it starts over. Prometheus's rules: an alert that had been active for its whole `for` keeps its
 * activeAt (it fires at once); a pending one is shifted by the time nobody evaluated it, but
 * fires no sooner than the grace period after `tsMs`.
 *
 * Prometheus restores nothing for rules whose `for` is shorter than the grace period. Shoal
 * restores their firing alerts (only the pending ones start over): a group moving to another
 * member must not turn a firing alert back into a pending one, nor reset its activeAt.
 */
export function restoredActiveAtMs(c: ForStateCandidate, holdMs: number, tsMs: number, gracePeriodMs: number): number | undefined {
  const remainingMs = holdMs - (c.downAtMs - c.activeAtMs);
  if (remainingMs <= 0) return c.activeAtMs;
  if (holdMs < gracePeriodMs) return undefined;
  if (remainingMs < gracePeriodMs) return tsMs + gracePeriodMs - holdMs;
  return c.activeAtMs + (tsMs - c.downAtMs);
}
