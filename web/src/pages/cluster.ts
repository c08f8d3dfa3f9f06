/** Cluster: members, their health and ring share, replication and handoff; refreshes every 2s. */
import { apiGet, ApiError } from "../api.ts";
import { mergeTransfers, readClusterStatus, readTransfers, type ClusterStatus, type ClusterView, type MemberView, type TransferView } from "../cluster/model.ts";
import { memberColor, ringPicture } from "../cluster/ring.ts";
import { h } from "../dom.ts";
import { emptyState, healthBadge, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

export function clusterPage(): Page {
  return refreshingPage({
    title: "Cluster",
    className: "cluster-page",
    refreshMs: 2000,
    load: async (signal) => {
      try {
        const res = await apiGet<ClusterStatus>("/api/v1/status/cluster", undefined, signal);
        const view = readClusterStatus(res.data);
        return renderCluster(view, await clusterTransfers(view, signal));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          return emptyState("No cluster status", "This server does not report a cluster (/api/v1/status/cluster is not available).");
        }
        throw err;
      }
    },
  });
}

/**
 * Each member reports only the transfers it takes part in, so the page asks every other live
 * member too (the API allows any origin, as Prometheus's does). A member that does not answer
 * within a second is left out of this refresh.
 */
async function clusterTransfers(view: ClusterView, signal: AbortSignal): Promise<TransferView[]> {
  const others = view.members.filter((m) => !m.self && m.health === "alive" && m.httpAddress !== "");
  const reports = await Promise.all(
    others.map(async (m) => {
      try {
        const res = await fetch(`${httpUrl(m.httpAddress)}/api/v1/status/cluster`, { signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]) });
        const body = (await res.json()) as { data?: ClusterStatus };
        const h = body.data?.handoff;
        return h ? readTransfers(m.name, [...h.transfers, ...h.recent]) : [];
      } catch {
        return [];
      }
    }),
  );
  return mergeTransfers([view.transfers, ...reports]);
}

function replicationHealth(view: ClusterView): { text: string; tone: "good" | "bad" | "warn" } {
  return { text: view.replication.text, tone: view.replication.healthy ? "good" : "bad" };
}

function renderCluster(view: ClusterView, transfers: TransferView[]): HTMLElement {
  if (view.members.length === 0) return emptyState("No members", "The cluster status lists no members yet.");
  const alive = view.members.filter((m) => m.state === "active" && m.health === "alive").length;
  const backlog = view.members.reduce((s, m) => s + m.hintBytes, 0);
  const backlogBatches = view.members.reduce((s, m) => s + m.hintBatches, 0);
  const health = replicationHealth(view);
  const running = transfers.filter((t) => t.state === "running" || t.state === "waiting");
  const rf = `${view.configuredReplicationFactor}${view.configuredReplicationFactor !== view.replicationFactor ? ` (${view.replicationFactor} placed on the live members)` : ""} · quorum ${view.writeQuorum}`;
  const summary = h(
    "div",
    { class: "cards" },
    card("Members", `${alive} / ${view.members.length} active`, alive === view.members.length ? "good" : "bad"),
    card("Replication factor", rf, "neutral"),
    card("Replication health", health.text, health.tone),
    card("Hinted handoff backlog", `${formatBytes(backlog)} · ${backlogBatches} batch${backlogBatches === 1 ? "" : "es"}`, backlog > 0 || backlogBatches > 0 ? "warn" : "good"),
    card(
      "Data hand-off",
      running.length > 0 ? `${running.length} transfer${running.length === 1 ? "" : "s"} running` : view.handoff.reReplicatingRanges > 0 ? `${view.handoff.reReplicatingRanges} range(s) re-replicating` : "settled",
      running.length > 0 || view.handoff.reReplicatingRanges > 0 ? "warn" : "good",
    ),
  );
  const ring = h(
    "div",
    { class: "ring-box" },
    ringPicture(view.members, view.replicationFactor),
    h(
      "ul",
      { class: "ring-legend" },
      ...view.members.map((m, i) =>
        h(
          "li",
          null,
          h("span", { class: "swatch", style: `background:${memberColor(i)}` }),
          h("span", { class: "member-name" }, m.name),
          h("span", { class: "share" }, `${(m.ringShare * 100).toFixed(1)}%`),
        ),
      ),
    ),
  );
  const table = h(
    "table",
    { class: "data-table members-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ...["Member", "State", "Addresses", "Heartbeat", "Tokens", "Ring share", "Load", "Hints queued"].map((c) => h("th", null, c)),
      ),
    ),
    h("tbody", null, ...view.members.map((m, i) => memberRow(m, i))),
  );
  return h(
    "div",
    null,
    view.name ? h("div", { class: "subtitle" }, `cluster "${view.name}"`, view.clusterId ? ` · id ${view.clusterId}${view.clusterIdSettled ? "" : " (provisional)"}` : "") : null,
    ...view.warnings.map((w) => h("div", { class: "notice warning cluster-warning", role: "alert" }, `Warning: ${w}`)),
    ...view.refused.map((p) =>
      h("div", { class: "notice warning cluster-warning refused-peer", role: "status" }, `Refused node ${p.name} (${p.id}) of another cluster (id ${p.clusterId}).`),
    ),
    summary,
    h("div", { class: "cluster-grid" }, ring, h("div", { class: "members table-scroll" }, table, handoffSection(view, transfers))),
  );
}

function card(title: string, value: string, tone: "good" | "bad" | "warn" | "neutral"): HTMLElement {
  return h("div", { class: `card ${tone}`, "data-card": title.toLowerCase().replace(/\W+/g, "-") }, h("div", { class: "card-title" }, title), h("div", { class: "card-value" }, value));
}

function memberRow(m: MemberView, i: number): HTMLElement {
  const link = m.httpAddress ? h("a", { href: httpUrl(m.httpAddress) + "/cluster" }, m.httpAddress) : null;
  return h(
    "tr",
    { class: "member" + (m.self ? " self" : ""), "data-member": m.name, "data-state": m.state, "data-health": m.health },
    h(
      "td",
      null,
      h("span", { class: "swatch", style: `background:${memberColor(i)}` }),
      h("strong", null, m.name),
      m.self ? h("span", { class: "badge neutral small" }, "this node") : null,
      m.name !== m.id ? h("div", { class: "muted mono small-text", title: m.id }, shortId(m.id)) : null,
    ),
    h("td", { class: "state-cell" }, healthBadge(m.state), m.health !== "alive" ? healthBadge(m.health) : null),
    h("td", { class: "mono small-text addresses" }, link, ...m.addresses.map((a) => h("div", { title: a }, a.replace(/\/p2p\/[^/]+$/, "")))),
    h("td", null, m.self ? "–" : `${formatHeartbeatAge(m.heartbeatAge)} ago`),
    h("td", null, String(m.tokenCount)),
    h("td", null, shareBar(m.ringShare, memberColor(i)), h("div", { class: "muted small-text" }, `replica of ${(m.replicaShare * 100).toFixed(1)}%`)),
    h("td", { class: "small-text load" }, ...loadLines(m.load)),
    h("td", null, m.hintBytes === 0 && m.hintBatches === 0 ? h("span", { class: "muted" }, "none") : `${formatBytes(m.hintBytes)} · ${m.hintBatches} batches`),
  );
}

function shareBar(share: number, color: string): HTMLElement {
  return h(
    "div",
    { class: "bar-cell" },
    h("div", { class: "bar" }, h("div", { class: "bar-fill", style: `width:${(share * 100).toFixed(1)}%;background:${color}` })),
    h("span", null, `${(share * 100).toFixed(1)}%`),
  );
}

function progressBar(p: number, text: string): HTMLElement {
  return h(
    "div",
    { class: "bar-cell" },
    h("div", { class: "bar" }, h("div", { class: "bar-fill", style: `width:${(p * 100).toFixed(0)}%` })),
    h("span", null, `${(p * 100).toFixed(0)}% · ${text}`),
  );
}

function httpUrl(addr: string): string {
  return /^https?:\/\//.test(addr) ? addr.replace(/\/$/, "") : `http://${addr}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function formatHeartbeatAge(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return `${Math.round(seconds)}s`;
}

/** Peer ids are long; the start and the end tell them apart (the full id is in the tooltip). */
function shortId(id: string): string {
  return id.length > 20 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id;
}

/** The heartbeat's load figures in words; unknown keys are shown as they come. */
function loadLines(load: Record<string, number>): HTMLElement[] {
  const lines: HTMLElement[] = [];
  for (const [k, v] of Object.entries(load)) {
    if (k === "hintedHandoffBytes") continue; // shown in its own column
    if ((k === "handoffActive" || k === "handoffPendingRanges") && v === 0) continue; // the hand-off section says it
    const text =
      k === "rssBytes"
        ? `memory ${formatBytes(v)}`
        : k === "samplesAppended"
          ? `${formatCount(v)} samples appended`
          : k === "handoffActive"
            ? `${v} hand-off transfer(s) running`
            : k === "handoffPendingRanges"
              ? `${v} range(s) waiting for hand-off`
              : `${k} ${/bytes$/i.test(k) ? formatBytes(v) : formatCount(v)}`;
    lines.push(h("div", null, text));
  }
  return lines.length > 0 ? lines : [h("span", { class: "muted" }, "–")];
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Transfers across the cluster, then this node's own totals and anti-entropy. */
function handoffSection(view: ClusterView, transfers: TransferView[]): HTMLElement {
  const hv = view.handoff;
  const ae = hv.antiEntropy;
  const mv = hv.moved;
  const own = h(
    "div",
    { class: "muted small-text handoff-totals" },
    `This node: ${hv.state} · received ${formatCount(mv.samplesIn)} samples (${formatBytes(mv.bytesIn)}) · sent ${formatCount(mv.samplesOut)} samples (${formatBytes(mv.bytesOut)})`,
    hv.failedTransfers > 0 ? ` · ${hv.failedTransfers} failed` : "",
    hv.droppedSeries > 0 ? ` · dropped ${formatCount(hv.droppedSeries)} series no longer owned` : "",
    h(
      "div",
      null,
      ae.runs === 0
        ? "Anti-entropy: no run yet"
        : `Anti-entropy: ${ae.runs} runs · last compared ${ae.lastComparedCells} cells, ${ae.lastDifferingCells} differed · ${ae.repairs} series repaired`,
      ae.lastError ? ` · last error: ${ae.lastError}` : "",
    ),
  );
  const list =
    transfers.length === 0
      ? h("div", { class: "muted" }, "No data has been moved between members recently.")
      : h(
          "table",
          { class: "data-table" },
          h("thead", null, h("tr", null, ...["Transfer", "Reason", "State", "Progress", "Moved"].map((c) => h("th", null, c)))),
          h(
            "tbody",
            null,
            ...transfers.map((t) =>
              h(
                "tr",
                { class: "transfer", "data-reason": t.reason, "data-state": t.state },
                h("td", { class: "mono" }, t.route),
                h("td", null, t.reason),
                h("td", null, t.error ? h("span", { title: t.error }, `${t.state}: ${t.error}`) : t.state),
                h("td", null, t.progress !== null ? progressBar(t.progress, `${formatCount(t.samples.done)} / ${formatCount(t.samples.total)} samples`) : "–"),
                h("td", { class: "small-text" }, formatBytes(t.bytes)),
              ),
            ),
          ),
        );
  return h("div", { class: "transfers" }, h("h2", null, "Hand-off"), list, own);
}
