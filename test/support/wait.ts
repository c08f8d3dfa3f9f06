/** Waiting on a condition instead of sleeping for a guessed time. */

/** What `waitFor` needs of a process it watches: a process that exits ends the wait early. */
export interface WatchedProcess {
  readonly name: string;
  readonly proc: { readonly exitCode: number | null; readonly signalCode: NodeJS.Signals | number | null };
  output(): string;
}

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 100 ms). */
  intervalMs?: number;
  /**
   * Processes the condition depends on: when one of them exits the wait fails at once, with
   * that process's output, instead of running into the timeout.
   */
  processes?: readonly WatchedProcess[];
}

const OUTPUT_TAIL = 4000;

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? text.slice(-OUTPUT_TAIL) : text;
}

/**
 * Calls `check` until it returns a value other than `undefined`, `null` or `false`, and returns
 * that value. A check that throws counts as "not yet"; its last error goes into the timeout
 * message, with `what` and the output of the watched processes.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, processes = [] } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    for (const p of processes) {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) {
        throw new Error(`${p.name} exited (${p.proc.exitCode ?? p.proc.signalCode}) while waiting for ${what}:\n${tail(p.output())}`);
      }
    }
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await Bun.sleep(intervalMs);
  }
  const reason = lastError === undefined ? "" : `: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  const logs = processes.map((p) => `\n--- ${p.name}\n${tail(p.output())}`).join("");
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}${logs}`);
}

export interface WaitHttpOkOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** The process that serves `url`: its exit fails the wait at once, with its output. */
  process?: WatchedProcess;
}

/** Polls `url` until it answers with a 2xx status. */
export async function waitHttpOk(url: string, options: WaitHttpOkOptions = {}): Promise<void> {
  await waitFor(
    `${url} to answer 2xx`,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return true;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50, processes: options.process ? [options.process] : [] },
  );
}
