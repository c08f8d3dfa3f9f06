/**
 * consul_sd_configs, as Prometheus runs it: with no `services` (or with `tags` or a `filter`),
 * the catalog's service list is watched and every matching service gets its own watch; with
 * only `services`, just those are watched. Each watch is a blocking query repeated at most once
 * per refresh_interval. A failed query changes nothing, so the last good targets stay.
 */
import { labelsFromRecord, type Logger } from "../../model/index.ts";
import type { ConsulSDConfig, TargetGroup } from "../../config/index.ts";
import type { Discoverer } from "../discoverer.ts";
import type { DiscoveryObservers } from "../metrics.ts";
import { ConsulClient, type HealthServiceEntry } from "./api.ts";

const META = "__meta_consul_";

export interface ConsulDiscovererOptions {
  logger: Logger;
  observers: DiscoveryObservers;
  sourcePrefix: string;
}

type LabelRecord = Record<string, string>;

function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Consul's aggregated status: maintenance, else the worst of critical/warning/passing. */
export function aggregatedStatus(checks: HealthServiceEntry["Checks"]): string {
  let maintenance = false;
  let warning = false;
  let critical = false;
  for (const c of checks ?? []) {
    const id = c.CheckID ?? "";
    if (id === "_node_maintenance" || id.startsWith("_service_maintenance:")) {
      maintenance = true;
      continue;
    }
    if (c.Status === "critical") critical = true;
    else if (c.Status === "warning") warning = true;
    else if (c.Status !== "passing") return "";
  }
  return maintenance ? "maintenance" : critical ? "critical" : warning ? "warning" : "passing";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export class ConsulDiscoverer implements Discoverer {
  private readonly client: ConsulClient;
  private readonly stopping = new AbortController();
  /** Per watched service: its watch's stop switch and its latest group (none until it answered). */
  private readonly services = new Map<string, { stop: AbortController; group?: { labels: LabelRecord; targets: LabelRecord[] } }>();
  private datacenter: string;
  private onUpdate: (groups: TargetGroup[]) => void = () => {};
  private lastEmitted = "";

  constructor(
    private readonly cfg: ConsulSDConfig,
    private readonly opts: ConsulDiscovererOptions,
  ) {
    this.client = new ConsulClient(cfg);
    this.datacenter = cfg.datacenter;
  }

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    this.onUpdate = onUpdate;
    onUpdate([]);
    void this.run();
  }

  stop(): void {
    this.stopping.abort();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (this.datacenter === "" && !signal.aborted) {
      try {
        this.datacenter = await this.client.datacenter(signal);
      } catch (e) {
        if (signal.aborted) return;
        this.opts.observers.consulRpcFailures.inc(1);
        this.opts.logger.error("Error retrieving datacenter name", { err: (e as Error).message });
        await sleep(this.cfg.refreshInterval, signal);
      }
    }
    const c = this.cfg;
    if (c.services.length === 0 || c.tags.length > 0 || c.filter !== "") {
      await this.watchCatalog(signal);
    } else {
      for (const name of c.services) this.watchService(name);
    }
  }

  private shouldWatch(name: string, tags: readonly string[]): boolean {
    const c = this.cfg;
    if (c.services.length > 0 && !c.services.includes(name)) return false;
    return c.tags.every((t) => tags.includes(t));
  }

  private async watchCatalog(signal: AbortSignal): Promise<void> {
    let lastIndex = 0;
    while (!signal.aborted) {
      const started = performance.now();
      try {
        const { body, index } = await this.client.services(lastIndex, signal);
        this.opts.observers.consulRpcDuration.observe((performance.now() - started) / 1000, "catalog", "services");
        if (index !== lastIndex) {
          lastIndex = index;
          const listed = body ?? {};
          for (const [name, tags] of Object.entries(listed)) {
            if (!this.services.has(name) && this.shouldWatch(name, tags ?? [])) this.watchService(name);
          }
          for (const [name, w] of this.services) {
            if (!(name in listed)) {
              w.stop.abort();
              this.services.delete(name);
            }
          }
          this.emit();
        }
      } catch (e) {
        if (signal.aborted) return;
        this.opts.observers.consulRpcDuration.observe((performance.now() - started) / 1000, "catalog", "services");
        this.opts.observers.consulRpcFailures.inc(1);
        this.opts.logger.error("Error refreshing service list", { err: (e as Error).message });
      }
      await sleep(Math.max(0, this.cfg.refreshInterval - (performance.now() - started)), signal);
    }
  }

  private watchService(name: string): void {
    const stop = new AbortController();
    this.services.set(name, { stop });
    const signal = AbortSignal.any([this.stopping.signal, stop.signal]);
    void (async () => {
      let lastIndex = 0;
      while (!signal.aborted) {
        const started = performance.now();
        try {
          const { body, index } = await this.client.service(name, lastIndex, signal);
          this.opts.observers.consulRpcDuration.observe((performance.now() - started) / 1000, "catalog", "service");
          if (index !== lastIndex && !signal.aborted) {
            lastIndex = index;
            const entry = this.services.get(name);
            if (entry) entry.group = this.group(name, body ?? []);
            this.emit();
          }
        } catch (e) {
          if (signal.aborted) return;
          this.opts.observers.consulRpcDuration.observe((performance.now() - started) / 1000, "catalog", "service");
          this.opts.observers.consulRpcFailures.inc(1);
          this.opts.logger.error("Error refreshing service", { service: name, tags: this.cfg.tags.join(","), err: (e as Error).message });
        }
        await sleep(Math.max(0, this.cfg.refreshInterval - (performance.now() - started)), signal);
      }
    })();
  }

  private group(name: string, entries: HealthServiceEntry[]): { labels: LabelRecord; targets: LabelRecord[] } {
    const sep = this.cfg.tagSeparator;
    const targets = entries.map((e) => {
      const node = e.Node ?? {};
      const svc = e.Service ?? {};
      const port = svc.Port ?? 0;
      const t: LabelRecord = {
        __address__: joinHostPort(svc.Address ? svc.Address : (node.Address ?? ""), port),
        [`${META}address`]: node.Address ?? "",
        [`${META}node`]: node.Node ?? "",
        [`${META}namespace`]: svc.Namespace ?? "",
        [`${META}partition`]: svc.Partition ?? "",
        // Separators at both ends let a relabel regex match one whole tag: `.*,prod,.*`.
        [`${META}tags`]: sep + (svc.Tags ?? []).join(sep) + sep,
        [`${META}service_address`]: svc.Address ?? "",
        [`${META}service_port`]: String(port),
        [`${META}service_id`]: svc.ID ?? "",
        [`${META}health`]: aggregatedStatus(e.Checks),
      };
      for (const [k, v] of Object.entries(node.Meta ?? {})) t[`${META}metadata_${sanitizeLabelName(k)}`] = v;
      for (const [k, v] of Object.entries(svc.Meta ?? {})) t[`${META}service_metadata_${sanitizeLabelName(k)}`] = v;
      for (const [k, v] of Object.entries(node.TaggedAddresses ?? {})) t[`${META}tagged_address_${sanitizeLabelName(k)}`] = v;
      return t;
    });
    return { labels: { [`${META}service`]: name, [`${META}dc`]: this.datacenter }, targets };
  }

  private emit(): void {
    if (this.stopping.signal.aborted) return;
    const groups = [...this.services]
      .filter(([, w]) => w.group !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, w]) => ({ source: name, labels: w.group!.labels, targets: w.group!.targets }));
    const key = JSON.stringify(groups);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.onUpdate(
      groups.map((g) => ({ source: this.opts.sourcePrefix + g.source, labels: labelsFromRecord(g.labels), targets: g.targets.map((t) => labelsFromRecord(t)) })),
    );
  }
}
