/**
 * Remote read at /api/v1/read: snappy-compressed ReadRequest in, snappy-compressed ReadResponse
 * (the SAMPLES response type) out. External labels are added to the returned series, and
 * matchers on external labels that the external value satisfies are dropped, as Prometheus does.
 */
import type { Hono } from "hono";
import protobuf from "protobufjs";
import * as snappy from "snappyjs";
import { uncompressBlock } from "./snappy_block.ts";
import { Matcher, RegexError, labelsWith, hasLabel, type Labels, type MatchType, type Queryable } from "../../model/index.ts";
import { ReadRequestType, int64ToNumber, type PbReadRequest } from "./proto.ts";

const MATCH_TYPES: MatchType[] = ["=", "!=", "=~", "!~"];
const MAX_READ_BODY = 32 << 20;

function text(status: number, message: string): Response {
  return new Response(message + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** Writes one TimeSeries with its samples; values go out as their raw bits (stale markers kept). */
function writeSeries(w: protobuf.Writer, labels: Labels, ts: Float64Array, vals: Float64Array): void {
  w.uint32((1 << 3) | 2).fork(); // QueryResult.timeseries
  for (const l of labels) {
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(l.name).uint32((2 << 3) | 2).string(l.value).ldelim();
  }
  const words = new Uint32Array(vals.buffer, vals.byteOffset, vals.length * 2);
  for (let i = 0; i < ts.length; i++) {
    w.uint32((2 << 3) | 2).fork();
    w.uint32((1 << 3) | 1).fixed32(words[2 * i]!).fixed32(words[2 * i + 1]!);
    w.uint32((2 << 3) | 0).int64(ts[i]!);
    w.ldelim();
  }
  w.ldelim();
}

export function registerRemoteRead(app: Hono, queryable: Queryable, externalLabels: () => Labels): void {
  app.post("/api/v1/read", async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_READ_BODY) return text(413, `request body exceeds ${MAX_READ_BODY} bytes`);
    let req: PbReadRequest;
    try {
      const raw = uncompressBlock(body, MAX_READ_BODY * 4);
      req = ReadRequestType.toObject(ReadRequestType.decode(raw), { defaults: true }) as unknown as PbReadRequest;
    } catch (e) {
      return text(400, `bad ReadRequest: ${(e as Error).message}`);
    }
    const ext = externalLabels();
    const w = protobuf.Writer.create();
    for (const q of req.queries) {
      let matchers: Matcher[];
      try {
        matchers = q.matchers
          .map((m) => new Matcher(MATCH_TYPES[m.type] ?? "=", m.name, m.value))
          .filter((m) => {
            const e = ext.find((l) => l.name === m.name);
            return !(e && m.type === "=" && m.value === e.value);
          });
      } catch (e) {
        if (e instanceof RegexError) return text(400, e.message);
        throw e;
      }
      const start = int64ToNumber(q.startTimestampMs);
      const end = int64ToNumber(q.endTimestampMs);
      const querier = queryable.querier(start, end);
      w.uint32((1 << 3) | 2).fork(); // ReadResponse.results
      try {
        const set = await querier.select(matchers, { start, end });
        for (const s of set.series) {
          let labels = s.labels;
          for (const l of ext) if (!hasLabel(labels, l.name)) labels = labelsWith(labels, l.name, l.value);
          writeSeries(w, labels, s.timestamps, s.values);
        }
      } finally {
        querier.close();
      }
      w.ldelim();
    }
    const out = snappy.compress(w.finish());
    return new Response(out as Uint8Array<ArrayBuffer>, {
      headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy" },
    });
  });
}
