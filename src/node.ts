/**
 * `shoal [flags]`: the node. The one place that knows every room: it opens storage, creates the
 * PromQL engine, loads the config and starts scraping, serves the HTTP API, and on SIGTERM stops
 * everything in the reverse order (HTTP, scraping, then storage, which flushes the WAL).
 */
import { createApiApp, type ApiDeps } from "./api/server.ts";
import { DEFAULT_REMOTE_WRITE_LIMITS } from "./api/remote_write.ts";
import { createPromqlTools } from "./api/promql_tools.ts";
import { createUiApp } from "./api/ui.ts";
import { Cluster, CLUSTER_FLAGS, clusterConfigFromFlagValues, registerClusterRoutes } from "./cluster/index.ts";
import { defaultConfig, loadConfigFile, type Config } from "./config/index.ts";
import { FLAG_SPECS, FlagError, formatHelp, parseFlags, type Flags } from "./flags.ts";
import { createLogger, type LogFormat, type LogLevel, type Logger } from "./model/index.ts";
import { Engine } from "./promql/index.ts";
import { ScrapeManager } from "./scrape/index.ts";
import { openTSDB, type TSDB } from "./storage/index.ts";
import { registerProcessMetrics } from "./telemetry/process.ts";
import { Registry } from "./telemetry/registry.ts";
import { registerTsdbMetrics } from "./telemetry/tsdb_metrics.ts";
import pkg from "../package.json" with { type: "json" };

export const BUILD_INFO = {
  version: pkg.version,
  revision: process.env.SHOAL_REVISION ?? "unknown",
  branch: process.env.SHOAL_BRANCH ?? "main",
  buildUser: "shoal",
  buildDate: process.env.SHOAL_BUILD_DATE ?? "unknown",
  goVersion: `bun${Bun.version}`,
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
  const loadConfig = (): Config =>
    configFile === "" ? defaultConfig(flags.string("web.listen-address")) : loadConfigFile(configFile);

  let config = loadConfig();
  // Ingest: remote-write decoding threads (checked before anything is opened).
  const decodeWorkers = flags.int("web.remote-write-decode-workers");
  if (!(decodeWorkers >= 0)) throw new Error(`--web.remote-write-decode-workers: not a count of threads: ${flags.string("web.remote-write-decode-workers")}`);
  // Cluster wiring: a bad --cluster.* flag is reported before anything is opened.
  const clusterConfig = clusterConfigFromFlagValues(flags.values);
  logger.info("Starting Shoal", { version: BUILD_INFO.version, config: configFile || "<default config>" });

  const tsdb: TSDB = await openTSDB({
    dir: flags.string("storage.tsdb.path"),
    retentionMs: flags.durationMs("storage.tsdb.retention.time"),
    retentionBytes: flags.bytes("storage.tsdb.retention.size"),
    logger,
  });
  let ready = true;

  const lookbackDeltaMs = flags.durationMs("query.lookback-delta");
  const engine = new Engine({
    lookbackDelta: lookbackDeltaMs,
    timeout: flags.durationMs("query.timeout"),
    maxSamples: flags.int("query.max-samples"),
    maxConcurrency: flags.int("query.max-concurrency"),
    // A subquery without a step uses the global evaluation_interval (kept current on reload).
    defaultSubqueryStep: config.global.evaluationInterval,
    logger: logger.with({ component: "query engine" }),
  });

  // Cluster wiring: writes go through the distributor (owners on the ring, quorum) and reads
  // through the fan-out querier (all live members, replicas merged). A single node is a
  // cluster of one on the same path.
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      config: clusterConfig,
      dataDir: flags.string("storage.tsdb.path"),
      local: tsdb,
      httpAddress: flags.string("web.listen-address"),
      logger,
    });
  } catch (e) {
    await tsdb.close();
    throw e;
  }
  const appendable = cluster.appendable;
  const queryable = cluster.queryable;

  // Each target is scraped by its one live owner on the ring; ownership is re-checked whenever
  // the membership changes (a dead owner's targets move to the next node).
  const scrape = new ScrapeManager({ appendable, logger, ownsTarget: (labels) => cluster.ownsTarget(labels) });
  let reshardTimer: ReturnType<typeof setTimeout> | undefined;
  cluster.onRingChange(() => {
    clearTimeout(reshardTimer);
    reshardTimer = setTimeout(() => void scrape.reshard().catch((e: unknown) => logger.error("reshard failed", { err: e as Error })), 100);
  });

  const registry = new Registry();
  registerProcessMetrics(registry, startTime);
  registerTsdbMetrics(registry, () => tsdb.stats());
  registry.collector(() => cluster.metrics()); // cluster wiring
  const buildInfo = registry.gauge("shoal_build_info", "A metric with a constant '1' value labeled by version, revision, branch, and the Bun version.", [
    "version",
    "revision",
    "branch",
    "goversion",
  ]);
  buildInfo.set(1, BUILD_INFO.version, BUILD_INFO.revision, BUILD_INFO.branch, BUILD_INFO.goVersion);
  const reloadOk = registry.gauge("prometheus_config_last_reload_successful", "Whether the last configuration reload attempt was successful.");
  const reloadTime = registry.gauge("prometheus_config_last_reload_success_timestamp_seconds", "Timestamp of the last successful configuration reload.");
  let lastConfigTime = Date.now();
  let reloadSuccess = true;
  reloadOk.set(1);
  reloadTime.set(Math.floor(lastConfigTime / 1000));

  await scrape.applyConfig(config);

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
    registry,
    buildInfo: BUILD_INFO,
    configYaml: () => config.source.text,
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
    remoteWrite: { ...DEFAULT_REMOTE_WRITE_LIMITS, decodeWorkers },
    extend: (a) => {
      // Cluster wiring: members, ring shares and hinted-handoff backlog (`shoal cluster status`).
      // Hand-off: POST /api/v1/cluster/leave (graceful leave = SIGTERM), node-local reads.
      registerClusterRoutes(a, { cluster, local: tsdb, parseSelector: deps.promql.parseMetricSelector, shutdown: () => process.kill(process.pid, "SIGTERM") });
      a.route("/", createUiApp({ cluster: () => cluster.status() })); // UI: cluster-wide targets
    },
  });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: listen.hostname,
      port: listen.port,
      fetch: app.fetch,
      maxRequestBodySize: 64 << 20,
      idleTimeout: 255,
      error: (err) => {
        logger.error("HTTP server error", { err });
        return new Response("internal server error\n", { status: 500 });
      },
    });
  } catch (e) {
    await scrape.stop();
    await cluster.stop();
    await tsdb.close();
    throw new Error(`cannot listen on ${flags.string("web.listen-address")}: ${(e as Error).message}`);
  }
  const url = `http://${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${server.port}`;
  logger.info("Server is ready to receive web requests.", { address: `${listen.hostname}:${server.port}` });
  cluster.setHttpAddress(`${listen.hostname}:${server.port}`); // cluster wiring: the real port

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      // Cluster wiring: the graceful leave hands every range over first (bounded by
      // --cluster.handoff.leave-timeout), while the HTTP server still answers.
      logger.info("Leaving the cluster: handing ranges over");
      await cluster.leave().catch(() => {}); // logged by the cluster
      logger.info("Stopping the HTTP server");
      // In-flight requests (a remote write being committed) finish first; then anything left.
      await Promise.race([server.stop(false), Bun.sleep(5000)]);
      await server.stop(true);
      logger.info("Stopping scrape manager");
      await scrape.stop();
      logger.info("Leaving the cluster");
      clearTimeout(reshardTimer);
      await cluster.stop();
      logger.info("Closing storage (flushing the WAL)");
      await tsdb.close();
      logger.info("See you next time!");
    })();
    return stopping;
  };
  return { url, logger, stop, reload };
}

/** The node's flags plus the cluster room's `--cluster.*` flags (cluster wiring). */
const NODE_FLAGS = [...FLAG_SPECS, ...CLUSTER_FLAGS];

export async function runNodeCommand(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv, NODE_FLAGS);
  } catch (e) {
    process.stderr.write(`shoal: error: ${(e as Error).message}, try --help\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(formatHelp(NODE_FLAGS));
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
      // A second signal while the graceful leave (hand-off) runs forces the exit (cluster wiring).
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
