/**
 * Merging what several sources (blocks, the head) return for one query: series sorted by
 * labels, each label set once, samples strictly time-ordered with duplicates dropped.
 */
import { compareLabels, type Labels, type Series } from "../model/index.ts";

export interface SourceSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Merges per-source lists (each already sorted by labels) into one sorted list. */
export function mergeSeriesLists(lists: readonly (readonly SourceSeries[])[]): Series[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  if (nonEmpty.length === 1) return nonEmpty[0]!.slice();
  const all: { s: SourceSeries; src: number }[] = [];
  nonEmpty.forEach((l, src) => {
    for (const s of l) all.push({ s, src });
  });
  all.sort((a, b) => compareLabels(a.s.labels, b.s.labels) || a.src - b.src);
  const out: Series[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && compareLabels(all[i]!.s.labels, all[j]!.s.labels) === 0) j++;
    out.push(j - i === 1 ? all[i]!.s : mergeSamples(all.slice(i, j).map((x) => x.s)));
    i = j;
  }
  return out;
}

/** Merges the samples of one series from several sources; on equal timestamps the first wins. */
export function mergeSamples(parts: readonly SourceSeries[]): Series {
  let total = 0;
  for (const p of parts) total += p.timestamps.length;
  const ab = new ArrayBuffer(total * 16);
  const ts = new Float64Array(ab, 0, total);
  const vs = new Float64Array(ab, total * 8, total);
  const vw = new Uint32Array(ab, total * 8, total * 2);
  const idx = new Int32Array(parts.length);
  const words = parts.map((p) => new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2));
  let n = 0;
  let lastT = -Infinity;
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let k = 0; k < parts.length; k++) {
      const i = idx[k]!;
      const p = parts[k]!;
      if (i < p.timestamps.length && p.timestamps[i]! < bestT) {
        bestT = p.timestamps[i]!;
        best = k;
      }
    }
    if (best < 0) break;
    const i = idx[best]!;
    idx[best] = i + 1;
    if (bestT <= lastT) continue;
    const w = words[best]!;
    ts[n] = bestT;
    vw[2 * n] = w[2 * i]!;
    vw[2 * n + 1] = w[2 * i + 1]!;
    n++;
    lastT = bestT;
  }
  // Views, not copies: nothing writes these arrays after the merge (the Queryable contract).
  return { labels: parts[0]!.labels, timestamps: ts.subarray(0, n), values: vs.subarray(0, n) };
}
