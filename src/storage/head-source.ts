/** The head seen as a query source. */
import { compareLabels, type Matcher } from "../model/index.ts";
import type { Head } from "./head.ts";
import { SampleArena } from "./sample-arena.ts";
import type { SourceSeries } from "./merge.ts";
import { namesOf, valuesOf, type QuerySource } from "./source.ts";

const NO_SAMPLES = new Float64Array(0);

export class HeadSource implements QuerySource {
  constructor(private readonly head: Head) {}

  get minT(): number {
    return this.head.minTime();
  }
  get maxT(): number {
    return this.head.maxT;
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false): SourceSeries[] {
    const out: SourceSeries[] = [];
    const arena = new SampleArena();
    for (const ref of this.head.matchingRefs(matchers)) {
      const s = this.head.seriesByRef(ref);
      if (s === undefined) continue;
      if (labelsOnly) {
        if (s.minTime() <= maxt && s.lastT >= mint) out.push({ labels: s.labels, timestamps: NO_SAMPLES, values: NO_SAMPLES });
        continue;
      }
      const r = this.head.readSamples(s, mint, maxt, arena);
      if (r !== null) out.push({ labels: s.labels, timestamps: r.timestamps, values: r.values });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
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
