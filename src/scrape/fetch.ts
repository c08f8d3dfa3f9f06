/**
 * One HTTP scrape: the request Prometheus sends (Accept negotiation between OpenMetrics and the
 * text format, gzip, the scrape-timeout header, auth, TLS), the body read up to
 * body_size_limit and decoded as UTF-8.
 */
import { readFileSync } from "node:fs";
import type { ScrapeConfig } from "../config/index.ts";
import type { ExpositionFormat } from "./exposition.ts";

/** Prometheus 2.x's Accept header: OpenMetrics preferred, then the text format. */
export const SCRAPE_ACCEPT_HEADER =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

export const USER_AGENT = "Shoal/0.1.0";

export interface ScrapeResponse {
  body: string;
  format: ExpositionFormat;
  contentType: string;
  /** Bytes after decompression. */
  size: number;
}

export class ScrapeError extends Error {}

/** The body was longer than body_size_limit. */
export class BodySizeLimitError extends ScrapeError {}

/** The media type each scrape protocol asks for, as Prometheus 3 spells it in Accept. */
const PROTOCOL_MEDIA_TYPES: Readonly<Record<ScrapeConfig["fallbackScrapeProtocol"], string>> = {
  "PrometheusText0.0.4": "text/plain;version=0.0.4",
  "PrometheusText1.0.0": "text/plain;version=1.0.0",
  "OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
  "OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
};
const KNOWN_PROTOCOL_COUNT = 5;

/**
 * Prometheus 3's Accept header for `scrape_protocols`: each in order with a falling q weight,
 * the 1.0.0 formats asking for legacy names escaped with underscores, anything else last.
 */
export function acceptHeader(protocols: readonly ScrapeConfig["fallbackScrapeProtocol"][] | undefined): string {
  if (protocols === undefined) return SCRAPE_ACCEPT_HEADER;
  let weight = KNOWN_PROTOCOL_COUNT + 1;
  const parts = protocols.map((p) => {
    const escaping = p === "PrometheusText1.0.0" || p === "OpenMetricsText1.0.0" ? ";escaping=underscores" : "";
    return `${PROTOCOL_MEDIA_TYPES[p]}${escaping};q=0.${weight--}`;
  });
  parts.push(`*/*;q=0.${weight}`);
  return parts.join(",");
}

/** A body without a Content-Type Shoal knows is parsed as `fallback` says. */
export function formatFromContentType(contentType: string, fallback: ScrapeConfig["fallbackScrapeProtocol"] = "PrometheusText0.0.4"): ExpositionFormat {
  const media = contentType.split(";")[0]!.trim().toLowerCase();
  if (media === "application/openmetrics-text") return "openmetrics";
  if (media === "text/plain") return "text";
  return fallback.startsWith("OpenMetrics") ? "openmetrics" : "text";
}

function readSecret(value: string | undefined, file: string | undefined): string {
  if (file !== undefined) return readFileSync(file, "utf8").trim();
  return value ?? "";
}

export function requestHeaders(cfg: ScrapeConfig, timeoutMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    Accept: acceptHeader(cfg.scrapeProtocols),
    "Accept-Encoding": cfg.enableCompression ? "gzip" : "identity",
    "User-Agent": USER_AGENT,
    "X-Prometheus-Scrape-Timeout-Seconds": String(timeoutMs / 1000),
  };
  if (cfg.basicAuth) {
    const pw = readSecret(cfg.basicAuth.password, cfg.basicAuth.passwordFile);
    headers.Authorization = `Basic ${Buffer.from(`${cfg.basicAuth.username}:${pw}`).toString("base64")}`;
  } else if (cfg.authorization) {
    const cred = readSecret(cfg.authorization.credentials, cfg.authorization.credentialsFile);
    headers.Authorization = `${cfg.authorization.type} ${cred}`;
  }
  return headers;
}

function tlsOptions(cfg: ScrapeConfig): BunFetchRequestInit["tls"] {
  const t = cfg.tlsConfig;
  const tls: NonNullable<BunFetchRequestInit["tls"]> = { rejectUnauthorized: !t.insecureSkipVerify };
  if (t.caFile) tls.ca = readFileSync(t.caFile, "utf8");
  if (t.certFile) tls.cert = readFileSync(t.certFile, "utf8");
  if (t.keyFile) tls.key = readFileSync(t.keyFile, "utf8");
  if (t.serverName) tls.serverName = t.serverName;
  return tls;
}

async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  if (limit <= 0) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodySizeLimitError("body size limit exceeded");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const text = new TextDecoder("utf-8").decode(bytes);
    const at = text.indexOf("\uFFFD");
    const line = text.slice(0, at).split("\n").length;
    throw new ScrapeError(`invalid UTF-8 in response body at line ${line}`);
  }
}

export async function fetchTarget(url: string, cfg: ScrapeConfig, timeoutMs: number, stop: AbortSignal): Promise<ScrapeResponse> {
  const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]);
  let res: Response;
  try {
    const init: BunFetchRequestInit = { headers: requestHeaders(cfg, timeoutMs), signal, redirect: cfg.followRedirects ? "follow" : "manual", proxy: false };
    if (url.startsWith("https:")) init.tls = tlsOptions(cfg);
    res = await fetch(url, init);
  } catch (e) {
    throw new ScrapeError(`Get "${url}": ${describe(e, signal)}`);
  }
  try {
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new ScrapeError(`server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
    }
    const bytes = await readLimited(res, cfg.bodySizeLimit);
    const contentType = res.headers.get("content-type") ?? "";
    return { body: decode(bytes), format: formatFromContentType(contentType, cfg.fallbackScrapeProtocol), contentType, size: bytes.byteLength };
  } catch (e) {
    if (e instanceof ScrapeError) throw e;
    throw new ScrapeError(`Get "${url}": ${describe(e, signal)}`);
  }
}

function describe(e: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DOMException && reason.name === "TimeoutError") return "context deadline exceeded";
    return "context canceled";
  }
  return e instanceof Error ? e.message : String(e);
}
