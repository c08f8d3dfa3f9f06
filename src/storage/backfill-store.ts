/**
 * The in-memory store of backfilled samples (Prometheus's out-of-order head, simplified): per
 * series one sorted column of timestamps and one of value bits, merged on insert so reads are
 * plain slices. It is a query source of its own, merged with the head and the blocks by the
 * querier. It is written out as blocks (see backfill.ts) when it grows past a
 * size and on close; until then the backfill log (backfill-log.ts) makes it durable.
 */
import { compareLabels, labelsHash32, type HashFilter, type Labels, type Matcher } from "../model/index.ts";
import type { SourceSeries } from "./merge.ts";
import { MemPostings, postingsForMatchers } from "./postings.ts";
import { namesOf, valuesOf, type QuerySource } from "./source.ts";

const NO_SAMPLES = new Float64Array(0);

export class BackfillSeries {
  ts: Float64Array;
  /** Value bits as (lo, hi) pairs, two words per sample. */
  words: Uint32Array;
  n = 0;

  constructor(
    readonly id: number,
    readonly labels: Labels,
    readonly key: string,
    capacity: number,
  ) {
    this.ts = new Float64Array(new ArrayBuffer(capacity * 8));
    this.words = new Uint32Array(new ArrayBuffer(capacity * 8));
  }

  get minT(): number {
    return this.n > 0 ? this.ts[0]! : Infinity;
  }
  get maxT(): number {
    return this.n > 0 ? this.ts[this.n - 1]! : -Infinity;
  }

  /** Index of the first sample at or after t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    const ts = this.ts;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Merges sorted, duplicate-free samples in. On an equal timestamp the sample already held is
   * kept (identical or not). Returns how many were added. Samples landing near the end (late
   * writes) only move the samples after them: the merge runs backwards in place.
   */
  insert(ts: Float64Array, words: Uint32Array, m: number): number {
    if (m === 0) return 0;
    const n = this.n;
    if (n === 0 || ts[0]! > this.ts[n - 1]!) {
      // Appending after the end: the common case (a series pulled batch after batch).
      this.reserve(n + m);
      this.ts.set(ts.subarray(0, m), n);
      this.words.set(words.subarray(0, 2 * m), 2 * n);
      this.n = n + m;
      return m;
    }
    // Leave out the timestamps already held.
    let keep: Uint8Array | null = null;
    let add = m;
    for (let j = 0; j < m; j++) {
      const i = this.lowerBound(ts[j]!);
      if (i < n && this.ts[i] === ts[j]) {
        keep ??= new Uint8Array(m).fill(1);
        keep[j] = 0;
        add--;
      }
    }
    if (add === 0) return 0;
    this.reserve(n + add);
    const ot = this.ts;
    const ow = this.words;
    let i = n - 1;
    let k = n + add - 1;
    for (let j = m - 1; j >= 0; j--) {
      if (keep !== null && keep[j] === 0) continue;
      const t = ts[j]!;
      while (i >= 0 && ot[i]! > t) {
        ot[k] = ot[i]!;
        ow[2 * k] = ow[2 * i]!;
        ow[2 * k + 1] = ow[2 * i + 1]!;
        i--;
        k--;
      }
      ot[k] = t;
      ow[2 * k] = words[2 * j]!;
      ow[2 * k + 1] = words[2 * j + 1]!;
      k--;
    }
    this.n = n + add;
    return add;
  }

  private reserve(cap: number): void {
    if (cap <= this.ts.length) return;
    const size = Math.max(cap, this.ts.length * 2);
    // Built on ArrayBuffers: asking a fresh typed array for its buffer makes JavaScriptCore copy it.
    const nt = new Float64Array(new ArrayBuffer(size * 8));
    nt.set(this.ts.subarray(0, this.n));
    const nw = new Uint32Array(new ArrayBuffer(size * 8));
    nw.set(this.words.subarray(0, 2 * this.n));
    this.ts = nt;
    this.words = nw;
  }

  /** Copies of the samples in [mint, maxt] (bits preserved), or null. */
  read(mint: number, maxt: number): { timestamps: Float64Array; values: Float64Array } | null {
    const a = this.lowerBound(mint);
    let b = this.lowerBound(maxt);
    if (b < this.n && this.ts[b] === maxt) b++;
    if (a >= b) return null;
    const n = b - a;
    const ab = new ArrayBuffer(n * 16);
    const timestamps = new Float64Array(ab, 0, n);
    timestamps.set(this.ts.subarray(a, b));
    new Uint32Array(ab, n * 8, 2 * n).set(this.words.subarray(2 * a, 2 * b));
    return { timestamps, values: new Float64Array(ab, n * 8, n) };
  }
}

export class BackfillStore implements QuerySource {
  private readonly byKey = new Map<string, BackfillSeries>();
  private readonly byId = new Map<number, BackfillSeries>();
  readonly postings = new MemPostings();
  private nextId = 1;
  private sorted: BackfillSeries[] | null = null;
  samples = 0;
  minT = Infinity;
  maxT = -Infinity;

  get numSeries(): number {
    return this.byKey.size;
  }

  get(key: string): BackfillSeries | undefined {
    return this.byKey.get(key);
  }

  getOrCreate(labels: Labels, key: string, capacity: number): BackfillSeries {
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = new BackfillSeries(this.nextId++, labels, key, capacity);
      this.byKey.set(key, s);
      this.byId.set(s.id, s);
      this.postings.add(s.id, labels);
      this.sorted = null;
    }
    return s;
  }

  /** Inserts sorted, duplicate-free samples; returns how many were new. */
  insert(labels: Labels, key: string, ts: Float64Array, words: Uint32Array, m: number): number {
    if (m === 0) return 0;
    const s = this.getOrCreate(labels, key, m);
    const added = s.insert(ts, words, m);
    this.samples += added;
    if (ts[0]! < this.minT) this.minT = ts[0]!;
    if (ts[m - 1]! > this.maxT) this.maxT = ts[m - 1]!;
    return added;
  }

  /** Removes whole series; returns how many were held. */
  remove(keys: Iterable<string>): number {
    const ids = new Set<number>();
    for (const k of keys) {
      const s = this.byKey.get(k);
      if (s === undefined) continue;
      ids.add(s.id);
      this.byKey.delete(k);
      this.samples -= s.n;
    }
    if (ids.size === 0) return 0;
    this.postings.removeMany(ids, (id) => this.byId.get(id)!.labels);
    for (const id of ids) this.byId.delete(id);
    this.sorted = null;
    return ids.size;
  }

  /** Every series, sorted by labels (cached until a series is added or removed). */
  sortedSeries(): readonly BackfillSeries[] {
    if (this.sorted === null) this.sorted = [...this.byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
    return this.sorted;
  }

  /** The series matching all matchers. */
  matching(matchers: readonly Matcher[]): BackfillSeries[] {
    const out: BackfillSeries[] = [];
    for (const id of postingsForMatchers(this.postings, matchers)) {
      const s = this.byId.get(id);
      if (s !== undefined && s.n > 0) out.push(s);
    }
    return out;
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, labelsOnly = false, hashes?: HashFilter): SourceSeries[] {
    const out: SourceSeries[] = [];
    for (const id of postingsForMatchers(this.postings, matchers)) {
      const s = this.byId.get(id);
      if (s === undefined || s.n === 0) continue;
      if (hashes !== undefined && !hashes.has(labelsHash32(s.labels))) continue;
      if (labelsOnly) {
        if (s.minT <= maxt && s.maxT >= mint) out.push({ labels: s.labels, timestamps: NO_SAMPLES, values: NO_SAMPLES });
        continue;
      }
      const r = s.read(mint, maxt);
      if (r !== null) out.push({ labels: s.labels, timestamps: r.timestamps, values: r.values });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  labelNames(matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.postings.names();
    return namesOf(this.labelSets(matchers));
  }

  labelValues(name: string, matchers: readonly Matcher[]): Iterable<string> {
    if (matchers.length === 0) return this.postings.values(name);
    return valuesOf(this.labelSets(matchers), name);
  }

  private *labelSets(matchers: readonly Matcher[]) {
    for (const id of postingsForMatchers(this.postings, matchers)) {
      const s = this.byId.get(id);
      if (s !== undefined) yield s.labels;
    }
  }
}
