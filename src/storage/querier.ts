/** A Querier over a fixed set of sources (blocks and the head) for [mint, maxt]. */
import type { LabelQueryResult, Matcher, Querier, SelectHints, SeriesSet } from "../model/index.ts";
import { mergeSeriesLists, type SourceSeries } from "./merge.ts";
import type { QuerySource } from "./source.ts";

/** How long a select may hold the event loop before it yields. */
const YIELD_MS = 20;

/** The error a select stops with once its hints' signal is aborted: the signal's reason. */
function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(`select aborted: ${String(r)}`);
}

export class StorageQuerier implements Querier {
  private closed = false;

  constructor(
    private readonly sources: readonly QuerySource[],
    private readonly mint: number,
    private readonly maxt: number,
    private readonly onClose: () => void = () => {},
  ) {}

  async select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesSet> {
    this.check();
    // Hints may narrow the range, never widen it.
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    // Prometheus's "series" hint: the caller wants label sets only (the series API).
    const labelsOnly = hints?.func === "series";
    const signal = hints?.signal;
    const hashes = hints?.hashRanges;
    if (signal?.aborted) throw abortError(signal);
    const lists: SourceSeries[][] = [];
    // Decoding is synchronous work: every YIELD_MS the event loop gets a turn (other requests,
    // scrapes, the query's own timeout timer) and an aborted query stops here.
    let last = performance.now();
    let n = 0;
    for (const src of this.sources) {
      if (src.maxT < mint || src.minT > maxt) continue;
      if (src.selectIter === undefined) {
        lists.push(src.select(matchers, mint, maxt, labelsOnly, hashes));
        continue;
      }
      const list: SourceSeries[] = [];
      for (const s of src.selectIter(matchers, mint, maxt, labelsOnly, hashes)) {
        list.push(s);
        if ((++n & 31) !== 0) continue;
        if (signal?.aborted) throw abortError(signal);
        if (performance.now() - last >= YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (signal?.aborted) throw abortError(signal);
          last = performance.now();
        }
      }
      lists.push(list);
    }
    if (signal?.aborted) throw abortError(signal);
    let series = mergeSeriesLists(lists);
    if (hints?.limit !== undefined && hints.limit > 0 && series.length > hints.limit) {
      series = series.slice(0, hints.limit);
    }
    return { series, warnings: [] };
  }

  async labelNames(matchers: readonly Matcher[] = []): Promise<LabelQueryResult> {
    this.check();
    const out = new Set<string>();
    for (const src of this.overlapping()) for (const n of src.labelNames(matchers)) out.add(n);
    return { values: [...out].sort(), warnings: [] };
  }

  async labelValues(name: string, matchers: readonly Matcher[] = []): Promise<LabelQueryResult> {
    this.check();
    const out = new Set<string>();
    for (const src of this.overlapping()) for (const v of src.labelValues(name, matchers)) out.add(v);
    out.delete("");
    return { values: [...out].sort(), warnings: [] };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private overlapping(): QuerySource[] {
    return this.sources.filter((s) => !(s.maxT < this.mint || s.minT > this.maxt));
  }

  private check(): void {
    if (this.closed) throw new Error("querier is closed");
  }
}
