/**
 * The consistent-hash ring. Every member holds virtual tokens on a 32-bit ring; a hash is owned
 * by the first R distinct members found clockwise from it (the token at or after the hash, then
 * onwards, wrapping). The owner set of every token range is computed once per ring, so a lookup
 * is one binary search.
 */
import { labelsHash32, type Labels } from "../model/index.ts";

export interface RingMember {
  readonly id: string;
  readonly tokens: Uint32Array;
}

/** Deterministic tokens from a node id: the same node gets the same tokens after a restart. */
export function nodeTokens(id: string, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = Bun.hash.xxHash32(`${id}#${i}`, 0x5ea1) >>> 0;
  out.sort();
  return out;
}

const RING_SIZE = 2 ** 32;

export class Ring {
  /** Member ids, by member index. */
  readonly ids: readonly string[];
  /** The effective replication factor (configured, capped by the member count). */
  readonly replicationFactor: number;
  private readonly tokens: Uint32Array;
  /** Owner-set id of each ring position. */
  private readonly positionSet: Uint32Array;
  /** Owner sets as member indexes; the first is the primary owner. */
  readonly sets: readonly (readonly number[])[];
  private readonly setIdsOf: readonly (readonly string[])[];

  constructor(members: readonly RingMember[], replicationFactor: number) {
    const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.ids = sorted.map((m) => m.id);
    this.replicationFactor = Math.max(0, Math.min(replicationFactor, sorted.length));
    const entries: { token: number; member: number }[] = [];
    sorted.forEach((m, idx) => {
      for (const t of m.tokens) entries.push({ token: t, member: idx });
    });
    entries.sort((a, b) => a.token - b.token || a.member - b.member);
    const n = entries.length;
    this.tokens = new Uint32Array(n);
    const ownerAt = new Uint32Array(n);
    entries.forEach((e, i) => {
      this.tokens[i] = e.token;
      ownerAt[i] = e.member;
    });
    this.positionSet = new Uint32Array(n);
    const setIndex = new Map<string, number>();
    const sets: number[][] = [];
    const R = this.replicationFactor;
    for (let i = 0; i < n; i++) {
      const set: number[] = [];
      for (let j = 0; j < n && set.length < R; j++) {
        const m = ownerAt[(i + j) % n]!;
        if (!set.includes(m)) set.push(m);
      }
      const key = set.join(",");
      let id = setIndex.get(key);
      if (id === undefined) {
        id = sets.length;
        setIndex.set(key, id);
        sets.push(set);
      }
      this.positionSet[i] = id;
    }
    this.sets = sets;
    this.setIdsOf = sets.map((s) => s.map((i) => this.ids[i]!));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Ring position owning a hash: the first token >= hash, wrapping to 0. */
  private position(hash: number): number {
    const t = this.tokens;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === t.length ? 0 : lo;
  }

  /** The owner-set id for a hash (index into `sets`); -1 on an empty ring. */
  ownerSetOf(hash: number): number {
    if (this.tokens.length === 0) return -1;
    return this.positionSet[this.position(hash >>> 0)]!;
  }

  /** Owner ids of an owner-set id. */
  setMembers(setId: number): readonly string[] {
    return this.setIdsOf[setId] ?? [];
  }

  owners(hash: number): readonly string[] {
    return this.setMembers(this.ownerSetOf(hash));
  }

  ownersOfLabels(labels: Labels): readonly string[] {
    return this.owners(labelsHash32(labels));
  }

  /** The single owner (for scrape targets and rule groups): the first live member clockwise. */
  primaryOf(hash: number): string | undefined {
    return this.owners(hash)[0];
  }

  /**
   * For every member, the fraction of the hash space it holds as primary owner and as any of
   * the R replicas.
   */
  shares(): Map<string, { primary: number; replica: number }> {
    const out = new Map<string, { primary: number; replica: number }>();
    for (const id of this.ids) out.set(id, { primary: 0, replica: 0 });
    this.forEachRange((width, set) => {
      set.forEach((m, k) => {
        const s = out.get(this.ids[m]!)!;
        if (k === 0) s.primary += width / RING_SIZE;
        s.replica += width / RING_SIZE;
      });
    });
    return out;
  }

  /** Calls fn with the width of each token range and its owner set. */
  forEachRange(fn: (width: number, set: readonly number[], setId: number) => void): void {
    const t = this.tokens;
    const n = t.length;
    for (let i = 0; i < n; i++) {
      const prev = i === 0 ? t[n - 1]! - RING_SIZE : t[i - 1]!;
      const width = t[i]! - prev;
      const id = this.positionSet[i]!;
      if (width > 0) fn(width, this.sets[id]!, id);
    }
  }

  /**
   * The part of the hash space none of whose owners is in `available`, and the owners missing
   * there. Used to tell a query which data it could not see.
   */
  uncovered(available: ReadonlySet<string>): { fraction: number; missing: string[] } {
    let width = 0;
    const missing = new Set<string>();
    const setOk = this.sets.map((set) => set.some((m) => available.has(this.ids[m]!)));
    this.forEachRange((w, set, id) => {
      if (setOk[id]) return;
      width += w;
      for (const m of set) missing.add(this.ids[m]!);
    });
    return { fraction: width / RING_SIZE, missing: [...missing].sort() };
  }
}
