/**
 * The cluster's metric families (`shoal_cluster_*`): membership, replication, hinted handoff,
 * hand-off transfers, anti-entropy and the fan-out querier. The cluster hands its figures over
 * as plain data at scrape time; this file only names and shapes them.
 */
import type { ClusterFigures, MetricFamily } from "../model/index.ts";
import type { Registry } from "./registry.ts";

function one(name: string, type: "counter" | "gauge", help: string, value: number): MetricFamily {
  return { name, help, type, samples: [{ suffix: "", labels: {}, value }] };
}

export function clusterFamilies(f: ClusterFigures): MetricFamily[] {
  const byState = new Map<string, number>();
  for (const m of f.members) {
    const k = `${m.state}\xff${m.health}`;
    byState.set(k, (byState.get(k) ?? 0) + 1);
  }
  let hintBytes = 0;
  const hintSamples = f.hintQueues.map((q) => {
    hintBytes += q.bytes;
    return { suffix: "", labels: { peer: q.peer }, value: q.bytes };
  });
  const h = f.handoff;
  return [
    {
      name: "shoal_cluster_members",
      help: "Cluster members by announced state and locally observed health.",
      type: "gauge",
      samples: [...byState].map(([k, v]) => {
        const [state, health] = k.split("\xff");
        return { suffix: "", labels: { state: state!, health: health! }, value: v };
      }),
    },
    {
      name: "shoal_cluster_member_heartbeat_age_seconds",
      help: "Seconds since the last heartbeat of each member.",
      type: "gauge",
      samples: f.members.map((m) => ({ suffix: "", labels: { member: m.name, id: m.id }, value: m.heartbeatAgeSeconds })),
    },
    {
      name: "shoal_cluster_member_up",
      help: "Whether each other member is heard (1: alive or suspect) or held dead (0), as this node sees it; dead members stay until forgotten.",
      type: "gauge",
      samples: f.members.filter((m) => !m.self).map((m) => ({ suffix: "", labels: { member: m.name, id: m.id }, value: m.health === "dead" ? 0 : 1 })),
    },
    one("shoal_cluster_replication_factor", "gauge", "Configured replication factor: copies every series should have.", f.replicationFactor),
    one(
      "shoal_cluster_effective_replication_factor",
      "gauge",
      "Copies the ring places now: the configured replication factor capped by the number of live members holding data.",
      f.effectiveReplicationFactor,
    ),
    {
      name: "shoal_cluster_forwarded_samples_total",
      help: "Samples sent to replicas, by peer and outcome (success, failure, hinted).",
      type: "counter",
      samples: f.forwardedSamples,
    },
    {
      name: "shoal_cluster_forwarded_batches_total",
      help: "Write batches sent to replicas, by peer and outcome (success, failure, hinted).",
      type: "counter",
      samples: f.forwardedBatches,
    },
    one("shoal_cluster_write_quorum_failures_total", "counter", "Commits that did not reach a write quorum.", f.writeQuorumFailures),
    {
      name: "shoal_cluster_hinted_handoff_queue_bytes",
      help: "Bytes in the on-disk hinted-handoff queue, by peer.",
      type: "gauge",
      samples: hintSamples.length ? hintSamples : [{ suffix: "", labels: {}, value: hintBytes }],
    },
    one("shoal_cluster_hinted_handoff_queued_batches_total", "counter", "Batches put into the hinted-handoff queue.", f.hints.queuedBatches),
    one("shoal_cluster_hinted_handoff_replayed_batches_total", "counter", "Hinted-handoff batches delivered to their replica.", f.hints.replayedBatches),
    one("shoal_cluster_hinted_handoff_replayed_bytes_total", "counter", "Bytes of hinted-handoff batches delivered to their replica.", f.hints.replayedBytes),
    one(
      "shoal_cluster_hinted_handoff_dropped_batches_total",
      "counter",
      "Hinted-handoff batches dropped because a queue was full or its member forgotten.",
      f.hints.droppedBatches,
    ),
    {
      name: "shoal_cluster_handoff_bytes_total",
      help: "Compressed bytes of hand-off transfers, by direction (in, out) and reason (join, leave, death, repair).",
      type: "counter",
      samples: h.bytes,
    },
    { name: "shoal_cluster_handoff_series_total", help: "Series moved by hand-off transfers, by direction and reason.", type: "counter", samples: h.series },
    { name: "shoal_cluster_handoff_samples_total", help: "Samples moved by hand-off transfers, by direction and reason.", type: "counter", samples: h.samples },
    {
      name: "shoal_cluster_handoff_failed_transfers_total",
      help: "Hand-off transfers that broke off (resumed or retried elsewhere), by direction and reason.",
      type: "counter",
      samples: h.failedTransfers,
    },
    one("shoal_cluster_handoff_transfers_active", "gauge", "Hand-off transfers running on this node.", h.activeTransfers),
    one(
      "shoal_cluster_handoff_dropped_series_total",
      "counter",
      "Series dropped because this node no longer owns them (after the hand-off grace period).",
      h.droppedSeries,
    ),
    one(
      "shoal_cluster_ranges_under_replicated",
      "gauge",
      "Token ranges with fewer live copies than the configured replication factor: an owner suspect or dead, a range being re-replicated, or fewer members than the factor.",
      f.replication.underReplicatedRanges,
    ),
    one(
      "shoal_cluster_ring_under_replicated_ratio",
      "gauge",
      "Fraction of the hash ring with fewer live copies than the configured replication factor.",
      f.replication.underReplicatedFraction,
    ),
    one(
      "shoal_cluster_ring_unavailable_ratio",
      "gauge",
      "Fraction of the hash ring (as data was written) with no live copy at all: queries there return partial results.",
      f.replication.unavailableFraction,
    ),
    one("shoal_cluster_ranges_min_live_replicas", "gauge", "Fewest live copies held of any token range.", f.replication.minLiveReplicas),
    one(
      "shoal_cluster_ranges_rereplicating",
      "gauge",
      "Token ranges members are copying to their new owners after a member died (from every member's heartbeat).",
      h.reReplicatingRanges,
    ),
    one(
      "shoal_cluster_antientropy_repairs_total",
      "counter",
      "Series repaired by anti-entropy (streamed to or from a replica whose copy differed).",
      f.antiEntropy.repairs,
    ),
    one(
      "shoal_cluster_late_samples_backfilled_total",
      "counter",
      "Forwarded samples that arrived after a newer sample of their series (overtaken between distributors) and were backfilled instead of refused.",
      f.lateSamplesBackfilled,
    ),
    one("shoal_cluster_antientropy_runs_total", "counter", "Anti-entropy comparison rounds.", f.antiEntropy.runs),
    {
      name: "shoal_cluster_fanout_query_duration_seconds",
      help: "Latency of fan-out selects and label queries across the members.",
      type: "histogram",
      samples: f.fanout.latency,
    },
    one("shoal_cluster_fanout_partial_results_total", "counter", "Fan-out queries answered with a partial-result warning.", f.fanout.partialResults),
    {
      name: "shoal_cluster_fanout_member_errors_total",
      help: "Members that did not answer a fan-out query, by member.",
      type: "counter",
      samples: f.fanout.memberErrors,
    },
    {
      name: "shoal_cluster_rpc_requests_total",
      help: "Requests this node sent to other members, by protocol and by transport (http for reads over the members' HTTP API, libp2p otherwise).",
      type: "counter",
      samples: f.rpcRequests,
    },
  ];
}

/** Renders the cluster's figures (read at every scrape) with the registry's other families. */
export function registerClusterMetrics(reg: Registry, figures: () => ClusterFigures): void {
  reg.collector(() => clusterFamilies(figures()));
}
