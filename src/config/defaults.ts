/** The configuration a bare `shoal` runs with: it scrapes itself every 15 seconds. */
import { stringify } from "yaml";
import type { HttpClientConfig } from "./http_client_config.ts";
import { parseConfig } from "./load.ts";
import type { Config } from "./types.ts";

export const DEFAULT_CONFIG_YAML = `# Shoal's built-in configuration, used when no --config.file is given.
global:
  scrape_interval: 15s
  evaluation_interval: 15s

scrape_configs:
  - job_name: shoal
    scrape_interval: 15s
    static_configs:
      - targets: ["localhost:9090"]
`;

/**
 * The built-in config with the node's own listen address as the target. A wildcard host
 * (":9090", "0.0.0.0:9090", "[::]:9090") becomes localhost, which is how the node reaches itself.
 */
export function defaultConfig(listenAddress = "localhost:9090", self: SelfScrapeOptions = {}): Config {
  const target = selfTarget(listenAddress);
  let text = DEFAULT_CONFIG_YAML.replace('"localhost:9090"', JSON.stringify(target));
  if (self.instance !== undefined) text = text.replace(/(- targets: .*\n)/, `$1        labels:\n          instance: ${JSON.stringify(self.instance)}\n`);
  const extra = selfScrapeClientYaml(self);
  if (extra !== "") text = text.replace("    scrape_interval: 15s\n", `    scrape_interval: 15s\n${extra}`);
  return parseConfig(text, "<default config>");
}

/** How the node reaches itself when its web config turns on TLS or authentication. */
export interface SelfScrapeOptions {
  /**
   * The self-scrape's `instance` label. Every member of a cluster reaches itself as localhost:
   * without a label naming the member, their series would be one and the same.
   */
  instance?: string;
  scheme?: "http" | "https";
  /** Where the node serves /metrics (under its --web.route-prefix). */
  metricsPath?: string;
  /** The node's HTTP client config (--web.client-config.file), used as the scrape's credentials and TLS settings. */
  client?: HttpClientConfig | null;
}

function selfScrapeClientYaml(self: SelfScrapeOptions): string {
  const fields: Record<string, unknown> = {};
  if (self.scheme === "https") fields.scheme = "https";
  if (self.metricsPath !== undefined && self.metricsPath !== "/metrics") fields.metrics_path = self.metricsPath;
  const c = self.client;
  if (c) {
    if (c.basicAuth) {
      fields.basic_auth = { username: c.basicAuth.username, ...(c.basicAuth.passwordFile !== undefined ? { password_file: c.basicAuth.passwordFile } : { password: c.basicAuth.password ?? "" }) };
    } else if (c.authorization) {
      const a = c.authorization;
      fields.authorization = { type: a.type, ...(a.credentialsFile !== undefined ? { credentials_file: a.credentialsFile } : { credentials: a.credentials ?? "" }) };
    }
    const t = c.tlsConfig;
    const tls: Record<string, unknown> = {};
    if (t.caFile) tls.ca_file = t.caFile;
    if (t.certFile) tls.cert_file = t.certFile;
    if (t.keyFile) tls.key_file = t.keyFile;
    if (t.serverName) tls.server_name = t.serverName;
    if (t.insecureSkipVerify) tls.insecure_skip_verify = true;
    if (Object.keys(tls).length > 0) fields.tls_config = tls;
  }
  if (Object.keys(fields).length === 0) return "";
  return stringify(fields).replace(/^(?=.)/gm, "    ");
}

export function selfTarget(listenAddress: string): string {
  const i = listenAddress.lastIndexOf(":");
  if (i < 0) return `${listenAddress}:9090`;
  const host = listenAddress.slice(0, i);
  const port = listenAddress.slice(i + 1);
  if (host === "" || host === "0.0.0.0" || host === "[::]" || host === "::") return `localhost:${port}`;
  return listenAddress;
}
