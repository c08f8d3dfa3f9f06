/**
 * What the scrape room counts and measures for the node's own metrics, under the meanings of
 * Prometheus's `prometheus_target_*` family (the telemetry room names and renders them).
 */
import { nopObserver, type Observer, type RejectReason } from "../model/index.ts";

/** Running totals over all loops of a manager. */
export interface ScrapeCounters {
  scrapes: number;
  failedScrapes: number;
  samplesScraped: number;
  samplesRejected: number;
  /** Scrapes failed by sample_limit. */
  sampleLimitExceeded: number;
  /** Scrapes failed by body_size_limit. */
  bodySizeLimitExceeded: number;
  /** Scrapes failed by label_limit, label_name_length_limit or label_value_length_limit. */
  labelLimitsExceeded: number;
  /** Samples the storage refused: same timestamp with another value, out of order, too old. */
  sampleDuplicateTimestamp: number;
  sampleOutOfOrder: number;
  sampleOutOfBounds: number;
  /** Series caches emptied because they kept growing while scrapes failed. */
  cacheFlushForced: number;
}

export function newScrapeCounters(): ScrapeCounters {
  return {
    scrapes: 0,
    failedScrapes: 0,
    samplesScraped: 0,
    samplesRejected: 0,
    sampleLimitExceeded: 0,
    bodySizeLimitExceeded: 0,
    labelLimitsExceeded: 0,
    sampleDuplicateTimestamp: 0,
    sampleOutOfOrder: 0,
    sampleOutOfBounds: 0,
    cacheFlushForced: 0,
  };
}

/** Counts `n` samples the storage refused for `reason` under Prometheus's three kinds. */
export function countRejected(c: ScrapeCounters, reason: RejectReason, n: number): void {
  c.samplesRejected += n;
  if (reason === "duplicate") c.sampleDuplicateTimestamp += n;
  else if (reason === "out_of_order") c.sampleOutOfOrder += n;
  else if (reason === "too_old") c.sampleOutOfBounds += n;
}

export interface ScrapeObservers {
  /** Seconds between the starts of two scrapes of a target; label: the configured interval (Go's duration text). */
  intervalLength: Observer;
  /** Seconds one sync of a pool with its discovered targets takes; label: the job. */
  syncLength: Observer;
}

export function withDefaultScrapeObservers(o: Partial<ScrapeObservers> = {}): ScrapeObservers {
  return { intervalLength: o.intervalLength ?? nopObserver, syncLength: o.syncLength ?? nopObserver };
}

/**
 * A duration as Go's time.Duration.String() writes it (`15s`, `1m0s`, `1h30m0s`, `500ms`,
 * `1.5s`): Prometheus labels the interval length summary with it, so dashboards match the same values.
 */
export function goDurationString(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    out = `${trimFraction(rest)}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = `${trimFraction(rest / 1000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return String(Number(v.toFixed(9)));
}
