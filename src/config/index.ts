/** The config room's door: Prometheus-format config files, parsed, defaulted and checked. */
export type { Config, FileSDConfig, RelabelConfig, ScrapeConfig, TargetGroupConfig } from "./types.ts";
export { ConfigError, loadConfigFile, parseConfig } from "./load.ts";
export { DEFAULT_CONFIG_YAML, defaultConfig, selfTarget } from "./defaults.ts";
export { loadWebConfigFile, parseGoDuration, parseWebConfig, type TlsServerConfig, type WebConfig } from "./web_config.ts";
export { httpClientRequestOptions, loadHttpClientConfigFile, parseHttpClientConfig, type HttpClientConfig } from "./http_client_config.ts";
export { configDisplayYaml, redactedYaml, SECRET_TOKEN } from "./redact.ts";
export { parseFileSD, type TargetGroup } from "./filesd.ts";
export { loadRuleFile, parseRuleFile, type ExprChecker } from "./rules.ts";
