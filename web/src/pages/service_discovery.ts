/**
 * Service Discovery, as Prometheus's page of that name: per scrape pool, every discovered target
 * with its labels before relabeling and after (or why relabeling dropped it). Active targets come
 * from every member (the cluster shards them); dropped ones from this node, which discovers and
 * relabels like every other member.
 */
import { apiGet, ApiError, type ApiResult, type DroppedTargetEntry, type Target, type TargetsData } from "../api.ts";
import { h } from "../dom.ts";
import { emptyState, labelBadges, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

type Show = "all" | "active" | "dropped";

interface PoolView {
  name: string;
  active: Target[];
  dropped: DroppedTargetEntry[];
  /** Dropped before keep_dropped_targets trimmed the list. */
  droppedTotal: number;
}

export function serviceDiscoveryPage(): Page {
  let show: Show = "all";
  let search = "";
  let last: TargetsData | null = null;
  let warnings: string[] = [];
  const content = h("div");

  const showButtons = (["all", "active", "dropped"] as const).map((s) =>
    h(
      "button",
      {
        class: "seg" + (show === s ? " active" : ""),
        "data-show": s,
        onclick: () => {
          show = s;
          showButtons.forEach((b) => b.classList.toggle("active", b.dataset.show === s));
          draw();
        },
      },
      s === "all" ? "All" : s === "active" ? "Active" : "Dropped",
    ),
  );
  const searchInput = h("input", {
    class: "search",
    placeholder: "Filter by labels",
    oninput: () => {
      search = searchInput.value.trim().toLowerCase();
      draw();
    },
  });

  function draw(): void {
    if (!last) return;
    const notices = warnings.map((w) => h("div", { class: "notice warning" }, w));
    const pools = poolViews(last);
    if (pools.length === 0) {
      content.replaceChildren(...notices, emptyState("No discovered targets", "No scrape job discovered any target. Add scrape_configs to the configuration file."));
      return;
    }
    const index = h(
      "ul",
      { class: "sd-index" },
      ...pools.map((p) =>
        h("li", null, h("a", { href: `#pool-${encodeURIComponent(p.name)}` }, p.name), h("span", { class: "muted" }, ` (${p.active.length} / ${p.active.length + p.droppedTotal} active targets)`)),
      ),
    );
    const sections = pools.map((p) => poolSection(p, show, search)).filter((s): s is HTMLElement => s !== null);
    content.replaceChildren(...notices, index, ...(sections.length > 0 ? sections : [emptyState("No matching targets", "Change the filter to see more.")]));
  }

  return refreshingPage({
    title: "Service Discovery",
    className: "sd-page",
    refreshMs: 10_000,
    header: h("div", { class: "page-tools" }, h("div", { class: "segmented" }, ...showButtons), searchInput),
    load: async (signal) => {
      const res = await loadTargets(signal);
      last = res.data;
      warnings = res.warnings;
      draw();
      return content;
    },
  });
}

/** The cluster's targets from the UI's own route; a plain Prometheus-compatible server without it gets /api/v1/targets. */
async function loadTargets(signal: AbortSignal): Promise<ApiResult<TargetsData>> {
  try {
    return await apiGet<TargetsData>("/ui/api/targets", undefined, signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return apiGet<TargetsData>("/api/v1/targets", undefined, signal);
    throw err;
  }
}

function poolViews(data: TargetsData): PoolView[] {
  const pools = new Map<string, PoolView>();
  const pool = (name: string) => {
    let p = pools.get(name);
    if (!p) pools.set(name, (p = { name, active: [], dropped: [], droppedTotal: 0 }));
    return p;
  };
  for (const t of data.activeTargets ?? []) pool(t.scrapePool).active.push(t);
  for (const d of data.droppedTargets ?? []) {
    const name = d.scrapePool ?? d.discoveredLabels.job ?? "";
    pool(name).dropped.push(d);
  }
  for (const p of pools.values()) p.droppedTotal = p.dropped.length;
  for (const [name, n] of Object.entries(data.droppedTargetCounts ?? {})) {
    if (n > 0 || pools.has(name)) pool(name).droppedTotal = Math.max(n, pool(name).dropped.length);
  }
  return [...pools.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function matches(labels: Record<string, string>[], q: string): boolean {
  if (q === "") return true;
  return labels.some((ls) => Object.entries(ls).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(q)));
}

function poolSection(p: PoolView, show: Show, q: string): HTMLElement | null {
  const rows: HTMLElement[] = [];
  if (show !== "dropped") {
    for (const t of p.active) if (matches([t.discoveredLabels, t.labels], q)) rows.push(activeRow(t));
  }
  if (show !== "active") {
    for (const d of p.dropped) if (matches([d.discoveredLabels], q)) rows.push(droppedRow(d));
  }
  if (rows.length === 0 && (show !== "all" || q !== "")) return null;
  const notKept = p.droppedTotal - p.dropped.length;
  return h(
    "section",
    { class: "pool sd-pool", id: `pool-${encodeURIComponent(p.name)}`, "data-pool": p.name },
    h("h2", null, p.name, h("span", { class: "badge neutral count" }, `${p.active.length} / ${p.active.length + p.droppedTotal} active targets`)),
    h(
      "table",
      { class: "data-table sd-table" },
      h("colgroup", null, h("col", { style: "width:50%" }), h("col", { style: "width:50%" })),
      h("thead", null, h("tr", null, h("th", null, "Discovered labels"), h("th", null, "Target labels"))),
      h("tbody", null, ...(rows.length > 0 ? rows : [h("tr", null, h("td", { colspan: "2", class: "muted" }, "No targets discovered."))])),
    ),
    notKept > 0 && show !== "active"
      ? h("p", { class: "muted sd-not-kept" }, `${notKept} more dropped target${notKept === 1 ? "" : "s"} not listed (keep_dropped_targets limits the list).`)
      : null,
  );
}

function activeRow(t: Target): HTMLElement {
  return h("tr", { class: "sd-target", "data-state": "active" }, h("td", null, labelBadges(t.discoveredLabels)), h("td", null, labelBadges(t.labels)));
}

function droppedRow(d: DroppedTargetEntry): HTMLElement {
  return h(
    "tr",
    { class: "sd-target", "data-state": "dropped" },
    h("td", null, labelBadges(d.discoveredLabels)),
    h("td", null, h("span", { class: "badge bad" }, "DROPPED"), d.reason ? h("div", { class: "sd-reason muted" }, `by ${d.reason}`) : null),
  );
}
