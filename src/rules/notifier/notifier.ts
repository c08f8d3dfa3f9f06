/**
 * The notifier: what the rule groups hand over goes, with the external labels and
 * alert_relabel_configs applied, to every Alertmanager of every configured set — never just
 * one of them, so that Alertmanager's own clustering and deduplication see every alert.
 */
import type { AlertingConfig } from "../../config/index.ts";
import type { DiscoverySetOptions } from "../../discovery/index.ts";
import { realClock, type AlertmanagersSource, type Clock, type Labels, type Logger } from "../../model/index.ts";
import { relabelAlerts, type NotifierAlert } from "./alert.ts";
import { withDefaultNotifierObservers, type NotifierObservers, type NotifierStats } from "./metrics.ts";
import { AlertmanagerSet } from "./set.ts";

export interface NotifierOptions {
  logger: Logger;
  /** --alertmanager.notification-queue-capacity: alerts queued per Alertmanager before the oldest are dropped. */
  queueCapacity: number;
  clock?: Clock;
  observers?: Partial<NotifierObservers>;
  /** The longest `stop()` spends sending what is still queued, in ms (default 10s). */
  drainTimeoutMs?: number;
  /** How often file_sd files are checked for changes, in ms (default 1000). */
  fileSDPollInterval?: number;
  /** What every set's discovery shares: its metrics, the DNS server; each set is named `config-N` as in Prometheus. */
  discovery?: Omit<DiscoverySetOptions, "setName">;
  /** Sent as User-Agent (default "Shoal"). */
  userAgent?: string;
}

const EMPTY_LABELS: Labels = [];

export class Notifier implements AlertmanagersSource {
  private sets: AlertmanagerSet[] = [];
  private config: AlertingConfig = { alertRelabelConfigs: [], alertmanagers: [] };
  private externalLabels: Labels = EMPTY_LABELS;
  private stopped = false;
  private readonly clock: Clock;
  private readonly observers: NotifierObservers;
  private readonly drainTimeoutMs: number;
  /** Sets replaced by a reload, finishing their queues. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly opts: NotifierOptions) {
    if (!Number.isInteger(opts.queueCapacity) || opts.queueCapacity <= 0) {
      throw new Error(`notification queue capacity must be a positive integer, got ${opts.queueCapacity}`);
    }
    this.clock = opts.clock ?? realClock;
    this.observers = withDefaultNotifierObservers(opts.observers);
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  }

  /**
   * Takes a (re)loaded config: sets whose config did not change keep their Alertmanagers and
   * queues; the others are replaced (the old ones still send what they had queued).
   */
  async applyConfig(alerting: AlertingConfig, externalLabels: Labels): Promise<void> {
    if (this.stopped) return;
    this.config = alerting;
    this.externalLabels = externalLabels;
    const unused = new Map<string, AlertmanagerSet[]>();
    for (const set of this.sets) {
      const key = JSON.stringify(set.cfg);
      unused.set(key, [...(unused.get(key) ?? []), set]);
    }
    const next: AlertmanagerSet[] = [];
    for (const [i, cfg] of alerting.alertmanagers.entries()) {
      const reused = unused.get(JSON.stringify(cfg))?.shift();
      if (reused) {
        next.push(reused);
        continue;
      }
      const set = new AlertmanagerSet(cfg, {
        queueCapacity: this.opts.queueCapacity,
        clock: this.clock,
        logger: this.opts.logger.with({ component: "notifier" }),
        observers: this.observers,
        userAgent: this.opts.userAgent ?? "Shoal",
        fileSDPollInterval: this.opts.fileSDPollInterval ?? 1000,
        discovery: { ...this.opts.discovery, setName: `config-${i}` },
      });
      set.start(() => this.clock.now() + this.drainTimeoutMs);
      next.push(set);
    }
    this.sets = next;
    for (const old of [...unused.values()].flat()) {
      const done = old.stop(this.clock.now() + this.drainTimeoutMs).finally(() => this.retiring.delete(done));
      this.retiring.add(done);
    }
  }

  /** Queues alerts for every Alertmanager; returns at once (sending happens in the background). */
  send(alerts: readonly NotifierAlert[]): void {
    if (this.stopped || alerts.length === 0 || this.sets.length === 0) return;
    const relabeled = relabelAlerts(alerts, this.externalLabels, this.config.alertRelabelConfigs);
    if (relabeled.length === 0) return;
    for (const set of this.sets) set.send(relabeled);
  }

  alertmanagers(): { activeAlertmanagers: { url: string }[]; droppedAlertmanagers: { url: string }[] } {
    return {
      activeAlertmanagers: this.sets.flatMap((s) => s.active.map((url) => ({ url }))),
      droppedAlertmanagers: this.sets.flatMap((s) => s.dropped.map((url) => ({ url }))),
    };
  }

  stats(): NotifierStats {
    return {
      queueCapacity: this.opts.queueCapacity,
      alertmanagersDiscovered: this.sets.reduce((n, s) => n + s.active.length, 0),
      alertmanagers: this.sets.flatMap((s) =>
        [...s.loops.values()].map((l) => ({ url: l.url, sent: l.sent, errors: l.errors, dropped: l.dropped, queueLength: l.queueLength() })),
      ),
    };
  }

  /** Stops taking alerts and sends what is queued, for at most drainTimeoutMs; the rest is dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.logger.info("Stopping notification manager...");
    const until = this.clock.now() + this.drainTimeoutMs;
    const sets = this.sets;
    this.sets = [];
    await Promise.all([...sets.map((s) => s.stop(until)), ...this.retiring]);
  }
}
