/**
 * The cluster's figures at one scrape, as plain data: the cluster fills them in, telemetry
 * names and shapes them as `shoal_cluster_*` families (neither room imports the other).
 */
import type { MetricSample } from "./metric_family.ts";

export interface ClusterFigures {
  members: { id: string; name: string; self: boolean; state: string; health: string; heartbeatAgeSeconds: number }[];
  /** The configured replication factor (--cluster.replication-factor). */
  replicationFactor: number;
  /** Copies the ring places now: the configured factor capped by the members holding data. */
  effectiveReplicationFactor: number;
  /** Copies held against the configured factor (the cluster's replication health). */
  replication: {
    underReplicatedRanges: number;
    underReplicatedFraction: number;
    unavailableFraction: number;
    minLiveReplicas: number;
  };
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
    /** Ranges members are copying after a death (from every member's heartbeat). */
    reReplicatingRanges: number;
  };
  antiEntropy: { repairs: number; runs: number };
  lateSamplesBackfilled: number;
  fanout: { latency: MetricSample[]; partialResults: number; memberErrors: MetricSample[] };
  /** Requests sent to members, by protocol and transport. */
  rpcRequests: MetricSample[];
}

