/**
 * A Shoal node started from source (`bun src/cli.ts`) on 127.0.0.1 with a free port and a
 * temporary data directory, as the integration tests run it.
 *
 *   const shoal = await startShoal({ args: ["--config.file", cfg] });
 *   await fetch(`${shoal.url}/api/v1/query?query=up`);
 *   await shoal.stop();
 */
import { MAX_HEADER_SIZE_FLAG } from "../../src/api/http_limits.ts";
import { BUN, SHOAL_CLI } from "./paths.ts";
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { removeTempDir, tempDir } from "./temp.ts";
import { waitHttpOk } from "./wait.ts";

export interface ShoalNode extends RunningProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The flags given after the defaults (`StartShoalOptions.args`). */
  readonly args: string[];
  /** Stops the node; deletes its data directory when `startShoal` made it and `keepDataDir` is off. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

export interface StartShoalOptions {
  /** A name for messages and logs (default "shoal"). */
  name?: string;
  /** Flags after the defaults, which they override (the last occurrence of a flag wins). */
  args?: string[];
  /**
   * Start with `--cluster.mdns=false --cluster.listen-address=127.0.0.1:0` (default true): a
   * cluster of one that no other test's node finds. False leaves the cluster flags to `args`
   * (e.g. a test of mDNS discovery).
   */
  isolated?: boolean;
  /** Reuse this data directory (never deleted here); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Keep a temporary data directory on stop (default false); `removeTempDirs()` deletes it later. */
  keepDataDir?: boolean;
  /** HTTP port (default: a free one). */
  port?: number;
  env?: Record<string, string>;
  /** Wait until /-/ready answers (default true). */
  waitReady?: boolean;
  /** How long to wait for /-/ready (default 30 s). */
  readyTimeoutMs?: number;
}

export async function startShoal(options: StartShoalOptions = {}): Promise<ShoalNode> {
  const name = options.name ?? "shoal";
  const port = options.port ?? freePort();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDir(`${name}-data`);
  const args = options.args ?? [];
  const p = spawnProcess(
    name,
    [
      BUN,
      // As the compiled binary runs (scripts/build.ts): Prometheus's 1 MiB for request headers.
      MAX_HEADER_SIZE_FLAG,
      SHOAL_CLI,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${dataDir}`,
      // A test node is a cluster of one unless told otherwise: no mDNS (other tests' nodes on this
      // machine would join it) and a free cluster port.
      ...((options.isolated ?? true) ? ["--cluster.mdns=false", "--cluster.listen-address=127.0.0.1:0"] : []),
      ...args,
    ],
    { env: options.env },
  );
  const node: ShoalNode = {
    ...p,
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    args,
    async stop(signal?: NodeJS.Signals, graceMs?: number) {
      const code = await p.stop(signal, graceMs);
      if (ownDir && !options.keepDataDir) removeTempDir(dataDir);
      return code;
    },
  };
  if (options.waitReady ?? true) {
    try {
      await waitHttpOk(`${node.url}/-/ready`, { timeoutMs: options.readyTimeoutMs ?? 30_000, process: p });
    } catch (err) {
      await node.stop("SIGKILL");
      throw err;
    }
  }
  return node;
}
