/**
 * The storage room's door: the local TSDB (head + WAL + blocks) behind Appendable/Queryable.
 * Appender.commit() resolves once the batch has been written to the WAL (handed to the OS with
 * write(2)); the WAL is fsync'd every `walFsyncIntervalMs` (0: before every commit resolves) and
 * on close, as Prometheus does. See README.md for the guarantees and the on-disk layout.
 */
export { openTSDB, type TSDB, type TSDBStats } from "./db.ts";
export type { TSDBObservers } from "./observers.ts";
export type { NameCount } from "./status.ts";
// What the cluster's hand-off moves series with: backfill into, export and summarize out of,
// and drop from the local TSDB (backfill.ts, export.ts, drop.ts).
export type { SeriesData } from "./backfill.ts";
export type { SummaryOptions, SeriesFilter } from "./export.ts";
export { samplesChecksum } from "./export.ts";
// The XOR chunk codec, for the cluster's select protocol (series travel as chunks).
export { XorChunkBuilder, decodeXorChunk, chunkSampleCount } from "./xor.ts";
// The engines behind `shoal tsdb` (the command layer lives in src/commands): backfill from a
// text file, dump, analyze, on a stopped node's data directory.
export { DEFAULT_BLOCK_DURATION_MS } from "./db.ts";
export { importFile } from "./tools/import.ts";
export { dump } from "./tools/dump.ts";
export { analyze } from "./tools/analyze.ts";
export { ImportSyntaxError } from "./tools/textformat.ts";
