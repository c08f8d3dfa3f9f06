/**
 * The parsed, defaulted configuration. Durations are milliseconds; file paths are resolved
 * against the config file's directory, as Prometheus does.
 */
import type { Labels, RelabelConfig } from "../model/index.ts";
import type { ConsulSDConfig } from "./consul_sd.ts";
import type { KubernetesSDConfig } from "./kubernetes_sd.ts";
import type { RemoteWriteConfig } from "./remote_write.ts";
import type { ScrapeProtocol, ScrapeSettings } from "./scrape_settings.ts";

export type { RelabelConfig };

export interface TargetGroupConfig {
  targets: string[];
  labels: Record<string, string>;
}

export interface FileSDConfig {
  files: string[];
  refreshInterval: number;
}

/** http_sd_configs: a URL answering a JSON list of target groups, fetched every refresh_interval. */
export interface HttpSDConfig {
  url: string;
  refreshInterval: number;
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  tlsConfig: TLSConfig;
  followRedirects: boolean;
}

/** dns_sd_configs: names looked up every refresh_interval; `port` is used for every type but SRV. */
export interface DnsSDConfig {
  names: string[];
  type: "SRV" | "A" | "AAAA" | "MX" | "NS";
  port: number;
  refreshInterval: number;
}

export interface BasicAuthConfig {
  username: string;
  password?: string;
  passwordFile?: string;
}

export interface AuthorizationConfig {
  type: string;
  credentials?: string;
  credentialsFile?: string;
}

export interface TLSConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
}

export interface ScrapeConfig {
  jobName: string;
  scrapeInterval: number;
  scrapeTimeout: number;
  metricsPath: string;
  scheme: "http" | "https";
  params: Record<string, string[]>;
  honorLabels: boolean;
  honorTimestamps: boolean;
  staticConfigs: TargetGroupConfig[];
  fileSDConfigs: FileSDConfig[];
  kubernetesSDConfigs: KubernetesSDConfig[];
  consulSDConfigs: ConsulSDConfig[];
  httpSDConfigs: HttpSDConfig[];
  dnsSDConfigs: DnsSDConfig[];
  relabelConfigs: RelabelConfig[];
  metricRelabelConfigs: RelabelConfig[];
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  tlsConfig: TLSConfig;
  /** 0 means no limit, for all limits. */
  sampleLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  /** Bytes of uncompressed body; 0 means no limit. */
  bodySizeLimit: number;
  enableCompression: boolean;
  /** Follow HTTP redirects (Prometheus's default: true). */
  followRedirects: boolean;
  /** More targets than this after relabeling fail every target of the job; 0 = no limit. */
  targetLimit: number;
  /** At most this many dropped targets are kept for the API; 0 = all. */
  keepDroppedTargets: number;
  /** Offered in this order in the Accept header; undefined: Prometheus 2.x's header. */
  scrapeProtocols?: ScrapeProtocol[];
  /** How a body without a usable Content-Type is parsed (Prometheus 2.x's behaviour: the text format). */
  fallbackScrapeProtocol: ScrapeProtocol;
}

/** One `alerting.alertmanagers` entry: how a set of Alertmanagers is found and called. */
export interface AlertmanagerConfig {
  staticConfigs: TargetGroupConfig[];
  fileSDConfigs: FileSDConfig[];
  kubernetesSDConfigs: KubernetesSDConfig[];
  consulSDConfigs: ConsulSDConfig[];
  httpSDConfigs: HttpSDConfig[];
  dnsSDConfigs: DnsSDConfig[];
  scheme: "http" | "https";
  /** Put before `/api/v2/alerts`; "" for none. */
  pathPrefix: string;
  /** Per request to one Alertmanager, ms (Prometheus's default 10s). */
  timeout: number;
  /** Only v2: Alertmanager removed API v1 and so did Prometheus. */
  apiVersion: "v2";
  /** Applied to each discovered Alertmanager (`__address__`, `__scheme__`, `__alerts_path__`). */
  relabelConfigs: RelabelConfig[];
  /** Applied to the alerts sent to this set only, after the global alert_relabel_configs. */
  alertRelabelConfigs: RelabelConfig[];
  basicAuth?: BasicAuthConfig;
  authorization?: AuthorizationConfig;
  tlsConfig: TLSConfig;
  followRedirects: boolean;
}

export interface AlertingConfig {
  /** Applied to every alert before it is queued for any Alertmanager. */
  alertRelabelConfigs: RelabelConfig[];
  alertmanagers: AlertmanagerConfig[];
}

export interface GlobalConfig {
  scrapeInterval: number;
  scrapeTimeout: number;
  evaluationInterval: number;
  /** ms; how far back rule groups without their own query_offset evaluate (Prometheus 2.53+). */
  ruleQueryOffset: number;
  externalLabels: Labels;
  /** The defaults `global` sets for every scrape config (limits, protocols). */
  scrapeSettings: ScrapeSettings;
}

export interface Config {
  global: GlobalConfig;
  /** Glob patterns, resolved against the config file's directory. */
  ruleFiles: string[];
  scrapeConfigs: ScrapeConfig[];
  /** Where committed samples are forwarded (remote_write.ts). */
  remoteWrite: RemoteWriteConfig[];
  /** Empty lists when the file has no `alerting` section. */
  alerting: AlertingConfig;
  /** Where the config came from, for /api/v1/status/config and error messages. */
  source: { filename: string; text: string };
}
