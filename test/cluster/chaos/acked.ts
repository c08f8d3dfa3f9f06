/**
 * The chaos writer and its ground truth. Every round writes one sample to each of `seriesCount`
 * series at one timestamp (value = round × 1000 + series index, so a wrong value is visible) and
 * is retried on random live nodes until a node acknowledges it (2xx). Rounds are sequential:
 * every timestamp up to the newest acknowledged one is acknowledged, so a query window that ends
 * there has an exact expected answer. A round is never abandoned (the run fails instead), so no
 * sample that was sent can exist without having been acknowledged.
 */
import { writeRequestBody, type TestSeries } from "../../e2e/remote_write_client.ts";

export interface WriteTarget {
  name: string;
  url: string;
}

export class AckedLog {
  /** Timestamps (ms) of acknowledged rounds, increasing; round r is at index r. */
  private ts = new Float64Array(4096);
  rounds = 0;
  attempts = 0;
  connectionErrors = 0;
  timeouts = 0;
  /** HTTP status → count, for answers that were not 2xx. */
  readonly refusals = new Map<number, number>();
  lastRefusal = "";
  /** Longest time (ms) one round waited to be acknowledged. */
  longestRoundMs = 0;

  constructor(
    readonly metric: string,
    readonly seriesCount: number,
  ) {
    if (seriesCount > 999) throw new Error("at most 999 series (values encode the series index)");
  }

  value(round: number, series: number): number {
    return round * 1000 + series;
  }

  seriesName(i: number): string {
    return `s${i}`;
  }

  timestamp(round: number): number {
    return this.ts[round]!;
  }

  /** Newest acknowledged timestamp (−Infinity before the first). */
  closedT(): number {
    return this.rounds === 0 ? -Infinity : this.ts[this.rounds - 1]!;
  }

  firstT(): number {
    return this.rounds === 0 ? Infinity : this.ts[0]!;
  }

  samples(): number {
    return this.rounds * this.seriesCount;
  }

  /** Rounds whose timestamp is in (lo, hi], as [from, to) indexes. */
  roundsIn(lo: number, hi: number): [number, number] {
    return [this.lowerBound(lo, true), this.lowerBound(hi, true)];
  }

  /** First round with t > x (strict) or t ≥ x. */
  private lowerBound(x: number, strict: boolean): number {
    let a = 0;
    let b = this.rounds;
    while (a < b) {
      const m = (a + b) >> 1;
      const t = this.ts[m]!;
      if (strict ? t <= x : t < x) a = m + 1;
      else b = m;
    }
    return a;
  }

  /** Round index of timestamp t, or −1 when no round was acknowledged at t. */
  roundAt(t: number): number {
    const i = this.lowerBound(t, false);
    return i < this.rounds && this.ts[i] === t ? i : -1;
  }

  record(t: number): void {
    if (this.rounds === this.ts.length) {
      const grown = new Float64Array(this.ts.length * 2);
      grown.set(this.ts);
      this.ts = grown;
    }
    this.ts[this.rounds++] = t;
  }

  summary(): string {
    const refused = [...this.refusals].map(([s, n]) => `${n}×${s}`).join(", ") || "none";
    return (
      `${this.rounds} rounds × ${this.seriesCount} series = ${this.samples()} samples acknowledged; ${this.attempts} requests, ` +
      `refused: ${refused}, ${this.connectionErrors} connection errors, ${this.timeouts} timeouts; longest round ${this.longestRoundMs} ms`
    );
  }
}

export interface WriterOptions {
  log: AckedLog;
  targets: () => WriteTarget[];
  stop: () => boolean;
  /** Pause between acknowledged rounds. */
  intervalMs: number;
  requestTimeoutMs: number;
  /** A round not acknowledged after this long fails the run. */
  roundDeadlineMs: number;
  random: () => number;
}

/** Runs until `stop()`; the round in flight is finished first. Rejects when a round is stuck. */
export async function runWriter(o: WriterOptions): Promise<void> {
  const { log } = o;
  let lastT = 0;
  while (!o.stop()) {
    const t = Math.max(lastT + 1, Date.now());
    lastT = t;
    const round = log.rounds;
    const series: TestSeries[] = [];
    for (let i = 0; i < log.seriesCount; i++) {
      series.push({ labels: { __name__: log.metric, series: log.seriesName(i) }, samples: [[t, log.value(round, i)]] });
    }
    const body = writeRequestBody(series) as Uint8Array<ArrayBuffer>;
    const started = Date.now();
    for (;;) {
      if (Date.now() - started > o.roundDeadlineMs) {
        throw new Error(`write round ${round} (t=${t}) not acknowledged after ${o.roundDeadlineMs} ms; last refusal: ${log.lastRefusal}`);
      }
      const nodes = o.targets();
      if (nodes.length === 0) {
        await Bun.sleep(50);
        continue;
      }
      const node = nodes[Math.floor(o.random() * nodes.length)]!;
      log.attempts++;
      let res: Response;
      try {
        res = await fetch(`${node.url}/api/v1/write`, {
          method: "POST",
          body,
          headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0" },
          signal: AbortSignal.timeout(o.requestTimeoutMs),
        });
      } catch (err) {
        if ((err as Error).name === "TimeoutError") log.timeouts++;
        else log.connectionErrors++;
        await Bun.sleep(20);
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        await res.arrayBuffer();
        break;
      }
      const text = (await res.text().catch(() => "")).slice(0, 300);
      log.refusals.set(res.status, (log.refusals.get(res.status) ?? 0) + 1);
      log.lastRefusal = `${node.name}: ${res.status} ${text}`;
      // A 4xx for a well-formed request in order is a bug in the cluster, not churn.
      if (res.status < 500 && res.status !== 429) throw new Error(`write round ${round} refused by ${node.name}: ${res.status} ${text}`);
      await Bun.sleep(50);
    }
    log.longestRoundMs = Math.max(log.longestRoundMs, Date.now() - started);
    log.record(t);
    if (o.intervalMs > 0) await Bun.sleep(o.intervalMs);
  }
}
