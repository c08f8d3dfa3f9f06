/**
 * The discovery room's door: target groups from static_configs, file_sd, http_sd, dns_sd,
 * kubernetes_sd and consul_sd configs, watched for changes. Scrape turns them into targets, the
 * notifier into Alertmanagers.
 */
export type { Discoverer, TargetGroup } from "./discoverer.ts";
export { StaticDiscoverer } from "./static.ts";
export { FileDiscoverer } from "./file.ts";
export { HttpDiscoverer, parseHttpSDBody } from "./http.ts";
export { DnsDiscoverer } from "./dns.ts";
export { KubernetesDiscoverer } from "./kubernetes/index.ts";
export { ConsulDiscoverer } from "./consul/index.ts";
export { DiscoverySet, type DiscoveryConfigs, type DiscoverySetOptions } from "./set.ts";
export { NO_DISCOVERY_OBSERVERS, type DiscoveryObservers, type SDCounter, type SDObserver } from "./metrics.ts";
