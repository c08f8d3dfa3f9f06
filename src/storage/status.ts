/** The shapes of Prometheus's /api/v1/status/tsdb, computed from the head as Prometheus does. */
import { METRIC_NAME } from "../model/index.ts";
import type { Head } from "./head.ts";

export interface NameCount {
  name: string;
  value: number;
}

export interface TSDBStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: NameCount[];
  labelValueCountByLabelName: NameCount[];
  memoryInBytesByLabelName: NameCount[];
  seriesCountByLabelValuePair: NameCount[];
}

function top(m: Map<string, number>, limit: number): NameCount[] {
  return [...m]
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1))
    .slice(0, limit);
}

export function computeStatus(head: Head, limit: number): TSDBStatus {
  const byMetric = new Map<string, number>();
  const valueCount = new Map<string, number>();
  const memory = new Map<string, number>();
  const pairs = new Map<string, number>();
  let numLabelPairs = 0;
  for (const [name, value, count] of head.postings.pairs()) {
    numLabelPairs++;
    if (name === METRIC_NAME) byMetric.set(value, count);
    valueCount.set(name, (valueCount.get(name) ?? 0) + 1);
    // Prometheus counts the bytes of each distinct value once per label name.
    memory.set(name, (memory.get(name) ?? 0) + Buffer.byteLength(value));
    pairs.set(`${name}=${value}`, count);
  }
  const minTime = head.minTime();
  const stats = head.stats;
  return {
    headStats: {
      numSeries: head.numSeries,
      numLabelPairs,
      chunkCount: stats.chunksCreated - stats.chunksRemoved,
      minTime: Number.isFinite(minTime) ? minTime : 0,
      maxTime: Number.isFinite(head.maxT) ? head.maxT : 0,
    },
    seriesCountByMetricName: top(byMetric, limit),
    labelValueCountByLabelName: top(valueCount, limit),
    memoryInBytesByLabelName: top(memory, limit),
    seriesCountByLabelValuePair: top(pairs, limit),
  };
}
