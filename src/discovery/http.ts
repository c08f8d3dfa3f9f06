/**
 * http_sd_configs: a GET of the configured URL every refresh_interval, answered with a JSON list
 * of target groups (`[{"targets": ["host:port"], "labels": {...}}]`). As Prometheus: the request
 * says what it accepts and how often it comes (X-Prometheus-Refresh-Interval-Seconds), anything
 * but a 200 with a JSON content type is a failure, every group gets `__meta_url`, and groups are
 * named `URL:index`. A failed refresh keeps the previous list (see refresh.ts).
 */
import { isLegacyLabelName, labelsFromRecord, type Logger } from "../model/index.ts";
import { httpClientRequestOptions, type HttpSDConfig, type TargetGroup } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";
import type { DiscoveryObservers } from "./metrics.ts";
import { RefreshDiscoverer } from "./refresh.ts";

const JSON_CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;
const USER_AGENT = "Shoal";

/** Parses an http_sd response body; throws with what is wrong. */
export function parseHttpSDBody(url: string, text: string): TargetGroup[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid JSON: ${(e as Error).message}`);
  }
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw new Error("expected a JSON list of target groups");
  return raw.map((g: unknown, i): TargetGroup => {
    if (g === null) throw new Error("nil target group item found");
    if (typeof g !== "object" || Array.isArray(g)) throw new Error(`target group ${i} is not an object`);
    const { targets = [], labels = {}, ...rest } = g as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new Error(`target group ${i}: unknown field ${JSON.stringify(extra[0])}`);
    if (targets !== null && (!Array.isArray(targets) || targets.some((t) => typeof t !== "string"))) {
      throw new Error(`target group ${i}: targets must be a list of strings`);
    }
    if (labels !== null && (typeof labels !== "object" || Array.isArray(labels))) throw new Error(`target group ${i}: labels must be an object`);
    const lset: Record<string, string> = {};
    for (const [k, v] of Object.entries((labels ?? {}) as Record<string, unknown>)) {
      if (!isLegacyLabelName(k)) throw new Error(`target group ${i}: ${JSON.stringify(k)} is not a valid label name`);
      if (typeof v !== "string") throw new Error(`target group ${i}: label ${k} must be a string`);
      lset[k] = v;
    }
    lset.__meta_url = url;
    return {
      source: `${url}:${i}`,
      targets: ((targets ?? []) as string[]).map((t) => labelsFromRecord({ __address__: t })),
      labels: labelsFromRecord(lset),
    };
  });
}

export interface HttpDiscovererOptions {
  setName: string;
  observers: DiscoveryObservers;
  logger: Logger;
}

export class HttpDiscoverer implements Discoverer {
  private readonly inner: RefreshDiscoverer;

  constructor(
    private readonly cfg: HttpSDConfig,
    private readonly opts: HttpDiscovererOptions,
  ) {
    this.inner = new RefreshDiscoverer({
      mechanism: "http",
      setName: opts.setName,
      intervalMs: cfg.refreshInterval,
      observers: opts.observers,
      logger: opts.logger.with({ discovery: "http", url: cfg.url }),
      refresh: (signal) => this.fetchGroups(signal),
    });
  }

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    this.inner.start(onUpdate);
  }

  stop(): void {
    this.inner.stop();
  }

  private async fetchGroups(stopSignal: AbortSignal): Promise<TargetGroup[]> {
    try {
      return await this.fetchOnce(stopSignal);
    } catch (err) {
      if (!stopSignal.aborted) this.opts.observers.httpFailures.inc();
      throw err;
    }
  }

  private async fetchOnce(stopSignal: AbortSignal): Promise<TargetGroup[]> {
    const cfg = this.cfg;
    const { headers, tls } = httpClientRequestOptions(cfg);
    // As Prometheus: a refresh may take at most one refresh interval.
    const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(cfg.refreshInterval)]);
    const res = await fetch(cfg.url, {
      headers: {
        ...headers,
        "User-Agent": USER_AGENT,
        Accept: "application/json",
        "X-Prometheus-Refresh-Interval-Seconds": String(cfg.refreshInterval / 1000),
      },
      redirect: cfg.followRedirects ? "follow" : "manual",
      signal,
      tls,
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
    }
    const contentType = (res.headers.get("content-type") ?? "").trim();
    if (!JSON_CONTENT_TYPE.test(contentType)) {
      await res.body?.cancel();
      throw new Error(`unsupported content type ${JSON.stringify(contentType)}`);
    }
    return parseHttpSDBody(cfg.url, await res.text());
  }
}
