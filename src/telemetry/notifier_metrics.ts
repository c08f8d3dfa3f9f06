/**
 * The notifier's figures under Prometheus's `prometheus_notifications_*` names, types, labels
 * and help texts (one series per Alertmanager URL, labelled `alertmanager`), so that stock
 * dashboards and alert rules about alert delivery read them unchanged.
 */
import type { MetricFamily } from "../model/index.ts";
import type { NotifierObservers, NotifierStats } from "../rules/index.ts";
import type { Registry } from "./registry.ts";

export function notifierFamilies(s: NotifierStats): MetricFamily[] {
  const byAlertmanager = (name: string, type: "counter" | "gauge", help: string, value: (a: NotifierStats["alertmanagers"][number]) => number): MetricFamily => ({
    name,
    type,
    help,
    samples: s.alertmanagers.map((a) => ({ labels: { alertmanager: a.url }, value: value(a) })),
  });
  return [
    byAlertmanager("prometheus_notifications_errors_total", "counter", "Total number of sent alerts affected by errors.", (a) => a.errors),
    byAlertmanager("prometheus_notifications_sent_total", "counter", "Total number of alerts sent.", (a) => a.sent),
    byAlertmanager("prometheus_notifications_dropped_total", "counter", "Total number of alerts dropped due to errors when sending to Alertmanager.", (a) => a.dropped),
    byAlertmanager("prometheus_notifications_queue_length", "gauge", "The number of alert notifications in the queue.", (a) => a.queueLength),
    { name: "prometheus_notifications_queue_capacity", type: "gauge", help: "The capacity of the alert notifications queue.", samples: [{ value: s.queueCapacity }] },
    {
      name: "prometheus_notifications_alertmanagers_discovered",
      type: "gauge",
      help: "The number of alertmanagers discovered and active.",
      samples: [{ value: s.alertmanagersDiscovered }],
    },
  ];
}

export function registerNotifierMetrics(reg: Registry, stats: () => NotifierStats): void {
  reg.collector(() => notifierFamilies(stats()));
}

/** The notifier's measured durations as Prometheus's summary; pass to the Notifier's `observers`. */
export function notifierObservers(reg: Registry): NotifierObservers {
  return {
    latency: reg.summary(
      "prometheus_notifications_latency_seconds",
      "Latency quantiles for sending alert notifications.",
      { quantiles: [0.5, 0.9, 0.99] },
      ["alertmanager"],
    ),
  };
}
