/**
 * Targets, metadata, status pages, and the exemplar endpoint that is empty until Shoal stores
 * exemplars (its shape is Prometheus's, so clients work). Rules and alerts: rules_routes.ts.
 */
import type { Hono } from "hono";
import type { TargetMetadata } from "../model/index.ts";
import type { ApiDeps } from "./deps.ts";
import { MAX_TIME_MS, MIN_TIME_MS, invalidParam, readForm, timeParam, type Form } from "./params.ts";
import { badData, success } from "./respond.ts";

function intParam(form: Form, name: string, dflt: number, message: string): number {
  const s = form.get(name);
  if (s === "") return dflt;
  if (!/^[+-]?\d+$/.test(s)) throw badData(message);
  return Number(s);
}

export function registerStatusRoutes(app: Hono, deps: ApiDeps): void {
  app.get("/api/v1/targets", async (c) => {
    const form = await readForm(c);
    const state = form.get("state").toLowerCase();
    const pools = new Set(form.all("scrapePool"));
    const inPool = (p: string) => pools.size === 0 || pools.has(p);
    const showActive = state === "" || state === "any" || state === "active";
    const showDropped = state === "" || state === "any" || state === "dropped";
    const active = showActive ? deps.targets.activeTargets().filter((t) => inPool(t.scrapePool)) : [];
    // As Prometheus 3: dropped targets carry their pool; droppedTargetCounts has every pool
    // (0 included, the scrapePool filter does not apply, keep_dropped_targets does not trim it)
    // and is null when dropped targets were not asked for.
    const dropped = showDropped
      ? deps.targets
          .droppedTargets()
          .filter((t) => inPool(t.scrapePool))
          .map((t) => ({ discoveredLabels: t.discoveredLabels, scrapePool: t.scrapePool }))
      : [];
    let droppedTargetCounts: Record<string, number> | null = null;
    if (showDropped) {
      droppedTargetCounts = deps.targets.droppedTargetCounts?.() ?? {};
      if (!deps.targets.droppedTargetCounts) {
        for (const t of deps.targets.droppedTargets()) droppedTargetCounts[t.scrapePool] = (droppedTargetCounts[t.scrapePool] ?? 0) + 1;
      }
    }
    return success({ activeTargets: active, droppedTargets: dropped, droppedTargetCounts });
  });

  app.get("/api/v1/targets/metadata", async (c) => {
    const form = await readForm(c);
    const limit = intParam(form, "limit", -1, "limit must be a number");
    const metric = form.get("metric");
    const matchTarget = form.get("match_target");
    let matchers: ReturnType<ApiDeps["promql"]["parseMetricSelector"]> = [];
    if (matchTarget !== "") {
      try {
        matchers = deps.promql.parseMetricSelector(matchTarget);
      } catch (e) {
        throw invalidParam("match_target", e);
      }
    }
    // With a metric given, entries leave out the (redundant) `metric` field, as Prometheus's do.
    const out: (TargetMetadata | Omit<TargetMetadata, "metric">)[] = [];
    for (const md of deps.targets.metadata()) {
      if (limit >= 0 && out.length >= limit) break;
      if (metric !== "" && md.metric !== metric) continue;
      if (!matchers.every((m) => m.matches(md.target[m.name] ?? ""))) continue;
      out.push(metric === "" ? md : { target: md.target, type: md.type, help: md.help, unit: md.unit });
    }
    return success(out);
  });

  app.get("/api/v1/metadata", async (c) => {
    const form = await readForm(c);
    const limit = intParam(form, "limit", -1, "limit must be a number");
    const limitPerMetric = intParam(form, "limit_per_metric", -1, "limit_per_metric must be a number");
    const metric = form.get("metric");
    const byMetric = new Map<string, Map<string, { type: string; help: string; unit: string }>>();
    for (const md of deps.targets.metadata()) {
      if (metric !== "" && md.metric !== metric) continue;
      let set = byMetric.get(md.metric);
      if (!set) byMetric.set(md.metric, (set = new Map()));
      if (limitPerMetric > 0 && set.size >= limitPerMetric) continue;
      set.set(`${md.type}\xff${md.help}\xff${md.unit}`, { type: md.type, help: md.help, unit: md.unit });
    }
    const res: Record<string, { type: string; help: string; unit: string }[]> = {};
    let n = 0;
    for (const [name, set] of byMetric) {
      if (limit >= 0 && n >= limit) break;
      res[name] = [...set.values()];
      n++;
    }
    return success(res);
  });

  const exemplars = async (form: Form): Promise<Response> => {
    timeParam(form, "start", MIN_TIME_MS);
    timeParam(form, "end", MAX_TIME_MS);
    const query = form.get("query");
    try {
      deps.promql.formatQuery(query);
    } catch (e) {
      throw badData(e instanceof Error ? e.message : String(e));
    }
    return success([]);
  };
  app.get("/api/v1/query_exemplars", async (c) => exemplars(await readForm(c)));
  app.post("/api/v1/query_exemplars", async (c) => exemplars(await readForm(c)));

  app.get("/api/v1/status/buildinfo", () => {
    // Exactly Prometheus's fields: the node's build record carries more (tags) for its metric.
    const { version, revision, branch, buildUser, buildDate, goVersion } = deps.buildInfo;
    return success({ version, revision, branch, buildUser, buildDate, goVersion });
  });
  app.get("/api/v1/status/config", () => success({ yaml: deps.configYaml() }));
  app.get("/api/v1/status/flags", () => success(deps.flags));
  app.get("/api/v1/status/runtimeinfo", () => success(deps.runtimeInfo()));
  // Shoal's own: one entry per remote_write queue (see RemoteQueueStatus).
  app.get("/api/v1/status/remote_write", () => success({ queues: deps.remoteWrite?.queues() ?? [] }));
  app.get("/api/v1/status/walreplay", () => success({ min: 0, max: 0, current: 0 }));
  app.get("/api/v1/status/tsdb", async (c) => {
    const form = await readForm(c);
    const s = form.get("limit");
    let limit = 10;
    if (s !== "") {
      limit = Number(s);
      if (!/^[+-]?\d+$/.test(s) || limit <= 0) throw badData("limit must be a positive number");
    }
    return success(deps.admin.status(limit));
  });
}
