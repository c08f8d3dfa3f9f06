/** What the querier needs from each part of the storage (a block or the head). */
import type { HashFilter, Matcher } from "../model/index.ts";
import type { SourceSeries } from "./merge.ts";

export interface QuerySource {
  readonly minT: number;
  readonly maxT: number;
  /**
   * Series with at least one sample in [mint, maxt], sorted by labels. With `labelsOnly`, the
   * sample arrays are empty and "has samples" is judged from chunk time ranges (no decoding),
   * as Prometheus does for the series API. With `hashes`, only series whose ring hash
   * (labelsHash32) it holds, judged before any sample is read.
   */
  select(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly?: boolean, hashes?: HashFilter): SourceSeries[];
  /**
   * The same series one at a time, decoded as they are asked for, so that the querier can give
   * the event loop a turn and stop a timed-out query between series. Optional: `select` is used
   * when a source has no iterator.
   */
  selectIter?(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly?: boolean, hashes?: HashFilter): Iterable<SourceSeries>;
  labelNames(matchers: readonly Matcher[]): Iterable<string>;
  labelValues(name: string, matchers: readonly Matcher[]): Iterable<string>;
}

/** Label names / values of a set of series (used when matchers narrow the answer). */
export function namesOf(labelSets: Iterable<readonly { name: string }[]>): Set<string> {
  const out = new Set<string>();
  for (const ls of labelSets) for (const l of ls) out.add(l.name);
  return out;
}

export function valuesOf(labelSets: Iterable<readonly { name: string; value: string }[]>, name: string): Set<string> {
  const out = new Set<string>();
  for (const ls of labelSets) for (const l of ls) if (l.name === name) out.add(l.value);
  return out;
}
