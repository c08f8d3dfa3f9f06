/** /api/v1/admin/tsdb/*: off unless --web.enable-admin-api, as in Prometheus. */
import type { Hono } from "hono";
import type { ApiDeps } from "./deps.ts";
import { MAX_TIME_MS, MIN_TIME_MS, readForm, timeParam, type Form } from "./params.ts";
import { ApiError, badData } from "./respond.ts";

export function registerAdminRoutes(app: Hono, deps: ApiDeps): void {
  const guard = () => {
    if (!deps.enableAdminApi) throw new ApiError("unavailable", "admin APIs disabled");
  };

  const deleteSeries = async (form: Form): Promise<Response> => {
    guard();
    const selectors = form.all("match[]");
    if (selectors.length === 0) throw badData("no match[] parameter provided");
    const start = timeParam(form, "start", MIN_TIME_MS);
    const end = timeParam(form, "end", MAX_TIME_MS);
    const sets = selectors.map((s) => {
      try {
        return deps.promql.parseMetricSelector(s);
      } catch (e) {
        throw badData(e instanceof Error ? e.message : String(e));
      }
    });
    for (const matchers of sets) {
      try {
        await deps.admin.deleteSeries(matchers, start, end);
      } catch (e) {
        throw new ApiError("internal", e instanceof Error ? e.message : String(e));
      }
    }
    deps.logger.info("Deleted series", { match: selectors.join(" "), start, end });
    return new Response(null, { status: 204 });
  };

  const cleanTombstones = async (): Promise<Response> => {
    guard();
    try {
      await deps.admin.cleanTombstones();
    } catch (e) {
      throw new ApiError("internal", e instanceof Error ? e.message : String(e));
    }
    return new Response(null, { status: 204 });
  };

  for (const m of ["post", "put"] as const) {
    app[m]("/api/v1/admin/tsdb/delete_series", async (c) => deleteSeries(await readForm(c)));
    app[m]("/api/v1/admin/tsdb/clean_tombstones", () => cleanTombstones());
  }
}
