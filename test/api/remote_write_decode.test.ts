/**
 * The remote-write decoder against protobufjs (the reference encoder/decoder) on random
 * WriteRequests, stale-marker bits, and random and mutated payloads: it never crashes, it
 * rejects with a WriteDecodeError, and a rejected payload stores nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { rmSync } from "node:fs";
import * as snappy from "snappyjs";
import { WriteRequestType, encodeWriteRequest, int64ToNumber, type PbTimeSeries } from "../../src/api/remote/proto.ts";
import { DEFAULT_REMOTE_WRITE_LIMITS, handleWriteBody } from "../../src/api/remote/write.ts";
import { decodeWriteRequest, LabelsCache, WriteDecodeError } from "../../src/api/remote/write_decode.ts";
import { isStaleAt, STALE_NAN_HI, STALE_NAN_LO } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { tempDir } from "../support/index.ts";

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== "__name__");
const series = fc.record({
  name: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/),
  labels: fc.dictionary(labelName, fc.string({ minLength: 1, maxLength: 12 }), { maxKeys: 5 }),
  samples: fc.array(fc.tuple(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.double()), { minLength: 1, maxLength: 6 }),
});

function toPb(s: { name: string; labels: Record<string, string>; samples: [number, number][] }): PbTimeSeries {
  const labels = [{ name: "__name__", value: s.name }, ...Object.entries(s.labels).map(([name, value]) => ({ name, value }))];
  labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { labels, samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })) };
}

describe("decodeWriteRequest", () => {
  test("agrees with protobufjs on random WriteRequests", () => {
    fc.assert(
      fc.property(fc.array(series, { maxLength: 8 }), (input) => {
        const pb = input.map(toPb);
        const bytes = encodeWriteRequest(pb);
        const got = decodeWriteRequest(bytes);
        const ref = WriteRequestType.toObject(WriteRequestType.decode(bytes), { defaults: true }) as { timeseries: PbTimeSeries[] };
        expect(got.series.length).toBe(ref.timeseries.length);
        let k = 0;
        ref.timeseries.forEach((ts, i) => {
          expect(got.series[i]).toEqual(ts.labels.filter((l) => l.value !== ""));
          expect(got.offsets[i]).toBe(k);
          for (const s of ts.samples) {
            expect(got.timestamps[k]).toBe(int64ToNumber(s.timestamp));
            expect(Object.is(got.values[k], s.value) || (Number.isNaN(s.value) && Number.isNaN(got.values[k]))).toBe(true);
            k++;
          }
        });
        expect(got.sampleCount).toBe(k);
      }),
      { numRuns: 300 },
    );
  });

  test("negative and large timestamps decode exactly", () => {
    const ts = [-1, -1700000000000, 0, 2 ** 53 - 1, -(2 ** 53 - 1), 1700000000123];
    const bytes = encodeWriteRequest([{ labels: [{ name: "__name__", value: "x" }], samples: ts.map((t) => ({ timestamp: t, value: 1 })) }]);
    expect([...decodeWriteRequest(bytes).timestamps.subarray(0, ts.length)]).toEqual(ts);
  });

  test("the staleness marker's bits survive decoding", () => {
    const bytes = encodeWriteRequest([
      { labels: [{ name: "__name__", value: "x" }], samples: [{ timestamp: 1, value: 7 }, { timestamp: 2, value: Number.NaN }] },
    ]);
    // Patch the first sample's value to the stale NaN's exact little-endian bits.
    const zero = [0x09, 0, 0, 0, 0, 0, 0, 0x1c, 0x40]; // 7.0, little-endian
    const at = bytes.findIndex((_, i) => zero.every((b, j) => bytes[i + j] === b));
    expect(at).toBeGreaterThan(0);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 8);
    dv.setUint32(0, STALE_NAN_LO, true);
    dv.setUint32(4, STALE_NAN_HI, true);
    const got = decodeWriteRequest(bytes);
    expect(isStaleAt(got.values, 0)).toBe(true);
    expect(isStaleAt(got.values, 1)).toBe(false);
    expect(Number.isNaN(got.values[1]!)).toBe(true);
  });

  const reject = (pb: PbTimeSeries[], message: RegExp) => {
    expect(() => decodeWriteRequest(encodeWriteRequest(pb))).toThrow(message);
  };
  const s = (labels: [string, string][]): PbTimeSeries => ({
    labels: labels.map(([name, value]) => ({ name, value })),
    samples: [{ timestamp: 1, value: 1 }],
  });

  test("rejects unsorted, duplicate, empty and missing names", () => {
    reject([s([["job", "a"], ["__name__", "x"]])], /not sorted/);
    reject([s([["__name__", "x"], ["a", "1"], ["a", "2"]])], /duplicate label name "a"/);
    reject([s([["__name__", "x"], ["", "1"]])], /empty label name/);
    reject([s([["job", "a"]])], /without a metric name/);
    reject([s([["__name__", ""]])], /empty metric name/);
  });

  test("rejects truncated messages and bad wire types with a WriteDecodeError", () => {
    const bytes = encodeWriteRequest([s([["__name__", "x"]])]);
    for (let n = 1; n < bytes.length; n++) {
      try {
        decodeWriteRequest(bytes.subarray(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(WriteDecodeError);
      }
    }
    expect(() => decodeWriteRequest(new Uint8Array([0x0b]))).toThrow(/wire type 3/);
    expect(() => decodeWriteRequest(new Uint8Array([0x0a, 0x05, 0x0a]))).toThrow(/runs past the end/);
  });

  test("random bytes never crash the decoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeWriteRequest(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(WriteDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("handleWriteBody with a real TSDB", () => {
  let db: TSDB;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("rw-fuzz");
    db = await openTSDB({ dir });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const valid = snappy.compress(
    encodeWriteRequest([
      toPb({ name: "fuzz_metric", labels: { job: "a", instance: "i" }, samples: [[1000, 1], [2000, 2]] }),
      toPb({ name: "fuzz_metric", labels: { job: "b" }, samples: [[1000, 3]] }),
    ]),
  );

  const fuzzCache = new LabelsCache();
  test("random and mutated payloads: no crash, 4xx with a message, nothing stored when rejected", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
            .map((muts) => {
              const b = valid.slice();
              for (const [i, v] of muts) b[i] = v;
              return b;
            }),
          fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
        ),
        async (body) => {
          const before = db.stats().samplesAppended;
          const out = await handleWriteBody(body, db, DEFAULT_REMOTE_WRITE_LIMITS, undefined, undefined, fuzzCache);
          expect([204, 400, 413]).toContain(out.status);
          if (out.status !== 204) {
            expect(out.message.length).toBeGreaterThan(5);
            // Refused samples (out of order, duplicates) refuse the whole request, as in Prometheus.
            expect(db.stats().samplesAppended).toBe(before);
          }
        },
      ),
      { numRuns: 800 },
    );
  });

  test("a payload declaring a huge decoded size is refused with 413 before decompressing", async () => {
    const body = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    const out = await handleWriteBody(body, db, DEFAULT_REMOTE_WRITE_LIMITS);
    expect(out.status).toBe(413);
  });
});

describe("LabelsCache", () => {
  test("the same label bytes give the same Labels object; different bytes never share one", () => {
    const cache = new LabelsCache();
    fc.assert(
      fc.property(fc.array(series, { minLength: 1, maxLength: 6 }), (input) => {
        const bytes = encodeWriteRequest(input.map(toPb));
        const a = decodeWriteRequest(bytes, cache);
        const b = decodeWriteRequest(bytes, cache);
        const plain = decodeWriteRequest(bytes);
        for (let i = 0; i < a.series.length; i++) {
          expect(a.series[i]).toBe(b.series[i]!);
          expect(a.series[i]).toEqual(plain.series[i]!);
        }
      }),
      { numRuns: 200 },
    );
    expect(cache.hits).toBeGreaterThan(0);
  });
});

test("LabelsCache keeps label sets whose bytes share a hash apart", () => {
  const cache = new LabelsCache();
  const a = new Uint8Array([1, 2, 3]);
  const b = new Uint8Array([1, 2, 4]);
  const la = [{ name: "__name__", value: "a" }];
  const lb = [{ name: "__name__", value: "b" }];
  cache.set(a, 42, la);
  cache.set(b, 42, lb);
  expect(cache.get(new Uint8Array([1, 2, 3]), 42)?.labels).toBe(la);
  expect(cache.get(new Uint8Array([1, 2, 4]), 42)?.labels).toBe(lb);
  expect(cache.get(new Uint8Array([1, 2, 5]), 42)).toBeUndefined();
  expect(cache.get(new Uint8Array([1, 2]), 42)).toBeUndefined();
});
