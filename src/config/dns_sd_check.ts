/**
 * dns_sd_configs as Prometheus checks them: at least one name, a record type among SRV (the
 * default), A, AAAA, MX and NS, a port for every type but SRV, a refresh interval (default 30s).
 */
import type { Checker, Path } from "./checker.ts";
import type { RawDnsSD } from "./schema.ts";
import type { DnsSDConfig } from "./types.ts";

const DEFAULT_DNS_SD_REFRESH = 30_000;
const TYPES = ["SRV", "A", "AAAA", "MX", "NS"] as const;

export function checkDnsSDConfigs(c: Checker, raw: readonly RawDnsSD[] | null | undefined, path: Path): DnsSDConfig[] {
  return (raw ?? []).map((dc, i) => {
    const at = [...path, i];
    const names = dc.names ?? [];
    if (names.length === 0) c.fail(at, "DNS-SD config must contain at least one SRV record name");
    names.forEach((n, j) => {
      if (n.trim() === "") c.fail([...at, "names", j], "empty DNS name");
    });
    const type = (dc.type ?? "SRV").toUpperCase();
    if (!(TYPES as readonly string[]).includes(type)) c.fail(at, `invalid DNS-SD records type ${dc.type}`, "type");
    const port = dc.port ?? 0;
    if (type !== "SRV" && port === 0) c.fail(at, "a port is required in DNS-SD configs for all record types except SRV");
    if (port < 0 || port > 65535) c.fail(at, `port ${port} is out of range (1-65535)`, "port");
    const refreshInterval = dc.refresh_interval ?? DEFAULT_DNS_SD_REFRESH;
    if (refreshInterval <= 0) c.fail(at, "refresh_interval must be greater than 0", "refresh_interval");
    return { names, type: type as DnsSDConfig["type"], port, refreshInterval };
  });
}
