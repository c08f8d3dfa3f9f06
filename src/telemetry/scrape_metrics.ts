/**
 * The scrape manager's figures under Prometheus's `prometheus_target_*` names, types, labels
 * and help texts, so that stock dashboards and alert rules read them unchanged.
 */
import type { MetricFamily } from "../model/index.ts";
import type { ScrapeManagerStats, ScrapeObservers } from "../scrape/index.ts";
import type { Registry } from "./registry.ts";

const QUANTILES = [0.01, 0.05, 0.5, 0.9, 0.99];

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, type: "counter", help, samples: [{ value }] };
}

export function scrapeFamilies(s: ScrapeManagerStats): MetricFamily[] {
  const c = s.scrapeCounters;
  const byJob = (name: string, type: "counter" | "gauge", help: string, value: (j: ScrapeManagerStats["jobs"][number]) => number): MetricFamily => ({
    name,
    type,
    help,
    samples: s.jobs.map((j) => ({ labels: { scrape_job: j.job }, value: value(j) })),
  });
  return [
    counter("prometheus_target_scrape_pools_total", "Total number of scrape pool creation attempts.", s.poolsCreatedTotal),
    counter("prometheus_target_scrape_pools_failed_total", "Total number of scrape pool creations that failed.", s.poolsFailedTotal),
    counter("prometheus_target_scrape_pool_reloads_total", "Total number of scrape pool reloads.", s.poolReloadsTotal),
    counter("prometheus_target_scrape_pool_reloads_failed_total", "Total number of failed scrape pool reloads.", s.poolReloadsFailedTotal),
    counter(
      "prometheus_target_scrape_pool_exceeded_target_limit_total",
      "Total number of times scrape pools hit the target limit, during sync or config reload.",
      s.targetLimitExceededTotal,
    ),
    counter(
      "prometheus_target_scrape_pool_exceeded_label_limits_total",
      "Total number of times scrape pools hit the label limits, during sync or config reload.",
      c.labelLimitsExceeded,
    ),
    counter("prometheus_target_scrapes_exceeded_sample_limit_total", "Total number of scrapes that hit the sample limit and were rejected.", c.sampleLimitExceeded),
    counter("prometheus_target_scrapes_exceeded_body_size_limit_total", "Total number of scrapes that hit the body size limit", c.bodySizeLimitExceeded),
    counter(
      "prometheus_target_scrapes_sample_duplicate_timestamp_total",
      "Total number of samples rejected due to duplicate timestamps but different values.",
      c.sampleDuplicateTimestamp,
    ),
    counter("prometheus_target_scrapes_sample_out_of_order_total", "Total number of samples rejected due to not being out of the expected order.", c.sampleOutOfOrder),
    counter(
      "prometheus_target_scrapes_sample_out_of_bounds_total",
      "Total number of samples rejected due to timestamp falling outside of the time bounds.",
      c.sampleOutOfBounds,
    ),
    counter(
      "prometheus_target_scrapes_cache_flush_forced_total",
      "How many times a scrape cache was flushed due to getting big while scrapes are failing.",
      c.cacheFlushForced,
    ),
    byJob("prometheus_target_scrape_pool_sync_total", "counter", "Total number of syncs that were executed on a scrape pool.", (j) => j.syncs),
    byJob("prometheus_target_sync_failed_total", "counter", "Total number of target sync failures.", (j) => j.syncFailedTargets),
    byJob("prometheus_target_scrape_pool_targets", "gauge", "Current number of targets in this scrape pool.", (j) => j.targets),
    byJob(
      "shoal_scrape_pool_unsharded_targets",
      "gauge",
      "Targets of this scrape pool after relabeling, before the cluster gives each to one member: what the whole cluster should scrape when every member has the same scrape config.",
      (j) => j.unshardedTargets,
    ),
  ];
}

export function registerScrapeMetrics(reg: Registry, stats: () => ScrapeManagerStats): void {
  reg.collector(() => scrapeFamilies(stats()));
}

/** The scrape room's measured durations as Prometheus's summaries; pass to the ScrapeManager's `observers`. */
export function scrapeObservers(reg: Registry): ScrapeObservers {
  return {
    intervalLength: reg.summary("prometheus_target_interval_length_seconds", "Actual intervals between scrapes.", { quantiles: QUANTILES }, ["interval"]),
    syncLength: reg.summary("prometheus_target_sync_length_seconds", "Actual interval to sync the scrape pool.", { quantiles: QUANTILES }, ["scrape_job"]),
  };
}
