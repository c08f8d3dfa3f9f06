/**
 * The scrape loop of one target: scrape on a fixed phase within the interval, parse, map each
 * series text through a per-target cache (labels after target labels and metric relabeling, or
 * "dropped"), append the samples and the synthetic series through one Appender and commit.
 * Series that were in the previous scrape but not in this one get staleness markers; a failed
 * scrape counts as an empty one (all previous series go stale, `up` is 0).
 */
import {
  AppendError,
  getLabel,
  labelsFromPairs,
  labelsWith,
  METRIC_NAME,
  relabel,
  type Appendable,
  type Appender,
  type Label,
  type Labels,
  type Logger,
  type Observer,
} from "../model/index.ts";
import type { ScrapeConfig } from "../config/index.ts";
import { parseSeriesKey, type ExpositionParser, type MetricMetadata } from "./exposition.ts";
import { BodySizeLimitError, fetchTarget, type ScrapeResponse } from "./fetch.ts";
import { countRejected, goDurationString, newScrapeCounters, type ScrapeCounters } from "./metrics.ts";
import type { TargetSpec } from "./targets.ts";

export interface SeriesCacheEntry {
  /** The series text as scraped (`name{labels}`). */
  key: string;
  /** Next entry with the same key hash. */
  next: SeriesCacheEntry | null;
  /** Final labels, or null when metric relabeling drops the series. */
  labels: Labels | null;
  /** Iteration in which the series text was last seen. */
  seen: number;
}

/** What a loop carries over a reload of its pool, so staleness continues across it. */
export interface LoopState {
  /** By the parser's 32-bit hash of the series text; collisions chain through `next`. */
  cache: Map<number, SeriesCacheEntry>;
  prev: SeriesCacheEntry[];
  iter: number;
  /** Cache size after the last successful scrape (the yardstick for a forced flush). */
  successfulSize?: number;
}

export type TargetHealth = "up" | "down" | "unknown";

/** Fails the scrape with this message (limits, invalid series). */
class ScrapeFailure extends Error {}

const REPORT_NAMES = [
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "scrape_samples_post_metric_relabeling",
  "scrape_series_added",
] as const;

/** Keep unseen cache entries this many scrapes before forgetting them. */
const CACHE_KEEP_ITERATIONS = 10;

/**
 * Failed scrapes never evict, so a target whose failing scrapes keep bringing new series would
 * grow its cache forever: past twice its last good size plus this margin, it is emptied
 * (Prometheus's rule, counted as a forced flush).
 */
const CACHE_FLUSH_MARGIN = 1000;

/**
 * Merges two sorted label sets. Returns null when a name is in both (a conflict the caller
 * resolves the slow way); this is the common cache-miss path, so it avoids maps and sorting.
 */
function mergeDisjoint(a: Labels, b: Labels): Label[] | null {
  const out: Label[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x.name === y.name) return null;
    if (x.name < y.name) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function mutateSampleLabels(lset: Labels, target: Labels, honorLabels: boolean): Labels {
  const merged = mergeDisjoint(lset, target);
  if (merged !== null) return merged;
  const m = new Map<string, string>();
  for (const l of lset) m.set(l.name, l.value);
  if (honorLabels) {
    for (const l of target) if (!m.get(l.name)) m.set(l.name, l.value);
    return labelsFromPairs(m);
  }
  const conflicts: { name: string; value: string }[] = [];
  for (const l of target) {
    const existing = m.get(l.name);
    if (existing) conflicts.push({ name: l.name, value: existing });
    m.set(l.name, l.value);
  }
  if (conflicts.length > 0) {
    // Prometheus's resolveConflictingExposedLabels: shortest names first, `exported_` repeated
    // until the name is free among exposed labels, target labels and earlier renames.
    conflicts.sort((a, b) => a.name.length - b.name.length);
    const taken = (n: string, upto: number) =>
      getLabel(lset, n) !== "" || getLabel(target, n) !== "" || conflicts.slice(0, upto).some((c) => c.name === n);
    conflicts.forEach((c, i) => {
      let name = c.name;
      do name = "exported_" + name;
      while (taken(name, i));
      c.name = name;
    });
    for (const c of conflicts) m.set(c.name, c.value);
  }
  return labelsFromPairs(m);
}

function checkLabelLimits(lset: Labels, cfg: ScrapeConfig): void {
  const metric = getLabel(lset, METRIC_NAME).slice(0, 50);
  if (cfg.labelLimit > 0 && lset.length > cfg.labelLimit) {
    throw new ScrapeFailure(`label_limit exceeded (metric: ${metric}, number of labels: ${lset.length}, limit: ${cfg.labelLimit})`);
  }
  for (const l of lset) {
    if (cfg.labelNameLengthLimit > 0 && l.name.length > cfg.labelNameLengthLimit) {
      throw new ScrapeFailure(
        `label_name_length_limit exceeded (metric: ${metric}, label name: ${l.name.slice(0, 50)}, length: ${l.name.length}, limit: ${cfg.labelNameLengthLimit})`,
      );
    }
    if (cfg.labelValueLengthLimit > 0 && l.value.length > cfg.labelValueLengthLimit) {
      throw new ScrapeFailure(
        `label_value_length_limit exceeded (metric: ${metric}, label name: ${l.name.slice(0, 50)}, value: ${JSON.stringify(l.value.slice(0, 50))}, length: ${l.value.length}, limit: ${cfg.labelValueLengthLimit})`,
      );
    }
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** An independent copy of a string sliced from a scrape body (a slice keeps the body alive). */
function detach(s: string): string {
  return s === "" ? "" : decoder.decode(encoder.encode(s));
}

/**
 * The metadata to keep from this scrape: unchanged entries are the previous objects; new or
 * changed ones are copied out of the body, so a target's metadata never pins a whole body.
 */
function keepMetadata(prev: Map<string, MetricMetadata>, cur: Map<string, MetricMetadata>): Map<string, MetricMetadata> {
  const out = new Map<string, MetricMetadata>();
  for (const [name, m] of cur) {
    const old = prev.get(name) as KeptMetadata | undefined;
    if (old !== undefined && old.type === m.type && old.help === m.help && old.unit === m.unit) {
      out.set(old.metric, old);
    } else {
      const kept: KeptMetadata = { metric: detach(name), type: detach(m.type), help: detach(m.help), unit: detach(m.unit) };
      out.set(kept.metric, kept);
    }
  }
  return out;
}

/** Metadata that also holds its own (detached) metric name, reused as the map key. */
interface KeptMetadata extends MetricMetadata {
  metric: string;
}

/** Forgets series not seen since iteration `before`. */
function evictUnseen(cache: Map<number, SeriesCacheEntry>, before: number): void {
  for (const [h, head] of cache) {
    let keep: SeriesCacheEntry | null = null;
    for (let e: SeriesCacheEntry | null = head; e !== null; ) {
      const next: SeriesCacheEntry | null = e.next;
      if (e.seen >= before) {
        e.next = keep;
        keep = e;
      }
      e = next;
    }
    if (keep === null) cache.delete(h);
    else cache.set(h, keep);
  }
}

export interface ScrapeLoopOptions {
  counters?: ScrapeCounters;
  target: TargetSpec;
  config: ScrapeConfig;
  appendable: Appendable;
  parser: ExpositionParser;
  logger: Logger;
  /** Phase within the interval, in ms (see ScrapeManager). */
  offset: number;
  state?: LoopState;
  /** Told the seconds between the starts of consecutive scrapes, labelled by the configured interval. */
  intervalLength?: Observer;
}

export class ScrapeLoop {
  target: TargetSpec;
  readonly config: ScrapeConfig;
  health: TargetHealth = "unknown";
  lastError = "";
  /** Epoch ms of the last scrape's start; 0 before the first. */
  lastScrape = 0;
  lastScrapeDuration = 0;
  /** Metadata per metric family from the last successful scrape. */
  metadata = new Map<string, MetricMetadata>();
  /** Samples the storage rejected in the last scrape (out of order, duplicate, too old). */
  appendErrors = 0;
  /** When set, scrapes fail with this error without contacting the target (target_limit). */
  forcedError = "";

  private readonly appendable: Appendable;
  private readonly parser: ExpositionParser;
  private readonly logger: Logger;
  private readonly offset: number;
  private readonly counters: ScrapeCounters;
  private readonly intervalLength: Observer | undefined;
  private readonly reportLabels: Labels[];
  private state: LoopState;
  private cur: SeriesCacheEntry[] = [];
  private readonly stopController = new AbortController();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastTimestamp = -Infinity;

  constructor(opts: ScrapeLoopOptions) {
    this.target = opts.target;
    this.config = opts.config;
    this.appendable = opts.appendable;
    this.parser = opts.parser;
    this.logger = opts.logger.with({ scrape_pool: opts.config.jobName, target: opts.target.url });
    this.offset = opts.offset;
    this.counters = opts.counters ?? newScrapeCounters();
    this.intervalLength = opts.intervalLength;
    this.state = opts.state ?? { cache: new Map(), prev: [], iter: 0 };
    this.reportLabels = REPORT_NAMES.map((n) => labelsWith(opts.target.publicLabels, METRIC_NAME, n));
  }

  /** Starts scraping at the next time whose phase within the interval equals the offset. */
  start(): void {
    const interval = this.target.interval;
    const schedule = () => {
      if (this.stopped) return;
      const now = Date.now();
      let wait = (this.offset - (now % interval) + interval) % interval;
      // A timer that fired a little early must not cause a second scrape right after the first.
      if (now + wait - this.lastScrape < interval / 2) wait += interval;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.stopped) return;
        this.running = this.scrapeOnce().finally(() => {
          this.running = null;
          schedule();
        });
      }, wait);
    };
    schedule();
  }

  /** Hands the series cache to a successor loop (pool reload). */
  takeState(): LoopState {
    return this.state;
  }

  /**
   * Stops the loop and waits for a scrape in flight. With `stale`, every series of the last
   * scrape, and the synthetic series, get a staleness marker (the target went away).
   */
  async stop(stale: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.stopController.abort();
    if (this.running) await this.running;
    if (!stale || this.lastScrape === 0) return;
    const t = Math.max(Date.now(), this.lastTimestamp + 1);
    const app = this.appendable.appender();
    try {
      for (const e of this.state.prev) if (e.labels !== null) this.appendStale(app, e.labels, t);
      for (const l of this.reportLabels) this.appendStale(app, l, t);
      await app.commit();
    } catch (e) {
      app.rollback();
      this.logger.warn("Writing staleness markers failed", { err: e as Error });
    }
    this.state.prev = [];
  }

  private appendStale(app: Appender, labels: Labels, t: number): void {
    try {
      app.append(labels, t, 0, true);
    } catch (e) {
      if (!(e instanceof AppendError)) throw e;
    }
  }

  /** One scrape, start to commit. Never throws: failures end up in health/lastError. */
  async scrapeOnce(): Promise<void> {
    const start = Date.now();
    if (this.lastScrape > 0) this.intervalLength?.observe((start - this.lastScrape) / 1000, goDurationString(this.target.interval));
    const t = Math.max(start, this.lastTimestamp + 1);
    let response: ScrapeResponse | null = null;
    let error = "";
    if (this.forcedError !== "") {
      error = this.forcedError;
    } else {
      try {
        response = await fetchTarget(this.target.url, this.config, this.target.timeout, this.stopController.signal);
      } catch (e) {
        error = (e as Error).message;
        if (e instanceof BodySizeLimitError) this.counters.bodySizeLimitExceeded++;
      }
    }
    if (this.stopped) return;
    let app = this.appendable.appender();
    let counts = { scraped: 0, post: 0, added: 0 };
    try {
      if (response !== null) {
        try {
          counts = this.appendScrape(app, response, t);
        } catch (e) {
          app.rollback();
          app = this.appendable.appender();
          error = (e as Error).message;
          counts.scraped = this.parser.count;
          this.parser.release();
          this.flushGrownCache();
          this.appendEmpty(app, t);
        }
      } else {
        this.appendEmpty(app, t);
      }
      const duration = (Date.now() - start) / 1000;
      const report = [error === "" ? 1 : 0, duration, counts.scraped, counts.post, counts.added];
      for (let i = 0; i < report.length; i++) {
        try {
          app.append(this.reportLabels[i]!, t, report[i]!);
        } catch (e) {
          if (!(e instanceof AppendError)) throw e;
        }
      }
      await this.commitScrape(app);
      this.lastTimestamp = t;
      this.lastScrapeDuration = duration;
    } catch (e) {
      app.rollback();
      this.logger.error("Appending scrape failed", { err: e as Error });
      if (error === "") error = `storage: ${(e as Error).message}`;
    }
    this.lastScrape = start;
    this.counters.scrapes++;
    if (error !== "") this.counters.failedScrapes++;
    this.counters.samplesScraped += counts.post;
    this.health = error === "" ? "up" : "down";
    this.lastError = error;
    if (error !== "") this.logger.debug("Scrape failed", { err: error });
  }

  /**
   * Commits a scrape. An appender may refuse single samples only at commit (the cluster
   * distributor learns it from the replicas) after storing the rest: like a refusal at append
   * time, that is counted and logged, and the scrape still succeeded.
   */
  private async commitScrape(app: Appender): Promise<void> {
    try {
      await app.commit();
    } catch (e) {
      if (!(e instanceof AppendError)) throw e;
      const n = Number(/^(\d+) samples? rejected/.exec(e.message)?.[1] ?? 1);
      this.appendErrors += n;
      countRejected(this.counters, e.reason, n);
      this.logger.warn("Storage refused samples of a scrape", { reason: e.reason, err: e.message });
    }
  }

  /** After a failed scrape: empties the series cache when it grew too far past its last good size. */
  private flushGrownCache(): void {
    const st = this.state;
    if (st.cache.size <= (st.successfulSize ?? 0) * 2 + CACHE_FLUSH_MARGIN) return;
    evictUnseen(st.cache, st.iter);
    this.counters.cacheFlushForced++;
  }

  /** A failed scrape is an empty one: every series of the previous scrape goes stale. */
  private appendEmpty(app: Appender, t: number): void {
    for (const e of this.state.prev) if (e.labels !== null) this.appendStale(app, e.labels, t);
    this.state.prev = [];
    this.cur = [];
    this.state.iter++;
  }

  /** Parses and appends; throws (and the caller rolls back) when the scrape must fail. */
  private appendScrape(app: Appender, res: ScrapeResponse, t: number): { scraped: number; post: number; added: number } {
    const parser = this.parser;
    parser.parse(res.body, res.format);
    const cfg = this.config;
    const st = this.state;
    const iter = ++st.iter;
    const cache = st.cache;
    const cur = this.cur;
    cur.length = 0;
    const honorTs = cfg.honorTimestamps;
    const { keyHash, values, timestamps, count } = parser;
    let post = 0;
    let added = 0;
    let rejected = 0;
    for (let i = 0; i < count; i++) {
      const h = keyHash[i]!;
      const first = cache.get(h);
      let e = first;
      while (e !== undefined && !parser.keyEquals(i, e.key)) e = e.next ?? undefined;
      let miss = false;
      if (e === undefined) {
        e = this.newEntry(parser.key(i), parser.lines[i]!, first ?? null);
        cache.set(h, e);
        miss = true;
      }
      const tracked = e.seen !== iter;
      e.seen = iter;
      if (e.labels === null) continue;
      post++;
      if (cfg.sampleLimit > 0 && post > cfg.sampleLimit) {
        this.counters.sampleLimitExceeded++;
        throw new ScrapeFailure("sample limit exceeded");
      }
      const ts = timestamps[i]!;
      const explicit = honorTs && ts === ts;
      try {
        app.append(e.labels, explicit ? ts : t, values[i]!);
      } catch (err) {
        if (!(err instanceof AppendError)) throw err;
        rejected++;
        countRejected(this.counters, err.reason, 1);
        continue;
      }
      if (miss) added++;
      if (!explicit && tracked) cur.push(e);
    }
    for (const e of st.prev) if (e.seen !== iter && e.labels !== null) this.appendStale(app, e.labels, t);
    this.cur = st.prev;
    st.prev = cur;
    if (iter % CACHE_KEEP_ITERATIONS === 0) evictUnseen(cache, iter - CACHE_KEEP_ITERATIONS);
    st.successfulSize = cache.size;
    parser.release();
    this.metadata = keepMetadata(this.metadata, parser.metadata);
    this.appendErrors = rejected;
    if (rejected > 0) this.logger.warn("Storage refused samples of a scrape", { num_dropped: rejected });
    return { scraped: count, post, added };
  }

  private newEntry(key: string, line: number, next: SeriesCacheEntry | null): SeriesCacheEntry {
    let lset: Labels;
    try {
      lset = parseSeriesKey(key);
    } catch (e) {
      throw new ScrapeFailure(`line ${line}: ${(e as Error).message}`);
    }
    const mutated = mutateSampleLabels(lset, this.target.publicLabels, this.config.honorLabels);
    const final = relabel(mutated, this.config.metricRelabelConfigs);
    if (final !== null) {
      if (getLabel(final, METRIC_NAME) === "") throw new ScrapeFailure("missing metric name (__name__ label)");
      try {
        checkLabelLimits(final, this.config);
      } catch (e) {
        this.counters.labelLimitsExceeded++;
        throw e;
      }
    }
    return { key, next, labels: final, seen: -1 };
  }
}
