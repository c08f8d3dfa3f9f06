/**
 * The UI's entry: a top bar and a client-side router over a handful of pages. Paths match
 * Prometheus's UI (/graph and /query both open the query page; /flags, /config, /tsdb-status
 * open the status page at that section) so that bookmarks carry over.
 */
// uPlot's stylesheet joins the page's one CSS file; the chart code itself loads with the query page.
import "uplot/dist/uPlot.min.css";
import { apiGet } from "./api.ts";
import type { ClusterStatus } from "./cluster/model.ts";
import { h } from "./dom.ts";
import { errorBox } from "./pages/common.ts";
import { clusterPage } from "./pages/cluster.ts";
import type { Page } from "./pages/page.ts";
import { alertsPage, rulesPage } from "./pages/rules.ts";
import { serviceDiscoveryPage } from "./pages/service_discovery.ts";
import { statusPage } from "./pages/status.ts";
import { targetsPage } from "./pages/targets.ts";
import { PAGE_TITLE, withoutPrefix, withPrefix } from "./prefix.ts";

/** This node's name as the cluster knows it; the targets page shows it as the scraper by default. */
let selfName = location.host;
void apiGet<ClusterStatus>("/api/v1/status/cluster")
  .then((res) => {
    const me = res.data.members.find((m) => m.self);
    if (me) selfName = me.name;
  })
  .catch(() => {});

interface Route {
  path: string;
  label: string;
  /** The query page (CodeMirror, uPlot) is its own chunk: the other pages load without it. */
  page: () => Page | Promise<Page>;
  aliases?: string[];
  /** Status sub-pages of Prometheus map to an anchor of our status page. */
  anchor?: Record<string, string>;
}

const ROUTES: Route[] = [
  { path: "/query", label: "Query", page: () => import("./pages/query.ts").then((m) => m.queryPage()), aliases: ["/graph", "/"] },
  { path: "/alerts", label: "Alerts", page: alertsPage },
  { path: "/rules", label: "Rules", page: rulesPage },
  { path: "/targets", label: "Targets", page: () => targetsPage(() => selfName) },
  { path: "/service-discovery", label: "Service Discovery", page: serviceDiscoveryPage },
  { path: "/cluster", label: "Cluster", page: clusterPage },
  {
    path: "/status",
    label: "Status",
    page: statusPage,
    aliases: ["/flags", "/config", "/tsdb-status", "/runtimeinfo", "/buildinfo"],
    anchor: { "/flags": "flags", "/config": "config", "/tsdb-status": "tsdb", "/runtimeinfo": "runtime", "/buildinfo": "build" },
  },
];

const app = document.getElementById("app")!;
const topbar = document.getElementById("topbar")!;
let current: Page | null = null;

const navLinks = ROUTES.map((r) => h("a", { href: withPrefix(r.path), class: "nav-link", "data-path": r.path }, r.label));
topbar.append(
  h(
    "nav",
    { class: "topnav" },
    h("a", { href: withPrefix("/query"), class: "brand" }, h("span", { class: "brand-dot" }), PAGE_TITLE),
    ...navLinks,
    h("span", { class: "spacer" }),
    h("span", { class: "node-host muted" }, location.host),
  ),
);

/** The route of a browser path (with the route prefix, as in location.pathname). */
function findRoute(pathname: string): Route | null {
  const clean = withoutPrefix(pathname).replace(/\/+$/, "") || "/";
  return ROUTES.find((r) => r.path === clean || r.aliases?.includes(clean)) ?? null;
}

/** Bumped by every navigation; a page that finishes loading after a newer one is dropped. */
let navigation = 0;

async function render(): Promise<void> {
  const seq = ++navigation;
  const route = findRoute(location.pathname);
  current?.destroy?.();
  current = null;
  for (const a of navLinks) a.classList.toggle("active", route?.path === a.dataset.path);
  if (!route) {
    app.replaceChildren(h("div", { class: "page" }, h("h1", null, "Not found"), h("p", null, `No page at ${location.pathname}.`)));
    document.title = PAGE_TITLE;
    return;
  }
  let page: Page;
  try {
    page = await route.page();
  } catch (err) {
    if (seq !== navigation) return;
    app.replaceChildren(errorBox(new Error(`cannot load the ${route.label} page: ${err instanceof Error ? err.message : String(err)}`)));
    return;
  }
  if (seq !== navigation) {
    page.destroy?.();
    return;
  }
  current = page;
  document.title = `${page.title} · ${PAGE_TITLE}`;
  app.replaceChildren(page.root);
  page.mounted?.();
  const anchor = route.anchor?.[withoutPrefix(location.pathname).replace(/\/+$/, "")];
  if (anchor) requestAnimationFrame(() => document.getElementById(anchor)?.scrollIntoView());
}

/** Same-origin links to our pages change the route without a page load. */
document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as Element | null)?.closest?.("a");
  if (!a || a.target || a.origin !== location.origin) return;
  if (!findRoute(a.pathname) || (a.pathname === location.pathname && a.hash)) return;
  ev.preventDefault();
  if (a.pathname + a.search !== location.pathname + location.search) history.pushState(null, "", a.pathname + a.search);
  void render();
});
window.addEventListener("popstate", () => void render());

// When the first page is on screen, relative to the navigation's start (read by the load-time test).
// Then, when the browser is idle, fetch the query page's chunk so that switching to it is instant.
void render().then(() => {
  performance.mark("shoal-ui-ready");
  const prefetch = () => void import("./pages/query.ts").catch(() => {});
  if ("requestIdleCallback" in window) requestIdleCallback(prefetch, { timeout: 3000 });
  else setTimeout(prefetch, 1000);
});
