/**
 * The parts of Consul's HTTP API that discovery calls (agent/self, catalog/services,
 * health/service), with blocking queries: `index` asks Consul to hold the answer until the data
 * changes past that index (or `wait` passes); the new index comes back in `X-Consul-Index`.
 */
import { httpClientRequestOptions, type ConsulSDConfig } from "../../config/index.ts";

/** How long Consul may hold a blocking query; the client allows a little more. */
export const WATCH_TIMEOUT_MS = 120_000;

export interface HealthServiceEntry {
  Node?: { Node?: string; Address?: string; Datacenter?: string; TaggedAddresses?: Record<string, string> | null; Meta?: Record<string, string> | null };
  Service?: { ID?: string; Service?: string; Tags?: string[] | null; Address?: string; Meta?: Record<string, string> | null; Port?: number; Namespace?: string; Partition?: string };
  Checks?: { CheckID?: string; Status?: string }[] | null;
}

export interface Answer<T> {
  body: T;
  /** X-Consul-Index, 0 when absent. */
  index: number;
}

export class ConsulClient {
  constructor(private readonly cfg: ConsulSDConfig) {}

  private async get<T>(path: string, params: URLSearchParams, signal: AbortSignal): Promise<Answer<T>> {
    const c = this.cfg;
    if (c.datacenter !== "") params.set("dc", c.datacenter);
    if (c.namespace !== "") params.set("ns", c.namespace);
    if (c.partition !== "") params.set("partition", c.partition);
    const qs = params.toString();
    const url = `${c.scheme}://${c.server}${c.pathPrefix}${path}${qs === "" ? "" : `?${qs}`}`;
    const { headers, tls } = httpClientRequestOptions(c.http);
    if (c.token !== undefined) headers["X-Consul-Token"] = c.token;
    const res = await fetch(url, {
      headers,
      tls,
      redirect: c.http.followRedirects ? "follow" : "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(WATCH_TIMEOUT_MS + 15_000)]),
    });
    if (!res.ok) {
      const text = (await res.text()).trim().slice(0, 200);
      throw new Error(`GET ${path}: ${res.status} ${res.statusText}${text === "" ? "" : `: ${text}`}`);
    }
    const body = (await res.json()) as T;
    const index = Number(res.headers.get("X-Consul-Index") ?? "0");
    return { body, index: Number.isFinite(index) ? index : 0 };
  }

  /** Parameters of a blocking, possibly stale, node-meta-filtered query. */
  private queryParams(waitIndex: number, filter: string): URLSearchParams {
    const p = new URLSearchParams();
    if (waitIndex !== 0) p.set("index", String(waitIndex));
    p.set("wait", `${WATCH_TIMEOUT_MS}ms`);
    if (this.cfg.allowStale) p.set("stale", "");
    for (const [k, v] of Object.entries(this.cfg.nodeMeta)) p.append("node-meta", `${k}:${v}`);
    if (filter !== "") p.set("filter", filter);
    return p;
  }

  async datacenter(signal: AbortSignal): Promise<string> {
    const { body } = await this.get<{ Config?: { Datacenter?: unknown } }>("/v1/agent/self", new URLSearchParams(), signal);
    const dc = body?.Config?.Datacenter;
    if (typeof dc !== "string") throw new Error(`invalid value ${JSON.stringify(dc)} for Config.Datacenter`);
    return dc;
  }

  /** Every service name with the tags of its instances. */
  services(waitIndex: number, signal: AbortSignal): Promise<Answer<Record<string, string[] | null>>> {
    return this.get("/v1/catalog/services", this.queryParams(waitIndex, this.cfg.filter), signal);
  }

  /** The instances of one service having every tag in `tags`, with their health checks. */
  service(name: string, waitIndex: number, signal: AbortSignal): Promise<Answer<HealthServiceEntry[] | null>> {
    const p = this.queryParams(waitIndex, this.cfg.healthFilter);
    for (const t of this.cfg.tags) p.append("tag", t);
    return this.get(`/v1/health/service/${encodeURIComponent(name)}`, p, signal);
  }
}
