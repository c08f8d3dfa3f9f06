/**
 * Shared helpers for tests that run real processes: a free port, a Shoal node started from
 * source (`bun src/cli.ts`) on 127.0.0.1 with a temporary data directory, a real Prometheus
 * (Debian's 2.42), and waiting for HTTP readiness. Every process started here is killed by its
 * `stop()`; tests call it in `afterAll`/`finally`.
 *
 *   const shoal = await startShoal({ args: ["--config.file", cfg] });
 *   await fetch(`${shoal.url}/api/v1/query?query=up`);
 *   await shoal.stop();
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { MAX_HEADER_SIZE_FLAG } from "../../src/api/http_limits.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const BUN = process.execPath;

/** A TCP port that was free a moment ago (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      const port = addr.port;
      srv.close(() => resolvePort(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `shoal-${prefix}-`));
}

/** Polls `url` until it answers 200, or throws after `timeoutMs` with the process's output. */
export async function waitHttpOk(url: string, timeoutMs = 20_000, proc?: RunningProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (proc && proc.proc.exitCode !== null) {
      throw new Error(`${proc.name} exited with code ${proc.proc.exitCode} before ${url} was ready:\n${proc.output()}`);
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})${proc ? `\n${proc.output()}` : ""}`);
}

export interface RunningProcess {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` (SIGTERM by default), waits for exit (SIGKILL after `graceMs`), returns the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

/** Spawns a process, collecting its output, killed on stop(). */
export function spawnProcess(name: string, cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): RunningProcess {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
  };
  const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]).catch(() => {});
  let stopped: Promise<number> | null = null;
  return {
    name,
    proc,
    output: () => out,
    stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000) {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        const code = await proc.exited;
        clearTimeout(timer);
        await pumps;
        return code;
      })();
      return stopped;
    },
  };
}

export interface ShoalNode extends RunningProcess {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the node and deletes its data directory (unless it was passed in). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

export interface StartShoalOptions {
  /** Extra flags, e.g. ["--config.file", path]. */
  args?: string[];
  /** Reuse a data directory (kept on stop); a fresh temporary one otherwise (deleted on stop). */
  dataDir?: string;
  port?: number;
  /** Wait for /-/ready (default true). */
  waitReady?: boolean;
  env?: Record<string, string>;
}

export async function startShoal(opts: StartShoalOptions = {}): Promise<ShoalNode> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? tempDir("data");
  const p = spawnProcess(
    "shoal",
    [
      BUN,
      // As the compiled binary runs (scripts/build.ts): Prometheus's 1 MiB for request headers.
      MAX_HEADER_SIZE_FLAG,
      join(REPO_ROOT, "src/cli.ts"),
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${dataDir}`,
      // A test node is a cluster of one: no mDNS (other tests' nodes on this machine would join
      // it) and a free cluster port. Later args override these.
      "--cluster.mdns=false",
      "--cluster.listen-address=127.0.0.1:0",
      ...(opts.args ?? []),
    ],
    { env: opts.env },
  );
  const url = `http://127.0.0.1:${port}`;
  const node: ShoalNode = {
    ...p,
    url,
    port,
    dataDir,
    async stop(signal?: NodeJS.Signals, graceMs?: number) {
      const code = await p.stop(signal, graceMs);
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
  if (opts.waitReady ?? true) {
    try {
      await waitHttpOk(`${url}/-/ready`, 30_000, p);
    } catch (e) {
      await node.stop("SIGKILL");
      throw e;
    }
  }
  return node;
}

export interface PrometheusServer extends RunningProcess {
  url: string;
  port: number;
  dataDir: string;
}

/**
 * Starts Debian's Prometheus 2.42 on a free port with a temporary data directory and the given
 * config YAML. The remote-write receiver is on (`--web.enable-remote-write-receiver`, 2.42's flag).
 */
export async function startPrometheus(configYaml: string, extraArgs: string[] = []): Promise<PrometheusServer> {
  const port = await freePort();
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
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
  try {
    await waitHttpOk(`${server.url}/-/ready`, 30_000, p);
  } catch (e) {
    await server.stop("SIGKILL");
    throw e;
  }
  return server;
}

/** Runs a command to completion, returning exit code and output. */
export async function run(cmd: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { cwd: opts.cwd ?? REPO_ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a truthy value, or throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ""}`);
}
