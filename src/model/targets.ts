/**
 * Scrape targets as the scrape room reports them and the HTTP API serves them: the entries of
 * Prometheus's /api/v1/targets and /api/v1/targets/metadata, with its field names. Kept here
 * because two rooms share them; neither owns the other.
 */

/** One entry of /api/v1/targets' activeTargets. */
export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  /** RFC 3339 time of the last scrape; "0001-01-01T00:00:00Z" before the first. */
  lastScrape: string;
  /** Seconds. */
  lastScrapeDuration: number;
  health: "up" | "down" | "unknown";
  scrapeInterval: string;
  scrapeTimeout: string;
}

/** One entry of /api/v1/targets' droppedTargets. */
export interface DroppedTarget {
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  /** Which relabel rule dropped it (Shoal's Service Discovery page; not in Prometheus's API). */
  reason?: string;
}

/** Metadata a target exposed for one metric family: an entry of /api/v1/targets/metadata (also the source of /api/v1/metadata). */
export interface TargetMetadata {
  /** The target's labels (`job`, `instance`, …). */
  target: Record<string, string>;
  metric: string;
  type: string;
  help: string;
  unit: string;
}
