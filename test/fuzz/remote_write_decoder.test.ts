/**
 * The remote-write body decoder (snappy block, then the WriteRequest protobuf) under random
 * bytes, mutated valid payloads (compressed and uncompressed), truncations and huge varint
 * lengths: it never throws from decodeBody — a body is decoded or refused with 400/413 and a
 * message — each layer throws only its own error type, nothing takes longer than a time bound,
 * and a valid payload decodes to exactly what was encoded (protobufjs and snappyjs as reference).
 * The last test sends such bodies to a real node over HTTP, which keeps answering.
 *
 * Budget: see budget.ts (`FUZZ_RUNS=100000 bun test test/fuzz` for a long run).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import * as snappy from "snappyjs";
import { encodeWriteRequest, type PbTimeSeries } from "../../src/api/remote/proto.ts";
import { decodeBody, isOutcome } from "../../src/api/remote/write_body.ts";
import { decodeWriteRequest, LabelsCache, WriteDecodeError } from "../../src/api/remote/write_decode.ts";
import { SnappyError, uncompressBlock } from "../../src/api/remote/snappy_block.ts";
import { startShoal, type ShoalNode } from "../support/index.ts";
import { remoteWrite } from "../e2e/remote_write_client.ts";
import { fuzzParams, fuzzTimeout } from "./budget.ts";

const MAX_DECODED = 32 << 20;
const BOUND_MS = 250;

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== "__name__");
const labelValue = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.isWellFormed());
const sampleValue = fc.oneof(fc.double(), fc.constantFrom(0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, Number.MAX_VALUE));
const seriesArb = fc.record({
  name: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/),
  labels: fc.dictionary(labelName, labelValue, { maxKeys: 5 }),
  samples: fc.array(fc.tuple(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), sampleValue), { minLength: 1, maxLength: 6 }),
});
type GenSeries = { name: string; labels: Record<string, string>; samples: [number, number][] };

function toPb(s: GenSeries): PbTimeSeries {
  const labels = [{ name: "__name__", value: s.name }, ...Object.entries(s.labels).map(([name, value]) => ({ name, value }))];
  labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { labels, samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })) };
}

/** decodeBody must return (never throw), within the bound. */
function decodeBounded(body: Uint8Array, cache?: LabelsCache): ReturnType<typeof decodeBody> {
  let t0 = performance.now();
  let out = decodeBody(body, MAX_DECODED, cache);
  // Slow twice in a row, not once: a garbage collection or a busy machine can stall one call.
  if (performance.now() - t0 > BOUND_MS) {
    t0 = performance.now();
    out = decodeBody(body, MAX_DECODED, cache);
    const ms = performance.now() - t0;
    if (ms > BOUND_MS) throw new Error(`decodeBody of ${body.length} bytes took ${ms.toFixed(0)} ms`);
  }
  if (isOutcome(out)) {
    expect([400, 413]).toContain(out.status);
    expect(out.message).toMatch(/^(snappy: corrupt input|bad WriteRequest protobuf|decompressed payload of \d+ bytes exceeds)/);
  }
  return out;
}

/** Only the layer's own error type may come out. */
function expectOnly<T>(fn: () => T, type: new (...a: never[]) => Error): T | null {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof type)) throw new Error(`expected ${type.name}, got ${String(e)}`);
    expect((e as Error).message.length).toBeGreaterThan(5);
    return null;
  }
}

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function mutate(b: Uint8Array, muts: [number, number, number][]): Uint8Array {
  let out = [...b];
  for (const [p, kind, v] of muts) {
    const i = out.length === 0 ? 0 : p % out.length;
    if (kind === 0) out[i] = v;
    else if (kind === 1) out.splice(i, 0, v);
    else out.splice(i, 1);
  }
  return Uint8Array.from(out);
}

const mutations = fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 });
const validRequest = fc.array(seriesArb, { minLength: 1, maxLength: 6 }).map((s) => encodeWriteRequest(s.map(toPb)));

describe("remote-write decoder fuzzing", () => {
  test(
    "valid payloads decode to exactly what was encoded, through snappy and the protobuf",
    () => {
      const cache = new LabelsCache();
      fc.assert(
        fc.property(fc.array(seriesArb, { maxLength: 8 }), fc.boolean(), (input, cached) => {
          const body = snappy.compress(encodeWriteRequest(input.map(toPb)));
          const out = decodeBounded(body, cached ? cache : undefined);
          if (isOutcome(out)) throw new Error(`valid payload refused: ${out.message}`);
          expect(out.series.length).toBe(input.length);
          let k = 0;
          input.forEach((s, i) => {
            expect(out.series[i]).toEqual(toPb(s).labels);
            expect(out.offsets[i]).toBe(k);
            for (const [t, v] of s.samples) {
              expect(out.timestamps[k]).toBe(t);
              expect(Object.is(out.values[k], v) || (Number.isNaN(v) && Number.isNaN(out.values[k]!))).toBe(true);
              k++;
            }
          });
          expect(out.sampleCount).toBe(k);
        }),
        fuzzParams(1000),
      );
    },
    fuzzTimeout(1000, 3),
  );

  test(
    "random bytes, as a body and as a protobuf: decoded or refused, never a crash",
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          decodeBounded(bytes);
          expectOnly(() => decodeWriteRequest(bytes), WriteDecodeError);
          expectOnly(() => uncompressBlock(bytes, MAX_DECODED), SnappyError);
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(3000, 2),
  );

  test(
    "mutated valid protobufs (recompressed) and mutated compressed bodies: decoded or refused",
    () => {
      fc.assert(
        fc.property(validRequest, mutations, fc.boolean(), (raw, muts, compressedLayer) => {
          const body = compressedLayer ? mutate(snappy.compress(raw), muts) : snappy.compress(mutate(raw, muts));
          decodeBounded(body);
          if (!compressedLayer) expectOnly(() => decodeWriteRequest(mutate(raw, muts)), WriteDecodeError);
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(3000, 3),
  );

  test(
    "every truncation of a valid payload is refused (or is a shorter valid one), never a crash",
    () => {
      fc.assert(
        fc.property(validRequest, (raw) => {
          const body = snappy.compress(raw);
          for (let n = 0; n < body.length; n++) decodeBounded(body.subarray(0, n));
          for (let n = 0; n < raw.length; n++) expectOnly(() => decodeWriteRequest(raw.subarray(0, n)), WriteDecodeError);
        }),
        fuzzParams(200),
      );
    },
    fuzzTimeout(200, 20),
  );

  test(
    "huge varint lengths and counts: refused quickly, without allocating what they claim",
    () => {
      const huge = fc.constantFrom(0x7fffffff, 0xffffffff, 2 ** 32, 2 ** 35, 2 ** 53, 2 ** 63, 1e6, 64 << 20);
      fc.assert(
        fc.property(validRequest, fc.nat(), huge, (raw, p, n) => {
          // Replace a length-delimited field's length (or any varint) at some offset by a huge one.
          const at = p % raw.length;
          const patched = Uint8Array.from([...raw.subarray(0, at), ...varint(n), ...raw.subarray(at + 1)]);
          expectOnly(() => decodeWriteRequest(patched), WriteDecodeError);
          decodeBounded(snappy.compress(patched));
          // A snappy preamble that declares a huge decoded size: 413 before anything is allocated.
          const body = Uint8Array.from([...varint(n), ...snappy.compress(raw).subarray(1)]);
          decodeBounded(body);
          // A nested message claiming more bytes than the request holds.
          const nested = Uint8Array.from([0x0a, ...varint(n), 0x0a, 0x03, 0x0a, 0x01, 0x61]);
          expectOnly(() => decodeWriteRequest(nested), WriteDecodeError);
        }),
        fuzzParams(2000),
      );
    },
    fuzzTimeout(2000, 2),
  );

  test("a few bytes declaring megabytes of decoded data are refused before that much is allocated", () => {
    for (const n of [100_000, 1 << 20, 16 << 20, MAX_DECODED]) {
      const out = decodeBounded(Uint8Array.from([...varint(n), 0x00, 0x61]));
      expect(isOutcome(out) && out.status).toBe(400);
      expect(isOutcome(out) && out.message).toMatch(/preamble declares \d+ bytes, more than 2 bytes of input can hold/);
    }
  });

  test("snappy decoding agrees with snappyjs on valid compressed data", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string({ maxLength: 2000 }).map((s) => new TextEncoder().encode(s.repeat(3)))), (data) => {
        const c = snappy.compress(data);
        expect(uncompressBlock(c, MAX_DECODED)).toEqual(new Uint8Array(snappy.uncompress(c)));
      }),
      fuzzParams(1000),
    );
  }, fuzzTimeout(1000, 3));
});

describe("over HTTP", () => {
  let node: ShoalNode;
  beforeAll(async () => {
    node = await startShoal();
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  test(
    "a real node answers every random or mutated body with 204, 400 or 413 and stays healthy",
    async () => {
      const base = Date.now() - 60_000;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.tuple(validRequest, mutations).map(([raw, muts]) => mutate(snappy.compress(raw), muts)),
            fc.tuple(validRequest, mutations).map(([raw, muts]) => snappy.compress(mutate(raw, muts))),
            fc.array(seriesArb, { minLength: 1, maxLength: 3 }).map((s) =>
              snappy.compress(encodeWriteRequest(s.map((x) => toPb({ ...x, samples: x.samples.map(([, v], i) => [base + i, v] as [number, number]) })))),
            ),
          ),
          async (body) => {
            const r = await remoteWrite(node.url, body);
            const text = await r.text();
            expect([204, 400, 413]).toContain(r.status);
            if (r.status !== 204) expect(text.length).toBeGreaterThan(5);
          },
        ),
        fuzzParams(300),
      );
      expect((await fetch(`${node.url}/-/healthy`)).status).toBe(200);
    },
    fuzzTimeout(300, 20, 60_000),
  );
});
