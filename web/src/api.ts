/**
 * Calls to the node's Prometheus-compatible HTTP API. Every call returns the `data` part of the
 * envelope plus its warnings, or throws an ApiError carrying the server's own message so that a
 * page can show it as it is.
 */
import { withPrefix } from "./prefix.ts";

export interface ApiEnvelope<T> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

export interface ApiResult<T> {
  data: T;
  warnings: string[];
  infos: string[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorType: string,
  ) {
    super(message);
  }
}

export async function apiGet<T>(path: string, params?: Record<string, string>, signal?: AbortSignal): Promise<ApiResult<T>> {
  const qs = params ? "?" + new URLSearchParams(params).toString() : "";
  return handle<T>(await request(path + qs, { signal }));
}

export async function apiPost<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<ApiResult<T>> {
  const body = new URLSearchParams(params);
  return handle<T>(
    await request(path, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      signal,
    }),
  );
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url.startsWith("/") ? withPrefix(url) : url, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(`cannot reach the server: ${err instanceof Error ? err.message : String(err)}`, 0, "network");
  }
}

async function handle<T>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let body: ApiEnvelope<T> | null = null;
  try {
    body = JSON.parse(text) as ApiEnvelope<T>;
  } catch {
    body = null;
  }
  if (!body || typeof body !== "object") {
    const snippet = text.trim().slice(0, 200) || res.statusText;
    throw new ApiError(`HTTP ${res.status}: ${snippet}`, res.status, "bad_response");
  }
  if (body.status !== "success" || !res.ok) {
    throw new ApiError(body.error ?? `HTTP ${res.status} ${res.statusText}`, res.status, body.errorType ?? "error");
  }
  return { data: body.data as T, warnings: body.warnings ?? [], infos: body.infos ?? [] };
}

// Shapes of the Prometheus API responses the UI reads.
export type Metric = Record<string, string>;
export type SamplePair = [number, string];
export interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}
export interface InstantVectorSample {
  metric: Metric;
  value?: SamplePair;
  histogram?: [number, NativeHistogram];
}
export interface RangeSeries {
  metric: Metric;
  values?: SamplePair[];
  histograms?: [number, NativeHistogram][];
}
export type QueryData =
  | { resultType: "vector"; result: InstantVectorSample[] }
  | { resultType: "matrix"; result: RangeSeries[] }
  | { resultType: "scalar"; result: SamplePair }
  | { resultType: "string"; result: SamplePair };

export interface Target {
  discoveredLabels: Metric;
  labels: Metric;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: "up" | "down" | "unknown";
  scrapeInterval?: string;
  scrapeTimeout?: string;
  /** Shoal: the cluster member that scrapes this target. */
  scrapedBy?: string;
  node?: string;
}
export interface DroppedTargetEntry {
  discoveredLabels: Metric;
  scrapePool?: string;
  /** Shoal's UI route: the relabel rule that dropped the target. */
  reason?: string;
}
export interface TargetsData {
  activeTargets: Target[];
  droppedTargets: DroppedTargetEntry[];
  /** Dropped targets per pool before keep_dropped_targets trimmed the list. */
  droppedTargetCounts?: Record<string, number> | null;
}
