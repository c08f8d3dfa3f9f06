/**
 * Turning data into blocks: series of the head for one block range, merges of several blocks
 * (re-chunked, duplicates and tombstoned samples dropped), and the compaction planner.
 */
import { compareLabels, type Labels } from "../model/index.ts";
import type { Block, WriteSeries } from "./block.ts";
import type { Head } from "./head.ts";
import { mergeSamples, type SourceSeries } from "./merge.ts";

/**
 * The head's samples in [mint, maxt), series sorted by labels, decoded one series at a time so
 * that a head cut never holds more than one series' samples outside the chunks.
 */
export function* headSeriesForBlock(head: Head, mint: number, maxt: number): Generator<WriteSeries> {
  const list = [...head.allSeries()].filter((s) => s.minTime() < maxt);
  list.sort((a, b) => compareLabels(a.labels, b.labels));
  for (const s of list) {
    const r = head.readSamples(s, mint, maxt - 1);
    if (r !== null) yield { labels: s.labels, timestamps: r.timestamps, values: r.values };
  }
}

/** Merged, re-chunked series of several blocks (sorted by labels), tombstones applied. */
export function* mergedBlockSeries(blocks: readonly Block[]): Generator<WriteSeries> {
  const entries: { b: number; id: number; labels: Labels }[] = [];
  blocks.forEach((blk, b) => {
    for (let id = 0; id < blk.numSeries; id++) entries.push({ b, id, labels: blk.labelsOf(id) });
  });
  // Each block's ids are already in label order; sorting merges the blocks.
  entries.sort((x, y) => compareLabels(x.labels, y.labels) || x.b - y.b);
  for (let i = 0; i < entries.length; ) {
    const labels = entries[i]!.labels;
    const parts: SourceSeries[] = [];
    let j = i;
    for (; j < entries.length; j++) {
      const e = entries[j]!;
      const blk = blocks[e.b]!;
      if (j > i && compareLabels(labels, e.labels) !== 0) break;
      const r = blk.readSamples(e.id, -Infinity, Infinity);
      if (r !== null) parts.push({ labels, timestamps: r.timestamps, values: r.values });
    }
    i = j;
    if (parts.length === 0) continue;
    const merged = parts.length === 1 ? parts[0]! : mergeSamples(parts);
    yield { labels, timestamps: merged.timestamps, values: merged.values };
  }
}

/** Prometheus's block ranges: base × 3^k, up to `max`. */
export function blockRanges(base: number, max: number): number[] {
  const out = [base];
  for (let r = base * 3; r <= max; r *= 3) out.push(r);
  return out;
}

/**
 * Chooses blocks to compact next, or null: first any overlapping blocks (e.g. from a backfill),
 * then, from the smallest range up, ≥ 2 blocks sharing an aligned window that is complete
 * (newer data exists beyond its end).
 */
export function planCompaction(blocks: readonly Block[], ranges: readonly number[], newest: number): Block[] | null {
  const sorted = [...blocks].sort((a, b) => a.meta.minTime - b.meta.minTime);
  for (let i = 0; i + 1 < sorted.length; i++) {
    let end = sorted[i]!.meta.maxTime;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.meta.minTime < end) {
      end = Math.max(end, sorted[j]!.meta.maxTime);
      j++;
    }
    if (j - i > 1) return sorted.slice(i, j);
  }
  for (const r of ranges.slice(1)) {
    const groups = new Map<number, Block[]>();
    for (const b of sorted) {
      const k = Math.floor(b.meta.minTime / r);
      if (b.meta.maxTime > (k + 1) * r) continue; // spans windows: already bigger than r
      const g = groups.get(k) ?? [];
      g.push(b);
      groups.set(k, g);
    }
    for (const [k, g] of groups) {
      if (g.length >= 2 && (k + 1) * r <= newest) return g;
    }
  }
  return null;
}
