/**
 * The storage room's door: the local TSDB (head + WAL + blocks) behind Appendable/Queryable.
 * Appender.commit() resolves once the batch has been written to the WAL (handed to the OS with
 * write(2)); the WAL is fsync'd every `walFsyncIntervalMs` and on close, as Prometheus does.
 */
export { openTSDB, type TSDB, type TSDBOptions, type TSDBStats } from "./db.ts";
export type { TSDBStatus, NameCount } from "./status.ts";
// The XOR chunk codec, for the cluster's select protocol (series travel as chunks).
export { XorChunkBuilder, decodeXorChunk, chunkSampleCount } from "./xor.ts";
