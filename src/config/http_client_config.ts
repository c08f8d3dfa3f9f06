/**
 * An HTTP client configuration file in the format of promtool's `--http.config.file` (the HTTP
 * client part of a scrape config): `basic_auth`, `authorization`, `bearer_token(_file)` and
 * `tls_config`. Shoal reads it where it calls a Shoal node: `shoal cluster status|leave`, a node
 * calling its peers' HTTP API, and the built-in self-scrape. Secret files are read on every use,
 * so a rotated password or certificate needs no restart.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, readConfigText } from "./error.ts";
import { authorizationSchema, basicAuthSchema, tlsSchema } from "./schema.ts";
import type { AuthorizationConfig, BasicAuthConfig, TLSConfig } from "./types.ts";
import { YamlDoc } from "./yamldoc.ts";

export interface HttpClientConfig {
  filename: string;
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  tlsConfig: TLSConfig;
}

/** What a fetch call needs: the Authorization header and Bun's `tls` options. */
export interface HttpClientRequestOptions {
  headers: Record<string, string>;
  tls: { ca?: string; cert?: string; key?: string; serverName?: string; rejectUnauthorized: boolean };
}

const httpClientSchema = z
  .strictObject({
    basic_auth: basicAuthSchema.nullish(),
    authorization: authorizationSchema.nullish(),
    bearer_token: z.string().nullish(),
    bearer_token_file: z.string().nullish(),
    tls_config: tlsSchema.nullish(),
    follow_redirects: z.boolean().nullish(),
  })
  .nullable();

/** Fields of Prometheus's HTTP client config that Shoal does not implement: said so, not "unknown". */
const PROMETHEUS_ONLY = new Set(["oauth2", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header", "enable_http2", "http_headers"]);

type Path = (string | number)[];

export function parseHttpClientConfig(text: string, filename: string): HttpClientConfig {
  const yaml = YamlDoc.parse(text, filename);
  const baseDir = dirname(resolve(filename));
  const fail = (path: Path, message: string, key?: string): never => {
    const line = yaml.line(path, key);
    const field = (key !== undefined ? [...path, key] : path).join(".");
    throw new ConfigError(`${line === null ? filename : `${filename}:${line}`}: ${field === "" ? "" : field + ": "}${message}`, filename, line, field);
  };
  const file = (p: string | null | undefined): string | undefined => (p ? (isAbsolute(p) ? p : resolve(baseDir, p)) : undefined);
  const parsed = httpClientSchema.safeParse(yaml.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      fail(issue.path as Path, PROMETHEUS_ONLY.has(key) ? `field ${JSON.stringify(key)} is not supported by Shoal` : `unknown field ${JSON.stringify(key)}`, key);
    }
    fail(issue.path as Path, issue.message);
  }
  const raw = parsed.data ?? {};
  let basicAuth: BasicAuthConfig | undefined;
  if (raw.basic_auth) {
    const b = raw.basic_auth;
    if (b.password && b.password_file) fail(["basic_auth"], "at most one of basic_auth password & password_file must be configured");
    basicAuth = { username: b.username ?? "", password: b.password ?? undefined, passwordFile: file(b.password_file) };
  }
  let authorization: AuthorizationConfig | undefined;
  if (raw.authorization) {
    const a = raw.authorization;
    const type = a.type ?? "Bearer";
    if (type.toLowerCase() === "basic") fail(["authorization"], `authorization type cannot be set to "basic", use "basic_auth" instead`, "type");
    if (a.credentials && a.credentials_file) fail(["authorization"], "at most one of authorization credentials & credentials_file must be configured");
    authorization = { type, credentials: a.credentials ?? undefined, credentialsFile: file(a.credentials_file) };
  }
  if (raw.bearer_token || raw.bearer_token_file) {
    if (raw.bearer_token && raw.bearer_token_file) fail([], "at most one of bearer_token & bearer_token_file must be configured");
    if (authorization) fail([], "at most one of bearer_token, bearer_token_file & authorization must be configured");
    authorization = { type: "Bearer", credentials: raw.bearer_token ?? undefined, credentialsFile: file(raw.bearer_token_file) };
  }
  if (basicAuth && authorization) fail([], "at most one of basic_auth, bearer_token & bearer_token_file & authorization must be configured");
  if (raw.follow_redirects === false) fail([], "follow_redirects: false is not supported here (Shoal's own endpoints do not redirect)", "follow_redirects");
  const t = raw.tls_config ?? {};
  return {
    filename,
    basicAuth,
    authorization,
    tlsConfig: {
      caFile: file(t.ca_file),
      certFile: file(t.cert_file),
      keyFile: file(t.key_file),
      serverName: t.server_name ?? undefined,
      insecureSkipVerify: t.insecure_skip_verify ?? false,
    },
  };
}

export function loadHttpClientConfigFile(path: string): HttpClientConfig {
  return parseHttpClientConfig(readConfigText(path), path);
}

function readFileField(what: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`unable to read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** The request options for one call; reads the referenced files now (they may have been rotated). */
export function httpClientRequestOptions(cfg: HttpClientConfig | null): HttpClientRequestOptions {
  const headers: Record<string, string> = {};
  const tls: HttpClientRequestOptions["tls"] = { rejectUnauthorized: true };
  if (!cfg) return { headers, tls };
  if (cfg.basicAuth) {
    const b = cfg.basicAuth;
    const pw = b.passwordFile !== undefined ? readFileField("password_file", b.passwordFile).trim() : (b.password ?? "");
    headers.Authorization = `Basic ${Buffer.from(`${b.username}:${pw}`).toString("base64")}`;
  } else if (cfg.authorization) {
    const a = cfg.authorization;
    const cred = a.credentialsFile !== undefined ? readFileField("credentials_file", a.credentialsFile).trim() : (a.credentials ?? "");
    headers.Authorization = `${a.type} ${cred}`;
  }
  const t = cfg.tlsConfig;
  tls.rejectUnauthorized = !t.insecureSkipVerify;
  if (t.caFile) tls.ca = readFileField("ca_file", t.caFile);
  if (t.certFile) tls.cert = readFileField("cert_file", t.certFile);
  if (t.keyFile) tls.key = readFileField("key_file", t.keyFile);
  if (t.serverName) tls.serverName = t.serverName;
  return { headers, tls };
}
