/**
 * What the HTTP API needs from the rest of the node. node.ts builds this from the storage, the
 * PromQL engine, the scrape manager and the config; the routes know only these shapes.
 */
import type { ActiveTarget, AlertmanagersSource, Appendable, DroppedTarget, Labels, Logger, Matcher, Queryable, RemoteQueueStatus, RulesSource, TargetMetadata } from "../model/index.ts";
import type { QueryResult } from "../promql/index.ts";
import type { Registry } from "../telemetry/index.ts";
import type { MemberDirectory } from "./members.ts";

export interface QueryOptions {
  /** Milliseconds; 0 means the engine's default (--query.timeout). */
  timeout?: number;
  /** Aborted when the client goes away (Prometheus reports such queries as canceled). */
  signal?: AbortSignal;
}

export interface QueryEngine {
  instantQuery(queryable: Queryable, query: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult>;
  rangeQuery(queryable: Queryable, query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult>;
}

/** The parts of the PromQL front end the API uses besides evaluation. */
export interface PromqlTools {
  /** Parses `{a="b"}` / `name{...}`; throws an Error whose message is the parser's. */
  parseMetricSelector(text: string): Matcher[];
  /** Parses and prints a query in Prometheus's canonical formatting. */
  formatQuery(text: string): string;
  /** The query's syntax tree as Prometheus's /api/v1/parse_query returns it. */
  parseQueryTree?(text: string): unknown;
}

export interface TargetsSource {
  activeTargets(): ActiveTarget[];
  droppedTargets(): DroppedTarget[];
  /**
   * Dropped targets per scrape pool, every pool included (0 when none), counted before
   * keep_dropped_targets trims the list that droppedTargets() returns.
   */
  droppedTargetCounts?(): Record<string, number>;
  metadata(): TargetMetadata[];
}

export interface TSDBAdmin {
  deleteSeries(matchers: Matcher[], mint: number, maxt: number): Promise<void>;
  cleanTombstones(): Promise<void>;
  /** Prometheus's /api/v1/status/tsdb data for the top `limit` entries. */
  status(limit: number): unknown;
}

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

export interface ApiDeps {
  logger: Logger;
  /** What queries read (the local TSDB, or the cluster's fan-out querier). */
  queryable: Queryable;
  /** Where remote write appends (the local TSDB, or the cluster's distributor). */
  appendable: Appendable;
  engine: QueryEngine;
  promql: PromqlTools;
  admin: TSDBAdmin;
  targets: TargetsSource;
  /** The rule groups this node has loaded, with the state of those it evaluates. */
  rules: RulesSource;
  /** The Alertmanagers the notifier sends to. */
  alertmanagers: AlertmanagersSource;
  /**
   * The cluster's members, so that /api/v1/rules and /api/v1/alerts answer for the whole
   * cluster; absent, they answer from this node's own groups.
   */
  members?: MemberDirectory;
  registry: Registry;
  buildInfo: BuildInfo;
  /** The remote-write queues (absent: none), for /api/v1/status/remote_write and the status page. */
  remoteWrite?: { queues(): RemoteQueueStatus[] };
  /** The loaded config's YAML text. */
  configYaml(): string;
  externalLabels(): Labels;
  /** Reloads the config file; throws with the reason when the new config is rejected. */
  reload(): Promise<void>;
  flags: Record<string, string>;
  runtimeInfo(): Record<string, unknown>;
  lookbackDeltaMs: number;
  /** --query.timeout: a request's `timeout` parameter may shorten it, never extend it. */
  queryTimeoutMs?: number;
  enableAdminApi: boolean;
  /** Asks the node to shut down cleanly (POST /-/quit). */
  quit?: () => void;
  /** Whether the node is ready to serve queries (storage open, WAL replayed). */
  ready(): boolean;
}
