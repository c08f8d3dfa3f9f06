/** Debian's Prometheus (2.42) as a peer for side-by-side and interoperability tests. */
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { removeTempDir, tempDir } from "./temp.ts";
import { waitHttpOk } from "./wait.ts";

export interface PrometheusServer extends RunningProcess {
  readonly url: string;
  readonly port: number;
  /** Holds prometheus.yml and the TSDB (`data/`); deleted on stop. */
  readonly dataDir: string;
}

/**
 * Starts Prometheus on a free port with a temporary data directory and the given config YAML.
 * The remote-write receiver is on (`--web.enable-remote-write-receiver`, 2.42's flag). A start
 * that fails (e.g. the port was taken after `freePort`) is retried on another port, `attempts`
 * times in all (default 3).
 */
export async function startPrometheus(configYaml: string, extraArgs: string[] = [], attempts = 3): Promise<PrometheusServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPrometheusOnce(configYaml, extraArgs);
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}

async function startPrometheusOnce(configYaml: string, extraArgs: string[]): Promise<PrometheusServer> {
  const port = freePort();
  const dataDir = tempDir("prom");
  const cfg = join(dataDir, "prometheus.yml");
  await Bun.write(cfg, configYaml);
  const p = spawnProcess("prometheus", [
    "prometheus",
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${join(dataDir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    ...extraArgs,
  ]);
  const server: PrometheusServer = {
    ...p,
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    async stop(signal?: NodeJS.Signals, graceMs?: number) {
      const code = await p.stop(signal, graceMs);
      removeTempDir(dataDir);
      return code;
    },
  };
  try {
    await waitHttpOk(`${server.url}/-/ready`, { timeoutMs: 30_000, process: p });
  } catch (err) {
    await server.stop("SIGKILL");
    throw err;
  }
  return server;
}
