/** /api/v1/query, /api/v1/query_range, /api/v1/format_query, /api/v1/parse_query. */
import type { Hono } from "hono";
import { QueryError, type QueryResult, type QueryValue } from "../promql/index.ts";
import type { ApiDeps } from "./deps.ts";
import { limitParam, invalidParam, parseDurationMs, parseTimeMs, readForm, timeParam, type Form } from "./params.ts";
import { queryDataJSON } from "./render.ts";
import { ApiError, badData, success, successRaw } from "./respond.ts";

const MAX_POINTS_PER_SERIES = 11000;

/** The request's `timeout`, capped by the server's (0: the server's). */
function timeoutParam(form: Form, serverMs: number | undefined): number {
  const s = form.get("timeout");
  if (s === "") return 0;
  let ms: number;
  try {
    ms = parseDurationMs(s);
  } catch (e) {
    throw invalidParam("timeout", e);
  }
  // A deadline already past, as Prometheus's context would be.
  if (ms <= 0) throw new ApiError("timeout", "query timed out in query execution");
  return serverMs !== undefined && serverMs > 0 ? Math.min(ms, serverMs) : ms;
}

/**
 * Engine errors become API errors. Parse errors of an instant query are reported against the
 * `query` parameter; a range query's are not (Prometheus's query_range returns them as they are).
 */
function toApiError(e: unknown, range = false): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof QueryError) {
    if (e.type === "bad_data") return range ? badData(e.message) : invalidParam("query", e);
    return new ApiError(e.type, e.message);
  }
  return new ApiError("execution", e instanceof Error ? e.message : String(e));
}

/** Keeps the first `limit` series of a vector or matrix, warning as Prometheus does. */
function truncate(value: QueryValue, limit: number, warnings: string[]): QueryValue {
  if (limit <= 0) return value;
  if ((value.resultType === "vector" || value.resultType === "matrix") && value.result.length > limit) {
    warnings.push("results truncated due to limit");
    if (value.resultType === "vector") return { resultType: "vector", result: value.result.slice(0, limit) };
    return { resultType: "matrix", result: value.result.slice(0, limit) };
  }
  return value;
}

function respondQuery(res: QueryResult, form: Form, limit: number): Response {
  const warnings = [...res.warnings];
  const value = truncate(res.value, limit, warnings);
  const stats = form.get("stats");
  return successRaw(queryDataJSON(value, stats !== "" ? res.stats : null, stats === "all"), warnings, res.infos);
}

export function registerQueryRoutes(app: Hono, deps: ApiDeps): void {
  const instant = async (form: Form, signal: AbortSignal): Promise<Response> => {
    const limit = limitParam(form);
    const t = timeParam(form, "time", Date.now());
    const timeout = timeoutParam(form, deps.queryTimeoutMs);
    let res: QueryResult;
    try {
      res = await deps.engine.instantQuery(deps.queryable, form.get("query"), t, timeout > 0 ? { timeout, signal } : { signal });
    } catch (e) {
      throw toApiError(e);
    }
    return respondQuery(res, form, limit);
  };

  const range = async (form: Form, signal: AbortSignal): Promise<Response> => {
    const limit = limitParam(form);
    let start: number;
    let end: number;
    let step: number;
    try {
      start = parseTimeMs(form.get("start"));
    } catch (e) {
      throw invalidParam("start", e);
    }
    try {
      end = parseTimeMs(form.get("end"));
    } catch (e) {
      throw invalidParam("end", e);
    }
    if (end < start) throw invalidParam("end", "end timestamp must not be before start time");
    try {
      step = parseDurationMs(form.get("step"));
    } catch (e) {
      throw invalidParam("step", e);
    }
    if (step <= 0) {
      throw invalidParam("step", "zero or negative query resolution step widths are not accepted. Try a positive integer");
    }
    if (Math.floor((end - start) / step) > MAX_POINTS_PER_SERIES) {
      throw badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
    const timeout = timeoutParam(form, deps.queryTimeoutMs);
    let res: QueryResult;
    try {
      res = await deps.engine.rangeQuery(deps.queryable, form.get("query"), start, end, step, timeout > 0 ? { timeout, signal } : { signal });
    } catch (e) {
      throw toApiError(e, true);
    }
    return respondQuery(res, form, limit);
  };

  const format = async (form: Form): Promise<Response> => {
    try {
      return success(deps.promql.formatQuery(form.get("query")));
    } catch (e) {
      throw invalidParam("query", e);
    }
  };

  const parse = async (form: Form): Promise<Response> => {
    const tree = deps.promql.parseQueryTree;
    if (!tree) throw new ApiError("unavailable", "parse_query is not available");
    try {
      return success(tree(form.get("query")));
    } catch (e) {
      throw invalidParam("query", e);
    }
  };

  for (const [path, handler] of [
    ["/api/v1/query", instant],
    ["/api/v1/query_range", range],
    ["/api/v1/format_query", format],
    ["/api/v1/parse_query", parse],
  ] as const) {
    app.get(path, async (c) => handler(await readForm(c), c.req.raw.signal));
    app.post(path, async (c) => handler(await readForm(c), c.req.raw.signal));
  }
}
