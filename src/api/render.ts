/**
 * Query results and label sets rendered to Prometheus's JSON shapes. Matrices can be large, so
 * the JSON text is built directly rather than through intermediate objects.
 */
import type { Labels } from "../model/index.ts";
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

/** Prometheus's `stats` object (query param `stats`; `all` adds nothing we track per step). */
export function statsJSON(stats: QueryStats): string {
  return JSON.stringify({
    timings: {
      evalTotalTime: stats.execTotalTime,
      resultSortTime: 0,
      queryPreparationTime: stats.queryPreparationTime,
      innerEvalTime: stats.innerEvalTime,
      execQueueTime: 0,
      execTotalTime: stats.execTotalTime,
    },
    samples: { totalQueryableSamples: stats.totalQueryableSamples, peakSamples: stats.peakSamples },
  });
}

export function queryDataJSON(value: QueryValue, stats: QueryStats | null): string {
  return valueBodyJSON(value) + (stats ? `,"stats":${statsJSON(stats)}}` : "}");
}
