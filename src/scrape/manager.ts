/**
 * The ScrapeManager runs one scrape pool per job: discovery feeds target groups, the pool turns
 * them into targets and keeps one ScrapeLoop per target. A config reload leaves pools whose job
 * config is unchanged alone; a changed pool restarts its loops, handing each target's series
 * cache to its successor; targets and jobs that disappear are stopped with staleness markers.
 */
import { hostname } from "node:os";
import {
  formatDuration,
  labelsKey,
  labelsToRecord,
  nopLogger,
  type ActiveTarget,
  type Appendable,
  type DroppedTarget,
  type Labels,
  type Logger,
  type TargetMetadata,
} from "../model/index.ts";
import type { Config, ScrapeConfig } from "../config/index.ts";
import { DiscoverySet, type DiscoverySetOptions } from "../discovery/index.ts";
import { ExpositionParser } from "./exposition.ts";
import { ScrapeLoop, type LoopState } from "./loop.ts";
import { newScrapeCounters, withDefaultScrapeObservers, type ScrapeCounters, type ScrapeObservers } from "./metrics.ts";
import { buildTargets, globalURL, type DroppedSpec, type TargetSpec } from "./targets.ts";

export interface ScrapeManagerOptions {
  appendable: Appendable;
  logger?: Logger;
  /**
   * Whether this node scrapes a target (given its final labels, `__address__` etc. included);
   * the cluster shards targets with it. Default: every target. Call `reshard()` when the
   * answer may have changed.
   */
  ownsTarget?: (labels: Labels) => boolean;
  /** How often file_sd files are checked for changes, in ms (default 1000). */
  fileSDPollInterval?: number;
  /** What every pool's discovery shares: its metrics, the DNS server; `setName` is the job. */
  discovery?: Omit<DiscoverySetOptions, "setName">;
  /** Where scrape interval lengths and pool sync durations are reported (the node's own metrics). */
  observers?: Partial<ScrapeObservers>;
}

/** Figures for the node's own metrics. Totals count since the manager was created. */
export interface ScrapeManagerStats {
  pools: number;
  activeTargets: number;
  droppedTargets: number;
  /** Targets per health state. */
  up: number;
  down: number;
  unknown: number;
  scrapesTotal: number;
  failedScrapesTotal: number;
  /** Samples appended after metric relabeling. */
  samplesScrapedTotal: number;
  /** Samples the storage refused (out of order, duplicate, too old). */
  samplesRejectedTotal: number;
  /** Every loop's totals (limits exceeded, refusals by kind, forced cache flushes). */
  scrapeCounters: Readonly<ScrapeCounters>;
  /** New pools created (a job appearing in the config), and how many of those failed. */
  poolsCreatedTotal: number;
  poolsFailedTotal: number;
  /** Pools restarted with a changed job config, and how many of those failed. */
  poolReloadsTotal: number;
  poolReloadsFailedTotal: number;
  /** Pool syncs that found more targets than target_limit. */
  targetLimitExceededTotal: number;
  /** Per job: syncs with discovered targets, targets that could not be built, targets scraped here. */
  jobs: { job: string; syncs: number; syncFailedTargets: number; targets: number; unshardedTargets: number }[];
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

class ScrapePool {
  readonly loops = new Map<string, ScrapeLoop>();
  dropped: DroppedSpec[] = [];
  /** Dropped targets before keep_dropped_targets trimmed the list. */
  droppedCount = 0;
  /** Targets after relabeling, before `ownsTarget` kept this node's share: what the whole cluster scrapes. */
  unshardedCount = 0;
  private readonly discovery: DiscoverySet;
  private readonly configKey: string;
  private stopped = false;

  constructor(
    readonly config: ScrapeConfig,
    private readonly mgr: ScrapeManager,
    private readonly logger: Logger,
  ) {
    this.configKey = JSON.stringify(config);
    this.discovery = new DiscoverySet(config, logger, mgr.fileSDPollInterval, { ...mgr.discoveryOptions, setName: config.jobName });
  }

  sameConfig(cfg: ScrapeConfig): boolean {
    return JSON.stringify(cfg) === this.configKey;
  }

  /** Starts discovery; `inherited` are a previous pool's loops, adopted or stopped by the first sync. */
  start(inherited: Map<string, ScrapeLoop>): void {
    // Discoverers report their first groups during start; sync once after all of them.
    this.discovery.start(() => void this.sync(null));
    void this.sync(inherited);
  }

  /** Brings loops in line with the current groups (and ownership). */
  async sync(inherited: Map<string, ScrapeLoop> | null): Promise<void> {
    if (this.stopped) return;
    const t0 = performance.now();
    const job = this.config.jobName;
    const built = buildTargets(this.discovery.groups(), this.config);
    for (const err of built.errors) this.logger.warn("Creating target failed", { err });
    this.mgr.countSync(job, built.errors.length);
    const keep = this.config.keepDroppedTargets;
    this.dropped = keep > 0 ? built.dropped.slice(0, keep) : built.dropped;
    this.droppedCount = built.dropped.length;
    this.unshardedCount = built.active.length;
    const wanted = new Set<string>();
    const stops: Promise<void>[] = [];
    for (const spec of built.active) {
      if (!this.mgr.owns(spec.labels)) continue;
      wanted.add(spec.key);
      const existing = this.loops.get(spec.key);
      if (existing && existing.target.interval === spec.interval && existing.target.timeout === spec.timeout) {
        existing.target = spec;
        continue;
      }
      let old = inherited?.get(spec.key);
      if (old) inherited!.delete(spec.key);
      else old = existing;
      if (old) stops.push(old.stop(false));
      const loop = this.mgr.newLoop(spec, this.config, old?.takeState());
      this.loops.set(spec.key, loop);
      loop.start();
    }
    for (const [key, loop] of this.loops) {
      if (wanted.has(key)) continue;
      this.loops.delete(key);
      // A target that another node now owns is not stale; one that went away is.
      const gone = !built.active.some((s) => s.key === key);
      stops.push(loop.stop(gone));
    }
    if (inherited) for (const loop of inherited.values()) stops.push(loop.stop(true));
    // Prometheus's target_limit: too many targets fail them all, visibly, until fixed.
    const limit = this.config.targetLimit;
    const forced = limit > 0 && this.loops.size > limit ? `target_limit exceeded (number of targets: ${this.loops.size}, limit: ${limit})` : "";
    if (forced !== "") this.mgr.poolCounters.targetLimitExceeded++;
    for (const loop of this.loops.values()) loop.forcedError = forced;
    await Promise.all(stops);
    this.mgr.observers.syncLength.observe((performance.now() - t0) / 1000, job);
  }

  async stop(stale: boolean): Promise<void> {
    this.stopped = true;
    this.discovery.stop();
    await Promise.all([...this.loops.values()].map((l) => l.stop(stale)));
    this.loops.clear();
  }

  /** Stops discovery but leaves the loops to a successor pool. */
  detach(): Map<string, ScrapeLoop> {
    this.stopped = true;
    this.discovery.stop();
    return this.loops;
  }
}

export class ScrapeManager {
  readonly fileSDPollInterval: number;
  /** @internal For the pools. */
  readonly discoveryOptions: Omit<DiscoverySetOptions, "setName">;
  private readonly appendable: Appendable;
  private readonly logger: Logger;
  private readonly ownsTarget: (labels: Labels) => boolean;
  private readonly parser = new ExpositionParser();
  private readonly counters: ScrapeCounters = newScrapeCounters();
  /** @internal For the pools. */
  readonly observers: ScrapeObservers;
  /** @internal For the pools. */
  readonly poolCounters = { created: 0, failed: 0, reloads: 0, reloadsFailed: 0, targetLimitExceeded: 0 };
  /** Per job, kept across reloads of its pool. */
  private readonly jobCounters = new Map<string, { syncs: number; syncFailedTargets: number }>();
  private pools = new Map<string, ScrapePool>();
  private offsetSeed = 0;

  constructor(opts: ScrapeManagerOptions) {
    this.appendable = opts.appendable;
    this.logger = (opts.logger ?? nopLogger).with({ component: "scrape manager" });
    this.ownsTarget = opts.ownsTarget ?? (() => true);
    this.fileSDPollInterval = opts.fileSDPollInterval ?? 1000;
    this.discoveryOptions = opts.discovery ?? {};
    this.observers = withDefaultScrapeObservers(opts.observers);
  }

  /** @internal For the pools: one sync of `job`'s pool, with `failedTargets` targets that could not be built. */
  countSync(job: string, failedTargets: number): void {
    let c = this.jobCounters.get(job);
    if (!c) this.jobCounters.set(job, (c = { syncs: 0, syncFailedTargets: 0 }));
    c.syncs++;
    c.syncFailedTargets += failedTargets;
  }

  /** @internal For the pools: whether this node scrapes a target (ownsTarget, failing open). */
  owns(labels: Labels): boolean {
    try {
      return this.ownsTarget(labels);
    } catch (e) {
      this.logger.error("ownsTarget failed", { err: e as Error });
      return true;
    }
  }

  /** @internal For the pools: a loop for a target, at the target's phase within its interval. */
  newLoop(spec: TargetSpec, cfg: ScrapeConfig, state?: LoopState): ScrapeLoop {
    // Spread targets over the interval by their hash, as Prometheus does, so that many targets
    // of one job do not all fire at once, and a target keeps its phase across restarts.
    const offset = ((spec.hash ^ this.offsetSeed) >>> 0) % spec.interval;
    return new ScrapeLoop({
      target: spec,
      config: cfg,
      appendable: this.appendable,
      parser: this.parser,
      logger: this.logger,
      offset,
      state,
      counters: this.counters,
      intervalLength: this.observers.intervalLength,
    });
  }

  /** Applies a (re)loaded config. Resolves once loops are started or stopped accordingly. */
  async applyConfig(cfg: Config): Promise<void> {
    this.offsetSeed = Bun.hash.xxHash32(labelsKey(cfg.global.externalLabels) + hostname()) >>> 0;
    const next = new Map<string, ScrapePool>();
    const work: Promise<void>[] = [];
    for (const sc of cfg.scrapeConfigs) {
      const old = this.pools.get(sc.jobName);
      if (old && old.sameConfig(sc)) {
        next.set(sc.jobName, old);
        continue;
      }
      const pc = this.poolCounters;
      if (old) pc.reloads++;
      else pc.created++;
      try {
        const pool = new ScrapePool(sc, this, this.logger.with({ scrape_pool: sc.jobName }));
        next.set(sc.jobName, pool);
        pool.start(old ? old.detach() : new Map());
      } catch (e) {
        if (old) pc.reloadsFailed++;
        else pc.failed++;
        throw e;
      }
    }
    for (const [job, pool] of this.pools) {
      if (next.has(job)) continue;
      work.push(pool.stop(true));
      // As Prometheus drops a removed pool's labelled series: a job gone from the config leaves /metrics.
      this.jobCounters.delete(job);
    }
    this.pools = next;
    await Promise.all(work);
  }

  /** Re-evaluates `ownsTarget` for every discovered target (e.g. after the ring changed). */
  async reshard(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.sync(null)));
  }

  /** Stops all scraping without staleness markers (shutdown). */
  async stop(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools = new Map();
    await Promise.all(pools.map((p) => p.stop(false)));
  }

  stats(): ScrapeManagerStats {
    const st: ScrapeManagerStats = {
      pools: this.pools.size,
      activeTargets: 0,
      droppedTargets: 0,
      up: 0,
      down: 0,
      unknown: 0,
      scrapesTotal: this.counters.scrapes,
      failedScrapesTotal: this.counters.failedScrapes,
      samplesScrapedTotal: this.counters.samplesScraped,
      samplesRejectedTotal: this.counters.samplesRejected,
      scrapeCounters: { ...this.counters },
      poolsCreatedTotal: this.poolCounters.created,
      poolsFailedTotal: this.poolCounters.failed,
      poolReloadsTotal: this.poolCounters.reloads,
      poolReloadsFailedTotal: this.poolCounters.reloadsFailed,
      targetLimitExceededTotal: this.poolCounters.targetLimitExceeded,
      jobs: [],
    };
    for (const [job, c] of this.jobCounters) {
      const pool = this.pools.get(job);
      st.jobs.push({ job, syncs: c.syncs, syncFailedTargets: c.syncFailedTargets, targets: pool?.loops.size ?? 0, unshardedTargets: pool?.unshardedCount ?? 0 });
    }
    for (const pool of this.pools.values()) {
      st.droppedTargets += pool.droppedCount;
      for (const loop of pool.loops.values()) {
        st.activeTargets++;
        st[loop.health]++;
      }
    }
    return st;
  }

  scrapePools(): string[] {
    return [...this.pools.keys()].sort();
  }

  activeTargets(): ActiveTarget[] {
    const out: ActiveTarget[] = [];
    for (const [job, pool] of this.pools) {
      for (const loop of pool.loops.values()) {
        const t = loop.target;
        out.push({
          discoveredLabels: labelsToRecord(t.discoveredLabels),
          labels: labelsToRecord(t.publicLabels),
          scrapePool: job,
          scrapeUrl: t.url,
          globalUrl: globalURL(t.url),
          lastError: loop.lastError,
          lastScrape: loop.lastScrape === 0 ? ZERO_TIME : new Date(loop.lastScrape).toISOString(),
          lastScrapeDuration: loop.lastScrapeDuration,
          health: loop.health,
          scrapeInterval: formatDuration(t.interval),
          scrapeTimeout: formatDuration(t.timeout),
        });
      }
    }
    return out;
  }

  /** Dropped targets per pool before keep_dropped_targets (the API's droppedTargetCounts). */
  droppedTargetCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [job, pool] of this.pools) out[job] = pool.droppedCount;
    return out;
  }

  droppedTargets(): DroppedTarget[] {
    const out: DroppedTarget[] = [];
    for (const [job, pool] of this.pools) {
      for (const d of pool.dropped) out.push({ discoveredLabels: labelsToRecord(d.discoveredLabels), scrapePool: job, reason: d.reason });
    }
    return out;
  }

  metadata(): TargetMetadata[] {
    const out: TargetMetadata[] = [];
    for (const pool of this.pools.values()) {
      for (const loop of pool.loops.values()) {
        const target = labelsToRecord(loop.target.publicLabels);
        for (const [metric, m] of loop.metadata) out.push({ target, metric, type: m.type, help: m.help, unit: m.unit });
      }
    }
    return out;
  }
}
