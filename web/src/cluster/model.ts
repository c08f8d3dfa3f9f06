/**
 * The cluster status as the page draws it. It reads `/api/v1/status/cluster` with the server's
 * own types (type-only imports, erased from the bundle), so a change of the status shape fails
 * the type check instead of silently emptying the page.
 */
import type { ClusterStatus, MemberStatus, TransferProgress } from "../../../src/cluster/index.ts";

export type { ClusterStatus, MemberStatus, TransferProgress };

export interface MemberView {
  id: string;
  name: string;
  /** Ring state: joining, active, leaving. */
  state: string;
  /** Liveness from heartbeats: alive, suspect, dead. */
  health: string;
  self: boolean;
  addresses: string[];
  httpAddress: string;
  /** Seconds since the last heartbeat was received; 0 for this node. */
  heartbeatAge: number;
  tokenCount: number;
  /** Fraction (0..1) of the hash ring this member owns as primary / holds as one of R replicas. */
  ringShare: number;
  replicaShare: number;
  /** Hinted handoff: bytes and batches this node keeps for the member while it was unreachable. */
  hintBytes: number;
  hintBatches: number;
  /** Load figures the member announces in its heartbeat (memory, samples appended, ...). */
  load: Record<string, number>;
}

/** One data transfer after a membership change, as the node named `node` reports it. */
export interface TransferView {
  /** The same on both ends of a transfer. */
  id: string;
  node: string;
  /** This node receives the data. */
  receiving: boolean;
  /** "a → b", sender first. */
  route: string;
  reason: string;
  state: string;
  /** 0..1, from samples (or series) done over the total counted before sending. */
  progress: number | null;
  samples: { done: number; total: number };
  bytes: number;
  error: string | null;
}

export interface HandoffView {
  /** What this node is doing: idle, joining, leaving, left, re-replicating. */
  state: string;
  /** Ranges members are copying to their new owners after a death. */
  reReplicatingRanges: number;
  moved: { bytesIn: number; bytesOut: number; seriesIn: number; seriesOut: number; samplesIn: number; samplesOut: number };
  failedTransfers: number;
  droppedSeries: number;
  antiEntropy: { runs: number; lastRunAt: string | null; lastComparedCells: number; lastDifferingCells: number; repairs: number; lastError: string | null };
}

export interface ClusterView {
  self: string;
  name: string;
  replicationFactor: number;
  configuredReplicationFactor: number;
  writeQuorum: number;
  members: MemberView[];
  replication: { healthy: boolean; text: string };
  handoff: HandoffView;
  /** This node's transfers, running and recently ended; the page adds the other members'. */
  transfers: TransferView[];
  /** The cluster's identity, and whether it is final on this node. */
  clusterId: string;
  clusterIdSettled: boolean;
  /** What the operator should fix (e.g. no cluster secret). */
  warnings: string[];
  /** Nodes of other clusters that reached this node and were refused. */
  refused: { name: string; id: string; clusterId: string }[];
}

export function readClusterStatus(s: ClusterStatus): ClusterView {
  const members = s.members.map(memberView);
  const self = members.find((m) => m.self)?.name ?? s.self;
  return {
    self: s.self,
    name: s.clusterName,
    replicationFactor: s.replicationFactor,
    configuredReplicationFactor: s.configuredReplicationFactor,
    writeQuorum: s.writeQuorum,
    members,
    replication: replicationText(s.replication),
    handoff: handoffView(s.handoff),
    transfers: readTransfers(self, [...s.handoff.transfers, ...s.handoff.recent]),
    clusterId: s.clusterId,
    clusterIdSettled: s.clusterIdSettled,
    warnings: s.warnings,
    refused: s.refusedPeers.map((p) => ({ name: p.name, id: p.id, clusterId: p.clusterId })),
  };
}

function memberView(m: MemberStatus): MemberView {
  return {
    id: m.id,
    name: m.name,
    state: m.state,
    health: m.health,
    self: m.self,
    addresses: m.addresses,
    httpAddress: m.httpAddress,
    heartbeatAge: m.lastHeartbeatAgeSeconds,
    tokenCount: m.tokens,
    ringShare: m.ringShare,
    replicaShare: m.replicaShare,
    hintBytes: m.hintedHandoff.pendingBytes,
    hintBatches: m.hintedHandoff.pendingBatches,
    load: m.load,
  };
}

function replicationText(r: ClusterStatus["replication"]): ClusterView["replication"] {
  const pct = (f: number) => `${(f * 100).toFixed(f > 0 && f < 0.001 ? 3 : 1)}%`;
  if (r.healthy && r.standalone) return { healthy: true, text: "standalone node: one copy (the replication factor applies once members join)" };
  const parts = [`${pct(r.fullyReplicatedFraction)} of the ring fully replicated`];
  // Judged against the configured factor: too few members for it is under-replication too.
  if (r.underReplicatedFraction > 0) parts.push(`${pct(r.underReplicatedFraction)} under-replicated (${r.underReplicatedRanges} ranges with fewer than ${r.targetReplicas} live copies, fewest ${r.minLiveReplicas})`);
  if (r.unavailableFraction > 0) parts.push(`${pct(r.unavailableFraction)} without a live replica`);
  return { healthy: r.healthy, text: parts.join(" · ") };
}

function handoffView(h: ClusterStatus["handoff"]): HandoffView {
  const t = h.totals;
  const ae = h.antiEntropy;
  return {
    state: h.state,
    reReplicatingRanges: h.reReplicatingRanges,
    moved: {
      bytesIn: t.bytes.in,
      bytesOut: t.bytes.out,
      seriesIn: t.series.in,
      seriesOut: t.series.out,
      samplesIn: t.samples.in,
      samplesOut: t.samples.out,
    },
    failedTransfers: t.failedTransfers,
    droppedSeries: h.drop.droppedSeries,
    antiEntropy: {
      runs: ae.runs,
      lastRunAt: ae.lastRunAt,
      lastComparedCells: ae.lastComparedCells,
      lastDifferingCells: ae.lastDifferingCells,
      repairs: ae.repairs,
      lastError: ae.lastError,
    },
  };
}

/** The transfers a node reports, each once: `node` is the reporting member's name. */
export function readTransfers(node: string, list: readonly TransferProgress[]): TransferView[] {
  return list.map((t) => {
    const [from, to] = t.direction === "out" ? [node, t.peerName] : [t.peerName, node];
    const { done, total } = t;
    const progress = total.samples > 0 ? Math.min(1, done.samples / total.samples) : total.series > 0 ? Math.min(1, done.series / total.series) : null;
    return {
      id: t.id,
      node,
      receiving: t.direction === "in",
      route: `${from} → ${to}`,
      reason: t.reason,
      state: t.state,
      progress,
      samples: { done: done.samples, total: total.samples },
      bytes: done.bytes,
      error: t.error ?? null,
    };
  });
}

/**
 * Every member's transfers, one entry per transfer: both ends report a transfer under the same
 * id, and the receiving end's report wins (it knows what has landed). Running ones first.
 */
export function mergeTransfers(reports: readonly TransferView[][]): TransferView[] {
  const byId = new Map<string, TransferView>();
  for (const list of reports) {
    for (const t of list) {
      const prev = byId.get(t.id);
      if (!prev || (t.receiving && !prev.receiving)) byId.set(t.id, t);
    }
  }
  const running = (t: TransferView) => (t.state === "running" || t.state === "waiting" ? 0 : 1);
  return [...byId.values()].sort((a, b) => running(a) - running(b) || (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));
}
