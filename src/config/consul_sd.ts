/**
 * consul_sd_configs with Prometheus's defaults (localhost:8500 over http, stale reads allowed,
 * "," between tags, 30s refresh) and its refusals (no server, two kinds of credentials).
 */
import type { Checker, Path } from "./checker.ts";
import { checkHttpClientFields, type HttpClientFields } from "./http_client_fields.ts";
import type { RawConsulSD } from "./schema.ts";

export interface ConsulSDConfig {
  /** host:port of the Consul agent. */
  server: string;
  scheme: "http" | "https";
  /** Put before `/v1/…`, e.g. behind a reverse proxy; "" for none. */
  pathPrefix: string;
  token?: string;
  /** "" asks the agent which datacenter it is in. */
  datacenter: string;
  namespace: string;
  partition: string;
  tagSeparator: string;
  allowStale: boolean;
  /** ms: the least time between two queries of the same list. */
  refreshInterval: number;
  /** Empty: every service in the catalog. */
  services: string[];
  /** A service is watched only when it has every one of these tags. */
  tags: string[];
  nodeMeta: Record<string, string>;
  filter: string;
  healthFilter: string;
  http: HttpClientFields;
}

const DEFAULT_REFRESH = 30_000;

function checkOne(c: Checker, raw: RawConsulSD, path: Path): ConsulSDConfig {
  const server = raw.server ?? "localhost:8500";
  if (server.trim() === "") c.fail(path, "consul SD configuration requires a server address", "server");
  const scheme = (raw.scheme ?? "http").toLowerCase();
  if (scheme !== "http" && scheme !== "https") c.fail(path, `URL scheme must be 'http' or 'https', got ${JSON.stringify(scheme)}`, "scheme");
  const http = checkHttpClientFields(c, raw, path);
  if ((raw.username ?? "") !== "" || (raw.password ?? "") !== "") {
    if (http.basicAuth) c.fail(path, "at most one of consul SD configuration username and password and basic auth can be configured");
    http.basicAuth = { username: raw.username ?? "", password: raw.password ?? "" };
  }
  const token = raw.token ?? "";
  if (token !== "" && http.authorization) c.fail(path, "at most one of consul SD token, authorization, or oauth2 can be configured", "token");
  const refreshInterval = raw.refresh_interval ?? DEFAULT_REFRESH;
  // Go's ticker panics on a zero period; refuse it while the file is open.
  if (refreshInterval <= 0) c.fail(path, "refresh_interval must be greater than 0", "refresh_interval");
  return {
    server,
    scheme,
    pathPrefix: raw.path_prefix ?? "",
    token: token === "" ? undefined : token,
    datacenter: raw.datacenter ?? "",
    namespace: raw.namespace ?? "",
    partition: raw.partition ?? "",
    tagSeparator: raw.tag_separator ?? ",",
    allowStale: raw.allow_stale ?? true,
    refreshInterval,
    services: raw.services ?? [],
    tags: raw.tags ?? [],
    nodeMeta: raw.node_meta ?? {},
    filter: raw.filter ?? "",
    healthFilter: raw.health_filter ?? "",
    http,
  };
}

export function checkConsulSDConfigs(c: Checker, raw: readonly RawConsulSD[] | null | undefined, path: Path): ConsulSDConfig[] {
  return (raw ?? []).map((k, i) => checkOne(c, k, [...path, i]));
}
