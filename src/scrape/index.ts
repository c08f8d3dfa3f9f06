/** The scrape room's door: the manager node.ts runs, plus the parsers and relabeling others reuse. */
export { ScrapeManager, type ScrapeManagerStats } from "./manager.ts";
export { ExpositionError, ExpositionParser, parseSeriesKey, type ExpositionFormat, type MetricMetadata } from "./exposition.ts";
export type { ScrapeObservers } from "./metrics.ts";
