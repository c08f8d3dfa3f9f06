/** Debian's single-node VictoriaMetrics as a remote-write receiver for tests and benchmarks. */
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { removeTempDir, tempDir } from "./temp.ts";
import { waitHttpOk } from "./wait.ts";

export const VICTORIA_METRICS_BIN = "/usr/bin/victoria-metrics";

export interface VictoriaMetrics extends RunningProcess {
  readonly url: string;
  /** Its remote-write endpoint. */
  readonly writeUrl: string;
  readonly port: number;
  /** The storage directory; deleted on stop. */
  readonly dataDir: string;
}

/** Raw samples of one series as `/api/v1/export` returns them: every stored sample, duplicates included. */
export interface ExportedSeries {
  metric: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/**
 * Starts VictoriaMetrics on a free port with a temporary storage directory, keeping everything
 * (100 years of retention: tests write any timestamps), without deduplication (so that a test
 * sees every copy it received) and with caches off (so that a query sees what just arrived).
 */
export async function startVictoriaMetrics(extraArgs: string[] = [], attempts = 3): Promise<VictoriaMetrics> {
  for (let attempt = 1; ; attempt++) {
    const port = freePort();
    const dataDir = tempDir("vm");
    const p = spawnProcess("victoria-metrics", [
      VICTORIA_METRICS_BIN,
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dataDir}`,
      "-retentionPeriod=100y",
      "-search.disableCache",
      "-search.latencyOffset=0s",
      "-loggerLevel=WARN",
      ...extraArgs,
    ]);
    const url = `http://127.0.0.1:${port}`;
    const vm: VictoriaMetrics = {
      ...p,
      url,
      writeUrl: `${url}/api/v1/write`,
      port,
      dataDir,
      async stop(signal?: NodeJS.Signals, graceMs?: number) {
        const code = await p.stop(signal, graceMs);
        removeTempDir(dataDir);
        return code;
      },
    };
    try {
      await waitHttpOk(`${url}/health`, { timeoutMs: 30_000, process: p });
      return vm;
    } catch (err) {
      await vm.stop("SIGKILL");
      if (attempt >= attempts) throw err;
    }
  }
}

/** Every raw sample of the series matching `selector` (a series selector such as `{__name__="m"}`). */
export async function exportSeries(vm: VictoriaMetrics, selector: string, startMs = 0, endMs = Date.now() + 3600_000): Promise<ExportedSeries[]> {
  const q = new URLSearchParams({ "match[]": selector, start: String(startMs / 1000), end: String(endMs / 1000) });
  const res = await fetch(`${vm.url}/api/v1/export?${q}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`VictoriaMetrics export failed: ${res.status} ${await res.text()}`);
  const out: ExportedSeries[] = [];
  for (const line of (await res.text()).split("\n")) if (line.trim() !== "") out.push(JSON.parse(line) as ExportedSeries);
  return out;
}
