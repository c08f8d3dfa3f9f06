#!/usr/bin/env bun
/**
 * Developing the UI against any Prometheus-compatible server: serves the UI (bundled from web/)
 * and forwards everything else to the upstream. Not a test; run it by hand:
 *   bun test/ui/dev-server.ts http://127.0.0.1:9090 [port]
 */
import { Hono } from "hono";
import { createUiApp } from "../../src/api/ui.ts";

const upstream = (process.argv[2] ?? "http://127.0.0.1:9090").replace(/\/$/, "");
const port = Number(process.argv[3] ?? 0);

const app = new Hono();
app.route("/", createUiApp());
app.all("*", async (c) => {
  const url = new URL(c.req.url);
  const res = await fetch(upstream + url.pathname + url.search, {
    method: c.req.method,
    headers: c.req.raw.headers,
    body: c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.arrayBuffer(),
  });
  // fetch() already decoded the body; its length and encoding headers no longer apply.
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(res.body, { status: res.status, headers });
});

const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch });
console.log(`UI on http://127.0.0.1:${server.port}/ → API at ${upstream}`);
