/**
 * A recording rule: its query's result, renamed to the rule's name and with the rule's labels
 * set, becomes new series (Prometheus's RecordingRule.Eval).
 */
import { labelsKey, labelsWith, METRIC_NAME, type Labels } from "../model/index.ts";
import { RuleHealthState, type RuleEvalContext, type RuleSample } from "./rule.ts";

export const DUPLICATE_RECORDING_LABELSET = "vector contains metrics with the same labelset after applying rule labels";

export class RecordingRule {
  readonly type = "recording";
  readonly state = new RuleHealthState();

  /**
   * `expr` is the query as the PromQL printer formats it (what Prometheus evaluates and shows);
   * `labels` are the group's labels overlaid with the rule's.
   */
  constructor(
    readonly name: string,
    readonly expr: string,
    readonly labels: Labels,
  ) {}

  async eval(ctx: RuleEvalContext): Promise<RuleSample[]> {
    const vector = await ctx.query(this.expr, ctx.tsMs - ctx.queryOffsetMs);
    const out: RuleSample[] = new Array(vector.length);
    const seen = new Set<string>();
    for (let i = 0; i < vector.length; i++) {
      const s = vector[i]!;
      let labels = labelsWith(s.labels, METRIC_NAME, this.name);
      for (const l of this.labels) labels = labelsWith(labels, l.name, l.value);
      const key = labelsKey(labels);
      if (seen.has(key)) throw new Error(DUPLICATE_RECORDING_LABELSET);
      seen.add(key);
      out[i] = { labels, t: s.t, v: s.v };
    }
    if (ctx.limit > 0 && out.length > ctx.limit) throw new Error(`exceeded limit of ${ctx.limit} with ${out.length} series`);
    return out;
  }
}
