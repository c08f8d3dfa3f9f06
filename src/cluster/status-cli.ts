/**
 * `shoal cluster status [--url http://host:9090]`: prints the members table and the hand-off
 * progress that a node serves at /api/v1/status/cluster.
 * `shoal cluster leave [--url ...] [--no-wait]`: asks the node to leave gracefully (it hands its
 * ranges over, then exits) and, unless --no-wait, follows its progress until it is gone. When
 * the node's lifecycle API is off (403), a node on this machine gets SIGTERM instead (the same
 * graceful leave); for any other the answer says which flag to enable.
 */
import type { ClusterStatus } from "./cluster.ts";
import { authHint, cliFetch, useHttpConfigFile } from "./cli-http.ts";
import { findLocalNodeProcess } from "./local-node.ts";

const USAGE = "usage: shoal cluster status [--url http://127.0.0.1:9090] [--http.config.file <file>]\n       shoal cluster leave [--url http://127.0.0.1:9090] [--http.config.file <file>] [--no-wait]";

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
  const identity = s.clusterId ? [`cluster id: ${s.clusterId}${s.clusterIdSettled ? "" : " (provisional: this fresh node may still adopt the id of the members it meets)"}`] : [];
  const warnings = (s.warnings ?? []).map((w) => `WARNING: ${w}`);
  const refused = (s.refusedPeers ?? []).map((p) => `refused node ${p.name} (${p.id}) of another cluster (id ${p.clusterId})`);
  return [title, ...identity, ...warnings, ...refused, ...(health ? [health] : []), line(header), ...rows.map(line), ...formatHandoff(s)].join("\n") + "\n";
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** The hand-off part of the status: state, transfers in progress, totals. */
export function formatHandoff(s: ClusterStatus): string[] {
  const h = s.handoff;
  if (!h) return [];
  const out = [
    "",
    `hand-off: ${h.state}; ${h.underReplicatedRanges} ranges under-replicated; moved in ${fmtBytes(h.totals.bytes.in)} ` +
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

async function fetchStatus(url: string): Promise<ClusterStatus> {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/status/cluster`;
  const res = await cliFetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => null)) as { status?: string; data?: ClusterStatus; error?: string } | null;
  if (!res.ok || !body || body.status !== "success" || !body.data) throw new Error(`${endpoint}: HTTP ${res.status}${body?.error ? `: ${body.error}` : ""}`);
  return body.data;
}

async function runLeave(url: string, wait: boolean): Promise<number> {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/cluster/leave`;
  let res: Response;
  try {
    res = await cliFetch(endpoint, { method: "POST", signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    console.error(`cannot reach ${endpoint}: ${(err as Error).message}`);
    return 1;
  }
  const text = await res.text();
  type LeaveAnswer = { data?: { node?: string }; error?: string };
  let body: LeaveAnswer | null = null;
  try {
    body = JSON.parse(text) as LeaveAnswer;
  } catch {
    body = null;
  }
  if (res.status === 403 && text.includes(LIFECYCLE_DISABLED)) return leaveBySignal(url, wait);
  if (res.status !== 202) {
    console.error(`${endpoint}: HTTP ${res.status}: ${body?.error ?? text.trim()}`);
    return 1;
  }
  process.stdout.write(`${body?.data?.node ?? "node"} is leaving the cluster: handing its ranges over\n`);
  if (!wait) return 0;
  return followLeave(url);
}

/** The text of the node's 403 when --web.enable-lifecycle is off. */
const LIFECYCLE_DISABLED = "Lifecycle API is not enabled";

async function leaveBySignal(url: string, wait: boolean): Promise<number> {
  const local = await findLocalNodeProcess(url.replace(/\/+$/, ""));
  if (local.pid === null) {
    console.error(
      `${url}: the node's lifecycle API is not enabled, so it cannot be asked to leave over HTTP.\n` +
        `Restart it with --web.enable-lifecycle, or send its process SIGTERM on its machine (the same graceful leave).\n` +
        `(Not signalled from here: ${local.why}.)`,
    );
    return 1;
  }
  try {
    process.kill(local.pid, "SIGTERM");
  } catch (e) {
    console.error(`${url}: the node's lifecycle API is not enabled, and sending SIGTERM to its process ${local.pid} failed: ${(e as Error).message}`);
    return 1;
  }
  process.stdout.write(
    `the node's lifecycle API is not enabled (--web.enable-lifecycle); it runs on this machine as process ${local.pid} ` +
      `(data directory ${local.dataDir}): sent it SIGTERM, it is leaving the cluster: handing its ranges over\n`,
  );
  if (!wait) return 0;
  return followLeave(url);
}

/** Follows a leaving node's hand-off until it stops answering. */
async function followLeave(url: string): Promise<number> {
  // Follow the progress until the node stops answering (it exits once the takers acknowledged).
  let last = "";
  for (;;) {
    await Bun.sleep(1000);
    let s: ClusterStatus;
    try {
      s = await fetchStatus(url);
    } catch {
      process.stdout.write("left the cluster; the node has exited\n");
      return 0;
    }
    const h = s.handoff;
    if (!h) continue;
    let done = 0;
    let total = 0;
    for (const t of h.transfers) if (t.direction === "out") {
      done += t.done.samples;
      total += t.total.samples;
    }
    const line = `${h.state}: ${h.transfers.length} transfers, ${fmtCount(done)}/${fmtCount(total)} samples` + (h.leave.error ? ` (error: ${h.leave.error})` : "");
    if (line !== last) process.stdout.write(line + "\n");
    last = line;
  }
}

export async function runClusterCommand(sub: string, args: readonly string[]): Promise<number> {
  if (sub === "help" || args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  if (sub !== "status" && sub !== "leave") {
    console.error(`unknown cluster command ${JSON.stringify(sub)}\n${USAGE}`);
    return 2;
  }
  let url = "http://127.0.0.1:9090";
  let wait = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--url" && i + 1 < args.length) url = args[++i]!;
    else if (a.startsWith("--url=")) url = a.slice(6);
    else if (a === "--http.config.file" || a.startsWith("--http.config.file=")) {
      const file = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (file === undefined) {
        console.error(`expected a value for --http.config.file\n${USAGE}`);
        return 2;
      }
      try {
        useHttpConfigFile(file);
      } catch (e) {
        console.error(`invalid --http.config.file: ${(e as Error).message}`);
        return 1;
      }
    }
    else if (sub === "leave" && a === "--no-wait") wait = false;
    else {
      console.error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      return 2;
    }
  }
  if (sub === "leave") return runLeave(url, wait);
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/status/cluster`;
  let res: Response;
  try {
    res = await cliFetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    console.error(`cannot reach ${endpoint}: ${(err as Error).message}`);
    return 1;
  }
  const body = (await res.json().catch(() => null)) as { status?: string; data?: ClusterStatus; error?: string } | null;
  if (!res.ok || !body || body.status !== "success" || !body.data) {
    console.error(`${endpoint}: HTTP ${res.status}${body?.error ? `: ${body.error}` : ""}${authHint(res.status)}`);
    return 1;
  }
  process.stdout.write(formatStatusTable(body.data));
  return 0;
}
