/**
 * The parsed, defaulted configuration. Durations are milliseconds; file paths are resolved
 * against the config file's directory, as Prometheus does.
 */
import type { Labels } from "../model/index.ts";

export type RelabelAction =
  | "replace"
  | "keep"
  | "drop"
  | "keepequal"
  | "dropequal"
  | "hashmod"
  | "labelmap"
  | "labeldrop"
  | "labelkeep"
  | "lowercase"
  | "uppercase";

export const RELABEL_ACTIONS: readonly RelabelAction[] = [
  "replace",
  "keep",
  "drop",
  "keepequal",
  "dropequal",
  "hashmod",
  "labelmap",
  "labeldrop",
  "labelkeep",
  "lowercase",
  "uppercase",
];

export interface RelabelConfig {
  sourceLabels: string[];
  separator: string;
  /** The pattern as written (unanchored); compile with the model's compileRegex. */
  regex: string;
  modulus: number;
  targetLabel: string;
  replacement: string;
  action: RelabelAction;
}

export interface TargetGroupConfig {
  targets: string[];
  labels: Record<string, string>;
}

export interface FileSDConfig {
  files: string[];
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
}

export interface GlobalConfig {
  scrapeInterval: number;
  scrapeTimeout: number;
  evaluationInterval: number;
  externalLabels: Labels;
}

export interface Config {
  global: GlobalConfig;
  /** Glob patterns, resolved against the config file's directory. */
  ruleFiles: string[];
  scrapeConfigs: ScrapeConfig[];
  /** Accepted and kept for later (not acted on yet). */
  remoteWrite: Record<string, unknown>[];
  remoteRead: Record<string, unknown>[];
  alerting: Record<string, unknown> | null;
  /** Where the config came from, for /api/v1/status/config and error messages. */
  source: { filename: string; text: string };
}
