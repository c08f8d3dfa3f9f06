/**
 * All discoverers of one config block (a scrape job, an Alertmanager set): its static_configs
 * and each of its file_sd_configs, with their latest groups kept together so that the consumer
 * always rebuilds from the whole picture.
 */
import type { Logger } from "../model/index.ts";
import type { FileSDConfig, TargetGroup, TargetGroupConfig } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";
import { FileDiscoverer } from "./file.ts";
import { StaticDiscoverer } from "./static.ts";

/** The service-discovery part of a config block. */
export interface DiscoveryConfigs {
  staticConfigs: readonly TargetGroupConfig[];
  fileSDConfigs: readonly FileSDConfig[];
}

export class DiscoverySet {
  private readonly discoverers: Discoverer[] = [];
  private readonly latest: TargetGroup[][] = [];
  private started = false;

  /** `fileSDPollInterval`: how often file_sd files are checked for changes, in ms. */
  constructor(cfg: DiscoveryConfigs, logger: Logger, fileSDPollInterval: number) {
    if (cfg.staticConfigs.length > 0) this.discoverers.push(new StaticDiscoverer(cfg.staticConfigs, "static/"));
    for (const fc of cfg.fileSDConfigs) this.discoverers.push(new FileDiscoverer(fc, logger, fileSDPollInterval));
  }

  /**
   * Starts every discoverer. Their first groups are read during this call (so `groups()` is
   * complete when it returns); `onChange` is called for every later change.
   */
  start(onChange: () => void): void {
    this.discoverers.forEach((d, i) => {
      this.latest[i] = [];
      d.start((groups) => {
        this.latest[i] = groups;
        if (this.started) onChange();
      });
    });
    this.started = true;
  }

  /** Every discoverer's current groups, in config order. */
  groups(): TargetGroup[] {
    return this.latest.flat();
  }

  stop(): void {
    for (const d of this.discoverers) d.stop();
  }
}
