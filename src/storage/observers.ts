/**
 * Durations and sizes the storage measures as they happen, for the node's own metrics (the
 * telemetry room hands in summaries and histograms; counts are in TSDBStats instead).
 */
import { nopObserver, type Observer } from "../model/index.ts";

export interface TSDBObservers {
  /** Seconds per block written: a head range persisted, blocks merged or rewritten; failed ones too. */
  compactionSeconds: Observer;
  /** Per chunk of a block persisted from the head (a block's first compaction): its encoded bytes. */
  firstCompactionChunkBytes: Observer;
  /** …its sample count. */
  firstCompactionChunkSamples: Observer;
  /** …its time range in milliseconds (what Prometheus's `_chunk_range_seconds` observes, despite the name). */
  firstCompactionChunkRangeMs: Observer;
  /** Seconds to drop a persisted range from the head's memory. */
  headGCSeconds: Observer;
  /** Seconds to checkpoint the WAL and remove what the checkpoint replaces (a WAL truncation). */
  walTruncateSeconds: Observer;
  /** Seconds per fsync of a WAL segment. */
  walFsyncSeconds: Observer;
}

export function withDefaultObservers(o: Partial<TSDBObservers> = {}): TSDBObservers {
  return {
    compactionSeconds: o.compactionSeconds ?? nopObserver,
    firstCompactionChunkBytes: o.firstCompactionChunkBytes ?? nopObserver,
    firstCompactionChunkSamples: o.firstCompactionChunkSamples ?? nopObserver,
    firstCompactionChunkRangeMs: o.firstCompactionChunkRangeMs ?? nopObserver,
    headGCSeconds: o.headGCSeconds ?? nopObserver,
    walTruncateSeconds: o.walTruncateSeconds ?? nopObserver,
    walFsyncSeconds: o.walFsyncSeconds ?? nopObserver,
  };
}
