/**
 * Where discoverers report what they did, under Prometheus's `prometheus_sd_*` metric names
 * (the node's registry implements these in src/telemetry/sd_metrics.ts). Every discovery
 * mechanism gets the same observers, so the figures of one kind look like those of another.
 */

/** A counter with label values in the order the metric declares them. */
export interface SDCounter {
  inc(by?: number, ...labelValues: string[]): void;
}

/** A summary (durations in seconds) with label values in the order the metric declares them. */
export interface SDObserver {
  observe(value: number, ...labelValues: string[]): void;
}

export interface DiscoveryObservers {
  /** prometheus_sd_refresh_failures_total{mechanism, config}: a polling refresh that failed. */
  refreshFailures: SDCounter;
  /** prometheus_sd_refresh_duration_seconds{mechanism, config}: how long one refresh took. */
  refreshDuration: SDObserver;
  /** prometheus_sd_http_failures_total: an http_sd refresh that failed (unreachable, non-200, bad body). */
  httpFailures: SDCounter;
  /** prometheus_sd_dns_lookups_total: one DNS query of a dns_sd name. */
  dnsLookups: SDCounter;
  /** prometheus_sd_dns_lookup_failures_total: a DNS query that got no usable answer (an absent name is an answer). */
  dnsLookupFailures: SDCounter;
  /** prometheus_sd_kubernetes_events_total{role, event}: add/update/delete events handled. */
  kubernetesEvents: SDCounter;
  /** prometheus_sd_kubernetes_failures_total: failed LIST/WATCH requests. */
  kubernetesFailures: SDCounter;
  /** prometheus_sd_consul_rpc_failures_total: failed Consul API calls. */
  consulRpcFailures: SDCounter;
  /** prometheus_sd_consul_rpc_duration_seconds{endpoint, call}: one Consul API call. */
  consulRpcDuration: SDObserver;
}

const noCounter: SDCounter = { inc: () => {} };
const noObserver: SDObserver = { observe: () => {} };

/** Observers that record nothing: for tools (`shoal check config`) and tests that do not read them. */
export const NO_DISCOVERY_OBSERVERS: DiscoveryObservers = {
  refreshFailures: noCounter,
  refreshDuration: noObserver,
  httpFailures: noCounter,
  dnsLookups: noCounter,
  dnsLookupFailures: noCounter,
  kubernetesEvents: noCounter,
  kubernetesFailures: noCounter,
  consulRpcFailures: noCounter,
  consulRpcDuration: noObserver,
};
