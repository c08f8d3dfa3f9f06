/**
 * Storage figures as metrics, read from the TSDB's stats() at every scrape, under Prometheus's
 * metric names where Prometheus has one (so existing dashboards work) and `shoal_` otherwise.
 */
import type { MetricFamily, MetricType } from "../model/index.ts";
import type { TSDBObservers, TSDBStats } from "../storage/index.ts";
import { exponentialBuckets, type Registry } from "./registry.ts";

function one(name: string, type: MetricType, help: string, value: number): MetricFamily {
  return { name, type, help, samples: [{ value }] };
}

export function tsdbFamilies(s: TSDBStats): MetricFamily[] {
  return [
    one("prometheus_tsdb_head_series", "gauge", "Total number of series in the head block.", s.headSeries),
    one("prometheus_tsdb_head_chunks", "gauge", "Total number of chunks in the head block.", s.headChunks),
    one("prometheus_tsdb_head_min_time", "gauge", "Minimum time bound of the head block (ms since epoch).", s.headMinTime),
    one("prometheus_tsdb_head_max_time", "gauge", "Maximum timestamp of the head block (ms since epoch).", s.headMaxTime),
    {
      name: "prometheus_tsdb_head_samples_appended_total",
      type: "counter",
      help: "Total number of appended samples.",
      samples: [{ labels: { type: "float" }, value: s.samplesAppended }],
    },
    one("prometheus_tsdb_head_series_created_total", "counter", "Total number of series created in the head.", s.seriesCreated),
    one("prometheus_tsdb_head_series_removed_total", "counter", "Total number of series removed from the head.", s.seriesRemoved),
    one("prometheus_tsdb_out_of_order_samples_total", "counter", "Total number of out of order samples ingestion failed attempts.", s.rejected.out_of_order),
    one("prometheus_tsdb_out_of_bound_samples_total", "counter", "Total number of samples rejected as too old.", s.rejected.too_old),
    {
      name: "shoal_tsdb_rejected_samples_total",
      type: "counter",
      help: "Samples refused by the head, by reason.",
      samples: Object.entries(s.rejected).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    one("prometheus_tsdb_wal_storage_size_bytes", "gauge", "Size of the write log directory.", s.walBytes),
    one("shoal_tsdb_wal_segments", "gauge", "Number of WAL segment files.", s.walSegments),
    one("prometheus_tsdb_wal_corruptions_total", "counter", "Total number of WAL corruptions.", s.walCorruptions),
    // Shoal writes each commit with one write(2) instead of filling 32 KiB pages: that write is
    // the flush Prometheus does at the end of every log call. (No completed-pages counter: there
    // are no pages to complete.)
    one("prometheus_tsdb_wal_page_flushes_total", "counter", "Total number of page flushes.", s.walWrites),
    one("prometheus_tsdb_wal_writes_failed_total", "counter", "Total number of write log writes that failed.", s.walWritesFailed),
    one("prometheus_tsdb_wal_segment_current", "gauge", "Write log segment index that TSDB is currently writing to.", s.walSegmentCurrent),
    one("prometheus_tsdb_wal_truncations_total", "counter", "Total number of write log truncations attempted.", s.walTruncations),
    one("prometheus_tsdb_wal_truncations_failed_total", "counter", "Total number of write log truncations that failed.", s.walTruncationsFailed),
    one("prometheus_tsdb_checkpoint_creations_total", "counter", "Total number of checkpoint creations attempted.", s.walCheckpointCreations),
    one("prometheus_tsdb_checkpoint_creations_failed_total", "counter", "Total number of checkpoint creations that failed.", s.walCheckpointCreationsFailed),
    one("prometheus_tsdb_checkpoint_deletions_total", "counter", "Total number of checkpoint deletions attempted.", s.walCheckpointDeletions),
    one("prometheus_tsdb_checkpoint_deletions_failed_total", "counter", "Total number of checkpoint deletions that failed.", s.walCheckpointDeletionsFailed),
    one("prometheus_tsdb_data_replay_duration_seconds", "gauge", "Time taken to replay the data on disk.", s.walReplaySeconds),
    one("prometheus_tsdb_compactions_total", "counter", "Total number of compactions that were executed for the partition.", s.compactions),
    one("prometheus_tsdb_compactions_failed_total", "counter", "Total number of compactions that failed for the partition.", s.compactionsFailed),
    one("prometheus_tsdb_compactions_triggered_total", "counter", "Total number of triggered compactions for the partition.", s.compactionsTriggered),
    one("prometheus_tsdb_head_truncations_total", "counter", "Total number of head truncations attempted.", s.headCuts),
    one("prometheus_tsdb_blocks_loaded", "gauge", "Number of currently loaded data blocks.", s.blocks),
    one("prometheus_tsdb_storage_blocks_bytes", "gauge", "The number of bytes that are currently used for local storage by all blocks.", s.blockBytes),
    one("shoal_tsdb_corrupt_blocks_total", "counter", "Blocks found corrupt and moved aside.", s.blocksCorrupted),
    one("prometheus_tsdb_time_retentions_total", "counter", "The number of times that blocks were deleted because the maximum time limit was exceeded.", s.retentionDeletions),
    one("prometheus_tsdb_size_retentions_total", "counter", "The number of times that blocks were deleted because the maximum number of bytes was exceeded.", s.sizeRetentionDeletions),
    one("prometheus_tsdb_tombstones", "gauge", "Number of deletion intervals waiting to be applied.", s.tombstones),
    // What the cluster's hand-off stores and drops: backfilled samples and dropped series.
    one("shoal_tsdb_backfilled_samples_total", "counter", "Samples stored by backfill (hand-off), duplicates not counted.", s.samplesBackfilled),
    one("shoal_tsdb_backfill_duplicate_samples_total", "counter", "Backfilled samples already held with the same value (stored once).", s.backfillDuplicates),
    one("shoal_tsdb_backfill_conflicting_samples_total", "counter", "Backfilled samples whose timestamp was already held with another value (the held value was kept).", s.backfillConflicts),
    one("shoal_tsdb_backfill_memory_samples", "gauge", "Backfilled samples held in memory, not yet written as blocks.", s.backfillInMemorySamples),
    one("shoal_tsdb_backfill_flushes_total", "counter", "Times the backfill store was written out as blocks.", s.backfillFlushes),
    one("shoal_tsdb_dropped_series_total", "counter", "Series removed by dropSeries (hand-off).", s.seriesDropped),
  ];
}

export function registerTsdbMetrics(reg: Registry, stats: () => TSDBStats): void {
  reg.collector(() => tsdbFamilies(stats()));
}

/**
 * The storage's measured durations and sizes, with Prometheus's names, types and buckets; pass
 * the result to openTSDB's `observers`.
 */
export function tsdbObservers(reg: Registry): TSDBObservers {
  return {
    compactionSeconds: reg.histogram("prometheus_tsdb_compaction_duration_seconds", "Duration of compaction runs", exponentialBuckets(1, 2, 14)),
    firstCompactionChunkBytes: reg.histogram("prometheus_tsdb_compaction_chunk_size_bytes", "Final size of chunks on their first compaction", exponentialBuckets(32, 1.5, 12)),
    firstCompactionChunkSamples: reg.histogram("prometheus_tsdb_compaction_chunk_samples", "Final number of samples on their first compaction", exponentialBuckets(4, 1.5, 12)),
    firstCompactionChunkRangeMs: reg.histogram("prometheus_tsdb_compaction_chunk_range_seconds", "Final time range of chunks on their first compaction", exponentialBuckets(100, 4, 10)),
    headGCSeconds: reg.summary("prometheus_tsdb_head_gc_duration_seconds", "Runtime of garbage collection in the head block."),
    walTruncateSeconds: reg.summary("prometheus_tsdb_wal_truncate_duration_seconds", "Duration of WAL truncation."),
    walFsyncSeconds: reg.summary("prometheus_tsdb_wal_fsync_duration_seconds", "Duration of write log fsync.", { quantiles: [0.5, 0.9, 0.99] }),
  };
}
