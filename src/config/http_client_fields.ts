/**
 * The HTTP client fields Prometheus inlines into every block that calls out (scrape jobs,
 * Alertmanager sets, promtool's --http.config.file): basic_auth, authorization, the legacy
 * bearer_token(_file), tls_config and follow_redirects, checked once for all of them.
 */
import type { Checker, Path } from "./checker.ts";
import type { RawHttpClientFields } from "./schema.ts";
import type { AuthorizationConfig, BasicAuthConfig, TLSConfig } from "./types.ts";

export interface HttpClientFields {
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  tlsConfig: TLSConfig;
  /** Follow HTTP redirects (Prometheus's default: true). */
  followRedirects: boolean;
}

export function checkHttpClientFields(
  c: Pick<Checker, "fail" | "file">,
  raw: RawHttpClientFields & { enable_http2?: boolean | null },
  path: Path,
): HttpClientFields {
  let basicAuth: BasicAuthConfig | undefined;
  if (raw.basic_auth) {
    const b = raw.basic_auth;
    if (b.password && b.password_file) {
      c.fail([...path, "basic_auth"], "at most one of basic_auth password & password_file must be configured");
    }
    basicAuth = { username: b.username ?? "", password: b.password ?? undefined, passwordFile: c.file(b.password_file) };
  }
  let authorization: AuthorizationConfig | undefined;
  if (raw.authorization) {
    const a = raw.authorization;
    const type = a.type ?? "Bearer";
    if (type.toLowerCase() === "basic") {
      c.fail([...path, "authorization"], `authorization type cannot be set to "basic", use "basic_auth" instead`, "type");
    }
    if (a.credentials && a.credentials_file) {
      c.fail([...path, "authorization"], "at most one of authorization credentials & credentials_file must be configured");
    }
    authorization = { type, credentials: a.credentials ?? undefined, credentialsFile: c.file(a.credentials_file) };
  }
  if (raw.bearer_token || raw.bearer_token_file) {
    if (raw.bearer_token && raw.bearer_token_file) c.fail(path, "at most one of bearer_token & bearer_token_file must be configured");
    if (authorization) c.fail(path, "at most one of bearer_token, bearer_token_file & authorization must be configured");
    authorization = { type: "Bearer", credentials: raw.bearer_token ?? undefined, credentialsFile: c.file(raw.bearer_token_file) };
  }
  if (basicAuth && authorization) {
    c.fail(path, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
  }
  // Bun's fetch speaks HTTP/1.1 only: `false` describes it, `true` (Prometheus's default) cannot be honoured.
  if (raw.enable_http2 === true) c.fail(path, "enable_http2: true is not supported by Shoal (its HTTP client speaks HTTP/1.1)", "enable_http2");
  const tls = raw.tls_config ?? {};
  return {
    basicAuth,
    authorization,
    tlsConfig: {
      caFile: c.file(tls.ca_file),
      certFile: c.file(tls.cert_file),
      keyFile: c.file(tls.key_file),
      serverName: tls.server_name ?? undefined,
      insecureSkipVerify: tls.insecure_skip_verify ?? false,
    },
    followRedirects: raw.follow_redirects ?? true,
  };
}
