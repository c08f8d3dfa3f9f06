/**
 * `shoal cluster leave`: asks the node to leave gracefully (it hands its ranges over, then
 * exits) and, unless --no-wait, follows its progress until it is gone. When the node's lifecycle
 * API is off (403), a node on this machine gets SIGTERM instead (the same graceful leave); for any
 * other the answer says which flag to enable.
 */
import type { ClusterStatus } from "../../cluster/index.ts";
import { cliFetch } from "./http_client.ts";
import { findLocalNodeProcess } from "./local_node.ts";
import { fmtCount } from "./status_table.ts";

async function fetchStatus(url: string): Promise<ClusterStatus> {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/status/cluster`;
  const res = await cliFetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => null)) as { status?: string; data?: ClusterStatus; error?: string } | null;
  if (!res.ok || !body || body.status !== "success" || !body.data) throw new Error(`${endpoint}: HTTP ${res.status}${body?.error ? `: ${body.error}` : ""}`);
  return body.data;
}

export async function runLeave(url: string, wait: boolean): Promise<number> {
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
