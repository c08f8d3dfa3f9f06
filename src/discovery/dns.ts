/**
 * dns_sd_configs: every name looked up every refresh_interval, one group per name (its source
 * is the name), with Prometheus's labels: `__meta_dns_name`, and for SRV, MX and NS answers the
 * record's target (`__meta_dns_srv_record_target`, `…_port`, `__meta_dns_mx_record_target`,
 * `__meta_dns_ns_record_target`, as absolute names with their final dot). Targets are the
 * answers' host names (SRV: with the record's port) or addresses (A, AAAA) with the configured
 * port. A name that does not exist, or has no records of the type, has an empty group; a name
 * whose lookup failed (timeout, refused, server failure) keeps its last group.
 */
import type { Resolver } from "node:dns/promises";
import { isDnsAbsent, labelsFromRecord, newDnsResolver, type Logger } from "../model/index.ts";
import type { DnsSDConfig, TargetGroup } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";
import type { DiscoveryObservers } from "./metrics.ts";
import { RefreshDiscoverer } from "./refresh.ts";

export interface DnsDiscovererOptions {
  setName: string;
  observers: DiscoveryObservers;
  logger: Logger;
  /** IP:PORT of the DNS server (`--dns.server`); "" for the system's resolvers. */
  dnsServer: string;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

const absolute = (name: string) => (name.endsWith(".") ? name : `${name}.`);
const relative = (name: string) => name.replace(/\.+$/, "");

/** One answer of a lookup: the target and the record labels beside `__meta_dns_name`. */
type Answer = { address: string; meta: Record<string, string> };

async function lookup(resolver: Resolver, name: string, cfg: DnsSDConfig): Promise<Answer[]> {
  switch (cfg.type) {
    case "SRV":
      return (await resolver.resolveSrv(name)).map((r) => ({
        address: hostPort(relative(r.name), r.port),
        meta: { __meta_dns_srv_record_target: absolute(r.name), __meta_dns_srv_record_port: String(r.port) },
      }));
    case "A":
      return (await resolver.resolve4(name)).map((ip) => ({ address: hostPort(ip, cfg.port), meta: {} }));
    case "AAAA":
      return (await resolver.resolve6(name)).map((ip) => ({ address: hostPort(ip, cfg.port), meta: {} }));
    case "MX":
      return (await resolver.resolveMx(name)).map((r) => ({
        address: hostPort(relative(r.exchange), cfg.port),
        meta: { __meta_dns_mx_record_target: absolute(r.exchange) },
      }));
    case "NS":
      return (await resolver.resolveNs(name)).map((ns) => ({
        address: hostPort(relative(ns), cfg.port),
        meta: { __meta_dns_ns_record_target: absolute(ns) },
      }));
  }
}

export class DnsDiscoverer implements Discoverer {
  private readonly inner: RefreshDiscoverer;
  private readonly resolver: Resolver;
  /** Per name, its last answered group: kept while lookups of it fail. */
  private readonly last = new Map<string, TargetGroup>();

  constructor(
    private readonly cfg: DnsSDConfig,
    private readonly opts: DnsDiscovererOptions,
  ) {
    this.resolver = newDnsResolver(opts.dnsServer);
    this.inner = new RefreshDiscoverer({
      mechanism: "dns",
      setName: opts.setName,
      intervalMs: cfg.refreshInterval,
      observers: opts.observers,
      logger: opts.logger,
      refresh: (signal) => this.refresh(signal),
    });
  }

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    this.inner.start(onUpdate);
  }

  stop(): void {
    this.inner.stop();
    this.resolver.cancel();
  }

  private async refresh(signal: AbortSignal): Promise<TargetGroup[]> {
    await Promise.all(this.cfg.names.map((name) => this.refreshName(name, signal)));
    return this.cfg.names.flatMap((name) => this.last.get(name) ?? []);
  }

  private async refreshName(name: string, signal: AbortSignal): Promise<void> {
    const { observers, logger } = this.opts;
    observers.dnsLookups.inc();
    let answers: Answer[];
    try {
      answers = await lookup(this.resolver, name, this.cfg);
    } catch (err) {
      // Lookups cancelled by stop() are no failure of the server.
      if (signal.aborted) return;
      if (isDnsAbsent(err)) {
        answers = [];
      } else {
        observers.dnsLookupFailures.inc();
        logger.error("Error refreshing DNS targets", { name, type: this.cfg.type, err: (err as Error).message });
        return;
      }
    }
    this.last.set(name, {
      source: name,
      targets: answers.map((a) => labelsFromRecord({ __address__: a.address, __meta_dns_name: name, ...a.meta })),
      labels: [],
    });
  }
}
