/**
 * A minimal cluster node for the cluster tests while the full node (src/node.ts) is being built:
 * the real storage and the real cluster, behind a tiny HTTP surface:
 *   POST /write   JSON {series:[{labels:{...}, samples:[[t,v],...]}]} through the distributor
 *   GET  /select?name=METRIC&mint=&maxt=   fan-out select, JSON
 *   GET  /local?name=METRIC                this node's own storage only
 *   GET  /owns?labels=JSON                 ownsTarget
 *   GET  /api/v1/status/cluster, GET /metrics
 * Usage: bun test/cluster/node-entry.ts --data DIR [--cluster.* flags]; prints "READY <port>".
 */
import { Cluster, ClusterWriteError, extractClusterFlags, renderMetricsText } from "../../src/cluster/index.ts";
import { createLogger, labelsFromRecord, Matcher, type Labels } from "../../src/model/index.ts";
import { openTSDB } from "../../src/storage/index.ts";

const { config, rest } = extractClusterFlags(process.argv.slice(2));
const dataIdx = rest.indexOf("--data");
if (dataIdx < 0) throw new Error("--data DIR is required");
const dataDir = rest[dataIdx + 1]!;
const logger = createLogger({ level: (process.env.LOG_LEVEL as "info") ?? "info" });
const db = await openTSDB({ dir: `${dataDir}/tsdb`, logger });

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => handle(req) });
const cluster = await Cluster.start({ config, dataDir, local: db, httpAddress: `127.0.0.1:${server.port}`, logger });

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  try {
    if (url.pathname === "/write" && req.method === "POST") {
      const body = (await req.json()) as { series: { labels: Record<string, string>; samples: [number, number][] }[] };
      const app = cluster.appendable.appender();
      for (const s of body.series) {
        const labels: Labels = labelsFromRecord(s.labels);
        for (const [t, v] of s.samples) app.append(labels, t, v);
      }
      try {
        await app.commit();
      } catch (err) {
        if (err instanceof ClusterWriteError) return json({ status: "error", error: err.message }, 503);
        return json({ status: "error", error: (err as Error).message }, 400);
      }
      return json({ status: "success" });
    }
    if (url.pathname === "/select" || url.pathname === "/local") {
      const q = (url.pathname === "/local" ? db : cluster.queryable).querier(
        Number(url.searchParams.get("mint") ?? 0),
        Number(url.searchParams.get("maxt") ?? 8.64e15),
      );
      const set = await q.select([new Matcher("=", "__name__", url.searchParams.get("name") ?? "")]);
      q.close();
      return json({
        warnings: set.warnings,
        series: set.series.map((s) => ({ labels: s.labels, timestamps: [...s.timestamps], values: [...s.values] })),
      });
    }
    if (url.pathname === "/owns") {
      return json({ owns: cluster.ownsTarget(labelsFromRecord(JSON.parse(url.searchParams.get("labels") ?? "{}"))) });
    }
    if (url.pathname === "/api/v1/status/cluster") return json({ status: "success", data: cluster.status() });
    if (url.pathname === "/metrics") return new Response(renderMetricsText(cluster.metrics()));
    return json({ error: "not found" }, 404);
  } catch (err) {
    return json({ status: "error", error: (err as Error).message }, 500);
  }
}

process.on("SIGTERM", async () => {
  await cluster.stop();
  await db.close();
  process.exit(0);
});
console.log(`READY ${server.port}`);
