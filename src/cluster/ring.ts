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

/** The id of an owner set, added to `sets` when new: many ring positions share few sets. */
function internSet(set: number[], sets: number[][], index: Map<string, number>, qualifier = ""): number {
  const key = set.join(",") + qualifier;
  let id = index.get(key);
  if (id === undefined) {
    id = sets.length;
    index.set(key, id);
    sets.push(set);
  }
  return id;
}

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
  /**
   * Per owner set, the groups that must each reach a write quorum: the set itself on a plain
   * ring; on a union ring the read ring's owners and the future ring's owners separately.
   */
  private readonly groupsOf: readonly (readonly (readonly string[])[])[];

  /**
   * A ring of `members`; or, with `union`, the ring whose owner set at every position is the
   * union of the two rings' owner sets there (the first ring's owners first). The union ring is
   * the write ring while members join or leave: writes reach both the owners that readers use
   * and the owners that will take over.
   */
  constructor(members: readonly RingMember[], replicationFactor: number, union?: readonly [Ring, Ring]) {
    if (union) {
      const [a, b] = union;
      const ids = [...new Set([...a.ids, ...b.ids])].sort();
      const index = new Map(ids.map((id, i) => [id, i]));
      this.ids = ids;
      this.replicationFactor = Math.max(a.replicationFactor, b.replicationFactor);
      this.tokens = mergedTokens(a, b);
      this.positionSet = new Uint32Array(this.tokens.length);
      const setIndex = new Map<string, number>();
      const sets: number[][] = [];
      const groups: (readonly string[])[][] = [];
      for (let i = 0; i < this.tokens.length; i++) {
        const t = this.tokens[i]!;
        const set: number[] = [];
        const ao = a.owners(t);
        const bo = b.owners(t);
        for (const id of ao) set.push(index.get(id)!);
        for (const id of bo) if (!set.includes(index.get(id)!)) set.push(index.get(id)!);
        // The same union can come from different splits ({A,B,C}+{A,B,D} and {A,B,C}+{A,C,D}),
        // and the split decides the quorum, so it is part of the set's identity.
        const id = internSet(set, sets, setIndex, `|${ao.join()}|${bo.join()}`);
        if (id === groups.length) groups.push([ao, bo]);
        this.positionSet[i] = id;
      }
      this.sets = sets;
      this.setIdsOf = sets.map((s) => s.map((i) => this.ids[i]!));
      this.groupsOf = groups;
      return;
    }
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
      this.positionSet[i] = internSet(set, sets, setIndex);
    }
    this.sets = sets;
    this.setIdsOf = sets.map((s) => s.map((i) => this.ids[i]!));
    this.groupsOf = this.setIdsOf.map((s) => [s]);
  }

  /** The ring's token positions, sorted (a view; do not modify). */
  tokenPositions(): Uint32Array {
    return this.tokens;
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

  /**
   * The groups of an owner set that must each acknowledge a write with a quorum of their own.
   * While members join or leave, a quorum of the union could be made of old owners only (then
   * lost once readers move to the new ones) or new owners only (not yet read); a quorum of each
   * keeps the write readable before and after the change.
   */
  quorumGroups(setId: number): readonly (readonly string[])[] {
    return this.groupsOf[setId] ?? [];
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
   * The part of the hash space where fewer than `need` (capped by the set's size) of the owners
   * are in `available`, and the owners missing there. Used to tell a query which data it could
   * not see: with need 1, ranges no replica answered for; with the read quorum, ranges where
   * the replicas that answered may all have missed an acknowledged write.
   */
  uncovered(available: ReadonlySet<string>, need = 1): { fraction: number; missing: string[] } {
    let width = 0;
    const missing = new Set<string>();
    const setOk = this.sets.map((set) => set.filter((m) => available.has(this.ids[m]!)).length >= Math.min(need, set.length));
    this.forEachRange((w, set, id) => {
      if (setOk[id]) return;
      width += w;
      for (const m of set) if (!available.has(this.ids[m]!)) missing.add(this.ids[m]!);
    });
    return { fraction: width / RING_SIZE, missing: [...missing].sort() };
  }
}

/** The sorted, de-duplicated token positions of two rings. */
function mergedTokens(a: Ring, b: Ring): Uint32Array {
  const all = new Uint32Array(a.tokenPositions().length + b.tokenPositions().length);
  all.set(a.tokenPositions());
  all.set(b.tokenPositions(), a.tokenPositions().length);
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  return all.slice(0, n);
}

/** An inclusive interval [lo, hi] of 32-bit ring hashes. */
export type HashInterval = readonly [lo: number, hi: number];

/**
 * Walks the hash space in the pieces where both rings have constant owner sets and calls fn with
 * each piece (inclusive intervals; the piece that wraps past 2^32 comes as two) and its owners in
 * either ring. Used to find which ranges move when the membership changes.
 */
export function compareRings(
  a: Ring,
  b: Ring,
  fn: (interval: HashInterval, aOwners: readonly string[], bOwners: readonly string[]) => void,
): void {
  const t = mergedTokens(a, b);
  const n = t.length;
  if (n === 0) return;
  for (let i = 0; i < n; i++) {
    const hi = t[i]!;
    const ao = a.owners(hi);
    const bo = b.owners(hi);
    if (i === 0) {
      // (last token, 2^32) wraps around to [0, first token].
      if (t[n - 1]! < RING_SIZE - 1) fn([t[n - 1]! + 1, RING_SIZE - 1], ao, bo);
      fn([0, hi], ao, bo);
    } else fn([t[i - 1]! + 1, hi], ao, bo);
  }
}

/**
 * A set of hash intervals with a fast membership test (sorted, merged, binary search), used as
 * the filter of a transfer.
 */
export class HashRanges {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;

  constructor(intervals: readonly HashInterval[]) {
    const sorted = [...intervals].sort((x, y) => x[0] - y[0]);
    const lo: number[] = [];
    const hi: number[] = [];
    for (const [l, h] of sorted) {
      if (lo.length > 0 && l <= hi[hi.length - 1]! + 1) hi[hi.length - 1] = Math.max(hi[hi.length - 1]!, h);
      else {
        lo.push(l);
        hi.push(h);
      }
    }
    this.lo = Uint32Array.from(lo);
    this.hi = Uint32Array.from(hi);
  }

  get count(): number {
    return this.lo.length;
  }

  has(hash: number): boolean {
    const h = hash >>> 0;
    let a = 0;
    let b = this.lo.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.lo[mid]! <= h) a = mid + 1;
      else b = mid;
    }
    return a > 0 && h <= this.hi[a - 1]!;
  }

  /** Whether [lo, hi] lies entirely inside the set. */
  covers(lo: number, hi: number): boolean {
    const l = lo >>> 0;
    let a = 0;
    let b = this.lo.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.lo[mid]! <= l) a = mid + 1;
      else b = mid;
    }
    return a > 0 && l <= this.hi[a - 1]! && hi >>> 0 <= this.hi[a - 1]!;
  }

  /** Fraction of the hash space covered. */
  fraction(): number {
    let w = 0;
    for (let i = 0; i < this.lo.length; i++) w += this.hi[i]! - this.lo[i]! + 1;
    return w / RING_SIZE;
  }

  /** Flat [lo, hi, lo, hi, ...] for the wire. */
  toWire(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.lo.length; i++) out.push(this.lo[i]!, this.hi[i]!);
    return out;
  }

  static fromWire(flat: unknown): HashRanges {
    if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error("malformed hash ranges");
    const out: [number, number][] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const lo = Number(flat[i]);
      const hi = Number(flat[i + 1]);
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi >= RING_SIZE || lo > hi) throw new Error(`malformed hash range [${flat[i]}, ${flat[i + 1]}]`);
      out.push([lo, hi]);
    }
    return new HashRanges(out);
  }
}
