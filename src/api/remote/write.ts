/**
 * The remote-write 1.0 receiver at /api/v1/write: snappy block-compressed WriteRequest protobufs.
 * 204 when everything was stored; 400 with the reason for a payload that cannot be decoded or
 * has invalid labels (nothing of it is stored); 400 naming the first rejected sample when some
 * sample was out of order or a duplicate (nothing of it is stored either, as with Prometheus);
 * 413 for payloads over the size limits; 415 for an encoding or protobuf message we do not speak.
 */
import type { Hono } from "hono";
import { AppendError, WriteUnavailableError, formatLabels, isStaleAt, type Appendable, type Logger } from "../../model/index.ts";
import type { Counter } from "../../telemetry/index.ts";
import { decodeBody, isOutcome, type WriteOutcome } from "./write_body.ts";
import { LabelsCache, type DecodedWrite } from "./write_decode.ts";
import { DecodePool, defaultDecodeWorkers } from "./write_pool.ts";

export type { WriteOutcome } from "./write_body.ts";

export interface RemoteWriteOptions {
  /** Largest compressed body accepted (bytes). */
  maxBodyBytes: number;
  /** Largest decompressed protobuf accepted (bytes). */
  maxDecodedBytes: number;
  /** Worker threads that decode request bodies (0: decode on the request thread); default by core count. */
  decodeWorkers?: number;
}

export const DEFAULT_REMOTE_WRITE_LIMITS: RemoteWriteOptions = {
  maxBodyBytes: 32 << 20,
  maxDecodedBytes: 128 << 20,
};

export interface RemoteWriteMetrics {
  requests: Counter; // labels: code
  samples: Counter;
  rejectedSamples: Counter; // labels: reason
  histogramsDropped: Counter;
  /** labels: thread ("worker" or "request"). */
  decoded?: Counter;
}

function text(status: number, message: string): Response {
  return new Response(message + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** Decodes and appends one request body; exported for the ingest benchmark and tests. */
export async function handleWriteBody(
  body: Uint8Array,
  appendable: Appendable,
  opts: RemoteWriteOptions,
  metrics?: RemoteWriteMetrics,
  logger?: Logger,
  cache?: LabelsCache,
): Promise<WriteOutcome> {
  const req = decodeBody(body, opts.maxDecodedBytes, cache);
  if (isOutcome(req)) return req;
  return appendDecoded(req, appendable, metrics, logger);
}

/**
 * Appends a decoded request: 204; or, as Prometheus's remote-write 1.0 receiver does, 400
 * naming the first sample storage refused (out of order, duplicate, too old) with nothing of
 * the request stored: the sender does not retry a 400, and storing part of a batch it counts
 * as failed would make retried or replayed data diverge from what it believes was sent.
 */
export async function appendDecoded(req: DecodedWrite, appendable: Appendable, metrics?: RemoteWriteMetrics, logger?: Logger): Promise<WriteOutcome> {
  if (req.histogramCount > 0) {
    metrics?.histogramsDropped.inc(req.histogramCount);
    logger?.warn("Native histograms in remote write are not supported; dropped", { count: req.histogramCount });
  }
  const app = appendable.appender({ allOrNothing: true });
  const { series, offsets, timestamps, values } = req;
  try {
    for (let s = 0; s < series.length; s++) {
      const labels = series[s]!;
      const end = offsets[s + 1]!;
      for (let i = offsets[s]!; i < end; i++) {
        try {
          app.append(labels, timestamps[i]!, values[i]!, isStaleAt(values, i));
        } catch (e) {
          if (!(e instanceof AppendError)) throw e;
          app.rollback();
          metrics?.rejectedSamples.inc(1, e.reason);
          logger?.error("Out of order sample from remote write", { err: e.message, series: labels, timestamp: timestamps[i] });
          return { status: 400, message: `${e.message} for series ${formatLabels(labels)}; nothing of this request was stored` };
        }
      }
    }
  } catch (e) {
    app.rollback();
    throw e;
  }
  try {
    await app.commit();
  } catch (e) {
    // An appender that forwards (the cluster distributor) fails the commit as a whole: with
    // WriteUnavailableError when too few replicas answered (503, so the sender keeps the batch
    // and retries), with AppendError when every replica refused samples (400, retrying cannot help).
    if (e instanceof AppendError) {
      metrics?.rejectedSamples.inc(1, e.reason);
      return { status: 400, message: e.message };
    }
    if (e instanceof WriteUnavailableError) return { status: 503, message: e.message };
    throw e;
  }
  metrics?.samples.inc(req.sampleCount);
  return { status: 204, message: "" };
}

export function registerRemoteWrite(
  app: Hono,
  appendable: Appendable,
  logger: Logger,
  metrics: RemoteWriteMetrics,
  opts: RemoteWriteOptions = DEFAULT_REMOTE_WRITE_LIMITS,
): void {
  const cache = new LabelsCache();
  const workers = opts.decodeWorkers ?? defaultDecodeWorkers();
  // Started with the first request: an API app that never receives writes starts no thread.
  let pool: DecodePool | null = null;
  app.post("/api/v1/write", async (c) => {
    const respond = (status: number, message: string) => {
      metrics.requests.inc(1, String(status));
      return status === 204 ? new Response(null, { status: 204 }) : text(status, message);
    };
    const contentType = (c.req.header("content-type") ?? "application/x-protobuf").trim();
    const [media, ...params] = contentType.split(";").map((p) => p.trim());
    if (media !== "application/x-protobuf") {
      return respond(415, `expected application/x-protobuf as the first (media) part, got ${contentType} content-type`);
    }
    const proto = params.find((p) => p.startsWith("proto="))?.slice(6);
    if (proto !== undefined && proto !== "prometheus.WriteRequest") {
      return respond(415, `${proto} protobuf message is not accepted by this server; accepted [prometheus.WriteRequest]`);
    }
    const enc = c.req.header("content-encoding");
    if (enc !== undefined && enc !== "" && enc.toLowerCase() !== "snappy") {
      return respond(415, `${enc} encoding (compression) is not accepted by this server; only snappy is acceptable`);
    }
    const declaredLength = Number(c.req.header("content-length") ?? "0");
    if (declaredLength > opts.maxBodyBytes) {
      return respond(413, `request body of ${declaredLength} bytes exceeds the limit of ${opts.maxBodyBytes} bytes`);
    }
    let body: ArrayBuffer;
    try {
      body = await c.req.arrayBuffer();
    } catch (e) {
      return respond(400, `reading request body: ${(e as Error).message}`);
    }
    if (body.byteLength > opts.maxBodyBytes) {
      return respond(413, `request body of ${body.byteLength} bytes exceeds the limit of ${opts.maxBodyBytes} bytes`);
    }
    let out: WriteOutcome;
    if (workers > 0) {
      pool ??= new DecodePool(workers, logger, cache);
      const pending = pool.decode(body, opts.maxDecodedBytes);
      metrics.decoded?.inc(1, pending instanceof Promise ? "worker" : "request");
      const req = await pending;
      out = isOutcome(req) ? req : await appendDecoded(req, appendable, metrics, logger);
    } else {
      metrics.decoded?.inc(1, "request");
      out = await handleWriteBody(new Uint8Array(body), appendable, opts, metrics, logger, cache);
    }
    if (out.status === 400) logger.debug("Rejected remote write request", { err: out.message });
    return respond(out.status, out.message);
  });
}
