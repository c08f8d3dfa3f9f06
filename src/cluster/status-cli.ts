/**
 * `shoal cluster status [--url http://host:9090]`: prints the members table that a node serves at
 * /api/v1/status/cluster.
 */
import type { ClusterStatus } from "./cluster.ts";

const USAGE = "usage: shoal cluster status [--url http://127.0.0.1:9090]";

function fmtPct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function fmtBytes(n: number): string {
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
    `cluster ${s.clusterName}: ${s.members.length} members, replication factor ${s.replicationFactor}` +
    (s.replicationFactor !== s.configuredReplicationFactor ? ` (configured ${s.configuredReplicationFactor})` : "") +
    `, write quorum ${s.writeQuorum}`;
  const r = s.replication;
  const health = r
    ? r.healthy
      ? "replication: every range has all its replicas"
      : `replication: ${fmtPct(r.underReplicatedFraction)} of the ring under-replicated, ${fmtPct(r.unavailableFraction)} without a live replica`
    : "";
  return [title, ...(health ? [health] : []), line(header), ...rows.map(line)].join("\n") + "\n";
}

export async function runClusterCommand(sub: string, args: readonly string[]): Promise<number> {
  if (sub !== "status") {
    console.error(`unknown cluster command ${JSON.stringify(sub)}\n${USAGE}`);
    return 2;
  }
  let url = "http://127.0.0.1:9090";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--url" && i + 1 < args.length) url = args[++i]!;
    else if (a.startsWith("--url=")) url = a.slice(6);
    else {
      console.error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      return 2;
    }
  }
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/status/cluster`;
  let res: Response;
  try {
    res = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    console.error(`cannot reach ${endpoint}: ${(err as Error).message}`);
    return 1;
  }
  const body = (await res.json().catch(() => null)) as { status?: string; data?: ClusterStatus; error?: string } | null;
  if (!res.ok || !body || body.status !== "success" || !body.data) {
    console.error(`${endpoint}: HTTP ${res.status}${body?.error ? `: ${body.error}` : ""}`);
    return 1;
  }
  process.stdout.write(formatStatusTable(body.data));
  return 0;
}
