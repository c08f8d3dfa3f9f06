/**
 * The web UI as a hono sub-app, mounted at the root of the node's HTTP server.
 *
 * - `/assets/<name>-<hash>.<ext>`: content-hashed bundle files, cached for a year (immutable).
 * - `/` and the UI's client-side routes (`/query`, `/graph`, `/targets`, `/cluster`, ...):
 *   `index.html`, revalidated on every load (no-cache) so a new binary's UI shows at once.
 * Only these paths are claimed: /api, /metrics, /federate and the rest stay with their owners.
 * Under a route prefix (--web.route-prefix) the app is mounted at that prefix; index.html then
 * names its assets under the prefix and tells the page the prefix (`<meta name="shoal-route-prefix">`)
 * so that its links and API calls stay under it.
 * Text files are gzip-compressed once and served compressed to clients that accept it.
 *
 * `/ui/api/targets` is the one data route of its own: scrape targets are sharded over the
 * cluster, so a node's /api/v1/targets lists only the targets it scrapes. The targets page asks
 * this route, which gathers /api/v1/targets from every member and marks each target with the
 * member that scrapes it (`scrapedBy`). It also lists this node's dropped targets with the rule
 * that dropped each (every member discovers and relabels alike, so one member's list is the
 * cluster's), for the Service Discovery page.
 */
import { Hono, type Context } from "hono";
import type { DroppedTarget } from "../model/index.ts";
import { askMembers, type MemberRef, type MemberRequest } from "./members.ts";
import { loadUiAssets, type UiAsset, type UiAssets } from "./ui_assets.ts";

/** The UI's client-side routes; each serves index.html and the page picks the view from the path. */
export const UI_ROUTES = [
  "/",
  "/query",
  "/graph",
  "/alerts",
  "/rules",
  "/targets",
  "/service-discovery",
  "/cluster",
  "/status",
  "/flags",
  "/config",
  "/tsdb-status",
  "/runtimeinfo",
  "/buildinfo",
] as const;

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/** The part of the cluster status the UI needs to reach every member. */
export type UiClusterMember = MemberRef;

export interface UiAppOptions {
  /** Where the UI's files come from; the embedded/in-memory bundle by default. */
  load?: () => Promise<UiAssets | null>;
  /** The cluster's members; without it, /ui/api/targets is this node's /api/v1/targets. */
  cluster?: () => { readonly members: readonly UiClusterMember[] };
  /** This node's dropped targets (with why) and their counts per pool before keep_dropped_targets. */
  droppedTargets?: () => { targets: DroppedTarget[]; counts: Record<string, number> };
  /** How long to wait for a member's target list. */
  memberTimeoutMs?: number;
  /** Path the node's routes live under ("" or e.g. "/shoal"); see mountAtRoutePrefix. */
  routePrefix?: string;
  /** --web.page-title */
  pageTitle?: string;
  /** Credentials and TLS settings for calls to members (--web.client-config.file), per call. */
  memberRequest?: MemberRequest;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * index.html as served: the bundler writes asset URLs relative to the file ("./assets/…"),
 * which would break on a nested client route such as /targets/; they become absolute under the
 * route prefix. The prefix and the page title travel to the page in the head.
 */
export function servedIndexHtml(html: string, routePrefix: string, pageTitle: string): string {
  const head =
    `<meta name="shoal-route-prefix" content="${escapeHtml(routePrefix)}" />` +
    `<meta name="shoal-page-title" content="${escapeHtml(pageTitle)}" />`;
  return html
    .replace(/(src|href)="\.\/assets\//g, (_m, attr: string) => `${attr}="${routePrefix}/assets/`)
    .replace(/<title>[^<]*<\/title>/, `<title>${escapeHtml(pageTitle)}</title>`)
    .replace("</head>", `${head}</head>`);
}

interface MemberTargets {
  activeTargets?: Record<string, unknown>[];
  droppedTargets?: Record<string, unknown>[];
}

interface Prepared {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | null;
  etag: string;
  asset: UiAsset;
}

function compressible(type: string): boolean {
  return /^(text\/|application\/(javascript|json|xml)|image\/svg)/.test(type);
}

/** Reads every file once: bodies stay in memory, compressed when it pays off. */
async function prepare(assets: UiAssets, routePrefix: string, pageTitle: string): Promise<Map<string, Prepared>> {
  const out = new Map<string, Prepared>();
  for (const [path, asset] of assets) {
    let body = new Uint8Array(await asset.body.arrayBuffer());
    if (path === "/index.html") body = new TextEncoder().encode(servedIndexHtml(new TextDecoder().decode(body), routePrefix, pageTitle));
    const gz = compressible(asset.contentType) && body.length > 1024 ? Bun.gzipSync(body, { level: 6 }) : null;
    const etag = `"${Bun.hash(body).toString(36)}"`;
    out.set(path, { body, gzip: gz && gz.length < body.length ? gz : null, etag, asset });
  }
  return out;
}

export function createUiApp(options: UiAppOptions = {}): Hono {
  const load = options.load ?? loadUiAssets;
  const routePrefix = options.routePrefix ?? "";
  let files: Promise<Map<string, Prepared> | null> | null = null;
  const getFiles = (): Promise<Map<string, Prepared> | null> => {
    files ??= load()
      .then((a) => (a ? prepare(a, routePrefix, options.pageTitle ?? "Shoal") : null))
      .catch((err: unknown) => {
        files = null; // try again on the next request
        throw err;
      });
    return files;
  };

  const send = (c: Context, file: Prepared, cacheControl: string): Response => {
    const headers = new Headers({
      "Content-Type": file.asset.contentType,
      "Cache-Control": cacheControl,
      ETag: file.etag,
      Vary: "Accept-Encoding",
      "X-Content-Type-Options": "nosniff",
    });
    if (c.req.header("If-None-Match") === file.etag) return new Response(null, { status: 304, headers });
    const acceptsGzip = /\bgzip\b/.test(c.req.header("Accept-Encoding") ?? "");
    if (file.gzip && acceptsGzip) {
      headers.set("Content-Encoding", "gzip");
      return new Response(c.req.method === "HEAD" ? null : file.gzip, { headers });
    }
    return new Response(c.req.method === "HEAD" ? null : file.body, { headers });
  };

  const unavailable = (c: Context, err?: unknown): Response =>
    c.text(
      err === undefined
        ? "This build of Shoal has no web UI (web/index.html was not bundled). The HTTP API is at /api/v1/.\n"
        : `The web UI could not be loaded: ${err instanceof Error ? err.message : String(err)}\n`,
      err === undefined ? 404 : 500,
    );

  const index = async (c: Context): Promise<Response> => {
    let map: Map<string, Prepared> | null;
    try {
      map = await getFiles();
    } catch (err) {
      return unavailable(c, err);
    }
    const file = map?.get("/index.html");
    if (!file) return unavailable(c);
    return send(c, file, REVALIDATE);
  };

  const app = new Hono();
  app.get("/ui/api/targets", async (c) => {
    const origin = new URL(c.req.url).origin;
    const members: readonly UiClusterMember[] = options.cluster?.().members ?? [{ name: "", httpAddress: origin + routePrefix, self: true }];
    const asked = await askMembers<MemberTargets>({ members: () => members, request: options.memberRequest, timeoutMs: options.memberTimeoutMs }, "/api/v1/targets?state=active");
    const activeTargets: Record<string, unknown>[] = [];
    const warnings: string[] = asked.dead.map((m) => `${m.name} is dead; its targets are not listed`);
    for (const { member: m, error } of asked.failed) warnings.push(`cannot list the targets of ${m.name} (${m.httpAddress}): ${error}`);
    for (const { member: m, data } of asked.answers) {
      for (const t of data.activeTargets ?? []) activeTargets.push(m.name ? { ...t, scrapedBy: m.name } : t);
    }
    activeTargets.sort((a, b) => String(a.scrapePool).localeCompare(String(b.scrapePool)) || String(a.scrapeUrl).localeCompare(String(b.scrapeUrl)));
    const dropped = options.droppedTargets?.() ?? { targets: [], counts: {} };
    return c.json({
      status: "success",
      data: { activeTargets, droppedTargets: dropped.targets, droppedTargetCounts: dropped.counts },
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  });
  for (const route of UI_ROUTES) {
    app.get(route, index);
    if (route !== "/") app.get(`${route}/`, index);
  }
  app.get("/index.html", index);
  app.get("/assets/*", async (c) => {
    let map: Map<string, Prepared> | null;
    try {
      map = await getFiles();
    } catch (err) {
      return unavailable(c, err);
    }
    const assetPath = c.req.path.slice(routePrefix.length);
    const file = map?.get(assetPath);
    if (!file) return c.text(`no UI asset at ${c.req.path}\n`, 404);
    return send(c, file, file.asset.immutable ? IMMUTABLE : REVALIDATE);
  });
  return app;
}
