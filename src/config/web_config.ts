/**
 * Prometheus's web configuration file (`--web.config.file`, the exporter-toolkit format): TLS for
 * the HTTP server, HTTP response headers, a request rate limit and basic-auth users with bcrypt
 * hashes. Parsed like the main config (YAML document API for line numbers, strict zod shapes:
 * an unknown field is an error) and checked as exporter-toolkit checks it, plus refusals where
 * exporter-toolkit would silently ignore a field (TLS options without a certificate, both inline
 * and file forms of one value). Certificates themselves are read by the web layer (src/api),
 * which also re-reads them when they change.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, readConfigText } from "./error.ts";
import { YamlDoc } from "./yamldoc.ts";

/** exporter-toolkit's client_auth_type values (RequireClientCert is its old name for RequireAnyClientCert). */
export type ClientAuthType = "NoClientCert" | "RequestClientCert" | "RequireAnyClientCert" | "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert";

/** Go's tls version names → the names node:tls (BoringSSL in Bun) takes. */
const TLS_VERSIONS: Record<string, string> = { TLS10: "TLSv1", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3" };
const TLS_VERSION_ORDER = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/**
 * Go's crypto/tls cipher suite names (the ones tls.CipherSuites() lists) → OpenSSL names.
 * TLS 1.3 suites map to null: Go does not let a config choose them, and neither does BoringSSL,
 * so naming them is accepted and changes nothing, exactly as in Prometheus.
 */
const CIPHER_SUITES: Record<string, string | null> = {
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
};

/** exporter-toolkit's curve names → OpenSSL group names. */
const CURVES: Record<string, string> = { CurveP256: "P-256", CurveP384: "P-384", CurveP521: "P-521", X25519: "X25519" };

/** Headers an operator may set, and the values allowed where the header is an enumeration. */
const CONFIGURABLE_HEADERS: Record<string, readonly string[] | null> = {
  "Strict-Transport-Security": null,
  "X-Content-Type-Options": ["nosniff"],
  "X-Frame-Options": ["deny", "sameorigin"],
  "X-XSS-Protection": null,
  "Content-Security-Policy": null,
};

/** A bcrypt hash as Go's bcrypt.Cost accepts it: version 2 (any minor letter), cost 4..31. */
const BCRYPT_RE = /^\$2[a-z]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export interface TlsServerConfig {
  /** Exactly one of certFile / cert, and of keyFile / key (checked). */
  certFile?: string;
  cert?: string;
  keyFile?: string;
  key?: string;
  clientCaFile?: string;
  clientCa?: string;
  clientAuthType: ClientAuthType;
  /** null: no SAN check; otherwise the client certificate must carry one of these SANs. */
  clientAllowedSans: readonly string[] | null;
  /** node:tls names (`TLSv1.2`). */
  minVersion: string;
  maxVersion: string;
  /** OpenSSL cipher list for TLS ≤ 1.2, or undefined for the library's default. */
  ciphers?: string;
  /** OpenSSL group list, or undefined for the library's default. */
  ecdhCurve?: string;
  preferServerCipherSuites: boolean;
  /** The names as written, for logs. */
  cipherSuiteNames: readonly string[];
}

export interface WebConfig {
  filename: string;
  /** null: plain HTTP. */
  tls: TlsServerConfig | null;
  /** As written (default true); Shoal's server speaks HTTP/1.1 only, which the web layer logs. */
  http2: boolean;
  headers: Readonly<Record<string, string>>;
  /** Token bucket: `burst` requests, one more every `intervalMs`; null: no limit. */
  rateLimit: { burst: number; intervalMs: number } | null;
  /** User name → bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>;
}

const str = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const tlsServerSchema = z.strictObject({
  cert: str.nullish(),
  key: str.nullish(),
  client_ca: str.nullish(),
  cert_file: str.nullish(),
  key_file: str.nullish(),
  client_auth_type: str.nullish(),
  client_ca_file: str.nullish(),
  cipher_suites: z.array(str).nullish(),
  curve_preferences: z.array(str).nullish(),
  min_version: str.nullish(),
  max_version: str.nullish(),
  prefer_server_cipher_suites: z.boolean().nullish(),
  client_allowed_sans: z.array(str).nullish(),
});

const webConfigSchema = z
  .strictObject({
    tls_server_config: tlsServerSchema.nullish(),
    http_server_config: z
      .strictObject({
        http2: z.boolean().nullish(),
        headers: z.record(z.string(), str.nullish()).nullish(),
      })
      .nullish(),
    rate_limit: z.strictObject({ burst: z.number().int().nonnegative().nullish(), interval: str.nullish() }).nullish(),
    basic_auth_users: z.record(z.string(), str.nullish()).nullish(),
  })
  .nullable();

type Path = (string | number)[];

const GO_DURATION_RE = /^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration syntax (`1s`, `500ms`, `1m30s`, `0`), in milliseconds; null if not one. */
export function parseGoDuration(text: string): number | null {
  if (text === "0") return 0;
  if (!GO_DURATION_RE.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(GO_DURATION_PART)) ms += Number(m[1]) * GO_UNIT_MS[m[2]!]!;
  return ms;
}

/**
 * Parses web config text; `filename` is used in messages and to resolve relative paths (against
 * its directory). Throws ConfigError (`file:line: field: what is wrong`).
 */
export function parseWebConfig(text: string, filename: string): WebConfig {
  const yaml = YamlDoc.parse(text, filename);
  const baseDir = dirname(resolve(filename));
  const fail = (path: Path, message: string, key?: string): never => {
    const line = yaml.line(path, key);
    const parts = key !== undefined ? [...path, key] : path;
    const field = parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
    throw new ConfigError(`${line === null ? filename : `${filename}:${line}`}: ${field === "" ? "" : field + ": "}${message}`, filename, line, field);
  };
  const file = (p: string | null | undefined): string | undefined => (p ? (isAbsolute(p) ? p : resolve(baseDir, p)) : undefined);

  const parsed = webConfigSchema.safeParse(yaml.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") fail(issue.path as Path, `unknown field ${JSON.stringify(issue.keys[0])}`, issue.keys[0]);
    fail(issue.path as Path, issue.message);
  }
  const raw = parsed.data ?? {};

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.http_server_config?.headers ?? {})) {
    const allowed = CONFIGURABLE_HEADERS[name];
    const path = ["http_server_config", "headers"];
    if (allowed === undefined) {
      fail(path, `HTTP header ${JSON.stringify(name)} can not be configured (allowed: ${Object.keys(CONFIGURABLE_HEADERS).join(", ")})`, name);
    }
    const v = value ?? "";
    if (allowed && !allowed.includes(v)) fail(path, `invalid value for ${name}. Expected one of: ${JSON.stringify(allowed)}, but got: ${JSON.stringify(v)}`, name);
    headers[name] = v;
  }

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(raw.basic_auth_users ?? {})) {
    const h = hash ?? "";
    const m = BCRYPT_RE.exec(h);
    const cost = m ? Number(m[1]) : 0;
    if (!m || cost < 4 || cost > 31) {
      fail(["basic_auth_users"], "not a bcrypt hash: expected $2a$, $2b$ or $2y$, a cost from 04 to 31 and 53 characters of salt and hash (make one with `htpasswd -nB` or Bun.password.hash)", user);
    }
    users.set(user, h);
  }

  let rateLimit: WebConfig["rateLimit"] = null;
  if (raw.rate_limit) {
    const interval = raw.rate_limit.interval ?? "0";
    const intervalMs = parseGoDuration(interval);
    if (intervalMs === null) fail(["rate_limit"], `invalid duration ${JSON.stringify(interval)}`, "interval");
    if (intervalMs! > 0) rateLimit = { burst: raw.rate_limit.burst ?? 0, intervalMs: intervalMs! };
    else if (raw.rate_limit.burst) fail(["rate_limit"], "burst is set but interval is 0: no rate limit would apply", "burst");
  }

  return {
    filename,
    tls: raw.tls_server_config ? checkTls(raw.tls_server_config, fail, file) : null,
    http2: raw.http_server_config?.http2 ?? true,
    headers,
    rateLimit,
    users,
  };
}

function checkTls(
  t: z.infer<typeof tlsServerSchema>,
  fail: (path: Path, message: string, key?: string) => never,
  file: (p: string | null | undefined) => string | undefined,
): TlsServerConfig | null {
  const P = ["tls_server_config"];
  const enabled = !!(t.cert_file || t.cert || t.key_file || t.key || t.client_ca_file || t.client_ca || t.client_auth_type);
  if (!enabled) {
    // exporter-toolkit serves plain HTTP then and drops the other fields without a word.
    const set = Object.entries(t).find(([, v]) => v !== null && v !== undefined);
    if (set) fail(P, "TLS is not enabled (no cert_file or cert): this field would have no effect", set[0]);
    return null;
  }
  if (t.cert_file && t.cert) fail(P, "at most one of cert and cert_file must be configured", "cert");
  if (t.key_file && t.key) fail(P, "at most one of key and key_file must be configured", "key");
  if (t.client_ca_file && t.client_ca) fail(P, "at most one of client_ca and client_ca_file must be configured", "client_ca");
  if (!t.cert_file && !t.cert) fail(P, "missing one of cert or cert_file");
  if (!t.key_file && !t.key) fail(P, "missing one of key or key_file");

  const rawAuth = t.client_auth_type ?? "";
  let clientAuthType: ClientAuthType;
  switch (rawAuth) {
    case "":
    case "NoClientCert":
      clientAuthType = "NoClientCert";
      break;
    case "RequireClientCert":
    case "RequireAnyClientCert":
      clientAuthType = "RequireAnyClientCert";
      break;
    case "RequestClientCert":
    case "VerifyClientCertIfGiven":
    case "RequireAndVerifyClientCert":
      clientAuthType = rawAuth;
      break;
    default:
      fail(P, `invalid ClientAuth: ${JSON.stringify(rawAuth)} (one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)`, "client_auth_type");
  }
  if ((t.client_ca_file || t.client_ca) && clientAuthType! === "NoClientCert") {
    fail(P, "client CA's have been configured without a Client Auth Policy (set client_auth_type)", t.client_ca_file ? "client_ca_file" : "client_ca");
  }
  const sans = t.client_allowed_sans ?? null;
  if (sans !== null && clientAuthType! !== "RequireAnyClientCert" && clientAuthType! !== "RequireAndVerifyClientCert") {
    fail(P, "client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert", "client_allowed_sans");
  }

  const version = (key: "min_version" | "max_version", dflt: string): string => {
    const v = t[key];
    if (v === null || v === undefined) return dflt;
    const mapped = TLS_VERSIONS[v];
    if (mapped === undefined) fail(P, `unknown TLS version: ${v} (one of ${Object.keys(TLS_VERSIONS).join(", ")})`, key);
    return mapped!;
  };
  const minVersion = version("min_version", "TLSv1.2");
  const maxVersion = version("max_version", "TLSv1.3");
  if (TLS_VERSION_ORDER.indexOf(minVersion) > TLS_VERSION_ORDER.indexOf(maxVersion)) fail(P, "min_version is greater than max_version", "min_version");

  const names = t.cipher_suites ?? [];
  const ciphers: string[] = [];
  names.forEach((n, i) => {
    const mapped = CIPHER_SUITES[n];
    if (mapped === undefined) fail([...P, "cipher_suites", i], `unknown cipher: ${n}`);
    if (mapped) ciphers.push(mapped);
  });
  const curves = (t.curve_preferences ?? []).map((n, i) => {
    const mapped = CURVES[n];
    if (mapped === undefined) fail([...P, "curve_preferences", i], `unknown curve: ${n} (one of ${Object.keys(CURVES).join(", ")})`);
    return mapped!;
  });

  return {
    certFile: file(t.cert_file),
    cert: t.cert ?? undefined,
    keyFile: file(t.key_file),
    key: t.key ?? undefined,
    clientCaFile: file(t.client_ca_file),
    clientCa: t.client_ca ?? undefined,
    clientAuthType: clientAuthType!,
    clientAllowedSans: sans,
    minVersion,
    maxVersion,
    ciphers: ciphers.length > 0 ? ciphers.join(":") : undefined,
    ecdhCurve: curves.length > 0 ? curves.join(":") : undefined,
    preferServerCipherSuites: t.prefer_server_cipher_suites ?? true,
    cipherSuiteNames: names,
  };
}

/** Reads and parses a web config file; a missing or unreadable file is a ConfigError too. */
export function loadWebConfigFile(path: string): WebConfig {
  return parseWebConfig(readConfigText(path), path);
}
