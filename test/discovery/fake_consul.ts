/**
 * A test Consul agent of ours: the catalog and health endpoints discovery reads, answering with
 * the JSON shapes of Consul's HTTP API docs (`/v1/agent/self`, `/v1/catalog/services`,
 * `/v1/health/service/:service`) and blocking queries: a request whose `index` equals the
 * current `X-Consul-Index` is held until the data changes (or `wait` passes). `tag` and
 * `node-meta` filter as Consul does. Every request is kept for assertions.
 */

export interface ConsulInstance {
  node: string;
  address: string;
  serviceAddress?: string;
  port: number;
  tags: string[];
  nodeMeta?: Record<string, string>;
  serviceMeta?: Record<string, string>;
  status?: "passing" | "warning" | "critical";
}

export class FakeConsul {
  readonly server: ReturnType<typeof Bun.serve>;
  /** Every request's URL and ACL token (read while the request is live). */
  readonly requests: { url: URL; token: string | null }[] = [];
  private index = 10;
  private failing = false;
  private readonly services = new Map<string, ConsulInstance[]>();
  private waiters: (() => void)[] = [];

  constructor(private readonly datacenter = "dc1") {
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: (req) => this.handle(req) });
  }

  get address(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  setService(name: string, instances: ConsulInstance[]): void {
    this.services.set(name, instances);
    this.bump();
  }

  removeService(name: string): void {
    this.services.delete(name);
    this.bump();
  }

  fail(on: boolean): void {
    this.failing = on;
    this.bump();
  }

  stop(): void {
    this.bump();
    this.server.stop(true);
  }

  private bump(): void {
    this.index++;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Holds a blocking query until the index moves past the one asked for, or `wait` passes. */
  private async block(url: URL): Promise<void> {
    const asked = Number(url.searchParams.get("index") ?? "0");
    if (asked === 0 || asked !== this.index) return;
    const waitMs = Math.min(parseInt(url.searchParams.get("wait") ?? "300000", 10) || 300_000, 300_000);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private instancesFor(name: string, url: URL): ConsulInstance[] {
    const tags = url.searchParams.getAll("tag");
    const meta = url.searchParams.getAll("node-meta").map((m) => m.split(":") as [string, string]);
    return (this.services.get(name) ?? []).filter((i) => tags.every((t) => i.tags.includes(t)) && meta.every(([k, v]) => i.nodeMeta?.[k] === v));
  }

  private async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    this.requests.push({ url, token: req.headers.get("x-consul-token") });
    if (this.failing) return new Response("rpc error making call: No cluster leader\n", { status: 500 });
    const headers = { "X-Consul-Index": "", "X-Consul-KnownLeader": "true", "Content-Type": "application/json" };
    if (url.pathname === "/v1/agent/self") {
      return Response.json({
        Config: { Datacenter: this.datacenter, NodeName: "agent-one", NodeID: "9d754d17-d864-b1d3-e758-f3fe25a9874f", Server: true, Revision: "deadbeef", Version: "1.19.1" },
        Member: { Name: "agent-one", Addr: "127.0.0.1", Port: 8301 },
      });
    }
    if (url.pathname === "/v1/catalog/services") {
      await this.block(url);
      const meta = url.searchParams.getAll("node-meta").map((m) => m.split(":") as [string, string]);
      const out: Record<string, string[]> = { consul: [] };
      for (const [name, instances] of this.services) {
        const matching = instances.filter((i) => meta.every(([k, v]) => i.nodeMeta?.[k] === v));
        if (matching.length > 0) out[name] = [...new Set(matching.flatMap((i) => i.tags))];
      }
      return Response.json(out, { headers: { ...headers, "X-Consul-Index": String(this.index) } });
    }
    const m = url.pathname.match(/^\/v1\/health\/service\/([^/]+)$/);
    if (m) {
      await this.block(url);
      const name = decodeURIComponent(m[1]!);
      const body = this.instancesFor(name, url).map((i, n) => ({
        Node: {
          ID: `40e4a748-2192-161a-0510-9bf59fe950b${n}`,
          Node: i.node,
          Address: i.address,
          Datacenter: this.datacenter,
          TaggedAddresses: { lan: i.address, wan: "198.18.0.1" },
          Meta: i.nodeMeta ?? {},
          CreateIndex: 5,
          ModifyIndex: 5,
        },
        Service: {
          ID: `${name}-${n}`,
          Service: name,
          Tags: i.tags,
          Address: i.serviceAddress ?? "",
          Meta: i.serviceMeta ?? {},
          Port: i.port,
          Weights: { Passing: 10, Warning: 1 },
          EnableTagOverride: false,
          CreateIndex: 7,
          ModifyIndex: 7,
        },
        Checks: [
          { Node: i.node, CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", Notes: "", Output: "Agent alive and reachable", ServiceID: "", ServiceName: "", ServiceTags: [] },
          { Node: i.node, CheckID: `service:${name}-${n}`, Name: `Service '${name}' check`, Status: i.status ?? "passing", Notes: "", Output: "", ServiceID: `${name}-${n}`, ServiceName: name, ServiceTags: i.tags },
        ],
      }));
      return Response.json(body, { headers: { ...headers, "X-Consul-Index": String(this.index) } });
    }
    return new Response("Invalid URL path: not a recognized HTTP API endpoint\n", { status: 404 });
  }
}
