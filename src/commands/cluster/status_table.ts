/** The text `shoal cluster status` prints: the members table, then the hand-off progress. */
import type { ClusterStatus } from "../../cluster/index.ts";

function fmtPct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}MiB`;
  return `${(n / 1024 ** 3).toFixed(1)}GiB`;
}

export function formatStatusTable(s: ClusterStatus): string {
  const header = ["NAME", "STATE", "HEALTH", "HTTP", "HEARTBEAT", "TOKENS", "PRIMARY", "REPLICA", "HINTS", "ID"];
  const rows = s.members.map((m) => [
    m.name + (m.self ? " *" : ""),
    m.state,
    m.health,
    m.httpAddress || "-",
    `${m.lastHeartbeatAgeSeconds.toFixed(1)}s`,
    String(m.tokens),
    fmtPct(m.ringShare),
    fmtPct(m.replicaShare),
    m.hintedHandoff.pendingBatches ? `${m.hintedHandoff.pendingBatches} (${fmtBytes(m.hintedHandoff.pendingBytes)})` : "0",
    m.id,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const title =
    `cluster ${s.clusterName}: ${s.members.length} members, replication factor ${s.configuredReplicationFactor}` +
    (s.replicationFactor !== s.configuredReplicationFactor ? ` (${s.replicationFactor} placed on the live members)` : "") +
    `, write quorum ${s.writeQuorum}`;
  const health = s.replication ? formatReplication(s.replication) : "";
  const identity = s.clusterId ? [`cluster id: ${s.clusterId}${s.clusterIdSettled ? "" : " (provisional: this fresh node may still adopt the id of the members it meets)"}`] : [];
  const warnings = (s.warnings ?? []).map((w) => `WARNING: ${w}`);
  const refused = (s.refusedPeers ?? []).map((p) => `refused node ${p.name} (${p.id}) of another cluster (id ${p.clusterId})`);
  return [title, ...identity, ...warnings, ...refused, ...(health ? [health] : []), line(header), ...rows.map(line), ...formatHandoff(s)].join("\n") + "\n";
}

/** The replication line: judged against the configured factor, never against the member count. */
export function formatReplication(r: ClusterStatus["replication"]): string {
  if (r.healthy) {
    return r.standalone
      ? "replication: standalone node, one copy of every range (the replication factor applies once members join)"
      : `replication: every range has all its ${r.targetReplicas} replicas`;
  }
  return (
    `replication: UNDER-REPLICATED: ${r.underReplicatedRanges} ranges (${fmtPct(r.underReplicatedFraction)} of the ring) have fewer than ${r.targetReplicas} live replicas ` +
    `(fewest: ${r.minLiveReplicas}), ${fmtPct(r.unavailableFraction)} without a live replica`
  );
}

export function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** The hand-off part of the status: state, transfers in progress, totals. */
function formatHandoff(s: ClusterStatus): string[] {
  const h = s.handoff;
  if (!h) return [];
  const out = [
    "",
    `hand-off: ${h.state}; ${h.reReplicatingRanges} ranges re-replicating; moved in ${fmtBytes(h.totals.bytes.in)} ` +
      `(${fmtCount(h.totals.samples.in)} samples), out ${fmtBytes(h.totals.bytes.out)} (${fmtCount(h.totals.samples.out)} samples); ` +
      `${h.drop.droppedSeries} series dropped; anti-entropy ${h.antiEntropy.runs} runs, ${h.antiEntropy.repairs} series repaired`,
  ];
  if (h.leave.requested) out.push(`leave: started ${h.leave.startedAt}${h.leave.finishedAt ? `, finished ${h.leave.finishedAt}` : ""}${h.leave.error ? `, error: ${h.leave.error}` : ""}`);
  if (h.transfers.length > 0) {
    const header = ["DIRECTION", "PEER", "REASON", "STATE", "SERIES", "SAMPLES", "BYTES", "PROGRESS"];
    const rows = h.transfers.map((t) => [
      t.direction,
      t.peerName,
      t.reason,
      t.state,
      `${fmtCount(t.done.series)}/${fmtCount(t.total.series)}`,
      `${fmtCount(t.done.samples)}/${fmtCount(t.total.samples)}`,
      fmtBytes(t.done.bytes),
      t.total.samples > 0 ? fmtPct(t.done.samples / t.total.samples) : "-",
    ]);
    const widths = header.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
    out.push(line(header), ...rows.map(line));
  }
  return out;
}
