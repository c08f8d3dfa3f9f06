/**
 * All discoverers of one config block (a scrape job, an Alertmanager set): its static_configs
 * and each of its *_sd_configs, with their latest groups kept together so that the consumer
 * always rebuilds from the whole picture.
 */
import type { Logger } from "../model/index.ts";
import type { ConsulSDConfig, DnsSDConfig, FileSDConfig, HttpSDConfig, KubernetesSDConfig, TargetGroup, TargetGroupConfig } from "../config/index.ts";
import { ConsulDiscoverer } from "./consul/index.ts";
import type { Discoverer } from "./discoverer.ts";
import { DnsDiscoverer } from "./dns.ts";
import { FileDiscoverer } from "./file.ts";
import { HttpDiscoverer } from "./http.ts";
import { KubernetesDiscoverer } from "./kubernetes/index.ts";
import { NO_DISCOVERY_OBSERVERS, type DiscoveryObservers } from "./metrics.ts";
import { StaticDiscoverer } from "./static.ts";

/** The service-discovery part of a config block. */
export interface DiscoveryConfigs {
  staticConfigs: readonly TargetGroupConfig[];
  fileSDConfigs: readonly FileSDConfig[];
  httpSDConfigs?: readonly HttpSDConfig[];
  dnsSDConfigs?: readonly DnsSDConfig[];
  kubernetesSDConfigs?: readonly KubernetesSDConfig[];
  consulSDConfigs?: readonly ConsulSDConfig[];
}

export interface DiscoverySetOptions {
  /** Where discoverers count their events, failures and durations (prometheus_sd_*). */
  observers?: DiscoveryObservers;
  /** The `config` label of those metrics: the scrape job, or the Alertmanager set's name. */
  setName?: string;
  /** IP:PORT of the DNS server dns_sd_configs ask (`--dns.server`); "" or absent: the system's resolvers. */
  dnsServer?: string;
}

export class DiscoverySet {
  private readonly discoverers: Discoverer[] = [];
  private readonly latest: TargetGroup[][] = [];
  private started = false;

  /** `fileSDPollInterval`: how often file_sd files are checked for changes, in ms. */
  constructor(cfg: DiscoveryConfigs, logger: Logger, fileSDPollInterval: number, opts: DiscoverySetOptions = {}) {
    const observers = opts.observers ?? NO_DISCOVERY_OBSERVERS;
    const setName = opts.setName ?? "";
    if (cfg.staticConfigs.length > 0) this.discoverers.push(new StaticDiscoverer(cfg.staticConfigs, "static/"));
    for (const fc of cfg.fileSDConfigs) this.discoverers.push(new FileDiscoverer(fc, logger, fileSDPollInterval));
    for (const hc of cfg.httpSDConfigs ?? []) {
      this.discoverers.push(new HttpDiscoverer(hc, { logger: logger.with({ config: setName }), observers, setName }));
    }
    for (const dc of cfg.dnsSDConfigs ?? []) {
      this.discoverers.push(new DnsDiscoverer(dc, { logger: logger.with({ discovery: "dns", config: setName }), observers, setName, dnsServer: opts.dnsServer ?? "" }));
    }
    (cfg.kubernetesSDConfigs ?? []).forEach((kc, i) => {
      this.discoverers.push(new KubernetesDiscoverer(kc, { logger: logger.with({ discovery: "kubernetes", config: setName }), observers, sourcePrefix: `kubernetes/${i}/` }));
    });
    (cfg.consulSDConfigs ?? []).forEach((cc, i) => {
      this.discoverers.push(new ConsulDiscoverer(cc, { logger: logger.with({ discovery: "consul", config: setName }), observers, sourcePrefix: `consul/${i}/` }));
    });
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
