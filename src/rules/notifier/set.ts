/**
 * One `alerting.alertmanagers` entry at run time: its discovery, the Alertmanagers found (and
 * those relabeling dropped), and one send loop per Alertmanager URL. Every alert given to the
 * set goes to every one of its Alertmanagers.
 */
import { httpClientRequestOptions, type AlertmanagerConfig } from "../../config/index.ts";
import { DiscoverySet, type DiscoverySetOptions } from "../../discovery/index.ts";
import type { Clock, Labels, Logger } from "../../model/index.ts";
import { relabelAlerts, type NotifierAlert } from "./alert.ts";
import { alertmanagersFromGroup, alertmanagerURL } from "./alertmanager.ts";
import type { NotifierObservers } from "./metrics.ts";
import { SendLoop } from "./send_loop.ts";

export interface AlertmanagerSetOptions {
  queueCapacity: number;
  clock: Clock;
  logger: Logger;
  observers: NotifierObservers;
  userAgent: string;
  fileSDPollInterval: number;
  discovery?: DiscoverySetOptions;
}

const NO_LABELS: Labels = [];

export class AlertmanagerSet {
  readonly loops = new Map<string, SendLoop>();
  active: string[] = [];
  dropped: string[] = [];
  private readonly discovery: DiscoverySet;
  private readonly logger: Logger;
  /** Loops of Alertmanagers that went away, finishing their queue. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    readonly cfg: AlertmanagerConfig,
    private readonly opts: AlertmanagerSetOptions,
  ) {
    this.logger = opts.logger;
    this.discovery = new DiscoverySet(cfg, opts.logger, opts.fileSDPollInterval, opts.discovery);
  }

  /** Starts discovery; the Alertmanagers known at start are in place when this returns. */
  start(drainUntil: () => number): void {
    this.discovery.start(() => this.sync(drainUntil));
    this.sync(drainUntil);
  }

  private sync(drainUntil: () => number): void {
    const active = new Set<string>();
    const dropped: string[] = [];
    for (const group of this.discovery.groups()) {
      try {
        const found = alertmanagersFromGroup(group, this.cfg);
        for (const labels of found.active) active.add(alertmanagerURL(labels));
        for (const labels of found.dropped) dropped.push(alertmanagerURL(labels));
      } catch (e) {
        this.logger.error("Creating discovered Alertmanagers failed", { err: (e as Error).message });
      }
    }
    this.active = [...active];
    this.dropped = dropped;
    for (const url of active) if (!this.loops.has(url)) this.loops.set(url, this.newLoop(url));
    for (const [url, loop] of this.loops) {
      if (active.has(url)) continue;
      this.loops.delete(url);
      // As Prometheus: what was queued for an Alertmanager that went away is still sent to it.
      const done = loop.stop(drainUntil()).finally(() => this.retiring.delete(done));
      this.retiring.add(done);
    }
  }

  private newLoop(url: string): SendLoop {
    const cfg = this.cfg;
    return new SendLoop({
      url,
      queueCapacity: this.opts.queueCapacity,
      timeoutMs: cfg.timeout,
      userAgent: this.opts.userAgent,
      clock: this.opts.clock,
      logger: this.logger.with({ alertmanager: url }),
      observers: this.opts.observers,
      requestInit: () => {
        const { headers, tls } = httpClientRequestOptions(cfg);
        const extra: Partial<BunFetchRequestInit> = { redirect: cfg.followRedirects ? "follow" : "manual", proxy: false };
        if (url.startsWith("https:")) extra.tls = tls;
        return { headers, extra };
      },
    });
  }

  /** Queues `alerts` (after this set's alert_relabel_configs) for every Alertmanager of the set. */
  send(alerts: readonly NotifierAlert[]): void {
    const own = this.cfg.alertRelabelConfigs.length > 0 ? relabelAlerts(alerts, NO_LABELS, this.cfg.alertRelabelConfigs) : alerts;
    if (own.length === 0) return;
    for (const loop of this.loops.values()) loop.add(own);
  }

  /** Stops discovery and every loop, each sending what it has queued until `drainUntil` (null: drop it). */
  async stop(drainUntil: number | null): Promise<void> {
    this.discovery.stop();
    const loops = [...this.loops.values()];
    this.loops.clear();
    await Promise.all([...loops.map((l) => l.stop(drainUntil)), ...this.retiring]);
  }
}
