/** Targets: every scrape target grouped by pool, with health, timing, last error and the node that scrapes it. */
import { apiGet, ApiError, type ApiResult, type Target, type TargetsData } from "../api.ts";
import { h } from "../dom.ts";
import { formatAge, formatSeconds } from "../time.ts";
import { emptyState, healthBadge, labelBadges, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

type Filter = "all" | "unhealthy";

export function targetsPage(selfName: () => string): Page {
  let filter: Filter = new URLSearchParams(location.search).get("health") === "unhealthy" ? "unhealthy" : "all";
  let search = "";
  let last: TargetsData | null = null;
  let warnings: string[] = [];
  const content = h("div");

  const filterButtons = (["all", "unhealthy"] as const).map((f) =>
    h(
      "button",
      {
        class: "seg" + (filter === f ? " active" : ""),
        onclick: () => {
          filter = f;
          filterButtons.forEach((b, i) => b.classList.toggle("active", ["all", "unhealthy"][i] === f));
          draw();
        },
      },
      f === "all" ? "All" : "Unhealthy",
    ),
  );
  const searchInput = h("input", {
    class: "search",
    placeholder: "Filter by endpoint or labels",
    oninput: () => {
      search = searchInput.value.trim().toLowerCase();
      draw();
    },
  });

  function draw(): void {
    if (!last) return;
    const notices = warnings.map((w) => h("div", { class: "notice warning" }, w));
    const targets = last.activeTargets.filter((t) => (filter === "all" || t.health !== "up") && matches(t, search));
    if (last.activeTargets.length === 0) {
      content.replaceChildren(...notices, emptyState("No targets", "There are no active scrape targets. Add scrape_configs to the configuration file."));
      return;
    }
    const pools = new Map<string, Target[]>();
    for (const t of last.activeTargets) if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
    for (const t of targets) pools.get(t.scrapePool)!.push(t);
    const sections: HTMLElement[] = [];
    for (const [pool, list] of [...pools.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      const all = last.activeTargets.filter((t) => t.scrapePool === pool);
      if (list.length === 0 && (filter !== "all" || search !== "")) continue;
      const up = all.filter((t) => t.health === "up").length;
      sections.push(poolSection(pool, list, up, all.length, selfName()));
    }
    content.replaceChildren(...notices, ...(sections.length > 0 ? sections : [emptyState("No matching targets", "Change the filter to see more.")]));
  }

  return refreshingPage({
    title: "Targets",
    className: "targets-page",
    refreshMs: 10_000,
    header: h("div", { class: "page-tools" }, h("div", { class: "segmented" }, ...filterButtons), searchInput),
    load: async (signal) => {
      const res = await loadTargets(signal);
      last = { activeTargets: res.data.activeTargets ?? [], droppedTargets: res.data.droppedTargets ?? [] };
      warnings = res.warnings;
      draw();
      return content;
    },
  });
}

/**
 * Every target of the cluster, each with the member that scrapes it, from the UI's own route;
 * a plain Prometheus-compatible server without it gets its own /api/v1/targets.
 */
async function loadTargets(signal: AbortSignal): Promise<ApiResult<TargetsData>> {
  try {
    return await apiGet<TargetsData>("/ui/api/targets", undefined, signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return apiGet<TargetsData>("/api/v1/targets", { state: "active" }, signal);
    throw err;
  }
}

function matches(t: Target, q: string): boolean {
  if (q === "") return true;
  if (t.scrapeUrl.toLowerCase().includes(q)) return true;
  return Object.entries(t.labels).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(q));
}

function poolSection(pool: string, targets: Target[], up: number, total: number, self: string): HTMLElement {
  const state = up === total ? "good" : up === 0 ? "bad" : "neutral";
  return h(
    "section",
    { class: "pool", "data-pool": pool },
    h("h2", null, pool, h("span", { class: `badge ${state} count` }, `${up} / ${total} up`)),
    h(
      "table",
      { class: "data-table targets-table" },
      h("colgroup", null, ...["22%", "7%", "25%", "10%", "9%", "7%", "20%"].map((w) => h("col", { style: `width:${w}` }))),
      h(
        "thead",
        null,
        h("tr", null, ...["Endpoint", "State", "Labels", "Scraped by", "Last scrape", "Duration", "Error"].map((c) => h("th", null, c))),
      ),
      h("tbody", null, ...targets.map((t) => targetRow(t, self))),
    ),
  );
}

function targetRow(t: Target, self: string): HTMLElement {
  const lastScrape = Date.parse(t.lastScrape);
  const neverScraped = Number.isNaN(lastScrape) || lastScrape <= 0;
  return h(
    "tr",
    { class: "target", "data-health": t.health },
    h("td", { class: "endpoint" }, h("a", { href: t.scrapeUrl, target: "_blank", rel: "noopener" }, t.scrapeUrl)),
    h("td", null, healthBadge(t.health)),
    h("td", null, labelBadges(t.labels)),
    h("td", { class: "scraped-by" }, t.scrapedBy ?? t.node ?? self),
    h("td", { title: t.lastScrape }, neverScraped ? "never" : formatAge(lastScrape)),
    h("td", null, neverScraped ? "–" : formatSeconds(t.lastScrapeDuration)),
    h("td", { class: "error-cell" }, t.lastError ? h("span", { class: "error-text" }, t.lastError) : ""),
  );
}
