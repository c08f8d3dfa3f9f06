/**
 * The cluster's figures at one scrape, as plain data: the cluster fills them in, telemetry
 * names and shapes them as `shoal_cluster_*` families (neither room imports the other).
 */
import type { MetricSample } from "./metric_family.ts";

export interface ClusterFigures {
  members: { id: string; name: string; state: string; health: string; heartbeatAgeSeconds: number }[];
  replicationFactor: number;
  forwardedSamples: MetricSample[];
  forwardedBatches: MetricSample[];
  writeQuorumFailures: number;
  /** Bytes queued for hinted handoff, per peer name. */
  hintQueues: { peer: string; bytes: number }[];
  hints: { queuedBatches: number; replayedBatches: number; replayedBytes: number; droppedBatches: number };
  handoff: {
    bytes: MetricSample[];
    series: MetricSample[];
    samples: MetricSample[];
    failedTransfers: MetricSample[];
    activeTransfers: number;
    droppedSeries: number;
    underReplicatedRanges: number;
  };
  antiEntropy: { repairs: number; runs: number };
  lateSamplesBackfilled: number;
  fanout: { latency: MetricSample[]; partialResults: number; memberErrors: MetricSample[] };
}

