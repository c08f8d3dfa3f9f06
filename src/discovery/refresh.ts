/**
 * A discoverer that asks its source for the full list on a schedule (http_sd, dns_sd): the first
 * refresh at start, then one every interval, never two at once. A refresh that fails reports
 * nothing, so the consumer keeps the last good list, as Prometheus's refresh loop does; it is
 * counted under prometheus_sd_refresh_failures_total and every refresh is timed.
 */
import type { Logger } from "../model/index.ts";
import type { TargetGroup } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";
import type { DiscoveryObservers } from "./metrics.ts";

export interface RefreshOptions {
  /** The `mechanism` label of the refresh metrics ("http", "dns"). */
  mechanism: string;
  /** The `config` label: the scrape job, or the Alertmanager set's name. */
  setName: string;
  intervalMs: number;
  observers: DiscoveryObservers;
  logger: Logger;
  /** The full current list; throws when the source could not be read. `signal` aborts at stop. */
  refresh: (signal: AbortSignal) => Promise<TargetGroup[]>;
}

export class RefreshDiscoverer implements Discoverer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly stopping = new AbortController();
  private lastEmitted: string | null = null;

  constructor(private readonly opts: RefreshOptions) {}

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    // The consumer needs a first (empty) list now; the source's answer follows when it arrives.
    onUpdate([]);
    void this.run(onUpdate);
  }

  stop(): void {
    this.stopping.abort();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(onUpdate: (groups: TargetGroup[]) => void): Promise<void> {
    const { mechanism, setName, observers, logger } = this.opts;
    const started = performance.now();
    try {
      const groups = await this.opts.refresh(this.stopping.signal);
      if (this.stopping.signal.aborted) return;
      const key = JSON.stringify(groups);
      if (key !== this.lastEmitted) {
        this.lastEmitted = key;
        onUpdate(groups);
      }
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      observers.refreshFailures.inc(1, mechanism, setName);
      logger.error("Unable to refresh target groups", { mechanism, config: setName, err: (err as Error).message });
    } finally {
      if (!this.stopping.signal.aborted) observers.refreshDuration.observe((performance.now() - started) / 1000, mechanism, setName);
    }
    if (this.stopping.signal.aborted) return;
    const wait = Math.max(0, this.opts.intervalMs - (performance.now() - started));
    this.timer = setTimeout(() => void this.run(onUpdate), wait);
  }
}
