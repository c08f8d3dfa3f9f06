/**
 * dropSeries: removing whole series (all time) from the head, the backfill store and the blocks,
 * durably — head deletions go to the WAL as tombstones, backfill-store deletions to the backfill
 * log, block deletions to the blocks' tombstone files (fsync'd) — so a restart does not bring
 * them back. Used by the cluster to drop series a node no longer owns after a hand-off.
 */
import { labelsHash32, labelsKey, type Labels } from "../model/index.ts";
import type { Backfiller } from "./backfill.ts";
import type { Block } from "./block.ts";
import type { SeriesFilter } from "./export.ts";
import type { Head } from "./head.ts";
import type { WAL } from "./wal.ts";

export interface DropHost {
  readonly head: Head;
  readonly blocks: readonly Block[];
  readonly wal: WAL;
  readonly backfiller: Backfiller;
}

/**
 * Applies the drop; returns the distinct series removed and the blocks that now hold tombstones
 * (the caller rewrites them). Must run under the database's exclusive lock (no flush, head cut
 * or compaction in between); appends may go on.
 */
export async function dropMatchingSeries(db: DropHost, filter: SeriesFilter): Promise<{ count: number; blocks: Block[] }> {
  const gone = new Set<string>();
  const refs: number[] = [];
  // Scans yield every few thousand series so that a big database does not stall other work.
  let seen = 0;
  const pace = async () => {
    if (++seen % 20_000 === 0) await new Promise<void>((r) => setImmediate(r));
  };
  for (const s of [...db.head.allSeries()]) {
    await pace();
    if (s.removed || !filter(s.labels, labelsHash32(s.labels))) continue;
    refs.push(s.ref);
    gone.add(labelsKey(s.labels));
  }
  if (refs.length > 0) {
    db.wal.logTombstones(refs, -Infinity, Infinity);
    db.wal.fsyncNow();
    db.head.deleteRange(refs, -Infinity, Infinity);
    // Garbage-collects the now empty series (postings included) without dropping anything else.
    db.head.truncateBefore(db.head.minValidTime);
  }
  const keysByStore = db.backfiller.stores().map((store) => {
    const keys: string[] = [];
    for (const s of store.sortedSeries()) {
      if (!filter(s.labels, labelsHash32(s.labels))) continue;
      keys.push(s.key);
      gone.add(s.key);
    }
    return keys;
  });
  if (keysByStore.some((k) => k.length > 0)) {
    // One drop record for every label set held in any store.
    const seen = new Set<string>();
    const all: Labels[] = [];
    db.backfiller.stores().forEach((store, i) => {
      for (const k of keysByStore[i]!) {
        if (seen.has(k)) continue;
        seen.add(k);
        all.push(store.get(k)!.labels);
      }
    });
    db.backfiller.log.logDrop(all);
    db.backfiller.stores().forEach((store, i) => store.remove(keysByStore[i]!));
  }
  const touched: Block[] = [];
  for (const b of db.blocks) {
    const ids: number[] = [];
    for (let id = 0; id < b.numSeries; id++) {
      await pace();
      const labels = b.labelsOf(id);
      if (!filter(labels, labelsHash32(labels))) continue;
      ids.push(id);
      gone.add(labelsKey(labels));
    }
    if (ids.length > 0) {
      b.addTombstones(ids, -Infinity, Infinity);
      touched.push(b);
    }
  }
  return { count: gone.size, blocks: touched };
}
