/**
 * The discovery room's door: target groups from static_configs and file_sd_configs, watched for
 * changes. Scrape turns them into targets, the notifier into Alertmanagers.
 */
export type { Discoverer, TargetGroup } from "./discoverer.ts";
export { StaticDiscoverer } from "./static.ts";
export { FileDiscoverer } from "./file.ts";
export { DiscoverySet, type DiscoveryConfigs } from "./set.ts";
