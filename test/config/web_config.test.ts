/** The web config file's shape and checks (parseWebConfig), and the HTTP client config file's. */
import { describe, expect, test } from "bun:test";
import { parseGoDuration, parseHttpClientConfig, parseWebConfig } from "../../src/config/index.ts";

const TLS = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";

describe("parseWebConfig", () => {
  test("an empty file is plain HTTP without users, with exporter-toolkit's defaults", () => {
    const c = parseWebConfig("", "/etc/web.yml");
    expect(c.tls).toBeNull();
    expect(c.http2).toBe(true);
    expect(c.users.size).toBe(0);
    expect(c.rateLimit).toBeNull();
  });
  test("TLS defaults, paths relative to the file, the RequireClientCert alias", () => {
    const c = parseWebConfig(`${TLS}  client_auth_type: RequireClientCert\n`, "/etc/shoal/web.yml");
    expect(c.tls).toMatchObject({ certFile: "/etc/shoal/s.crt", keyFile: "/etc/shoal/s.key", clientAuthType: "RequireAnyClientCert", minVersion: "TLSv1.2", maxVersion: "TLSv1.3", preferServerCipherSuites: true });
  });
  test("Go cipher and curve names become OpenSSL's; TLS 1.3 suites are accepted and change nothing", () => {
    const c = parseWebConfig(`${TLS}  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [CurveP521, X25519]\n`, "w.yml");
    expect(c.tls?.ciphers).toBe("ECDHE-RSA-AES128-GCM-SHA256");
    expect(c.tls?.ecdhCurve).toBe("P-521:X25519");
  });
  const bad: [string, string][] = [
    [`${TLS}  cipher_suites: [TLS_FOO]\n`, "w.yml:4: tls_server_config.cipher_suites[0]: unknown cipher: TLS_FOO"],
    [`${TLS}  curve_preferences: [P256]\n`, "w.yml:4: tls_server_config.curve_preferences[0]: unknown curve: P256"],
    [`${TLS}  min_version: TLS14\n`, "w.yml:4: tls_server_config.min_version: unknown TLS version: TLS14"],
    [`${TLS}  min_version: TLS13\n  max_version: TLS12\n`, "min_version is greater than max_version"],
    [`${TLS}  client_auth_type: Maybe\n`, 'w.yml:4: tls_server_config.client_auth_type: invalid ClientAuth: "Maybe"'],
    [`${TLS}  client_ca_file: ca.crt\n`, "client CA's have been configured without a Client Auth Policy"],
    [`${TLS}  cert: inline\n`, "at most one of cert and cert_file"],
    ["tls_server_config:\n  key_file: s.key\n", "missing one of cert or cert_file"],
    ["rate_limit:\n  burst: 1\n  interval: 1d\n", 'w.yml:3: rate_limit.interval: invalid duration "1d"'],
    ["http_server_config:\n  http2: maybe\n", "w.yml:2: http_server_config.http2:"],
    ["basic_auth_users:\n  a: $2y$03$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n", "basic_auth_users.a: not a bcrypt hash"],
    ["rate_limits: {}\n", 'w.yml:1: rate_limits: unknown field "rate_limits"'],
  ];
  for (const [yaml, msg] of bad) {
    test(`refuses: ${msg}`, () => {
      expect(() => parseWebConfig(yaml, "w.yml")).toThrow(msg);
    });
  }
  test("Go durations", () => {
    expect(parseGoDuration("1m30s")).toBe(90_000);
    expect(parseGoDuration("1.5s")).toBe(1500);
    expect(parseGoDuration("250ms")).toBe(250);
    expect(parseGoDuration("1d")).toBeNull();
  });
});

describe("parseHttpClientConfig", () => {
  test("basic_auth and tls_config, paths relative to the file", () => {
    const c = parseHttpClientConfig("basic_auth: {username: u, password_file: pw}\ntls_config: {ca_file: ca.crt, insecure_skip_verify: true}\n", "/etc/c.yml");
    expect(c.basicAuth).toEqual({ username: "u", password: undefined, passwordFile: "/etc/pw" });
    expect(c.tlsConfig).toMatchObject({ caFile: "/etc/ca.crt", insecureSkipVerify: true });
  });
  test("Prometheus fields Shoal does not implement are named as such", () => {
    expect(() => parseHttpClientConfig("oauth2: {}\n", "c.yml")).toThrow('c.yml:1: oauth2: field "oauth2" is not supported by Shoal');
    expect(() => parseHttpClientConfig("basic_auth: {username: u}\nbearer_token: t\n", "c.yml")).toThrow("at most one of basic_auth");
  });
});
