/**
 * Service discovery's figures under Prometheus's `prometheus_sd_*` names, types, labels and help
 * texts, so that stock dashboards and alert rules about discovery read them unchanged. One set
 * per node: the scrape manager and the notifier's Alertmanager sets share it.
 */
import type { DiscoveryObservers } from "../discovery/index.ts";
import type { Registry } from "./registry.ts";

const QUANTILES = [0.5, 0.9, 0.99];
const KUBERNETES_ROLES = ["endpointslice", "endpoints", "node", "pod", "service", "ingress"];
const KUBERNETES_EVENTS = ["add", "delete", "update"];

export function discoveryObservers(reg: Registry): DiscoveryObservers {
  const kubernetesEvents = reg.counter("prometheus_sd_kubernetes_events_total", "The number of Kubernetes events handled.", ["role", "event"]);
  // Present from the start, as Prometheus initialises them, so that rate() has a zero to begin with.
  for (const role of KUBERNETES_ROLES) for (const event of KUBERNETES_EVENTS) kubernetesEvents.inc(0, role, event);
  return {
    refreshFailures: reg.counter("prometheus_sd_refresh_failures_total", "Number of refresh failures for the given SD mechanism.", ["mechanism", "config"]),
    refreshDuration: reg.summary(
      "prometheus_sd_refresh_duration_seconds",
      "The duration of a refresh in seconds for the given SD mechanism.",
      { quantiles: QUANTILES },
      ["mechanism", "config"],
    ),
    httpFailures: reg.counter("prometheus_sd_http_failures_total", "Number of HTTP service discovery refresh failures."),
    dnsLookups: reg.counter("prometheus_sd_dns_lookups_total", "The number of DNS-SD lookups."),
    dnsLookupFailures: reg.counter("prometheus_sd_dns_lookup_failures_total", "The number of DNS-SD lookup failures."),
    kubernetesEvents,
    kubernetesFailures: reg.counter("prometheus_sd_kubernetes_failures_total", "The number of failed WATCH/LIST requests."),
    consulRpcFailures: reg.counter("prometheus_sd_consul_rpc_failures_total", "The number of Consul RPC call failures."),
    consulRpcDuration: reg.summary(
      "prometheus_sd_consul_rpc_duration_seconds",
      "The duration of a Consul RPC call in seconds.",
      { quantiles: QUANTILES },
      ["endpoint", "call"],
    ),
  };
}
