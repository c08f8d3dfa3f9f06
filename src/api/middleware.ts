/**
 * CORS and compression for the API, built from Hono's own middleware with Prometheus's
 * settings.
 */
import type { MiddlewareHandler } from "hono";
import { compress } from "hono/compress";
import { cors } from "hono/cors";

/**
 * CORS as Prometheus sets it, so browser-side clients such as Grafana's direct access mode can
 * call the API: the request's origin is allowed when --web.cors.origin matches it (every origin
 * by default). The answer depends on the Origin header, so it says `Vary: Origin` and a shared
 * cache never hands one origin's answer to another.
 */
export function apiCors(allowOrigin: (origin: string) => boolean): MiddlewareHandler {
  return cors({
    origin: (origin) => (origin !== "" && allowOrigin(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Accept", "Authorization", "Content-Type", "Origin"],
    exposeHeaders: ["Date"],
  });
}

/** JSON and text answers are compressed (the other types the API sends are compressed already or tiny). */
const COMPRESSIBLE = /^(application\/json|text\/plain)/;

/** Answers below this size are sent as they are: gzip would save too little to pay for itself. */
const COMPRESS_THRESHOLD_BYTES = 2048;

/**
 * Hono's compress applies its threshold only to an answer that states its length, and the API
 * builds its answers in memory without stating it: this states it, so that small answers stay
 * uncompressed.
 */
const stateLength: MiddlewareHandler = async (c, next) => {
  await next();
  // Only worth buffering when the answer may be compressed at all.
  if (!/\bgzip\b/i.test(c.req.header("Accept-Encoding") ?? "")) return;
  const res = c.res;
  if (res.body === null || res.headers.has("Content-Length") || res.headers.has("Content-Encoding")) return;
  if (!COMPRESSIBLE.test(res.headers.get("Content-Type") ?? "")) return;
  const body = await res.arrayBuffer();
  c.res = new Response(body, res);
  c.res.headers.set("Content-Length", String(body.byteLength));
};

/** Large JSON and text answers gzip-compressed for clients that accept it, as Prometheus does. */
export function apiCompression(): MiddlewareHandler[] {
  // Hono runs middleware in order around the handler: stateLength, registered second, has
  // stated the length by the time compress looks at the answer.
  return [compress({ encoding: "gzip", threshold: COMPRESS_THRESHOLD_BYTES, contentTypeFilter: COMPRESSIBLE }), stateLength];
}
