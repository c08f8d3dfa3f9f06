/** Cluster: members, their health and ring share, replication and handoff; refreshes every 2s. */
import { apiGet } from "../api.ts";
import { readClusterStatus, type ClusterView, type MemberView } from "../cluster/model.ts";
import { memberColor, ringPicture } from "../cluster/ring.ts";
import { h } from "../dom.ts";
import { formatSeconds } from "../time.ts";
import { emptyState, healthBadge, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

export function clusterPage(): Page {
  return refreshingPage({
    title: "Cluster",
    className: "cluster-page",
    refreshMs: 2000,
    load: async (signal) => {
      const res = await apiGet<unknown>("/api/v1/status/cluster", undefined, signal);
      return renderCluster(readClusterStatus(res.data));
    },
  });
}

function renderCluster(view: ClusterView): HTMLElement {
  if (view.members.length === 0) return emptyState("No members", "The cluster status lists no members yet.");
  const active = view.members.filter((m) => m.state === "active").length;
  const backlog = view.members.reduce((s, m) => s + (m.handoffBacklogBytes ?? 0), 0);
  const backlogBatches = view.members.reduce((s, m) => s + (m.handoffBacklogBatches ?? 0), 0);
  const anyBacklog = view.members.some((m) => m.handoffBacklogBytes !== null || m.handoffBacklogBatches !== null);
  const summary = h(
    "div",
    { class: "cards" },
    card("Members", `${active} / ${view.members.length} active`, active === view.members.length ? "good" : "bad"),
    card("Replication factor", view.replicationFactor !== null ? String(view.replicationFactor) : "–", "neutral"),
    card(
      "Replication health",
      view.replication ? view.replication.text : active === view.members.length ? "all members active" : `${view.members.length - active} member(s) not active`,
      (view.replication ? view.replication.healthy : active === view.members.length) ? "good" : "bad",
    ),
    card(
      "Hinted handoff backlog",
      anyBacklog ? `${formatBytes(backlog)}${backlogBatches ? ` · ${backlogBatches} batches` : ""}` : "–",
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
  const table = h(
    "table",
    { class: "data-table members-table" },
    h(
      "thead",
      null,
      h("tr", null, ...["Member", "State", "Addresses", "Heartbeat", "Tokens", "Ring share", "Handoff backlog", "Handoff progress"].map((c) => h("th", null, c))),
    ),
    h("tbody", null, ...view.members.map((m, i) => memberRow(m, i))),
  );
  return h(
    "div",
    null,
    view.name ? h("div", { class: "subtitle" }, `cluster "${view.name}"`) : null,
    summary,
    h("div", { class: "cluster-grid" }, ring, h("div", { class: "members" }, table)),
  );
}

function card(title: string, value: string, tone: "good" | "bad" | "warn" | "neutral"): HTMLElement {
  return h("div", { class: `card ${tone}` }, h("div", { class: "card-title" }, title), h("div", { class: "card-value" }, value));
}

function memberRow(m: MemberView, i: number): HTMLElement {
  const link = m.httpAddress ? h("a", { href: httpUrl(m.httpAddress) + "/cluster" }, m.httpAddress) : null;
  return h(
    "tr",
    { class: "member" + (m.self ? " self" : ""), "data-member": m.name, "data-state": m.state },
    h(
      "td",
      null,
      h("span", { class: "swatch", style: `background:${memberColor(i)}` }),
      h("strong", null, m.name),
      m.self ? h("span", { class: "badge neutral small" }, "this node") : null,
      m.name !== m.id ? h("div", { class: "muted mono small-text" }, m.id) : null,
    ),
    h("td", null, healthBadge(m.state)),
    h("td", { class: "mono small-text" }, link, ...m.addresses.map((a) => h("div", null, a))),
    h("td", null, m.self ? "–" : m.heartbeatAge === null ? "?" : `${formatSeconds(m.heartbeatAge)} ago`),
    h("td", null, m.tokenCount !== null ? String(m.tokenCount) : "–"),
    h("td", null, m.ringShare !== null ? shareBar(m.ringShare, memberColor(i)) : "–"),
    h(
      "td",
      null,
      m.handoffBacklogBytes === null && m.handoffBacklogBatches === null
        ? "–"
        : [formatBytes(m.handoffBacklogBytes ?? 0), m.handoffBacklogBatches !== null ? ` · ${m.handoffBacklogBatches} batches` : ""].join(""),
    ),
    h("td", null, m.handoffProgress !== null ? progressBar(m.handoffProgress, m.handoffDescription) : m.handoffDescription ?? "–"),
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
