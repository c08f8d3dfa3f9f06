/**
 * What the notifier counts and measures for the node's own metrics, under the meanings of
 * Prometheus's `prometheus_notifications_*` family (the telemetry room names and renders them).
 */
import { nopObserver, type Observer } from "../../model/index.ts";

export interface NotifierObservers {
  /** Seconds one successful POST of a batch took; label: the Alertmanager's URL. */
  latency: Observer;
}

export function withDefaultNotifierObservers(o: Partial<NotifierObservers> = {}): NotifierObservers {
  return { latency: o.latency ?? nopObserver };
}

/** Per Alertmanager currently sent to; totals count since it was discovered. */
export interface AlertmanagerSendStats {
  url: string;
  sent: number;
  errors: number;
  dropped: number;
  queueLength: number;
}

export interface NotifierStats {
  /** --alertmanager.notification-queue-capacity (each Alertmanager has a queue this long). */
  queueCapacity: number;
  /** Alertmanagers discovered and active, over all sets. */
  alertmanagersDiscovered: number;
  alertmanagers: AlertmanagerSendStats[];
}
