/** Debian's prometheus-node-exporter as a real scrape target. */
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { waitHttpOk } from "./wait.ts";

export interface NodeExporter extends RunningProcess {
  /** host:port it serves /metrics on. */
  readonly address: string;
  readonly port: number;
}

/**
 * Starts prometheus-node-exporter on a free port of 127.0.0.1 with `args` (e.g. a restricted
 * set of collectors) and waits for /metrics. A port taken between `freePort` and the exporter's
 * bind is retried with another port, up to `attempts` times (default 5).
 */
export async function startNodeExporter(args: string[] = [], attempts = 5): Promise<NodeExporter> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = freePort();
    const address = `127.0.0.1:${port}`;
    const p = spawnProcess("node_exporter", ["prometheus-node-exporter", `--web.listen-address=${address}`, ...args]);
    try {
      await waitHttpOk(`http://${address}/metrics`, { timeoutMs: 15_000, process: p });
      return { ...p, address, port };
    } catch (err) {
      lastError = err;
      await p.stop("SIGKILL");
    }
  }
  throw new Error(`could not start prometheus-node-exporter: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}
