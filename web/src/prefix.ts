/**
 * Where this node's pages live. Behind a reverse proxy a node may serve everything under a
 * path prefix (--web.route-prefix, e.g. /shoal); the server writes it into index.html's head,
 * and every link, route match and API call of the UI goes through these helpers.
 */
function meta(name: string): string | null {
  if (typeof document === "undefined") return null;
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? null;
}

/** "" when the node serves at the root, else e.g. "/shoal" (no trailing slash). */
export const ROUTE_PREFIX = meta("shoal-route-prefix") ?? "";

/** --web.page-title */
export const PAGE_TITLE = meta("shoal-page-title") ?? "Shoal";

/** A server path ("/api/v1/query", "/targets") as the browser must ask for it. */
export function withPrefix(path: string): string {
  return ROUTE_PREFIX + path;
}

/** The page path inside the prefix ("/shoal/targets" → "/targets", "/shoal" → "/"). */
export function withoutPrefix(pathname: string): string {
  if (ROUTE_PREFIX === "" || !pathname.startsWith(ROUTE_PREFIX)) return pathname;
  return pathname.slice(ROUTE_PREFIX.length) || "/";
}
