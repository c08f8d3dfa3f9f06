/**
 * What `--cluster.join` names, as Thanos spells it: `HOST:PORT` (looked up by the system at
 * every dial), `dns+NAME:PORT` (every A and AAAA address of NAME, with PORT) and `dnssrv+NAME`
 * (every SRV record of NAME: its target's addresses with the record's port). DNS names are
 * resolved at start and again every refresh interval through `--dns.server`, so that members
 * behind a Kubernetes headless service are found as they come and go. A lookup that fails keeps
 * the addresses of the last one that answered; a name that does not exist has none.
 */
import type { Resolver } from "node:dns/promises";
import { isDnsAbsent, newDnsResolver, type Logger } from "../model/index.ts";
import { parseJoinSpec, type JoinSpec } from "./config.ts";

function endpoint(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Every A and AAAA address of `name`; absent records are none, other errors throw. */
async function addressesOf(resolver: Resolver, name: string): Promise<string[]> {
  const settle = async (p: Promise<string[]>): Promise<string[]> => {
    try {
      return await p;
    } catch (err) {
      if (isDnsAbsent(err)) return [];
      throw err;
    }
  };
  const [v4, v6] = await Promise.all([settle(resolver.resolve4(name)), settle(resolver.resolve6(name))]);
  return [...v4, ...v6];
}

export class JoinTargets {
  private readonly specs: JoinSpec[];
  private readonly resolver: Resolver;
  /** Per DNS spec, the HOST:PORT endpoints of its last answered lookup. */
  private readonly resolved = new Map<string, string[]>();

  constructor(
    join: readonly string[],
    dnsServer: string,
    private readonly logger: Logger,
  ) {
    this.specs = join.map(parseJoinSpec);
    this.resolver = newDnsResolver(dnsServer);
  }

  /** Whether some spec is a DNS name to resolve again from time to time. */
  hasDnsNames(): boolean {
    return this.specs.some((s) => s.kind !== "static");
  }

  /** Whether anything was given to join through. */
  any(): boolean {
    return this.specs.length > 0;
  }

  /** HOST:PORT of every endpoint known now: the static ones and the last answers of the DNS names. */
  endpoints(): string[] {
    const out = new Set<string>();
    for (const s of this.specs) {
      if (s.kind === "static") out.add(s.text);
      else for (const e of this.resolved.get(s.text) ?? []) out.add(e);
    }
    return [...out];
  }

  /** Resolves every DNS spec again; a spec whose lookup fails keeps its last endpoints. */
  async refresh(): Promise<void> {
    await Promise.all(
      this.specs.map(async (s) => {
        if (s.kind === "static") return;
        try {
          const found = s.kind === "dns" ? (await addressesOf(this.resolver, s.name)).map((ip) => endpoint(ip, s.port)) : await this.srvEndpoints(s.name);
          const before = this.resolved.get(s.text);
          found.sort();
          if (before === undefined || before.join() !== found.join()) this.logger.info("cluster join name resolved", { join: s.text, addresses: found.join(",") });
          this.resolved.set(s.text, found);
        } catch (err) {
          this.logger.warn("cannot resolve --cluster.join name; keeping the addresses it had", { join: s.text, err: (err as Error).message });
        }
      }),
    );
  }

  stop(): void {
    this.resolver.cancel();
  }

  private async srvEndpoints(name: string): Promise<string[]> {
    let records;
    try {
      records = await this.resolver.resolveSrv(name);
    } catch (err) {
      if (isDnsAbsent(err)) return [];
      throw err;
    }
    const per = await Promise.all(records.map(async (r) => (await addressesOf(this.resolver, r.name)).map((ip) => endpoint(ip, r.port))));
    return per.flat();
  }
}
