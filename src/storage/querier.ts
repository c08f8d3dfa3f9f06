/** A Querier over a fixed set of sources (blocks and the head) for [mint, maxt]. */
import type { LabelQueryResult, Matcher, Querier, SelectHints, SeriesSet } from "../model/index.ts";
import { mergeSeriesLists } from "./merge.ts";
import type { QuerySource } from "./source.ts";

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
    const lists = [];
    for (const src of this.sources) {
      if (src.maxT < mint || src.minT > maxt) continue;
      lists.push(src.select(matchers, mint, maxt, labelsOnly));
    }
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
