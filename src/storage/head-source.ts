/** The head seen as a query source. */
import { compareLabels, labelsHash32, type HashFilter, type Matcher } from "../model/index.ts";
import type { Head, MemSeries } from "./head.ts";
import { SampleArena } from "./sample-arena.ts";
import type { SourceSeries } from "./merge.ts";
import { namesOf, valuesOf, type QuerySource } from "./source.ts";

const NO_SAMPLES = new Float64Array(0);

/** Selectors whose sorted series lists are kept, and the longest list kept. */
const SORTED_CACHE_ENTRIES = 64;
const SORTED_CACHE_MAX_SERIES = 100_000;

export class HeadSource implements QuerySource {
  private readonly sorted = new Map<string, { version: number; list: readonly MemSeries[] }>();

  constructor(private readonly head: Head) {}

  get minT(): number {
    return this.head.minTime();
  }
  get maxT(): number {
    return this.head.maxT;
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false, hashes?: HashFilter): SourceSeries[] {
    return [...this.selectIter(matchers, mint, maxt, labelsOnly, hashes)];
  }

  /**
   * Matching series sorted by labels first, then read one by one. Between two series the head
   * may take appends (the querier yields): a later series may then show newer samples.
   */
  *selectIter(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false, hashes?: HashFilter): Generator<SourceSeries> {
    const list = this.sortedMatching(matchers);
    const arena = labelsOnly ? null : new SampleArena();
    for (let k = 0; k < list.length; k++) {
      const s = list[k]!;
      if (s.removed) continue;
      // A head series keeps its label object, whose ring hash labelsHash32 remembers.
      if (hashes !== undefined && !hashes.has(labelsHash32(s.labels))) continue;
      if (arena === null) {
        if (s.minTime() <= maxt && s.lastT >= mint) yield { labels: s.labels, timestamps: NO_SAMPLES, values: NO_SAMPLES };
        continue;
      }
      const r = this.head.readSamples(s, mint, maxt, arena);
      if (r !== null) yield { labels: s.labels, timestamps: r.timestamps, values: r.values };
    }
  }

  /**
   * The series matching `matchers`, sorted by labels. Dashboards repeat their selectors, and
   * the head's series set changes rarely (new series appear, old ones are collected): the
   * sorted list is kept per selector until the head's series set changes.
   */
  private sortedMatching(matchers: readonly Matcher[]): readonly MemSeries[] {
    const key = matchers.map((m) => m.toString()).join("\u0000");
    const version = this.head.seriesVersion;
    const hit = this.sorted.get(key);
    if (hit !== undefined && hit.version === version) {
      this.sorted.delete(key);
      this.sorted.set(key, hit);
      return hit.list;
    }
    const list: MemSeries[] = [];
    const refs = this.head.matchingRefs(matchers);
    for (let k = 0; k < refs.length; k++) {
      const s = this.head.seriesByRef(refs[k]!);
      if (s !== undefined) list.push(s);
    }
    list.sort((a, b) => compareLabels(a.labels, b.labels));
    if (list.length <= SORTED_CACHE_MAX_SERIES) {
      this.sorted.set(key, { version, list });
      if (this.sorted.size > SORTED_CACHE_ENTRIES) this.sorted.delete(this.sorted.keys().next().value as string);
    }
    return list;
  }

  labelNames(matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.head.postings.names();
    return namesOf(this.labelSets(matchers));
  }

  labelValues(name: string, matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.head.postings.values(name);
    return valuesOf(this.labelSets(matchers), name);
  }

  private *labelSets(matchers: readonly Matcher[]) {
    for (const ref of this.head.matchingRefs(matchers)) {
      const s = this.head.seriesByRef(ref);
      if (s !== undefined) yield s.labels;
    }
  }
}
