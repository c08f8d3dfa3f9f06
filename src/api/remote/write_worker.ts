/**
 * A remote-write decoding worker: snappy and protobuf decoding off the request thread. It keeps
 * its own LabelsCache and answers with series ids (plus the label sets it had not sent before),
 * sample columns (transferred, not copied: the stale marker's bits survive) and counts; the
 * main thread maps ids to its own Labels objects (write_pool.ts).
 */
import { LabelsCache } from "./write_decode.ts";
import { decodeBody, isOutcome } from "./write_body.ts";
import type { DecodeReply, DecodeRequest } from "./write_pool.ts";

declare const self: Worker;

const cache = new LabelsCache(1 << 20, true);

self.onmessage = (ev: MessageEvent<DecodeRequest>) => {
  const { id, body, maxDecodedBytes, protocol } = ev.data;
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const epoch = cache.epoch;
    const out = decodeBody(new Uint8Array(body), maxDecodedBytes, cache, protocol);
    if (isOutcome(out)) {
      reply = { id, ok: false, status: out.status, message: out.message };
    } else {
      const ids = out.ids!;
      // The cache started over during this request: ids from before that mean nothing now.
      if (cache.epoch !== epoch) ids.fill(-1);
      const inline = [];
      for (let i = 0; i < ids.length; i++) if (ids[i]! < 0) inline.push(out.series[i]!);
      const fresh = cache.takeFresh();
      // New label sets with their bytes, so the request thread can find its own Labels object
      // for each (the one its inline decoding uses) or adopt this one.
      let freshBytes = 0;
      for (const e of fresh.entries) freshBytes += e.bytes.length;
      const bytes = new Uint8Array(freshBytes);
      const ends = new Int32Array(fresh.entries.length);
      let at = 0;
      fresh.entries.forEach((e, k) => {
        bytes.set(e.bytes, at);
        at += e.bytes.length;
        ends[k] = at;
      });
      reply = {
        id,
        ok: true,
        epoch: fresh.epoch,
        firstId: fresh.firstId,
        fresh: fresh.entries.map((e) => e.labels),
        freshBytes: bytes,
        freshEnds: ends,
        ids,
        inline,
        offsets: out.offsets,
        timestamps: out.timestamps,
        values: out.values,
        sampleCount: out.sampleCount,
        histogramCount: out.histogramCount,
        metadataCount: out.metadataCount,
      };
      transfer = [bytes.buffer, ends.buffer, ids.buffer as ArrayBuffer, out.offsets.buffer as ArrayBuffer, out.timestamps.buffer as ArrayBuffer, out.values.buffer as ArrayBuffer];
    }
  } catch (e) {
    reply = { id, ok: false, status: 500, message: `remote write decoder failed: ${(e as Error).message}` };
  }
  self.postMessage(reply, transfer);
};
