/** Cluster: members, their health and ring share, replication and handoff; refreshes every 2s. */
import { apiGet, ApiError } from "../api.ts";
import { readClusterStatus, type ClusterView, type MemberView } from "../cluster/model.ts";
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
        const res = await apiGet<unknown>("/api/v1/status/cluster", undefined, signal);
        return renderCluster(readClusterStatus(res.data));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          return emptyState("No cluster status", "This server does not report a cluster (/api/v1/status/cluster is not available).");
        }
        throw err;
      }
    },
  });
}

/** Replication health from what the members report, unless the status states it itself. */
function replicationHealth(view: ClusterView): { text: string; tone: "good" | "bad" | "warn" } {
  if (view.replication) return { text: view.replication.text, tone: view.replication.healthy ? "good" : "bad" };
  const down = view.members.filter((m) => m.health !== null && m.health !== "alive");
  if (down.length > 0) {
    return { text: `${down.map((m) => m.name).join(", ")} ${down.length === 1 ? "is" : "are"} not alive: some series have fewer live replicas`, tone: "bad" };
  }
  const R = view.replicationFactor;
  const configured = view.configuredReplicationFactor;
  if (R !== null && configured !== null && R < configured) {
    return { text: `${R} of ${configured} configured replicas (too few members)`, tone: "warn" };
  }
  const notActive = view.members.filter((m) => m.state !== "active");
  if (notActive.length > 0) return { text: `${notActive.length} member(s) ${notActive.map((m) => m.state).join(", ")}`, tone: "warn" };
  return { text: R !== null ? `every series on ${R} live replica${R === 1 ? "" : "s"}` : "all members alive", tone: "good" };
}

function renderCluster(view: ClusterView): HTMLElement {
  if (view.members.length === 0) return emptyState("No members", "The cluster status lists no members yet.");
  const alive = view.members.filter((m) => m.state === "active" && (m.health === null || m.health === "alive")).length;
  const backlog = view.members.reduce((s, m) => s + (m.handoffBacklogBytes ?? 0), 0);
  const backlogBatches = view.members.reduce((s, m) => s + (m.handoffBacklogBatches ?? 0), 0);
  const anyBacklog = view.members.some((m) => m.handoffBacklogBytes !== null || m.handoffBacklogBatches !== null);
  const health = replicationHealth(view);
  const rf =
    view.replicationFactor === null
      ? "–"
      : `${view.replicationFactor}${view.configuredReplicationFactor !== null && view.configuredReplicationFactor !== view.replicationFactor ? ` (configured ${view.configuredReplicationFactor})` : ""}${view.writeQuorum !== null ? ` · quorum ${view.writeQuorum}` : ""}`;
  const summary = h(
    "div",
    { class: "cards" },
    card("Members", `${alive} / ${view.members.length} active`, alive === view.members.length ? "good" : "bad"),
    card("Replication factor", rf, "neutral"),
    card("Replication health", health.text, health.tone),
    card(
      "Hinted handoff backlog",
      anyBacklog ? `${formatBytes(backlog)} · ${backlogBatches} batch${backlogBatches === 1 ? "" : "es"}` : "–",
      backlog > 0 || backlogBatches > 0 ? "warn" : "good",
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
          h("span", { class: "share" }, m.ringShare !== null ? `${(m.ringShare * 100).toFixed(1)}%` : "–"),
        ),
      ),
    ),
  );
  // Data transfers after membership changes show only when some member reports one.
  const showHandoff = view.members.some((m) => m.handoffProgress !== null || m.handoffDescription !== null);
  const table = h(
    "table",
    { class: "data-table members-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ...["Member", "State", "Addresses", "Heartbeat", "Tokens", "Ring share", "Load", "Hints queued", ...(showHandoff ? ["Handoff"] : [])].map((c) => h("th", null, c)),
      ),
    ),
    h("tbody", null, ...view.members.map((m, i) => memberRow(m, i, showHandoff))),
  );
  return h(
    "div",
    null,
    view.name ? h("div", { class: "subtitle" }, `cluster "${view.name}"`) : null,
    summary,
    h("div", { class: "cluster-grid" }, ring, h("div", { class: "members table-scroll" }, table, transfersSection(view))),
  );
}

function card(title: string, value: string, tone: "good" | "bad" | "warn" | "neutral"): HTMLElement {
  return h("div", { class: `card ${tone}`, "data-card": title.toLowerCase().replace(/\W+/g, "-") }, h("div", { class: "card-title" }, title), h("div", { class: "card-value" }, value));
}

function memberRow(m: MemberView, i: number, showHandoff: boolean): HTMLElement {
  const link = m.httpAddress ? h("a", { href: httpUrl(m.httpAddress) + "/cluster" }, m.httpAddress) : null;
  return h(
    "tr",
    { class: "member" + (m.self ? " self" : ""), "data-member": m.name, "data-state": m.state, "data-health": m.health ?? "" },
    h(
      "td",
      null,
      h("span", { class: "swatch", style: `background:${memberColor(i)}` }),
      h("strong", null, m.name),
      m.self ? h("span", { class: "badge neutral small" }, "this node") : null,
      m.name !== m.id ? h("div", { class: "muted mono small-text", title: m.id }, shortId(m.id)) : null,
    ),
    h("td", { class: "state-cell" }, healthBadge(m.state), m.health !== null && m.health !== "alive" ? healthBadge(m.health) : null),
    h("td", { class: "mono small-text addresses" }, link, ...m.addresses.map((a) => h("div", { title: a }, a.replace(/\/p2p\/[^/]+$/, "")))),
    h("td", null, m.self ? "–" : m.heartbeatAge === null ? "?" : `${formatHeartbeatAge(m.heartbeatAge)} ago`),
    h("td", null, m.tokenCount !== null ? String(m.tokenCount) : "–"),
    h(
      "td",
      null,
      m.ringShare !== null ? shareBar(m.ringShare, memberColor(i)) : "–",
      m.replicaShare !== null ? h("div", { class: "muted small-text" }, `replica of ${(m.replicaShare * 100).toFixed(1)}%`) : null,
    ),
    h("td", { class: "small-text load" }, ...loadLines(m.load)),
    h(
      "td",
      null,
      m.handoffBacklogBytes === null && m.handoffBacklogBatches === null
        ? "–"
        : !m.handoffBacklogBytes && !m.handoffBacklogBatches
          ? h("span", { class: "muted" }, "none")
          : [formatBytes(m.handoffBacklogBytes ?? 0), m.handoffBacklogBatches !== null ? ` · ${m.handoffBacklogBatches} batches` : ""].join(""),
    ),
    showHandoff ? h("td", null, m.handoffProgress !== null ? progressBar(m.handoffProgress, m.handoffDescription) : m.handoffDescription ?? "–") : null,
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

function progressBar(p: number, text: string | null): HTMLElement {
  return h(
    "div",
    { class: "bar-cell" },
    h("div", { class: "bar" }, h("div", { class: "bar-fill", style: `width:${(p * 100).toFixed(0)}%` })),
    h("span", null, text ?? `${(p * 100).toFixed(0)}%`),
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
    const text =
      k === "rssBytes"
        ? `memory ${formatBytes(v)}`
        : k === "samplesAppended"
          ? `${formatCount(v)} samples appended`
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

function transfersSection(view: ClusterView): HTMLElement {
  if (view.transfers.length === 0) {
    return h("div", { class: "transfers" }, h("h2", null, "Handoff"), h("div", { class: "muted" }, "No data is being moved between members."));
  }
  return h(
    "div",
    { class: "transfers" },
    h("h2", null, "Handoff"),
    h(
      "table",
      { class: "data-table" },
      h("thead", null, h("tr", null, ...["Transfer", "State", "Progress", "Details"].map((c) => h("th", null, c)))),
      h(
        "tbody",
        null,
        ...view.transfers.map((t) =>
          h(
            "tr",
            { class: "transfer" },
            h("td", { class: "mono" }, t.label),
            h("td", null, t.state ?? "–"),
            h("td", null, t.progress !== null ? progressBar(t.progress, null) : "–"),
            h("td", { class: "small-text" }, t.detail),
          ),
        ),
      ),
    ),
  );
}
