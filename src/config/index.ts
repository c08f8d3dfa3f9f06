/** The config room's door: Prometheus-format config files, parsed, defaulted and checked. */
export type { AlertingConfig, AlertmanagerConfig, Config, DnsSDConfig, FileSDConfig, HttpSDConfig, RelabelConfig, ScrapeConfig, TargetGroupConfig } from "./types.ts";
export { ConfigError, loadConfigFile, parseConfig } from "./load.ts";
export { DEFAULT_CONFIG_YAML, defaultConfig, selfTarget } from "./defaults.ts";
export { loadWebConfigFile, parseGoDuration, parseWebConfig, type TlsServerConfig, type WebConfig } from "./web_config.ts";
export {
  httpClientRequestOptions,
  loadHttpClientConfigFile,
  parseHttpClientConfig,
  type HttpClientAuth,
  type HttpClientConfig,
  type HttpClientRequestOptions,
} from "./http_client_config.ts";
export { configDisplayYaml, redactedYaml, SECRET_TOKEN } from "./redact.ts";
export { parseFileSD, type TargetGroup } from "./filesd.ts";
export { KUBERNETES_ROLES, type KubernetesRole, type KubernetesSDConfig, type KubernetesSelector } from "./kubernetes_sd.ts";
export { type ConsulSDConfig } from "./consul_sd.ts";
export { loadRuleFile, parseRuleFile, RuleFileError, type ExprChecker, type RuleConfig, type RuleGroupConfig, type TemplateChecker } from "./rules.ts";
/** YAML documents with positions and Go's strict decoding, for commands that read other Prometheus file formats (rule unit tests). */
export { YamlDoc } from "./yamldoc.ts";
export { DecodeAbort, GoYamlDecoder } from "./go_yaml_decoder.ts";
export { globFiles, ruleFilePaths, type GlobOptions } from "./glob.ts";
export { DEFAULT_METADATA_CONFIG, DEFAULT_QUEUE_CONFIG, type OAuth2Config, type RemoteWriteConfig, type RemoteWriteMetadataConfig, type RemoteWriteQueueConfig } from "./remote_write.ts";
