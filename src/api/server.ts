/**
 * The node's HTTP surface as one hono app: health and lifecycle endpoints, /metrics, the
 * Prometheus HTTP API, remote write/read and federation. Errors thrown by routes as ApiError
 * become Prometheus's error envelope; anything else is logged and answered with a 500.
 */
import { Hono } from "hono";
import { registerAdminRoutes } from "./admin_routes.ts";
import type { ApiDeps } from "./deps.ts";
import { registerFederate } from "./federate.ts";
import { lifecycleGuard } from "./lifecycle.ts";
import { apiCompression, apiCors } from "./middleware.ts";
import { registerQueryRoutes } from "./query_routes.ts";
import { DEFAULT_REMOTE_WRITE_LIMITS, registerRemoteRead, registerRemoteWrite, type RemoteWriteOptions } from "./remote/index.ts";
import { ApiError, errorResponse } from "./respond.ts";
import { registerRulesRoutes } from "./rules_routes.ts";
import { registerSeriesRoutes } from "./series_routes.ts";
import { registerStatusRoutes } from "./status_routes.ts";

export { ApiError } from "./respond.ts";
export type * from "./deps.ts";
export type { MemberDirectory, MemberRef } from "./members.ts";

export interface ApiAppOptions {
  remoteWrite?: RemoteWriteOptions;
  /** --web.enable-lifecycle, and origins besides the request's host that may use it. */
  lifecycle?: { enabled: boolean; trustedOrigins?: readonly string[] };
  /** --web.cors.origin as a predicate; every origin when absent. */
  corsOrigin?: (origin: string) => boolean;
  /** Adds routes after the API's own (the web UI, cluster endpoints). */
  extend?: (app: Hono) => void;
}

export function createApiApp(deps: ApiDeps, opts: ApiAppOptions = {}): Hono {
  const app = new Hono();
  const reg = deps.registry;
  const httpRequests = reg.counter("prometheus_http_requests_total", "Counter of HTTP requests.", ["code", "handler"]);
  const httpDuration = reg.histogram(
    "prometheus_http_request_duration_seconds",
    "Histogram of latencies for HTTP requests.",
    [0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120],
    ["handler"],
  );
  const remoteWriteMetrics = {
    requests: reg.counter("shoal_remote_write_requests_total", "Remote write requests received, by HTTP status code.", ["code"]),
    samples: reg.counter("shoal_remote_write_samples_total", "Samples stored from remote write requests."),
    rejectedSamples: reg.counter("shoal_remote_write_rejected_samples_total", "Remote write samples refused by storage, by reason.", ["reason"]),
    histogramsDropped: reg.counter("shoal_remote_write_histograms_dropped_total", "Native histogram samples received by remote write and dropped (not supported)."),
    decoded: reg.counter("shoal_remote_write_decoded_requests_total", "Remote write request bodies decoded, by thread (worker: a decoding worker, request: the request thread).", ["thread"]),
    haDroppedSamples: reg.counter("shoal_remote_write_ha_deduplicated_samples_total", "Samples of HA replicas that are not the elected one for their HA cluster, dropped (--distributor.ha-tracker.enable).", ["cluster"]),
  };

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    const handler = c.req.routePath || c.req.path;
    httpRequests.inc(1, String(c.res.status), handler);
    httpDuration.observe((performance.now() - t0) / 1000, handler);
  });

  // --web.cors.origin defaults to every origin, as Prometheus's does.
  app.use("/api/*", apiCors(opts.corsOrigin ?? (() => true)));
  app.use("/api/v1/*", ...apiCompression());
  app.use("/federate", ...apiCompression());

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(err.type, err.message);
    deps.logger.error("HTTP handler failed", { path: c.req.path, err });
    return errorResponse("internal", err instanceof Error ? err.message : String(err));
  });

  app.get("/-/healthy", () => new Response("Shoal Server is Healthy.\n"));
  app.get("/-/ready", () =>
    deps.ready() ? new Response("Shoal Server is Ready.\n") : new Response("Service Unavailable\n", { status: 503 }),
  );
  const reload = async () => {
    try {
      await deps.reload();
      return new Response(null, { status: 200 });
    } catch (e) {
      return new Response(`failed to reload config: ${(e as Error).message}\n`, { status: 500 });
    }
  };
  // Registered before the routes they guard (and before `extend`'s cluster leave): hono runs
  // middleware in registration order.
  const guard = lifecycleGuard(opts.lifecycle ?? { enabled: false });
  for (const path of ["/-/quit", "/-/reload", "/api/v1/cluster/leave"]) app.use(path, guard);
  app.post("/-/reload", reload);
  const quit = () => {
    if (!deps.quit) return new Response("quit is not available\n", { status: 404 });
    // Answer first, then stop (the shutdown closes this server).
    setTimeout(() => deps.quit?.(), 10);
    return new Response("Requesting termination... Goodbye!\n");
  };
  app.post("/-/quit", quit);
  app.put("/-/quit", quit);
  app.put("/-/reload", reload);
  for (const path of ["/-/quit", "/-/reload"]) app.get(path, (c) => c.text("Only POST or PUT requests allowed\n", 405));
  app.get("/metrics", () => new Response(reg.render(), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } }));

  registerQueryRoutes(app, deps);
  registerSeriesRoutes(app, deps);
  registerStatusRoutes(app, deps);
  registerRulesRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerRemoteWrite(app, deps.appendable, deps.logger.with({ component: "remote_write" }), remoteWriteMetrics, opts.remoteWrite ?? DEFAULT_REMOTE_WRITE_LIMITS);
  registerRemoteRead(app, deps.queryable, deps.externalLabels);
  registerFederate(app, deps);
  opts.extend?.(app);
  app.all("/api/*", () => new Response("404 page not found\n", { status: 404 }));
  return app;
}
