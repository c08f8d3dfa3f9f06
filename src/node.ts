/**
 * `shoal [flags]`: the node. The one place that knows every room: it opens storage, creates the
 * PromQL engine, loads the config and starts scraping, serves the HTTP API, and on SIGTERM stops
 * everything in the reverse order (HTTP, scraping, then storage, which flushes the WAL).
 */
import {
  computeExternalUrl,
  computeRoutePrefix,
  createApiApp,
  createPromqlTools,
  createUiApp,
  createWebGate,
  DEFAULT_REMOTE_WRITE_LIMITS,
  LiveWebConfig,
  mountAtRoutePrefix,
  startTlsFront,
  warnIfHeaderLimitLow,
  type ApiDeps,
  type TlsFront,
} from "./api/index.ts";
import { idleTimeoutSeconds, reportCompatibilityFlags } from "./compat_flags.ts";
import { promqlFeatures } from "./promql_features.ts";
import { Cluster, CLUSTER_FLAGS, clusterAlertRuleFiles, clusterConfigFromFlagValues, registerClusterRoutes } from "./cluster/index.ts";
import { configDisplayYaml, defaultConfig, httpClientRequestOptions, loadConfigFile, loadHttpClientConfigFile, ruleFilePaths, type Config } from "./config/index.ts";
import { FLAG_SPECS, formatNodeHelp } from "./flags.ts";
import { checkDnsServer, compileRegex, createLogger, getLabel, realClock, type Labels, FlagError, parseFlags, type Flags, type LogFormat, type LogLevel, type Logger } from "./model/index.ts";
import { Engine } from "./promql/index.ts";
import { RemoteWrite, tapCommits } from "./remote/index.ts";
import { Notifier, RuleManager } from "./rules/index.ts";
import { ScrapeManager } from "./scrape/index.ts";
import { openTSDB, type TSDB } from "./storage/index.ts";
import {
  discoveryObservers,
  registerBuildInfo,
  registerClusterMetrics,
  registerStorageFsMetrics,
  notifierObservers,
  registerNotifierMetrics,
  registerProcessMetrics,
  registerRemoteMetrics,
  remoteSendObserver,
  registerRuleMetrics,
  registerScrapeMetrics,
  registerTsdbMetrics,
  Registry,
  ruleObservers,
  scrapeObservers,
  tsdbObservers,
} from "./telemetry/index.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

export const BUILD_INFO = {
  version: pkg.version,
  revision: process.env.SHOAL_REVISION ?? "unknown",
  branch: process.env.SHOAL_BRANCH ?? "main",
  buildUser: "shoal",
  buildDate: process.env.SHOAL_BUILD_DATE ?? "unknown",
  goVersion: `bun${Bun.version}`,
  tags: process.env.SHOAL_BUILD_TAGS ?? "unknown",
};

/** `host:port` → Bun.serve's hostname and port (`:9090` listens on every interface). */
export function parseListenAddress(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  if (i < 0) throw new FlagError(`invalid --web.listen-address ${JSON.stringify(addr)}: expected host:port`);
  let host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FlagError(`invalid --web.listen-address ${JSON.stringify(addr)}: bad port`);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

function retentionText(flags: Flags): string {
  const t = flags.string("storage.tsdb.retention.time");
  const s = flags.string("storage.tsdb.retention.size");
  return flags.bytes("storage.tsdb.retention.size") > 0 ? `${t} or ${s}` : t;
}

/**
 * --web.cors.origin: an RE2 regex, fully anchored, as Prometheus compiles it (its `.` also
 * matching a newline makes no difference: an Origin header holds none).
 */
function compileCorsOrigin(pattern: string): (origin: string) => boolean {
  if (pattern === ".*") return () => true;
  try {
    const re = compileRegex(pattern);
    return (origin) => re.matches(origin);
  } catch (e) {
    throw new FlagError(`invalid --web.cors.origin ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** A running node; `stop()` shuts it down in order and resolves when the WAL is flushed. */
export interface RunningNode {
  readonly url: string;
  readonly logger: Logger;
  stop(): Promise<void>;
  reload(): Promise<void>;
}

export async function startNode(flags: Flags): Promise<RunningNode> {
  const logger = createLogger({
    level: flags.string("log.level") as LogLevel,
    format: flags.string("log.format") as LogFormat,
  });
  const startTime = Date.now();
  const listen = parseListenAddress(flags.string("web.listen-address"));
  const configFile = flags.string("config.file");
  // Web: where users reach the node and the path prefix it serves under (checked before anything is opened).
  const externalUrl = computeExternalUrl(flags.string("web.external-url"), flags.string("web.listen-address"));
  const routePrefix = computeRoutePrefix(flags.string("web.route-prefix"), externalUrl);
  // Web config (TLS, basic auth, headers) and the client side for calls to itself and its peers:
  // an unusable file stops the node here, before anything is opened.
  const webConfigFile = flags.string("web.config.file");
  const web = webConfigFile === "" ? null : LiveWebConfig.load(webConfigFile, logger.with({ component: "web" }));
  const webTls = web !== null && web.current().tls !== null;
  const clientConfigFile = flags.string("web.client-config.file");
  const webClient = clientConfigFile === "" ? null : loadHttpClientConfigFile(clientConfigFile);
  // A bad --cluster.* flag is reported before anything (data dir, ports) is opened.
  const clusterConfig = clusterConfigFromFlagValues(flags.values);
  // One DNS server for dns_sd_configs and the dns+/dnssrv+ names of --cluster.join.
  const dnsServer = checkDnsServer(flags.string("dns.server"));
  clusterConfig.dnsServer = dnsServer;
  // The built-in config scrapes the node itself: in a cluster every member does so under its own
  // `instance` (the members' series would be one otherwise) and never hands that target to another
  // member, which could not reach it as localhost.
  const selfInstance = `${clusterConfig.nodeName || hostname()}:${listen.port}`;
  const isSelfScrape = (labels: Labels) => configFile === "" && getLabel(labels, "job") === "shoal" && getLabel(labels, "instance") === selfInstance;
  const loadConfig = (): Config =>
    configFile === ""
      ? defaultConfig(flags.string("web.listen-address"), { scheme: webTls ? "https" : "http", client: webClient, metricsPath: `${routePrefix}/metrics`, instance: selfInstance })
      : loadConfigFile(configFile);

  let config = loadConfig();
  // Ingest: remote-write decoding threads (checked before anything is opened).
  const decodeWorkers = flags.int("web.remote-write-decode-workers");
  if (!(decodeWorkers >= 0)) throw new Error(`--web.remote-write-decode-workers: not a count of threads: ${flags.string("web.remote-write-decode-workers")}`);
  const corsOrigin = compileCorsOrigin(flags.string("web.cors.origin"));
  const blockDurationMs = flags.durationMs("storage.tsdb.min-block-duration");
  if (blockDurationMs <= 0) throw new Error("--storage.tsdb.min-block-duration must be longer than 0");
  reportCompatibilityFlags(flags, logger);
  logger.info("Starting Shoal", { version: BUILD_INFO.version, config: configFile || "<default config>" });
  warnIfHeaderLimitLow(logger);

  const registry = new Registry();
  const tsdb: TSDB = await openTSDB({
    observers: tsdbObservers(registry),
    dir: flags.string("storage.tsdb.path"),
    retentionMs: flags.durationMs("storage.tsdb.retention.time"),
    retentionBytes: flags.bytes("storage.tsdb.retention.size"),
    blockDurationMs,
    maxBlockDurationMs: flags.given.has("storage.tsdb.max-block-duration") ? flags.durationMs("storage.tsdb.max-block-duration") : 0,
    logger,
  });
  let ready = true;
  // Remote write out: what this node commits locally and forwards is teed into one durable queue
  // per remote_write entry (under <storage.tsdb.path>/remote) before the commit returns.
  const remote = new RemoteWrite({
    dir: join(flags.string("storage.tsdb.path"), "remote"),
    logger,
    userAgent: `Shoal/${BUILD_INFO.version}`,
    flushDeadlineMs: flags.durationMs("storage.remote.flush-deadline"),
    maxQueueBytes: flags.bytes("storage.remote.queue.max-size"),
    metadata: () => scrape.metadata(),
    sentBatchDuration: remoteSendObserver(registry),
  });
  // A single node forwards every series it stores; in a cluster, only the series' first owner.
  let forwards: (labels: Labels) => boolean = () => true;
  const local = tapCommits(tsdb, remote, (labels) => forwards(labels));

  const lookbackDeltaMs = flags.durationMs("query.lookback-delta");
  const engine = new Engine({
    lookbackDelta: lookbackDeltaMs,
    timeout: flags.durationMs("query.timeout"),
    maxSamples: flags.int("query.max-samples"),
    maxConcurrency: flags.int("query.max-concurrency"),
    // A subquery without a step uses the global evaluation_interval (kept current on reload).
    defaultSubqueryStep: config.global.evaluationInterval,
    logger: logger.with({ component: "query engine" }),
    features: promqlFeatures(flags),
  });

  // Writes go through the distributor (owners on the ring, quorum) and reads
  // through the fan-out querier (all live members, replicas merged). A single node is a
  // cluster of one on the same path.
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      config: clusterConfig,
      dataDir: flags.string("storage.tsdb.path"),
      local,
      httpAddress: flags.string("web.listen-address"),
      logger,
      remote,
      // Members evaluate pushed-down aggregations over their share with this node's engine.
      shardEvaluator: (q, req, signal) => engine.evalShard(q, req, signal),
      memberRequest: () => httpClientRequestOptions(webClient),
    });
  } catch (e) {
    await tsdb.close();
    throw e;
  }
  const appendable = cluster.appendable;
  const queryable = cluster.queryable;
  forwards = (labels) => cluster.forwardsSeries(labels);

  // Alerts go to every configured Alertmanager; rule groups are evaluated by the member that owns
  // them on the cluster's rule ring, reading and writing through the cluster like any query.
  // Scrape jobs and Alertmanager sets discover through the same mechanisms, counted together.
  const discoveryOptions = { observers: discoveryObservers(registry), dnsServer };
  const notifier = new Notifier({
    logger: logger.with({ component: "notifier" }),
    queueCapacity: flags.int("alertmanager.notification-queue-capacity"),
    observers: notifierObservers(registry),
    discovery: discoveryOptions,
  });
  const rules = new RuleManager({
    query: async (expr, timeMs) => (await engine.instantQuery(queryable, expr, timeMs)).value,
    queryable,
    appendable,
    notify: (alerts) => notifier.send(alerts),
    clock: realClock,
    ownsGroup: (key) => cluster.ownsRuleGroup(key),
    nodeName: cluster.nodeName,
    externalLabels: () => config.global.externalLabels,
    externalURL: externalUrl.href.replace(/\/$/, ""),
    forOutageToleranceMs: flags.durationMs("rules.alert.for-outage-tolerance"),
    forGracePeriodMs: flags.durationMs("rules.alert.for-grace-period"),
    resendDelayMs: flags.durationMs("rules.alert.resend-delay"),
    logger: logger.with({ component: "rule manager" }),
    observers: ruleObservers(registry),
  });
  const builtinRules = clusterAlertRuleFiles(clusterConfig);
  const applyRules = async (c: Config) => {
    await notifier.applyConfig(c.alerting, c.global.externalLabels);
    await rules.update(ruleFilePaths(c.ruleFiles), c.global.evaluationInterval, builtinRules, c.global.ruleQueryOffset);
  };

  // Each target is scraped by its one live owner on the ring; ownership is re-checked whenever
  // the membership changes (a dead owner's targets move to the next node).
  const scrape = new ScrapeManager({ appendable, logger, ownsTarget: (labels) => isSelfScrape(labels) || cluster.ownsTarget(labels), observers: scrapeObservers(registry), discovery: discoveryOptions });
  let reshardTimer: ReturnType<typeof setTimeout> | undefined;
  cluster.onRingChange(() => {
    clearTimeout(reshardTimer);
    reshardTimer = setTimeout(() => void scrape.reshard().catch((e: unknown) => logger.error("reshard failed", { err: e as Error })), 100);
    rules.reshard();
  });

  registerProcessMetrics(registry, startTime);
  registerScrapeMetrics(registry, () => scrape.stats());
  registerTsdbMetrics(registry, () => tsdb.stats());
  registerClusterMetrics(registry, () => cluster.metricFigures());
  registerRuleMetrics(registry, () => rules.stats());
  registerNotifierMetrics(registry, () => notifier.stats());
  registerRemoteMetrics(registry, () => remote.figures());
  registerStorageFsMetrics(registry, flags.string("storage.tsdb.path"));
  registerBuildInfo(registry, BUILD_INFO, () => ready);
  const reloadOk = registry.gauge("prometheus_config_last_reload_successful", "Whether the last configuration reload attempt was successful.");
  const reloadTime = registry.gauge("prometheus_config_last_reload_success_timestamp_seconds", "Timestamp of the last successful configuration reload.");
  let lastConfigTime = Date.now();
  let reloadSuccess = true;
  reloadOk.set(1);
  reloadTime.set(Math.floor(lastConfigTime / 1000));

  try {
    // Queues first: the first scrape's samples are forwarded too.
    await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
    await scrape.applyConfig(config);
    await applyRules(config);
  } catch (e) {
    await Promise.all([scrape.stop(), rules.stop(), notifier.stop()]);
    await cluster.stop();
    await remote.stop();
    await tsdb.close();
    throw e;
  }

  // Reloads never overlap: a SIGHUP during a reload waits for it.
  let reloading: Promise<void> = Promise.resolve();
  const reload = (): Promise<void> => {
    const run = async () => {
      let next: Config;
      try {
        next = loadConfig();
      } catch (e) {
        reloadSuccess = false;
        reloadOk.set(0);
        logger.error("Error reloading config; keeping the old one", { err: e as Error });
        throw e;
      }
      try {
        await applyRules(next);
      } catch (e) {
        reloadSuccess = false;
        reloadOk.set(0);
        logger.error("Error reloading rules; keeping the running ones", { err: e as Error });
        throw e;
      }
      await remote.applyConfig(next.remoteWrite, next.global.externalLabels);
      await scrape.applyConfig(next);
      engine.setDefaultSubqueryStep(next.global.evaluationInterval);
      config = next;
      reloadSuccess = true;
      lastConfigTime = Date.now();
      reloadOk.set(1);
      reloadTime.set(Math.floor(lastConfigTime / 1000));
      logger.info("Completed loading of configuration file", { filename: configFile || "<default config>" });
    };
    const p = reloading.then(run, run);
    reloading = p.catch(() => {});
    return p;
  };

  const flagRecord = flags.toRecord();
  const deps: ApiDeps = {
    logger: logger.with({ component: "web" }),
    queryable,
    appendable,
    engine,
    promql: createPromqlTools(),
    admin: tsdb,
    targets: scrape,
    // What is true until the rule manager and the notifier are wired in: rule_files are not
    // loaded (no groups) and no Alertmanager is sent to.
    rules,
    alertmanagers: notifier,
    // /api/v1/rules and /api/v1/alerts gather every member's groups (each evaluated by one member).
    members: { members: () => cluster.status().members, request: () => httpClientRequestOptions(webClient) },
    registry,
    buildInfo: BUILD_INFO,
    remoteWrite: remote,
    configYaml: () => configDisplayYaml(config),
    externalLabels: () => config.global.externalLabels,
    reload,
    flags: flagRecord,
    runtimeInfo: () => ({
      startTime: new Date(startTime).toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: reloadSuccess,
      lastConfigTime: new Date(lastConfigTime).toISOString(),
      corruptionCount: tsdb.stats().walCorruptions,
      goroutineCount: 0,
      GOMAXPROCS: navigator.hardwareConcurrency,
      GOMEMLIMIT: 0,
      GOGC: "",
      GODEBUG: "",
      storageRetention: retentionText(flags),
    }),
    lookbackDeltaMs,
    queryTimeoutMs: flags.durationMs("query.timeout"),
    enableAdminApi: flags.bool("web.enable-admin-api"),
    // The same path as SIGTERM: runNodeCommand's handler stops everything in order.
    quit: () => process.kill(process.pid, "SIGTERM"),
    ready: () => ready,
  };

  const app = createApiApp(deps, {
    remoteWrite: { ...DEFAULT_REMOTE_WRITE_LIMITS, decodeWorkers, haReplicas: cluster.haReplicas },
    lifecycle: { enabled: flags.bool("web.enable-lifecycle"), trustedOrigins: [externalUrl.origin] },
    corsOrigin,
    extend: (a) => {
      // Members, ring shares and hinted-handoff backlog (`shoal cluster status`);
      // POST /api/v1/cluster/leave (graceful leave = SIGTERM), node-local reads.
      registerClusterRoutes(a, { cluster, local: tsdb, parseSelector: deps.promql.parseMetricSelector, shutdown: () => process.kill(process.pid, "SIGTERM") });
      a.route("/", createUiApp({ cluster: () => cluster.status(), droppedTargets: () => ({ targets: scrape.droppedTargets(), counts: scrape.droppedTargetCounts() }), routePrefix, pageTitle: flags.string("web.page-title"), memberRequest: () => httpClientRequestOptions(webClient) })); // UI: cluster-wide targets
    },
  });
  const routes = mountAtRoutePrefix(app, routePrefix).fetch;
  // Web config: rate limit, headers and basic auth in front of every route.
  const fetchHandler = web ? createWebGate(() => web.current().config).wrap(routes) : routes;
  // With TLS, node:tls terminates it on the listen address (it can check client certificates'
  // SANs and re-read certificates per connection, Bun.serve's TLS cannot) and passes the
  // decrypted connections to this server on a Unix socket in a private (0700) directory.
  const backendDir = webTls ? mkdtempSync(join(tmpdir(), "shoal-web-")) : "";
  const backendSocket = join(backendDir, "http.sock");
  let tlsFront: TlsFront | null = null;
  let server: ReturnType<typeof Bun.serve>;
  try {
    const idleTimeout = idleTimeoutSeconds(flags, logger);
    const serveOptions = {
      fetch: fetchHandler,
      maxRequestBodySize: 64 << 20,
      error: (err: Error) => {
        logger.error("HTTP server error", { err });
        return new Response("internal server error\n", { status: 500 });
      },
    };
    // Over the Unix socket, the TLS front keeps the idle timeout of the client's connection.
    server = webTls ? Bun.serve({ ...serveOptions, unix: backendSocket }) : Bun.serve({ ...serveOptions, idleTimeout, hostname: listen.hostname, port: listen.port });
    if (webTls) {
      try {
        tlsFront = await startTlsFront({ hostname: listen.hostname, port: listen.port, live: web!, backendSocket, idleTimeoutMs: idleTimeout * 1000, logger: logger.with({ component: "web" }) });
      } catch (e) {
        await server.stop(true);
        throw e;
      }
    }
  } catch (e) {
    if (backendDir !== "") rmSync(backendDir, { recursive: true, force: true });
    await Promise.all([scrape.stop(), rules.stop(), notifier.stop()]);
    await cluster.stop();
    await remote.stop();
    await tsdb.close();
    throw new Error(`cannot listen on ${flags.string("web.listen-address")}: ${(e as Error).message}`);
  }
  const port = tlsFront?.port ?? server.port;
  const scheme = webTls ? "https" : "http";
  if (web) {
    const wc = web.current().config;
    logger.info(webTls ? "TLS is enabled." : "TLS is disabled.", { http2: false, basicAuthUsers: wc.users.size, file: web.path });
    if (webTls && wc.http2) logger.info("http_server_config.http2 has no effect: Shoal's HTTP server speaks HTTP/1.1 only");
    if ((wc.users.size > 0 || (wc.tls !== null && wc.tls.clientAuthType !== "NoClientCert")) && webClient === null) {
      logger.warn("The web config asks clients for credentials, but no --web.client-config.file gives this node its own: its self-scrape and its calls to peers will be refused");
    }
  }
  // The node's base URL: every endpoint lives under the route prefix.
  const url = `${scheme}://${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${port}${routePrefix}`;
  logger.info("Server is ready to receive web requests.", { address: `${listen.hostname}:${port}`, externalUrl: externalUrl.href, routePrefix: routePrefix || "/" });
  // Members learn the real port (the flag may say :0); under a route prefix or with TLS, the
  // whole base URL, because members and the UI reach each other's endpoints under it, with its scheme.
  cluster.setHttpAddress(routePrefix === "" && !webTls ? `${listen.hostname}:${port}` : url);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      // The graceful leave hands every range over first (bounded by
      // --cluster.handoff.leave-timeout), while the HTTP server still answers.
      logger.info("Leaving the cluster: handing ranges over");
      await cluster.leave().catch(() => {}); // logged by the cluster
      logger.info("Stopping rule manager and notifier");
      await rules.stop();
      await notifier.stop();
      logger.info("Stopping the HTTP server");
      // In-flight requests (a remote write being committed) finish first; then anything left.
      tlsFront?.stopListening();
      await Promise.race([server.stop(false), Bun.sleep(5000)]);
      tlsFront?.closeAll();
      await server.stop(true);
      if (backendDir !== "") rmSync(backendDir, { recursive: true, force: true });
      logger.info("Stopping scrape manager");
      await scrape.stop();
      logger.info("Leaving the cluster");
      clearTimeout(reshardTimer);
      await cluster.stop();
      // After the cluster: no commit (of a peer's write either) comes in any more.
      logger.info("Stopping remote storage");
      await remote.stop();
      logger.info("Closing storage (flushing the WAL)");
      await tsdb.close();
      logger.info("See you next time!");
    })();
    return stopping;
  };
  return { url, logger, stop, reload };
}

/** The node's flag table: its own rows plus the cluster room's `--cluster.*` rows. */
const NODE_FLAGS = [...FLAG_SPECS, ...CLUSTER_FLAGS];

export async function runNodeCommand(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv, NODE_FLAGS, { version: true });
  } catch (e) {
    process.stderr.write(`shoal: error: ${(e as Error).message}, try --help\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(formatNodeHelp(NODE_FLAGS));
    return 0;
  }
  if (flags.version) {
    process.stdout.write(
      `shoal, version ${BUILD_INFO.version} (revision: ${BUILD_INFO.revision})\n  build date: ${BUILD_INFO.buildDate}\n  bun version: ${Bun.version}\n`,
    );
    return 0;
  }
  let node: RunningNode;
  try {
    node = await startNode(flags);
  } catch (e) {
    process.stderr.write(`shoal: error: ${(e as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signalled = false;
    const shutdown = (signal: string) => {
      // A second signal while the graceful leave (hand-off) runs forces the exit, for an operator
      // who cannot wait for the hand-off to finish.
      if (signalled) {
        node.logger.warn("Received a second shutdown signal, exiting now without finishing the hand-off", { signal });
        process.exit(1);
      }
      signalled = true;
      node.logger.warn("Received shutdown signal, exiting gracefully...", { signal });
      node.stop().then(
        () => {
          resolve(0);
          // Nothing should be left running; if a library keeps a handle open, still exit.
          setTimeout(() => process.exit(0), 500).unref();
        },
        (e: unknown) => {
          node.logger.error("Error during shutdown", { err: e as Error });
          resolve(1);
        },
      );
    };
    // A peer connection torn down while a transfer waits on it can surface as an AbortError
    // emitted by a stream nobody listens to any more (seen after a long SIGSTOP, chaos seed 12).
    // The stream is gone already and the transfer retries: log it instead of taking the node down.
    // Anything else is a bug: keep the default (print and exit 1).
    process.on("uncaughtException", (err) => {
      if (err instanceof Error && err.name === "AbortError") {
        node.logger.warn("An aborted peer stream reported an error nobody was waiting for", { err });
        return;
      }
      console.error(err);
      process.exit(1);
    });
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
    process.on("SIGHUP", () => {
      node.reload().catch(() => {
        // Already logged; the old config stays in effect.
      });
    });
  });
}
