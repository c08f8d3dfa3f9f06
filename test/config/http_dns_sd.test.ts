/** http_sd_configs and dns_sd_configs in scrape jobs: Prometheus's fields, defaults and refusals. */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";

const job = (sd: string) => `scrape_configs:\n  - job_name: a\n${sd}`;

describe("http_sd_configs", () => {
  test("url, refresh_interval (default 1m) and the HTTP client fields, files resolved against the config's directory", () => {
    const cfg = parseConfig(
      job(
        "    http_sd_configs:\n      - url: http://sd.example:8080/targets\n      - url: https://sd.example/t\n        refresh_interval: 15s\n        basic_auth: { username: u, password_file: pw }\n        tls_config: { ca_file: ca.pem, insecure_skip_verify: true }\n        follow_redirects: false\n",
      ),
      "/etc/shoal/c.yml",
    );
    const [first, second] = cfg.scrapeConfigs[0]!.httpSDConfigs;
    expect(first).toMatchObject({ url: "http://sd.example:8080/targets", refreshInterval: 60_000, followRedirects: true });
    expect(second).toMatchObject({
      url: "https://sd.example/t",
      refreshInterval: 15_000,
      basicAuth: { username: "u", passwordFile: "/etc/shoal/pw" },
      tlsConfig: { caFile: "/etc/shoal/ca.pem", insecureSkipVerify: true },
      followRedirects: false,
    });
  });

  const refusals: [string, string][] = [
    ["    http_sd_configs: [{ refresh_interval: 5s }]\n", "c.yml:3: scrape_configs[0].http_sd_configs[0]: URL is missing"],
    ["    http_sd_configs: [{ url: 'ftp://sd/x' }]\n", "c.yml:3: scrape_configs[0].http_sd_configs[0].url: URL scheme must be 'http' or 'https'"],
    ["    http_sd_configs: [{ url: 'http:///x' }]\n", "c.yml:3: scrape_configs[0].http_sd_configs[0].url: host is missing in URL"],
    ["    http_sd_configs: [{ url: 'http://sd/x', refresh_interval: 0s }]\n", "refresh_interval must be greater than 0"],
    ["    http_sd_configs: [{ url: 'http://sd/x', basic_auth: { username: u }, bearer_token: t }]\n", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"],
  ];
  const unknown: [string, string][] = [
    ["    http_sd_configs: [{ url: 'http://sd/x', proxy_url: 'http://p' }]\n", "proxy_url"],
    ["    http_sd_configs: [{ url: 'http://sd/x', urls: [] }]\n", "urls"],
  ];
  test.each(refusals)("refused: %j", (sd, message) => {
    expect(() => parseConfig(job(sd), "c.yml")).toThrow(message);
  });
  // The wording of unknown-field errors belongs to the config loader; here: refused, naming the field.
  test.each(unknown)("refused: %j", (sd, field) => {
    expect(() => parseConfig(job(sd), "c.yml")).toThrow(field);
  });
});

describe("dns_sd_configs", () => {
  test("names, type (default SRV, any case), port, refresh_interval (default 30s)", () => {
    const cfg = parseConfig(
      job("    dns_sd_configs:\n      - names: [_node._tcp.example.org]\n      - names: [a.example.org, b.example.org]\n        type: aaaa\n        port: 9100\n        refresh_interval: 5s\n"),
      "c.yml",
    );
    expect(cfg.scrapeConfigs[0]!.dnsSDConfigs).toEqual([
      { names: ["_node._tcp.example.org"], type: "SRV", port: 0, refreshInterval: 30_000 },
      { names: ["a.example.org", "b.example.org"], type: "AAAA", port: 9100, refreshInterval: 5_000 },
    ]);
  });

  test("in an Alertmanager set too", () => {
    const cfg = parseConfig("alerting:\n  alertmanagers:\n    - dns_sd_configs: [{ names: [am.example.org], type: A, port: 9093 }]\n", "c.yml");
    expect(cfg.alerting.alertmanagers[0]!.dnsSDConfigs).toEqual([{ names: ["am.example.org"], type: "A", port: 9093, refreshInterval: 30_000 }]);
  });

  const refusals: [string, string][] = [
    ["    dns_sd_configs: [{ type: A, port: 80 }]\n", "c.yml:3: scrape_configs[0].dns_sd_configs[0]: DNS-SD config must contain at least one SRV record name"],
    ["    dns_sd_configs: [{ names: [x], type: TXT }]\n", "c.yml:3: scrape_configs[0].dns_sd_configs[0].type: invalid DNS-SD records type TXT"],
    ["    dns_sd_configs: [{ names: [x], type: MX }]\n", "a port is required in DNS-SD configs for all record types except SRV"],
    ["    dns_sd_configs: [{ names: [x], port: 70000 }]\n", "port 70000 is out of range"],
    ["    dns_sd_configs: [{ names: [x], refresh_interval: 1x }]\n", 'invalid duration "1x"'],
  ];
  const unknown: [string, string][] = [["    dns_sd_configs: [{ names: [x], server: 1.2.3.4 }]\n", "server"]];
  test.each(refusals)("refused: %j", (sd, message) => {
    expect(() => parseConfig(job(sd), "c.yml")).toThrow(message);
  });
  // The wording of unknown-field errors belongs to the config loader; here: refused, naming the field.
  test.each(unknown)("refused: %j", (sd, field) => {
    expect(() => parseConfig(job(sd), "c.yml")).toThrow(field);
  });
});
