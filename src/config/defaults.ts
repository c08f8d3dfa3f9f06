/** The configuration a bare `shoal` runs with: it scrapes itself every 15 seconds. */
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
export function defaultConfig(listenAddress = "localhost:9090"): Config {
  const target = selfTarget(listenAddress);
  const text = DEFAULT_CONFIG_YAML.replace('"localhost:9090"', JSON.stringify(target));
  return parseConfig(text, "<default config>");
}

export function selfTarget(listenAddress: string): string {
  const i = listenAddress.lastIndexOf(":");
  if (i < 0) return `${listenAddress}:9090`;
  const host = listenAddress.slice(0, i);
  const port = listenAddress.slice(i + 1);
  if (host === "" || host === "0.0.0.0" || host === "[::]" || host === "::") return `localhost:${port}`;
  return listenAddress;
}
