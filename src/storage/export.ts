/**
 * Reading the whole database series by series, in label order, for hand-off (exportSeries) and
 * anti-entropy (summarizeSeries). Each batch is gathered synchronously from the database as it
 * is at that moment (head, backfill stores, blocks), starting strictly after the last series
 * visited, so head cuts, compactions and flushes between batches neither lose nor repeat a
 * series, and memory is bounded by one batch — never the whole database.
 */
import { compareLabels, labelsHash32, type Labels } from "../model/index.ts";
import type { BackfillStore } from "./backfill-store.ts";
import type { SeriesData } from "./backfill.ts";
import type { Block } from "./block.ts";
import type { Head, MemSeries } from "./head.ts";
import { mergeSamples, type SourceSeries } from "./merge.ts";

export type SeriesFilter = (labels: Labels, hash: number) => boolean;

export interface ExportOptions {
  filter: SeriesFilter;
  mint?: number;
  maxt?: number;
  /** About this many samples per batch (a batch holds at least one series); 100k. */
  batchSamples?: number;
  /** Resume strictly after this series (labels order). */
  after?: Labels;
}

export interface SummaryOptions {
  filter: SeriesFilter;
  mint: number;
  maxt: number;
  /** Series per batch; 1000. */
  batchSeries?: number;
  after?: Labels;
  /** Counts only: the checksum is left 0 (progress totals, "is anything there"). */
  countOnly?: boolean;
}

export interface SeriesSummary {
  labels: Labels;
  hash: number;
  /** Samples in [mint, maxt]. */
  count: number;
  /** xxHash32 over the (timestamp, value bits) pairs in [mint, maxt], in time order (0 with countOnly). */
  checksum: number;
}

/** What the walk reads; the database provides it afresh for every batch. */
export interface WalkSources {
  head: Head;
  blocks: readonly Block[];
  stores: readonly BackfillStore[];
}

const DEFAULT_EXPORT_BATCH_SAMPLES = 100_000;
const DEFAULT_SUMMARY_BATCH_SERIES = 1000;

/** One series met by the walk: its labels and the merged samples in range (null: none there). */
interface Visit {
  labels: Labels;
  hash: number;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * Walks series in label order across sources. `next(limit)` returns the series (passing the
 * filter, with samples in [mint, maxt]) until `limit(batch)` says the batch is full.
 */
class SeriesWalk {
  private cursor: Labels | null;
  private headSorted: MemSeries[] = [];
  private headCreated = -1;
  private headRemoved = -1;
  done = false;

  constructor(
    private readonly sources: () => WalkSources,
    private readonly filter: SeriesFilter,
    private readonly mint: number,
    private readonly maxt: number,
    after: Labels | undefined,
  ) {
    this.cursor = after ?? null;
  }

  private sortedHead(head: Head): MemSeries[] {
    // Rebuilt only when series came or went since the last batch.
    if (head.stats.seriesCreated !== this.headCreated || head.stats.seriesRemoved !== this.headRemoved) {
      const c = this.cursor;
      const list: MemSeries[] = [];
      for (const s of head.allSeries()) if (c === null || compareLabels(s.labels, c) > 0) list.push(s);
      list.sort((a, b) => compareLabels(a.labels, b.labels));
      this.headSorted = list;
      this.headCreated = head.stats.seriesCreated;
      this.headRemoved = head.stats.seriesRemoved;
    }
    return this.headSorted;
  }

  /**
   * Visits series in order, handing each one with samples to `emit` (which returns true once
   * its batch is full), until the batch is full, `budget` series were looked at (so a filter
   * that passes few series does not hold the event loop for a whole database scan), or the end.
   * Returns whether the batch is full.
   */
  step(emit: (v: Visit) => boolean, budget: number): boolean {
    if (this.done) return false;
    const { head, blocks, stores } = this.sources();
    const c = this.cursor;
    const mint = this.mint;
    const maxt = this.maxt;
    // Per source: its position (first series after the cursor).
    const hs = this.sortedHead(head);
    let hi = c === null ? 0 : upperBound(hs.length, (i) => compareLabels(hs[i]!.labels, c));
    const storeLists = stores.map((s) => s.sortedSeries());
    const sPos = storeLists.map((l) => (c === null ? 0 : upperBound(l.length, (i) => compareLabels(l[i]!.labels, c))));
    const used = blocks.filter((b) => !(b.maxT < mint || b.minT > maxt));
    const bPos = used.map((b) => {
      if (c === null) return 0;
      const id = b.lowerBoundSeries(c);
      return id < b.numSeries && b.compareSeries(id, c) === 0 ? id + 1 : id;
    });
    const bLabels: (Labels | null)[] = used.map((b, k) => (bPos[k]! < b.numSeries ? b.labelsOf(bPos[k]!) : null));
    for (;;) {
      // The smallest label set among the sources' current series.
      let min: Labels | null = hi < hs.length ? hs[hi]!.labels : null;
      for (let k = 0; k < storeLists.length; k++) {
        const l = storeLists[k]!;
        const p = sPos[k]!;
        if (p < l.length && (min === null || compareLabels(l[p]!.labels, min) < 0)) min = l[p]!.labels;
      }
      for (const l of bLabels) if (l !== null && (min === null || compareLabels(l, min) < 0)) min = l;
      if (min === null) {
        this.done = true;
        break;
      }
      if (budget-- <= 0) break;
      const hash = labelsHash32(min);
      const wanted = this.filter(min, hash);
      const parts: SourceSeries[] = [];
      // Blocks first, then backfill, then the head: the order the querier merges in.
      for (let k = 0; k < used.length; k++) {
        const l = bLabels[k];
        if (l === null || l === undefined || compareLabels(l, min) !== 0) continue;
        const b = used[k]!;
        if (wanted) {
          const r = b.readSamples(bPos[k]!, mint, maxt);
          if (r !== null) parts.push({ labels: min, timestamps: r.timestamps, values: r.values });
        }
        bPos[k]!++;
        bLabels[k] = bPos[k]! < b.numSeries ? b.labelsOf(bPos[k]!) : null;
      }
      for (let k = 0; k < storeLists.length; k++) {
        const l = storeLists[k]!;
        const p = sPos[k]!;
        if (p >= l.length || compareLabels(l[p]!.labels, min) !== 0) continue;
        if (wanted) {
          const r = l[p]!.read(mint, maxt);
          if (r !== null) parts.push({ labels: min, timestamps: r.timestamps, values: r.values });
        }
        sPos[k] = p + 1;
      }
      if (hi < hs.length && compareLabels(hs[hi]!.labels, min) === 0) {
        const s = hs[hi]!;
        if (wanted && !s.removed) {
          const r = head.readSamples(s, mint, maxt);
          if (r !== null) parts.push({ labels: min, timestamps: r.timestamps, values: r.values });
        }
        hi++;
      }
      this.cursor = min;
      if (parts.length > 0) {
        const m = parts.length === 1 ? parts[0]! : mergeSamples(parts);
        if (emit({ labels: min, hash, timestamps: m.timestamps, values: m.values })) return true;
      }
    }
    return false;
  }
}

/** The first index i in [0, n) with cmp(i) > 0 (cmp increasing). */
function upperBound(n: number, cmp: (i: number) => number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(mid) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Copies a sample range into arrays of its own (sources may hand out views of shared buffers). */
function own(ts: Float64Array, vs: Float64Array): { timestamps: Float64Array; values: Float64Array } {
  const n = ts.length;
  const ab = new ArrayBuffer(n * 16);
  const timestamps = new Float64Array(ab, 0, n);
  timestamps.set(ts);
  // Bytes, not numbers: a NaN's payload (the staleness marker) must survive.
  new Uint8Array(ab, n * 8, n * 8).set(new Uint8Array(vs.buffer, vs.byteOffset, n * 8));
  return { timestamps, values: new Float64Array(ab, n * 8, n) };
}

/** Series looked at per synchronous step of a walk; between steps other work runs. */
const WALK_STEP_SERIES = 20_000;
const nextTick = () => new Promise<void>((r) => setImmediate(r));

export function exportSeries(sources: () => WalkSources, opts: ExportOptions): AsyncGenerator<SeriesData[]> {
  const walk = new SeriesWalk(sources, opts.filter, opts.mint ?? -Infinity, opts.maxt ?? Infinity, opts.after);
  const limit = Math.max(1, opts.batchSamples ?? DEFAULT_EXPORT_BATCH_SAMPLES);
  return inBatches(walk, limit, (v) => ({ labels: v.labels, ...own(v.timestamps, v.values) }), (s) => s.timestamps.length);
}

export function summarizeSeries(sources: () => WalkSources, opts: SummaryOptions): AsyncGenerator<SeriesSummary[]> {
  const walk = new SeriesWalk(sources, opts.filter, opts.mint, opts.maxt, opts.after);
  const limit = Math.max(1, opts.batchSeries ?? DEFAULT_SUMMARY_BATCH_SERIES);
  // Each series is reduced to its summary at once: a batch never holds samples.
  const checksum = opts.countOnly ? () => 0 : samplesChecksum;
  return inBatches(walk, limit, (v) => ({ labels: v.labels, hash: v.hash, count: v.timestamps.length, checksum: checksum(v.timestamps, v.values) }), () => 1);
}

/**
 * Runs `walk` in steps of WALK_STEP_SERIES series (other work runs between them), turning each
 * series into an item; yields a batch once the items' sizes reach `limit`, and the rest at the end.
 */
async function* inBatches<T>(walk: SeriesWalk, limit: number, item: (v: Visit) => T, size: (t: T) => number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let total = 0;
  const emit = (v: Visit): boolean => {
    const t = item(v);
    batch.push(t);
    return (total += size(t)) >= limit;
  };
  while (!walk.done) {
    const full = walk.step(emit, WALK_STEP_SERIES);
    if (full || (walk.done && batch.length > 0)) {
      const out = batch;
      batch = [];
      total = 0;
      yield out;
    } else if (!walk.done) await nextTick();
  }
}

/** xxHash32 over interleaved (timestamp as float64, value bits) pairs. */
export function samplesChecksum(ts: Float64Array, vs: Float64Array): number {
  const n = ts.length;
  const ab = new ArrayBuffer(16 * n);
  const buf = new Float64Array(ab);
  const bw = new Uint32Array(ab);
  const vw = new Uint32Array(vs.buffer, vs.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    buf[2 * i] = ts[i]!;
    bw[4 * i + 2] = vw[2 * i]!;
    bw[4 * i + 3] = vw[2 * i + 1]!;
  }
  return Bun.hash.xxHash32(new Uint8Array(ab)) >>> 0;
}
