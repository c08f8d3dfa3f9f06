/**
 * Query results and label sets rendered to Prometheus's JSON shapes. Matrices can be large, so
 * the JSON text is built directly rather than through intermediate objects.
 */
import { sumMemberReads, type Labels, type MemberReadStats } from "../model/index.ts";
import type { QueryStats, QueryValue } from "../promql/index.ts";
import { formatFloat, formatTimestamp } from "./format.ts";

export function labelsJSON(labels: Labels): string {
  let s = "{";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) s += ",";
    s += JSON.stringify(l.name) + ":" + JSON.stringify(l.value);
  }
  return s + "}";
}

function pointJSON(t: number, v: number): string {
  return `[${formatTimestamp(t)},"${formatFloat(v)}"]`;
}

/** `{"resultType":...,"result":...}` without the closing brace, so stats may follow. */
function valueBodyJSON(value: QueryValue): string {
  switch (value.resultType) {
    case "scalar":
      return `{"resultType":"scalar","result":${pointJSON(value.t, value.v)}`;
    case "string":
      return `{"resultType":"string","result":[${formatTimestamp(value.t)},${JSON.stringify(value.v)}]`;
    case "vector": {
      const parts: string[] = [];
      for (const s of value.result) parts.push(`{"metric":${labelsJSON(s.labels)},"value":${pointJSON(s.t, s.v)}}`);
      return `{"resultType":"vector","result":[${parts.join(",")}]`;
    }
    case "matrix": {
      const parts: string[] = [];
      for (const s of value.result) {
        const pts: string[] = new Array(s.timestamps.length);
        for (let i = 0; i < s.timestamps.length; i++) pts[i] = pointJSON(s.timestamps[i]!, s.values[i]!);
        parts.push(`{"metric":${labelsJSON(s.labels)},"values":[${pts.join(",")}]}`);
      }
      return `{"resultType":"matrix","result":[${parts.join(",")}]`;
    }
  }
}

/**
 * Prometheus's `stats` object (query param `stats`). With `stats=all`, a cluster adds what each
 * member sent (`cluster.members`: series, samples, bytes, seconds, and whether it evaluated part
 * of the query itself); Prometheus's per-step sample counts are not tracked.
 */
export function statsJSON(stats: QueryStats, all = false): string {
  const body: Record<string, unknown> = {
    timings: {
      evalTotalTime: stats.execTotalTime,
      resultSortTime: 0,
      queryPreparationTime: stats.queryPreparationTime,
      innerEvalTime: stats.innerEvalTime,
      execQueueTime: 0,
      execTotalTime: stats.execTotalTime,
    },
    samples: { totalQueryableSamples: stats.totalQueryableSamples, peakSamples: stats.peakSamples },
  };
  if (all) {
    const reads: MemberReadStats[] = [...(stats.members ?? [])];
    for (const p of stats.pushdown ?? []) for (const m of p.members) reads.push({ ...m, pushdown: true });
    if (reads.length > 0) body.cluster = { members: sumMemberReads(reads) };
  }
  return JSON.stringify(body);
}

export function queryDataJSON(value: QueryValue, stats: QueryStats | null, all = false): string {
  return valueBodyJSON(value) + (stats ? `,"stats":${statsJSON(stats, all)}}` : "}");
}
