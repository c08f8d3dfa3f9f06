/**
 * A (re)joining node receives the batches other members kept for it (hinted handoff) from
 * several members at once, interleaved in time. The storage refuses samples older than a
 * series' newest, so instead of applying them as they come the node collects them here and, once
 * every holder is done, appends each series' samples sorted by timestamp.
 */
import { labelsKey, type Appendable, type Labels } from "../model/index.ts";
import type { BatchSeries } from "./batch.ts";
import { applyLocally } from "./distributor.ts";

interface Pending {
  labels: Labels;
  parts: { t: Float64Array; v: Float64Array }[];
}

export class CatchUpBuffer {
  private series = new Map<string, Pending>();
  bytes = 0;
  samples = 0;

  add(batch: readonly BatchSeries[]): number {
    let n = 0;
    for (const s of batch) {
      const k = labelsKey(s.labels);
      let p = this.series.get(k);
      if (!p) this.series.set(k, (p = { labels: s.labels, parts: [] }));
      // Copies: the batch's arrays are views into one frame buffer.
      p.parts.push({ t: s.timestamps.slice(), v: s.values.slice() });
      n += s.timestamps.length;
    }
    this.samples += n;
    this.bytes += n * 16;
    return n;
  }

  /** Appends everything collected, each series in timestamp order, and empties the buffer. */
  async flush(local: Appendable): Promise<{ ok: number; rej: number }> {
    const all = [...this.series.values()];
    this.series = new Map();
    this.bytes = 0;
    this.samples = 0;
    let ok = 0;
    let rej = 0;
    const CHUNK = 5000;
    for (let i = 0; i < all.length; i += CHUNK) {
      const out: BatchSeries[] = all.slice(i, i + CHUNK).map(sortedSeries);
      const r = await applyLocally(local, out);
      ok += r.ok;
      rej += r.rej;
    }
    return { ok, rej };
  }
}

function sortedSeries(p: Pending): BatchSeries {
  let n = 0;
  for (const part of p.parts) n += part.t.length;
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  let o = 0;
  for (const part of p.parts) {
    t.set(part.t, o);
    v.set(part.v, o);
    o += part.t.length;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a]! - t[b]!);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  let m = 0;
  for (const i of order) {
    if (m > 0 && ts[m - 1] === t[i]) continue; // a batch delivered twice
    ts[m] = t[i]!;
    vs.set(v.subarray(i, i + 1), m); // bit copy keeps stale markers
    m++;
  }
  return { labels: p.labels, timestamps: ts.subarray(0, m), values: vs.subarray(0, m) };
}
