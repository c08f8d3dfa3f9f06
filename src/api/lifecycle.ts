/**
 * The guard in front of the endpoints that stop or reload a node (`/-/quit`, `/-/reload`,
 * `/api/v1/cluster/leave`). As in Prometheus they answer 403 unless `--web.enable-lifecycle`.
 *
 * When they are enabled, a browser must still not be usable against them from another site:
 * a plain HTML form can POST to any URL without a CORS preflight, so requiring POST/PUT alone
 * does not stop a page elsewhere from shutting the node down through a visitor's browser.
 * Browsers mark such requests (`Origin`, `Sec-Fetch-Site`), so a request that says it comes
 * from another origin is refused. Clients that are not browsers (curl, `shoal cluster leave`,
 * deploy tooling) send neither header and are not affected.
 */
import type { MiddlewareHandler } from "hono";

export const LIFECYCLE_DISABLED_MESSAGE = "Lifecycle API is not enabled.";

export interface LifecycleGuardOptions {
  /** --web.enable-lifecycle */
  enabled: boolean;
  /**
   * Origins (`scheme://host[:port]`) that may call the endpoints besides the request's own
   * host: the --web.external-url's, since behind a reverse proxy the Host header the node sees
   * may differ from the one the browser used.
   */
  trustedOrigins?: readonly string[];
}

/** Why a request is cross-site, or null when it is same-origin or not from a browser. */
export function crossSiteReason(headers: Headers, trustedOrigins: readonly string[] = []): string | null {
  const site = headers.get("sec-fetch-site");
  // "none": typed into the address bar or a bookmark — the user's own action.
  if (site !== null && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  const origin = headers.get("origin");
  if (origin === null) return null;
  if (origin === "null") return "Origin: null";
  let host: string;
  try {
    const u = new URL(origin);
    host = u.host;
    if (trustedOrigins.includes(u.origin)) return null;
  } catch {
    return `Origin: ${origin}`;
  }
  const requestHost = headers.get("host");
  if (requestHost !== null && requestHost.toLowerCase() === host.toLowerCase()) return null;
  return `Origin: ${origin}`;
}

export function lifecycleGuard(opts: LifecycleGuardOptions): MiddlewareHandler {
  const trusted = opts.trustedOrigins ?? [];
  return async (c, next) => {
    // Only the state-changing methods act; anything else falls through to the routes.
    if (c.req.method !== "POST" && c.req.method !== "PUT") return next();
    if (!opts.enabled) return c.text(`${LIFECYCLE_DISABLED_MESSAGE}\n`, 403);
    const why = crossSiteReason(c.req.raw.headers, trusted);
    if (why !== null) return c.text(`Cross-site requests to the lifecycle API are refused (${why}).\n`, 403);
    await next();
  };
}
