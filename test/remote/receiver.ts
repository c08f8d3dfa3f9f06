/**
 * A remote-write endpoint for tests: decodes every request (snappy + prometheus.WriteRequest),
 * keeps the samples and metadata it accepted, and answers what the test scripts (a status, a
 * Retry-After header) request by request.
 */
import * as snappy from "snappyjs";
import { int64ToNumber, WriteRequestType } from "../../src/api/remote/proto.ts";

export interface ReceivedSample {
  labels: Record<string, string>;
  t: number;
  v: number;
  /** The value's raw bits, hex (a staleness marker is 7ff0000000000002). */
  bits: string;
}

export interface Receiver {
  readonly url: string;
  readonly samples: ReceivedSample[];
  readonly metadata: { metric: string; type: number; help: string; unit: string }[];
  readonly requests: { status: number; headers: Headers; samples: number; at: number }[];
  /** The answer to the next requests, in order; once used up, 200. */
  script: { status: number; headers?: Record<string, string>; body?: string }[];
  stop(): void;
}

interface PbWrite {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number | { toNumber(): number } }[] }[];
  metadata: { type: number; metricFamilyName: string; help: string; unit: string }[];
}

/** Raw value bits of every sample in a WriteRequest, in order (protobufjs turns NaN payloads into one NaN). */
function valueBits(buf: Uint8Array): string[] {
  // Walks the protobuf: WriteRequest.timeseries(1) → TimeSeries.samples(2) → Sample.value(1, fixed64).
  const out: string[] = [];
  const varint = (b: Uint8Array, p: { i: number }) => {
    let r = 0;
    let s = 1;
    for (;;) {
      const c = b[p.i++]!;
      r += (c & 0x7f) * s;
      if (c < 0x80) return r;
      s *= 128;
    }
  };
  const walk = (b: Uint8Array, depth: number) => {
    const p = { i: 0 };
    while (p.i < b.length) {
      const key = varint(b, p);
      const field = Math.floor(key / 8);
      const wt = key & 7;
      if (wt === 2) {
        const len = varint(b, p);
        const sub = b.subarray(p.i, p.i + len);
        p.i += len;
        if ((depth === 0 && field === 1) || (depth === 1 && field === 2)) walk(sub, depth + 1);
      } else if (wt === 1) {
        if (depth === 2 && field === 1) out.push(Buffer.from(b.subarray(p.i, p.i + 8)).reverse().toString("hex"));
        p.i += 8;
      } else if (wt === 0) varint(b, p);
      else if (wt === 5) p.i += 4;
    }
  };
  walk(buf, 0);
  return out;
}

export interface ReceiverOptions {
  port?: number;
  /** Serve HTTPS with this certificate; with `ca`, ask clients for a certificate it signed. */
  tls?: { cert: string; key: string; ca?: string };
}

export function startReceiver(portOrOptions: number | ReceiverOptions = 0): Receiver {
  const opts: ReceiverOptions = typeof portOrOptions === "number" ? { port: portOrOptions } : portOrOptions;
  const samples: ReceivedSample[] = [];
  const metadata: Receiver["metadata"] = [];
  const requests: Receiver["requests"] = [];
  const r: Receiver = {
    url: "",
    samples,
    metadata,
    requests,
    script: [],
    stop: () => void server.stop(true),
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    tls: opts.tls ? { cert: opts.tls.cert, key: opts.tls.key, ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true } : {}) } : undefined,
    async fetch(req) {
      const body = new Uint8Array(await req.arrayBuffer());
      const raw = snappy.uncompress(body);
      const msg = WriteRequestType.toObject(WriteRequestType.decode(raw), { defaults: true }) as PbWrite;
      const n = msg.timeseries.reduce((a, ts) => a + ts.samples.length, 0);
      const answer = r.script.shift() ?? { status: 200 };
      requests.push({ status: answer.status, headers: req.headers, samples: n, at: Date.now() });
      if (answer.status >= 200 && answer.status < 300) {
        const bits = valueBits(raw);
        let k = 0;
        for (const ts of msg.timeseries) {
          const labels = Object.fromEntries(ts.labels.map((l) => [l.name, l.value]));
          for (const s of ts.samples) samples.push({ labels, t: int64ToNumber(s.timestamp), v: s.value, bits: bits[k++]! });
        }
        for (const m of msg.metadata) metadata.push({ metric: m.metricFamilyName, type: m.type, help: m.help, unit: m.unit });
      }
      return new Response(answer.body ?? "", { status: answer.status, headers: answer.headers });
    },
  });
  (r as { url: string }).url = `${opts.tls ? "https" : "http"}://127.0.0.1:${server.port}/api/v1/write`;
  return r;
}
