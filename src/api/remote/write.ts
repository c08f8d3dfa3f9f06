/**
 * The remote-write receiver at /api/v1/write: snappy block-compressed protobufs, 1.0
 * (prometheus.WriteRequest) or 2.0 (io.prometheus.write.v2.Request) as the Content-Type's
 * `proto` parameter says (1.0 without it); 2.0 answers carry the written-count headers
 * (X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written). 204 when everything was stored;
 * 202 when an HA-pair filter is set and the sender is not the elected replica (nothing stored); 400 with the reason for a payload that cannot be decoded or
 * has invalid labels (nothing of it is stored); 400 naming the first rejected sample when some
 * sample was out of order or a duplicate (nothing of it is stored either, as with Prometheus);
 * 413 for payloads over the size limits; 415 for an encoding or protobuf message we do not speak.
 */
import type { Hono } from "hono";
import { AppendError, WriteUnavailableError, formatLabels, isStaleAt, type Appendable, type HaReplicaFilter, type Logger } from "../../model/index.ts";
import type { Counter } from "../../telemetry/index.ts";
import { decodeBody, isOutcome, type WriteOutcome, type WriteProtocol } from "./write_body.ts";
import { applyHaDedup, haDedup, type HaDedup } from "./write_ha.ts";
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
  /** HA-pair deduplication (--distributor.ha-tracker.enable): which replica's samples are stored. */
  haReplicas?: HaReplicaFilter | null;
}

const PROTO_V1 = "prometheus.WriteRequest";
const PROTO_V2 = "io.prometheus.write.v2.Request";

/** The written-count headers of a 2.0 answer (Prometheus sets them on every decoded request). */
const WRITTEN_SAMPLES = "X-Prometheus-Remote-Write-Samples-Written";
const WRITTEN_HISTOGRAMS = "X-Prometheus-Remote-Write-Histograms-Written";
const WRITTEN_EXEMPLARS = "X-Prometheus-Remote-Write-Exemplars-Written";

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
  /** Samples of non-elected HA replicas, dropped; labels: cluster. */
  haDroppedSamples?: Counter;
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers } });
}

/**
 * HA deduplication, then the append. 202 for a non-elected replica; 503 when the election
 * could not be asked (the sender retries).
 */
async function storeDecoded(req: DecodedWrite, appendable: Appendable, ha: HaDedup | null, metrics: RemoteWriteMetrics, logger: Logger): Promise<WriteOutcome> {
  if (ha) {
    let dropped;
    try {
      dropped = await applyHaDedup(req, ha);
    } catch (e) {
      if (e instanceof WriteUnavailableError) return { status: 503, message: e.message };
      throw e;
    }
    if (dropped) {
      metrics.haDroppedSamples?.inc(req.sampleCount, dropped.cluster);
      return dropped;
    }
  }
  return appendDecoded(req, appendable, metrics, logger);
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
  const ha = opts.haReplicas ? haDedup(opts.haReplicas) : null;
  // Started with the first request: an API app that never receives writes starts no thread.
  let pool: DecodePool | null = null;
  app.post("/api/v1/write", async (c) => {
    // Set once the body was decoded as 2.0: its answer then says how much was written.
    let written: Record<string, string> | undefined;
    const respond = (status: number, message: string) => {
      metrics.requests.inc(1, String(status));
      return status === 204 ? new Response(null, { status: 204, headers: written }) : text(status, message, written);
    };
    const contentType = (c.req.header("content-type") ?? "application/x-protobuf").trim();
    const [media, ...params] = contentType.split(";").map((p) => p.trim());
    if (media !== "application/x-protobuf") {
      return respond(415, `expected application/x-protobuf as the first (media) part, got ${contentType} content-type`);
    }
    const proto = params.find((p) => p.startsWith("proto="))?.slice(6);
    if (proto !== undefined && proto !== PROTO_V1 && proto !== PROTO_V2) {
      return respond(415, `${proto} protobuf message is not accepted by this server; accepted [${PROTO_V1} ${PROTO_V2}]`);
    }
    const protocol: WriteProtocol = proto === PROTO_V2 ? 2 : 1;
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
    let req: DecodedWrite | WriteOutcome;
    if (workers > 0) {
      pool ??= new DecodePool(workers, logger, cache);
      const pending = pool.decode(body, opts.maxDecodedBytes, false, protocol);
      metrics.decoded?.inc(1, pending instanceof Promise ? "worker" : "request");
      req = await pending;
    } else {
      metrics.decoded?.inc(1, "request");
      req = decodeBody(new Uint8Array(body), opts.maxDecodedBytes, cache, protocol);
    }
    const out = isOutcome(req) ? req : await storeDecoded(req, appendable, ha, metrics, logger);
    if (protocol === 2 && !isOutcome(req)) {
      // Histograms and exemplars are not stored by Shoal: none is ever reported written.
      written = { [WRITTEN_SAMPLES]: String(out.status === 204 ? req.sampleCount : 0), [WRITTEN_HISTOGRAMS]: "0", [WRITTEN_EXEMPLARS]: "0" };
    }
    if (out.status === 400) logger.debug("Rejected remote write request", { err: out.message });
    return respond(out.status, out.message);
  });
}
