/**
 * `remote_write` entries: Prometheus's fields and defaults (config.DefaultRemoteWriteConfig,
 * DefaultQueueConfig, DefaultMetadataConfig) and its checks (headers, queue bounds, one auth
 * method). Fields whose feature Shoal does not have (cloud request signing, remote write 2.0,
 * exemplars, native histograms) are refused by name rather than accepted and ignored.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Checker, Path } from "./checker.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import { checkRelabel } from "./relabel_check.ts";
import { duration, httpClientFields, relabelSchema, tlsSchema } from "./schema.ts";
import type { AuthorizationConfig, BasicAuthConfig, RelabelConfig, TLSConfig } from "./types.ts";

export interface RemoteWriteQueueConfig {
  /** Samples buffered per shard before reading from the on-disk queue pauses. */
  capacity: number;
  maxShards: number;
  minShards: number;
  maxSamplesPerSend: number;
  /** ms a sample waits at most for its batch to fill. */
  batchSendDeadline: number;
  /** ms; the first retry delay, doubled per retry up to maxBackoff. */
  minBackoff: number;
  maxBackoff: number;
  retryOnHttp429: boolean;
  /** ms; samples older than this when sent are dropped (0: never). */
  sampleAgeLimit: number;
}

export interface RemoteWriteMetadataConfig {
  send: boolean;
  /** ms between two sends of all metric metadata. */
  sendInterval: number;
  maxSamplesPerSend: number;
}

/** OAuth 2.0 client credentials grant, as Prometheus's HTTP client config has it. */
export interface OAuth2Config {
  clientId: string;
  clientSecret?: string;
  clientSecretFile?: string;
  scopes: string[];
  tokenUrl: string;
  endpointParams: Record<string, string>;
  tlsConfig: TLSConfig;
  proxyUrl?: string;
}

export interface RemoteWriteConfig {
  url: string;
  /** As written ("" when unset); the queue is then named by `hash`. */
  name: string;
  /** md5 (hex) of the entry as parsed: tells two entries and two versions of one entry apart. */
  hash: string;
  /** ms per request. */
  remoteTimeout: number;
  headers: Record<string, string>;
  writeRelabelConfigs: RelabelConfig[];
  queueConfig: RemoteWriteQueueConfig;
  metadataConfig: RemoteWriteMetadataConfig;
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  oauth2?: OAuth2Config;
  tlsConfig: TLSConfig;
  followRedirects: boolean;
  proxyUrl?: string;
}

export const DEFAULT_QUEUE_CONFIG: RemoteWriteQueueConfig = {
  capacity: 10_000,
  maxShards: 50,
  minShards: 1,
  maxSamplesPerSend: 2000,
  batchSendDeadline: 5000,
  minBackoff: 30,
  maxBackoff: 5000,
  retryOnHttp429: false,
  sampleAgeLimit: 0,
};

export const DEFAULT_METADATA_CONFIG: RemoteWriteMetadataConfig = { send: true, sendInterval: 60_000, maxSamplesPerSend: 2000 };
const DEFAULT_REMOTE_TIMEOUT = 30_000;

/** Go's YAML decoder turns any scalar into a string field. */
const str = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const int = z.number().int();

const queueSchema = z.strictObject({
  capacity: int.nullish(),
  max_shards: int.nullish(),
  min_shards: int.nullish(),
  max_samples_per_send: int.nullish(),
  batch_send_deadline: duration.nullish(),
  min_backoff: duration.nullish(),
  max_backoff: duration.nullish(),
  retry_on_http_429: z.boolean().nullish(),
  sample_age_limit: duration.nullish(),
});

const metadataSchema = z.strictObject({
  send: z.boolean().nullish(),
  send_interval: duration.nullish(),
  max_samples_per_send: int.nullish(),
});

const oauth2Schema = z.strictObject({
  client_id: str.nullish(),
  client_secret: str.nullish(),
  client_secret_file: str.nullish(),
  scopes: z.array(str).nullish(),
  token_url: str.nullish(),
  endpoint_params: z.record(z.string(), str).nullish(),
  tls_config: tlsSchema.nullish(),
  proxy_url: str.nullish(),
});

/**
 * Fields Prometheus has that Shoal refuses when set (a null value is "not set", as for Go): the
 * cloud signers, and HTTP client features the sender does not have.
 */
const REFUSED = ["sigv4", "azuread", "google_iam", "no_proxy", "proxy_from_environment", "proxy_connect_header", "http_headers"] as const;
const refused = Object.fromEntries(REFUSED.map((k) => [k, z.unknown().optional()])) as Record<(typeof REFUSED)[number], z.ZodOptional<z.ZodUnknown>>;

const remoteWriteSchema = z.strictObject({
  url: str.nullish(),
  name: str.nullish(),
  remote_timeout: duration.nullish(),
  headers: z.record(z.string(), str).nullish(),
  write_relabel_configs: z.array(relabelSchema.nullable()).nullish(),
  send_exemplars: z.boolean().nullish(),
  send_native_histograms: z.boolean().nullish(),
  round_robin_dns: z.boolean().nullish(),
  protobuf_message: str.nullish(),
  enable_http2: z.boolean().nullish(),
  proxy_url: str.nullish(),
  oauth2: oauth2Schema.nullish(),
  queue_config: queueSchema.nullish(),
  metadata_config: metadataSchema.nullish(),
  ...httpClientFields,
  ...refused,
});
type RawRemoteWrite = z.infer<typeof remoteWriteSchema>;

/** Headers Prometheus sets itself and refuses to let a config change (config.reservedHeaders). */
const RESERVED_HEADERS = new Set([
  "host",
  "content-encoding",
  "content-length",
  "content-type",
  "user-agent",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "www-authenticate",
  "accept-encoding",
  "x-prometheus-remote-write-version",
  "x-prometheus-remote-read-version",
  "x-prometheus-remote-write-samples-written",
  "x-prometheus-remote-write-histograms-written",
  "x-prometheus-remote-write-exemplars-written",
]);

function checkHttpUrl(c: Checker, path: Path, key: string, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    c.fail(path, `invalid URL ${JSON.stringify(raw)}`, key);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") c.fail(path, `URL scheme ${JSON.stringify(u.protocol.slice(0, -1))} is not supported by Shoal (http or https)`, key);
  return raw;
}

function checkQueueConfig(c: Checker, raw: z.infer<typeof queueSchema> | null | undefined, path: Path): RemoteWriteQueueConfig {
  const d = DEFAULT_QUEUE_CONFIG;
  const q: RemoteWriteQueueConfig = {
    capacity: raw?.capacity ?? d.capacity,
    maxShards: raw?.max_shards ?? d.maxShards,
    minShards: raw?.min_shards ?? d.minShards,
    maxSamplesPerSend: raw?.max_samples_per_send ?? d.maxSamplesPerSend,
    batchSendDeadline: raw?.batch_send_deadline ?? d.batchSendDeadline,
    minBackoff: raw?.min_backoff ?? d.minBackoff,
    maxBackoff: raw?.max_backoff ?? d.maxBackoff,
    retryOnHttp429: raw?.retry_on_http_429 ?? d.retryOnHttp429,
    sampleAgeLimit: raw?.sample_age_limit ?? d.sampleAgeLimit,
  };
  // Prometheus (2.47+) refuses these at load: each would leave a queue that can never send.
  if (q.maxShards <= 0) c.fail(path, "remote write queue max_shards must be positive", "max_shards");
  if (q.minShards <= 0) c.fail(path, "remote write queue min_shards must be positive", "min_shards");
  if (q.minShards > q.maxShards) c.fail(path, "remote write queue min_shards must not be greater than max_shards", "min_shards");
  if (q.maxSamplesPerSend <= 0) c.fail(path, "remote write queue max_samples_per_send must be positive", "max_samples_per_send");
  if (q.capacity <= 0) c.fail(path, "remote write queue capacity must be positive", "capacity");
  if (q.maxBackoff < q.minBackoff) c.fail(path, "remote write queue max_backoff must not be less than min_backoff", "max_backoff");
  if (q.batchSendDeadline <= 0) c.fail(path, "remote write queue batch_send_deadline must be positive", "batch_send_deadline");
  return q;
}

function checkOAuth2(c: Checker, raw: NonNullable<RawRemoteWrite["oauth2"]>, path: Path): OAuth2Config {
  if (raw.client_secret && raw.client_secret_file) c.fail(path, "at most one of oauth2 client_secret & client_secret_file must be configured");
  if (!raw.token_url) c.fail(path, "oauth2 token_url must be configured");
  checkHttpUrl(c, path, "token_url", raw.token_url);
  const tls = raw.tls_config ?? {};
  return {
    clientId: raw.client_id ?? "",
    clientSecret: raw.client_secret ?? undefined,
    clientSecretFile: c.file(raw.client_secret_file),
    scopes: raw.scopes ?? [],
    tokenUrl: raw.token_url,
    endpointParams: raw.endpoint_params ?? {},
    tlsConfig: {
      caFile: c.file(tls.ca_file),
      certFile: c.file(tls.cert_file),
      keyFile: c.file(tls.key_file),
      serverName: tls.server_name ?? undefined,
      insecureSkipVerify: tls.insecure_skip_verify ?? false,
    },
    proxyUrl: raw.proxy_url ? checkHttpUrl(c, path, "proxy_url", raw.proxy_url) : undefined,
  };
}

function checkEntry(c: Checker, raw: RawRemoteWrite, path: Path): RemoteWriteConfig {
  for (const key of REFUSED) {
    if (raw[key] !== undefined && raw[key] !== null) c.fail(path, `field ${JSON.stringify(key)} is not supported by Shoal`, key);
  }
  if (raw.send_exemplars) c.fail(path, "send_exemplars: true is not supported by Shoal (it stores no exemplars)", "send_exemplars");
  if (raw.send_native_histograms) c.fail(path, "send_native_histograms: true is not supported by Shoal (it stores no native histograms)", "send_native_histograms");
  if (raw.round_robin_dns) c.fail(path, "round_robin_dns: true is not supported by Shoal", "round_robin_dns");
  if (raw.enable_http2) c.fail(path, "enable_http2: true is not supported by Shoal (it sends over HTTP/1.1)", "enable_http2");
  const message = raw.protobuf_message ?? "prometheus.WriteRequest";
  if (message === "io.prometheus.write.v2.Request") c.fail(path, "protobuf_message io.prometheus.write.v2.Request (remote write 2.0) is not supported by Shoal for sending", "protobuf_message");
  if (message !== "prometheus.WriteRequest") c.fail(path, `invalid protobuf_message value: unknown remote write protobuf message ${message}`, "protobuf_message");

  if (!raw.url) c.fail(path, "url for remote_write is empty");
  const url = checkHttpUrl(c, path, "url", raw.url);
  const writeRelabelConfigs = (raw.write_relabel_configs ?? []).map((r, i) => {
    if (r === null) c.fail([...path, "write_relabel_configs", i], "empty or null relabeling rule in remote write config");
    return checkRelabel(c, r, [...path, "write_relabel_configs", i]);
  });
  const headers = raw.headers ?? {};
  for (const h of Object.keys(headers)) {
    const lower = h.toLowerCase();
    if (lower === "authorization") c.fail([...path, "headers"], "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter", h);
    if (RESERVED_HEADERS.has(lower)) c.fail([...path, "headers"], `${h} is a reserved header. It must not be changed`, h);
  }
  const http = checkHttpClientFields(c, raw, path);
  const oauth2 = raw.oauth2 ? checkOAuth2(c, raw.oauth2, [...path, "oauth2"]) : undefined;
  if (oauth2 && (http.basicAuth || http.authorization)) {
    c.fail(path, `at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured`);
  }
  const md = raw.metadata_config;
  const metadataConfig: RemoteWriteMetadataConfig = {
    send: md?.send ?? DEFAULT_METADATA_CONFIG.send,
    sendInterval: md?.send_interval ?? DEFAULT_METADATA_CONFIG.sendInterval,
    maxSamplesPerSend: md?.max_samples_per_send ?? DEFAULT_METADATA_CONFIG.maxSamplesPerSend,
  };
  if (metadataConfig.send && metadataConfig.sendInterval <= 0) c.fail([...path, "metadata_config"], "send_interval must be positive", "send_interval");
  if (metadataConfig.maxSamplesPerSend <= 0) c.fail([...path, "metadata_config"], "max_samples_per_send must be positive", "max_samples_per_send");
  const timeout = raw.remote_timeout ?? DEFAULT_REMOTE_TIMEOUT;
  if (timeout <= 0) c.fail(path, "remote_timeout must be positive", "remote_timeout");
  const entry: Omit<RemoteWriteConfig, "hash"> = {
    url,
    name: raw.name ?? "",
    remoteTimeout: timeout,
    headers,
    writeRelabelConfigs,
    queueConfig: checkQueueConfig(c, raw.queue_config, [...path, "queue_config"]),
    metadataConfig,
    basicAuth: http.basicAuth,
    authorization: http.authorization,
    oauth2,
    tlsConfig: http.tlsConfig,
    followRedirects: http.followRedirects,
    proxyUrl: raw.proxy_url ? checkHttpUrl(c, path, "proxy_url", raw.proxy_url) : undefined,
  };
  return { ...entry, hash: createHash("md5").update(JSON.stringify(entry)).digest("hex") };
}

/** The `remote_write` list: each entry checked, names unique, no two identical entries. */
export function checkRemoteWrite(c: Checker, raw: unknown, path: Path = ["remote_write"]): RemoteWriteConfig[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) c.fail(path, "expected a list of remote_write entries");
  const names = new Set<string>();
  const hashes = new Set<string>();
  return raw.map((item: unknown, i) => {
    const p = [...path, i];
    if (item === null || item === undefined) c.fail(p, "empty or null remote write config section");
    const parsed = remoteWriteSchema.safeParse(item);
    // A misspelt field in Prometheus's words (as promtool prints it); others with their path.
    if (!parsed.success) c.failSchema(parsed.error.issues, p);
    const entry = checkEntry(c, parsed.data, p);
    if (entry.name !== "" && names.has(entry.name)) c.fail(p, `found multiple remote write configs with job name ${JSON.stringify(entry.name)}`, "name");
    names.add(entry.name);
    if (hashes.has(entry.hash)) c.fail(p, `duplicate remote write configs are not allowed, found duplicate for URL: ${entry.url}`);
    hashes.add(entry.hash);
    return entry;
  });
}
