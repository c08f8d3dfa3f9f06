/**
 * The remote storage protocol's receiving side as HTTP handlers: remote write 1.0 and 2.0 in
 * (/api/v1/write, decoded on worker threads) and remote read (/api/v1/read). What the rest of
 * the API needs; the decoder, pool and wire helpers stay inside.
 */
export { DEFAULT_REMOTE_WRITE_LIMITS, registerRemoteWrite, type RemoteWriteMetrics, type RemoteWriteOptions } from "./write.ts";
export { registerRemoteRead } from "./read.ts";
