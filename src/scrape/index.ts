/** The scrape room's door: the manager node.ts runs, plus the parsers and relabeling others reuse. */
export {
  ScrapeManager,
  type ActiveTarget,
  type DroppedTarget,
  type ScrapeManagerOptions,
  type ScrapeManagerStats,
  type TargetMetadata,
} from "./manager.ts";
export { ExpositionError, ExpositionParser, parseSeriesKey, type ExpositionFormat, type MetricMetadata } from "./exposition.ts";
export { relabel } from "./relabel.ts";
export { SCRAPE_ACCEPT_HEADER, formatFromContentType } from "./fetch.ts";
export type { TargetGroup } from "./discovery.ts";
export type { ScrapeCounters, ScrapeObservers } from "./metrics.ts";
