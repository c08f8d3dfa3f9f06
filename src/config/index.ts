/** The config room's door: Prometheus-format config files, parsed, defaulted and checked. */
export type {
  AuthorizationConfig,
  BasicAuthConfig,
  Config,
  FileSDConfig,
  GlobalConfig,
  RelabelAction,
  RelabelConfig,
  ScrapeConfig,
  TargetGroupConfig,
  TLSConfig,
} from "./types.ts";
export { RELABEL_ACTIONS } from "./types.ts";
export {
  ConfigError,
  DEFAULT_EVALUATION_INTERVAL,
  DEFAULT_SCRAPE_INTERVAL,
  DEFAULT_SCRAPE_TIMEOUT,
  RELABEL_DEFAULTS,
  loadConfigFile,
  parseConfig,
} from "./load.ts";
export { DEFAULT_CONFIG_YAML, defaultConfig, selfTarget } from "./defaults.ts";
export { formatDuration, parseByteSize, parseDuration } from "./duration.ts";
export { runCheckConfig } from "./check.ts";
export { loadWebConfigFile, parseGoDuration, parseWebConfig, type ClientAuthType, type TlsServerConfig, type WebConfig } from "./web_config.ts";
export { httpClientRequestOptions, loadHttpClientConfigFile, parseHttpClientConfig, type HttpClientConfig, type HttpClientRequestOptions } from "./http_client_config.ts";
export { configDisplayYaml, redactedYaml, SECRET_TOKEN } from "./redact.ts";
export { parseFileSD, type TargetGroup } from "./filesd.ts";
export { loadRuleFile, parseRuleFile, type ExprChecker, type RuleConfig, type RuleGroupConfig } from "./rules.ts";
