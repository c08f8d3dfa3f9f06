/**
 * Postings: for every label name and value, the sorted ids of the series that carry that pair.
 * Selection with matchers follows Prometheus: a matcher that matches the empty string also
 * selects series that lack the label, so it is evaluated as "all series minus those whose value
 * for the label does not match"; regexes are fully anchored (Matcher does that).
 */
import type { Matcher } from "../model/index.ts";

function intersect(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

function subtract(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  if (b.length === 0) return Array.from(a);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}

/**
 * Union of many sorted lists (deduplicated, sorted). When the ids span a range not much larger
 * than their count (a regex over many values of a label: thousands of ids out of tens of
 * thousands), a byte map over that range is marked and read back in order, which is linear;
 * otherwise the ids are sorted.
 */
export function unionMany(lists: readonly ArrayLike<number>[]): number[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return Array.from(lists[0]!);
  let total = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lists) {
    if (l.length === 0) continue;
    total += l.length;
    if (l[0]! < lo) lo = l[0]!;
    if (l[l.length - 1]! > hi) hi = l[l.length - 1]!;
  }
  if (total === 0) return [];
  const span = hi - lo + 1;
  if (span <= 16 * total) {
    const seen = new Uint8Array(span);
    for (const l of lists) for (let i = 0; i < l.length; i++) seen[l[i]! - lo] = 1;
    const out: number[] = [];
    for (let k = 0; k < span; k++) if (seen[k] === 1) out.push(k + lo);
    return out;
  }
  const all = new Float64Array(total);
  let k = 0;
  for (const l of lists) for (let i = 0; i < l.length; i++) all[k++] = l[i]!;
  all.sort();
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) out.push(all[i]!);
  return out;
}

/** Read side shared by the head's postings and a block's postings. */
export interface PostingsReader {
  /** All series ids, sorted. */
  all(): readonly number[];
  /** Values of a label name (unsorted), or none. */
  values(name: string): Iterable<string>;
  /** Sorted ids of the series with this pair; read-only (may be the index's own storage). */
  get(name: string, value: string): ArrayLike<number>;
  names(): Iterable<string>;
  /** Values of a label starting with `prefix` (optional: a sorted index answers it fast). */
  valuesWithPrefix?(name: string, prefix: string): Iterable<string>;
}

/** Series ids matching every matcher, sorted ascending. */
export function postingsForMatchers(p: PostingsReader, matchers: readonly Matcher[]): number[] {
  let result: number[] | null = null;
  const negatives: number[][] = [];
  // Positive matchers (not matching "") narrow the set; apply the cheapest ("=") first.
  const ordered = [...matchers].sort((a, b) => rank(a) - rank(b));
  for (const m of ordered) {
    if (!m.matchesEmpty()) {
      const list = m.type === "=" ? p.get(m.name, m.value) : unionMany(matchingValueLists(p, m, true));
      result = result === null ? Array.from(list) : intersect(result, list);
      if (result.length === 0) return result;
    } else {
      // Matches "": drop the series whose value for this label exists and does not match.
      negatives.push(unionMany(matchingValueLists(p, m, false)));
    }
  }
  if (result === null) result = p.all().slice();
  for (const n of negatives) {
    result = subtract(result, n);
    if (result.length === 0) break;
  }
  return result;
}

function rank(m: Matcher): number {
  if (m.type === "=" && m.value !== "") return 0;
  if (m.type === "=~") return 1;
  return 2;
}

/** Lists for values of m.name that match (want=true) or do not match (want=false). */
function matchingValueLists(p: PostingsReader, m: Matcher, want: boolean): ArrayLike<number>[] {
  const lists: ArrayLike<number>[] = [];
  if (m.type === "=~" || m.type === "!~") {
    // R: the values the regex itself matches; the caller wants R or its complement.
    const wantR = (m.type === "=~") === want;
    // The matcher's compiled regex knows its literal set and prefix (found without running it).
    const re = m.re!;
    const alternatives = re.literals();
    if (wantR && alternatives !== null) {
      for (const v of alternatives) {
        const l = p.get(m.name, v);
        if (l.length > 0) lists.push(l);
      }
      return lists;
    }
    if (re.prefix !== "") {
      const pre = re.prefix;
      if (wantR) {
        const candidates = p.valuesWithPrefix ? p.valuesWithPrefix(m.name, pre) : p.values(m.name);
        for (const v of candidates) if (v.startsWith(pre) && m.matches(v) === want) lists.push(p.get(m.name, v));
      } else {
        // Values without the prefix are outside R for sure: no need to run the regex on them.
        for (const v of p.values(m.name)) if (!v.startsWith(pre) || m.matches(v) === want) lists.push(p.get(m.name, v));
      }
      return lists;
    }
  }
  for (const v of p.values(m.name)) if (m.matches(v) === want) lists.push(p.get(m.name, v));
  return lists;
}

/**
 * The head's mutable postings. Series ids grow, so appending keeps every list sorted. A value
 * held by a single series (ids, pod names, `le` of one histogram…) stores the bare id instead of
 * a one-element array: that is most values in a high-cardinality head.
 */
export class MemPostings implements PostingsReader {
  private readonly byName = new Map<string, Map<string, number | number[]>>();
  private allIds: number[] = [];
  private static readonly EMPTY: readonly number[] = [];

  add(id: number, labels: readonly { name: string; value: string }[]): void {
    pushSorted(this.allIds, id);
    for (const l of labels) {
      let byValue = this.byName.get(l.name);
      if (byValue === undefined) {
        byValue = new Map();
        this.byName.set(l.name, byValue);
      }
      const list = byValue.get(l.value);
      if (list === undefined) byValue.set(l.value, id);
      else if (typeof list === "number") {
        if (list !== id) byValue.set(l.value, list < id ? [list, id] : [id, list]);
      } else pushSorted(list, id);
    }
  }

  /** Removes a set of series ids (garbage collection after a head cut). */
  removeMany(ids: ReadonlySet<number>, labelsOf: (id: number) => readonly { name: string; value: string }[]): void {
    if (ids.size === 0) return;
    const touched = new Map<string, Set<string>>();
    for (const id of ids) {
      for (const l of labelsOf(id)) {
        let s = touched.get(l.name);
        if (s === undefined) touched.set(l.name, (s = new Set()));
        s.add(l.value);
      }
    }
    for (const [name, values] of touched) {
      const byValue = this.byName.get(name);
      if (byValue === undefined) continue;
      for (const v of values) {
        const list = byValue.get(v);
        if (list === undefined) continue;
        if (typeof list === "number") {
          if (ids.has(list)) byValue.delete(v);
          continue;
        }
        const kept = list.filter((x) => !ids.has(x));
        if (kept.length === 0) byValue.delete(v);
        else byValue.set(v, kept.length === 1 ? kept[0]! : kept);
      }
      if (byValue.size === 0) this.byName.delete(name);
    }
    this.allIds = this.allIds.filter((x) => !ids.has(x));
  }

  all(): readonly number[] {
    return this.allIds;
  }
  values(name: string): Iterable<string> {
    return this.byName.get(name)?.keys() ?? [];
  }
  get(name: string, value: string): readonly number[] {
    const l = this.byName.get(name)?.get(value);
    if (l === undefined) return MemPostings.EMPTY;
    return typeof l === "number" ? [l] : l;
  }
  names(): Iterable<string> {
    return this.byName.keys();
  }
  valueCount(name: string): number {
    return this.byName.get(name)?.size ?? 0;
  }
  /** [name, value, seriesCount] for every pair (status page). */
  *pairs(): Iterable<[string, string, number]> {
    for (const [name, byValue] of this.byName) {
      for (const [v, l] of byValue) yield [name, v, typeof l === "number" ? 1 : l.length];
    }
  }
}

function pushSorted(list: number[], id: number): void {
  const n = list.length;
  if (n === 0 || list[n - 1]! < id) {
    list.push(id);
    return;
  }
  // Rare (replay of an older checkpoint order): insert in place.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== id) list.splice(lo, 0, id);
}
