/**
 * Child processes for tests: started with their output collected line by line, always stopped
 * (SIGTERM, then SIGKILL after a grace period), and commands run to completion.
 */
import type { Subprocess } from "bun";
import { REPO_ROOT } from "./paths.ts";

export interface RunningProcess {
  readonly name: string;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The lines the process wrote to stdout and stderr so far (the oldest dropped past `maxLines`). */
  readonly log: string[];
  /** Everything in `log` plus an unfinished last line, as one text. */
  output(): string;
  /** True once the process has exited or was killed by a signal. */
  exited(): boolean;
  /**
   * Sends `signal` (SIGTERM by default), waits for the exit (SIGKILL after `graceMs`, default
   * 10 s) and for the output to be read to its end; returns the exit code. Calling it again
   * returns the same result.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

export interface SpawnOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Added to this process's environment (or the whole environment when `inheritEnv` is false). */
  env?: Record<string, string>;
  /** Start from this process's environment (default true); false runs with `env` alone. */
  inheritEnv?: boolean;
  /** How many lines of output to keep (default 20 000). */
  maxLines?: number;
  /** Called with every complete line of output, in order, as it arrives. */
  onLine?: (line: string, process: RunningProcess) => void;
}

const live = new Set<RunningProcess>();

/** Starts `cmd` with its output collected; stop it with `stop()` or `stopAllProcesses()`. */
export function spawnProcess(name: string, cmd: string[], options: SpawnOptions = {}): RunningProcess {
  const maxLines = options.maxLines ?? 20_000;
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd ?? REPO_ROOT,
    env: environment(options),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const log: string[] = [];
  const partial = { stdout: "", stderr: "" };
  let stopped: Promise<number> | null = null;
  const running: RunningProcess = {
    name,
    proc,
    log,
    output: () => [...log, partial.stdout, partial.stderr].filter((s) => s !== "").join("\n"),
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
    stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000) {
      stopped ??= (async () => {
        if (!running.exited()) {
          // A stopped (SIGSTOP) process only acts on SIGTERM once it runs again.
          proc.kill("SIGCONT");
          proc.kill(signal);
        }
        const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        const code = await proc.exited;
        clearTimeout(timer);
        await pumps;
        live.delete(running);
        return code;
      })();
      return stopped;
    },
  };
  const pump = async (stream: ReadableStream<Uint8Array>, which: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = partial[which] + decoder.decode(value, { stream: true });
      const lines = text.split("\n");
      partial[which] = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        options.onLine?.(line, running);
      }
      if (log.length > maxLines) log.splice(0, log.length - maxLines);
    }
  };
  const pumps = Promise.all([pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr")]).then(
    () => {},
    () => {},
  );
  live.add(running);
  return running;
}

/** SIGKILLs every process `spawnProcess` started that was not stopped yet, and waits for them. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop("SIGKILL")));
}

function environment(options: { env?: Record<string, string>; inheritEnv?: boolean }): Record<string, string | undefined> {
  return options.inheritEnv === false ? { ...options.env } : { ...process.env, ...options.env };
}

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment (or the whole environment when `inheritEnv` is false). */
  env?: Record<string, string>;
  /** Start from this process's environment (default true); false runs with `env` alone. */
  inheritEnv?: boolean;
  /** Bytes given to the command's standard input (none by default). */
  stdin?: Uint8Array | string;
  /** SIGKILL the command after this long (default 60 s). */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command's exit code and output, run synchronously (`runSync`). */
export interface SyncRunResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a command to completion in `cwd`, blocking: for quick CLI runs compared line by line. */
export function runSync(cmd: string[], cwd: string): SyncRunResult {
  const p = Bun.spawnSync(cmd, { cwd });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(cmd: string[], options: RunOptions = {}): Promise<RunResult> {
  const input = typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin;
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd ?? REPO_ROOT,
    env: environment(options),
    stdin: input ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
