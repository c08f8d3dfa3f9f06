/**
 * A remote-write test client that records every acknowledged sample (the ground truth) and
 * compares what a node's query API returns with it.
 */
import { remoteWrite, writeRequestBody, type TestSeries } from "../e2e/remote_write_client.ts";
import type { TestNode } from "./harness.ts";

export class GroundTruth {
  /** series id → timestamp (ms) → value */
  readonly samples = new Map<string, Map<number, number>>();
  acknowledged = 0;
  attempts = 0;
  /** HTTP 5xx answers from nodes that were up (retried elsewhere). */
  serverErrors: string[] = [];
  /** Connection failures (a node that was just killed). */
  connectionErrors = 0;

  /** A copy of what was acknowledged so far (the writer may go on meanwhile). */
  snapshot(): GroundTruth {
    const g = new GroundTruth();
    for (const [id, m] of this.samples) g.samples.set(id, new Map(m));
    g.acknowledged = this.acknowledged;
    return g;
  }

  /** Newest acknowledged timestamp. */
  maxT(): number {
    let t = -Infinity;
    for (const m of this.samples.values()) for (const k of m.keys()) if (k > t) t = k;
    return t;
  }

  count(filter?: (t: number) => boolean): number {
    let n = 0;
    for (const m of this.samples.values()) for (const t of m.keys()) if (!filter || filter(t)) n++;
    return n;
  }
}

/**
 * Writes `seriesCount` series of metric `metric`, one sample per series per round, to a random
 * node of `targets()`, retrying a refused batch on another node until it is acknowledged.
 */
export async function writeContinuously(opts: {
  metric: string;
  seriesCount: number;
  targets: () => TestNode[];
  until: () => boolean;
  truth: GroundTruth;
  startMs: number;
  stepMs?: number;
  /** Timestamps from the wall clock (each round at least 1 ms after the last) instead of `stepMs` steps. */
  wallClock?: boolean;
  /** Pause between rounds; 10 ms. */
  pauseMs?: number;
}): Promise<void> {
  const { truth } = opts;
  let t = opts.startMs;
  let round = 0;
  while (!opts.until()) {
    t = opts.wallClock ? Math.max(t + 1, Date.now()) : t + (opts.stepMs ?? 100);
    round++;
    const series: TestSeries[] = [];
    for (let i = 0; i < opts.seriesCount; i++) series.push({ labels: { __name__: opts.metric, series: `s${i}` }, samples: [[t, round * 1000 + i]] });
    const body = writeRequestBody(series);
    for (let attempt = 0; ; attempt++) {
      const nodes = opts.targets();
      const node = nodes[Math.floor(Math.random() * nodes.length)]!;
      truth.attempts++;
      let res: Response;
      try {
        res = await remoteWrite(node.url, body);
      } catch {
        truth.connectionErrors++;
        await Bun.sleep(20);
        continue;
      }
      if (res.status === 204) break;
      const text = await res.text();
      truth.serverErrors.push(`${node.name}: ${res.status} ${text}`);
      if (res.status < 500 || attempt > 50) throw new Error(`write refused by ${node.name}: ${res.status} ${text}`);
      await Bun.sleep(50);
    }
    for (const s of series) {
      const id = s.labels.series!;
      let m = truth.samples.get(id);
      if (!m) truth.samples.set(id, (m = new Map()));
      for (const [ts, v] of s.samples) m.set(ts, v);
      truth.acknowledged++;
    }
    await Bun.sleep(opts.pauseMs ?? 10);
  }
}

export interface QueriedSeries {
  samples: Map<string, Map<number, number>>;
  warnings: string[];
}

/** Every raw sample of `metric` in [startMs, endMs] via an instant range-vector query. */
export async function queryRaw(node: TestNode, metric: string, startMs: number, endMs: number): Promise<QueriedSeries> {
  const rangeS = Math.ceil((endMs - startMs) / 1000) + 1;
  const q = `${metric}[${rangeS}s]`;
  const res = await fetch(`${node.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${(endMs / 1000).toFixed(3)}`, {
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    warnings?: string[];
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (body.status !== "success") throw new Error(`query on ${node.name} failed: ${body.error}`);
  const samples = new Map<string, Map<number, number>>();
  for (const r of body.data.result) {
    const m = new Map<number, number>();
    for (const [ts, v] of r.values) m.set(Math.round(ts * 1000), Number(v));
    samples.set(r.metric.series!, m);
  }
  return { samples, warnings: body.warnings ?? [] };
}

/** Differences between a query result and the ground truth, as readable lines (empty = equal). */
export function diff(truth: GroundTruth, got: QueriedSeries, upTo = Infinity): string[] {
  const out: string[] = [];
  for (const [id, want] of truth.samples) {
    const have = got.samples.get(id);
    if (!have) {
      out.push(`series ${id} missing (${want.size} samples)`);
      continue;
    }
    let missing = 0;
    let wrong = 0;
    for (const [t, v] of want) {
      const h = have.get(t);
      if (h === undefined) missing++;
      else if (h !== v) wrong++;
    }
    // Samples newer than the snapshot may have been acknowledged while the query ran.
    const extra = [...have.keys()].filter((t) => !want.has(t) && t <= upTo).length;
    if (missing || wrong || extra) out.push(`series ${id}: ${missing} missing, ${wrong} wrong, ${extra} extra of ${want.size}`);
  }
  for (const id of got.samples.keys()) if (!truth.samples.has(id)) out.push(`unexpected series ${id}`);
  return out;
}
