/**
 * Serving under a path prefix, as Prometheus does behind a reverse proxy:
 * --web.external-url is where users reach the node; --web.route-prefix is the path every
 * endpoint (UI, API, /metrics, /-/healthy, …) lives under and defaults to the external URL's
 * path; `/` redirects to the prefix.
 */
import { Hono } from "hono";
import { hostname } from "node:os";

/**
 * The node's external URL. Without the flag: http://<hostname>:<listen port>. A bare path
 * ("/shoal") keeps that host. The path never ends in "/" (the root is the empty path).
 */
export function computeExternalUrl(flag: string, listenAddress: string): URL {
  const port = listenAddress.slice(listenAddress.lastIndexOf(":") + 1);
  const host = hostname();
  const derived = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (/^["']|["']$/.test(flag)) throw new Error(`invalid --web.external-url ${JSON.stringify(flag)}: the URL must not begin or end with quotes`);
  let url: URL;
  try {
    url = flag === "" ? new URL(derived) : flag.startsWith("/") ? new URL(flag, derived) : new URL(flag);
  } catch {
    throw new Error(`invalid --web.external-url ${JSON.stringify(flag)}: not a URL (expected e.g. https://example.com/shoal/)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`invalid --web.external-url ${JSON.stringify(flag)}: the scheme must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/** "" for the root, else "/a/b": --web.route-prefix, or the external URL's path. */
export function computeRoutePrefix(flag: string, externalUrl: URL): string {
  let raw = flag;
  if (raw === "") {
    try {
      raw = decodeURIComponent(externalUrl.pathname);
    } catch {
      throw new Error(`invalid --web.external-url path ${JSON.stringify(externalUrl.pathname)}: bad percent-encoding`);
    }
  }
  const trimmed = raw.replace(/^\/+|\/+$/g, "");
  if (/[?#\s]/.test(trimmed)) throw new Error(`invalid --web.route-prefix ${JSON.stringify(flag || raw)}: a path may not contain '?', '#' or spaces`);
  return trimmed === "" ? "" : `/${trimmed}`;
}

/**
 * The app as served: at the root when there is no prefix; otherwise every route of `app` under
 * `prefix`, `/` redirecting there, and nothing else answered.
 */
export function mountAtRoutePrefix(app: Hono, prefix: string): Hono {
  if (prefix === "") return app;
  const root = new Hono();
  root.get("/", (c) => c.redirect(prefix, 302));
  // The sub-app's own root ("/") is the bare prefix; a proxy forwarding "<prefix>/" reaches the
  // same page. Registered first, so that the sub-app's middleware runs once, for the inner request.
  root.get(`${prefix}/`, (c) => {
    const url = new URL(c.req.url);
    url.pathname = prefix;
    return root.fetch(new Request(url, c.req.raw), c.env);
  });
  root.route(prefix, app);
  root.notFound((c) => c.text("404 page not found\n", 404));
  return root;
}
