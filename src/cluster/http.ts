/**
 * The cluster's own HTTP endpoints, registered by node.ts on the API app:
 * - GET  /api/v1/status/cluster          members, ring shares, hinted handoff, hand-off progress
 * - POST /api/v1/cluster/leave           graceful leave (the same as SIGTERM): 202, then the node
 *                                        hands its ranges over and exits 0
 * - GET  /api/v1/cluster/local/series    the samples of this node's own storage only (no
 *                                        fan-out): match[], start, end (RFC 3339 or Unix seconds);
 *                                        what tests and operators use to see where series live
 * - POST /api/v1/cluster/rpc             another member's read (select, pushdown; http_rpc.ts)
 */
import type { Hono } from "hono";
import type { Matcher } from "../model/index.ts";
import type { Cluster } from "./cluster.ts";
import { HTTP_RPC_PATH } from "./http_rpc.ts";
import type { HandoffStorage } from "./transfer.ts";

export interface ClusterRouteDeps {
  cluster: Cluster;
  local: HandoffStorage;
  parseSelector: (s: string) => Matcher[];
  /** Starts the node's orderly shutdown (which begins with the graceful leave). */
  shutdown: () => void;
}

function apiError(status: number, errorType: string, error: string): Response {
  return Response.json({ status: "error", errorType, error }, { status });
}

function timeParam(raw: string | undefined, name: string, dflt: number): number {
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (Number.isFinite(n)) return Math.round(n * 1000);
  const d = Date.parse(raw);
  if (Number.isNaN(d)) throw new Error(`invalid parameter "${name}": cannot parse ${JSON.stringify(raw)} to a valid timestamp`);
  return d;
}

/** A float as the Prometheus API prints sample values. */
function fmt(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function registerClusterRoutes(app: Hono, deps: ClusterRouteDeps): void {
  app.get("/api/v1/status/cluster", () => Response.json({ status: "success", data: deps.cluster.status() }));

  app.post("/api/v1/cluster/leave", () => {
    const self = deps.cluster.membership.self();
    const already = deps.cluster.handoff.leaving();
    // A second SIGTERM would force the exit: ask only once.
    if (!already) deps.shutdown();
    return Response.json(
      { status: "success", data: { node: self.name, id: self.id, state: "leaving", alreadyLeaving: already } },
      { status: 202 },
    );
  });

  app.post(HTTP_RPC_PATH, (c) => deps.cluster.serveHttpRpc(c.req.raw));

  app.get("/api/v1/cluster/local/series", async (c) => {
    const url = new URL(c.req.url);
    const selectors = url.searchParams.getAll("match[]");
    if (selectors.length === 0) return apiError(400, "bad_data", "no match[] parameter provided");
    let start: number;
    let end: number;
    let sets: Matcher[][];
    try {
      start = timeParam(url.searchParams.get("start") ?? undefined, "start", -8.64e15);
      end = timeParam(url.searchParams.get("end") ?? undefined, "end", 8.64e15);
      sets = selectors.map((s) => deps.parseSelector(s));
    } catch (err) {
      return apiError(400, "bad_data", err instanceof Error ? err.message : String(err));
    }
    const q = deps.local.querier(start, end);
    try {
      const seen = new Set<string>();
      const out: { metric: Record<string, string>; values: [number, string][] }[] = [];
      for (const matchers of sets) {
        const set = await q.select(matchers);
        for (const s of set.series) {
          const metric: Record<string, string> = {};
          for (const l of s.labels) metric[l.name] = l.value;
          const key = JSON.stringify(metric);
          if (seen.has(key)) continue;
          seen.add(key);
          const values: [number, string][] = [];
          for (let i = 0; i < s.timestamps.length; i++) values.push([s.timestamps[i]! / 1000, fmt(s.values[i]!)]);
          out.push({ metric, values });
        }
      }
      return Response.json({ status: "success", data: { node: deps.cluster.membership.self().name, series: out } });
    } catch (err) {
      return apiError(500, "internal", err instanceof Error ? err.message : String(err));
    } finally {
      q.close();
    }
  });
}
