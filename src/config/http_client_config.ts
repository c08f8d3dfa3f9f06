/**
 * An HTTP client configuration file in the format of promtool's `--http.config.file` (the HTTP
 * client part of a scrape config): `basic_auth`, `authorization`, `bearer_token(_file)` and
 * `tls_config`. Shoal reads it where it calls a Shoal node: `shoal cluster status|leave`, a node
 * calling its peers' HTTP API, and the built-in self-scrape. Secret files are read on every use,
 * so a rotated password or certificate needs no restart.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { Checker, type Path } from "./checker.ts";
import { readConfigText } from "./error.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import { httpClientFields } from "./schema.ts";
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

const httpClientSchema = z.strictObject(httpClientFields).nullable();

/** Fields of Prometheus's HTTP client config that Shoal does not implement: said so, not "unknown". */
const PROMETHEUS_ONLY = new Set(["oauth2", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header", "enable_http2", "http_headers"]);

export function parseHttpClientConfig(text: string, filename: string): HttpClientConfig {
  const yaml = YamlDoc.parse(text, filename);
  const c = new Checker(filename, yaml, dirname(resolve(filename)));
  const parsed = httpClientSchema.safeParse(yaml.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      c.fail(issue.path as Path, PROMETHEUS_ONLY.has(key) ? `field ${JSON.stringify(key)} is not supported by Shoal` : `unknown field ${JSON.stringify(key)}`, key);
    }
    c.fail(issue.path as Path, issue.message);
  }
  const raw = parsed.data ?? {};
  const { basicAuth, authorization, tlsConfig, followRedirects } = checkHttpClientFields(c, raw, []);
  if (!followRedirects) c.fail([], "follow_redirects: false is not supported here (Shoal's own endpoints do not redirect)", "follow_redirects");
  return { filename, basicAuth, authorization, tlsConfig };
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

/** What a request needs from any HTTP client config (this file's, a scrape job's, an Alertmanager set's). */
export type HttpClientAuth = Pick<HttpClientConfig, "basicAuth" | "authorization" | "tlsConfig">;

/** The request options for one call; reads the referenced files now (they may have been rotated). */
export function httpClientRequestOptions(cfg: HttpClientAuth | null): HttpClientRequestOptions {
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
