/**
 * The head's label-hash → series-ref table: open addressing with linear probing on two typed
 * arrays (about 16 bytes per series instead of a Map entry's ~170). Several series may share a
 * hash — each has its own slot and the caller compares labels — so collisions are just probes.
 */
const EMPTY = 0;
const DELETED = -1;

export class SeriesTable {
  private hashes: Uint32Array;
  private refs: Int32Array;
  private mask: number;
  private live = 0;
  private used = 0;

  constructor(capacity = 1024) {
    const cap = 1 << Math.ceil(Math.log2(Math.max(16, capacity)));
    this.hashes = new Uint32Array(cap);
    this.refs = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.live;
  }

  /** The first ref with this hash for which `matches(ref)` holds, or 0. Refs must be > 0. */
  find(hash: number, matches: (ref: number) => boolean): number {
    const hashes = this.hashes;
    const refs = this.refs;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const r = refs[i]!;
      if (r === EMPTY) return 0;
      if (r !== DELETED && hashes[i] === hash >>> 0 && matches(r)) return r;
    }
  }

  insert(hash: number, ref: number): void {
    if ((this.used + 1) * 10 > this.refs.length * 7) this.rehash(Math.max(this.live + 1, 8) * 2);
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const r = this.refs[i]!;
      if (r === EMPTY || r === DELETED) {
        if (r === EMPTY) this.used++;
        this.hashes[i] = hash;
        this.refs[i] = ref;
        this.live++;
        return;
      }
    }
  }

  remove(hash: number, ref: number): void {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const r = this.refs[i]!;
      if (r === EMPTY) return;
      if (r === ref) {
        this.refs[i] = DELETED;
        this.live--;
        return;
      }
    }
  }

  private rehash(minLive: number): void {
    const oldH = this.hashes;
    const oldR = this.refs;
    const cap = 1 << Math.ceil(Math.log2(Math.max(16, minLive * 2)));
    this.hashes = new Uint32Array(cap);
    this.refs = new Int32Array(cap);
    this.mask = cap - 1;
    this.live = 0;
    this.used = 0;
    for (let i = 0; i < oldR.length; i++) {
      const r = oldR[i]!;
      if (r > 0) this.insert(oldH[i]!, r);
    }
  }
}
