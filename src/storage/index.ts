/**
 * The storage room's door: the local TSDB (head + WAL + blocks) behind Appendable/Queryable.
 * Appender.commit() resolves once the batch has been written to the WAL (handed to the OS with
 * write(2)); the WAL is fsync'd every `walFsyncIntervalMs` (0: before every commit resolves) and
 * on close, as Prometheus does. See README.md for the guarantees and the on-disk layout.
 */
export { openTSDB, type TSDB, type TSDBOptions, type TSDBStats } from "./db.ts";
export type { TSDBObservers } from "./observers.ts";
export type { TSDBStatus, NameCount } from "./status.ts";
// Hand-off (issue 6): backfill, export, summaries, drop — see backfill.ts / export.ts / drop.ts.
export type { SeriesData, BackfillResult, BackfillStats } from "./backfill.ts";
export type { ExportOptions, SummaryOptions, SeriesSummary, SeriesFilter } from "./export.ts";
export { samplesChecksum } from "./export.ts";
// The XOR chunk codec, for the cluster's select protocol (series travel as chunks).
export { XorChunkBuilder, decodeXorChunk, chunkSampleCount } from "./xor.ts";
