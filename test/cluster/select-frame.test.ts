import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeSelectFrame, encodeSelectFrame, SelectFrameError, selectFrames } from "../../src/cluster/select_frame.ts";
import { isStaleAt, setStaleAt, type Series } from "../../src/model/index.ts";

/** Series with strictly increasing integer timestamps and values of any bits (NaN payloads too). */
const seriesArb = fc
  .record({
    labels: fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 12 }), value: fc.string({ maxLength: 20 }) }), {
      selector: (l) => l.name,
      maxLength: 6,
    }),
    start: fc.integer({ min: -1e12, max: 2e12 }),
    steps: fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300 }),
    words: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 300 }),
    stale: fc.array(fc.nat(), { maxLength: 5 }),
  })
  .map(({ labels, start, steps, words, stale }): Series => {
    const n = Math.min(steps.length, words.length);
    const timestamps = new Float64Array(n);
    const values = new Float64Array(n);
    const w = new Uint32Array(values.buffer);
    let t = start;
    for (let i = 0; i < n; i++) {
      t += steps[i]!;
      timestamps[i] = t;
      w[2 * i] = words[i]![0];
      w[2 * i + 1] = words[i]![1];
    }
    for (const k of stale) if (n > 0) setStaleAt(values, k % n);
    return { labels, timestamps, values };
  });

function bitsOf(a: Float64Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length * 2)];
}

describe("select frame", () => {
  test("a frame decodes to the series encoded: labels, timestamps and every value bit", () => {
    fc.assert(
      fc.property(fc.array(seriesArb, { maxLength: 20 }), (series) => {
        const frame = encodeSelectFrame(series);
        const got = decodeSelectFrame(frame);
        expect(got.series.length).toBe(series.length);
        expect(got.samples).toBe(series.reduce((n, s) => n + s.timestamps.length, 0));
        got.series.forEach((s, i) => {
          expect(s.labels).toEqual(series[i]!.labels);
          expect([...s.timestamps]).toEqual([...series[i]!.timestamps]);
          expect(bitsOf(s.values)).toEqual(bitsOf(series[i]!.values));
        });
      }),
      { numRuns: 200 },
    );
  });

  test("stale markers and other NaN payloads survive bit-exact, next to ordinary NaN", () => {
    const values = new Float64Array([1.5, NaN, 0, -0, 0, 42]);
    setStaleAt(values, 0);
    setStaleAt(values, 5);
    new Uint32Array(values.buffer)[9] = 0x7ff80001; // values[4]: a quiet NaN with a payload
    const timestamps = new Float64Array([1000, 16000, 31000, 46004, 61000, 1e12]);
    const s: Series = { labels: [{ name: "__name__", value: "up" }], timestamps, values };
    const got = decodeSelectFrame(encodeSelectFrame([s])).series[0]!;
    expect(bitsOf(got.values)).toEqual(bitsOf(values));
    expect(isStaleAt(got.values, 0)).toBe(true);
    expect(isStaleAt(got.values, 1)).toBe(false);
    expect(isStaleAt(got.values, 5)).toBe(true);
    expect(Object.is(got.values[3], -0)).toBe(true);
  });

  test("a long series and non-ASCII labels round-trip", () => {
    const n = 20_000;
    const timestamps = new Float64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      timestamps[i] = 1_700_000_000_000 + i * 15_000 + (i % 7);
      values[i] = Math.sin(i) * 1e6;
    }
    const s: Series = { labels: [{ name: "city", value: "Zürich 東京 🐟" }], timestamps, values };
    const got = decodeSelectFrame(encodeSelectFrame([s, { ...s, labels: [{ name: "city", value: "" }] }]));
    expect(got.series[0]!.labels).toEqual(s.labels);
    expect(got.series[1]!.labels).toEqual([{ name: "city", value: "" }]);
    expect([...got.series[1]!.timestamps]).toEqual([...timestamps]);
    expect(bitsOf(got.series[0]!.values)).toEqual(bitsOf(values));
  });

  test("timestamps that are not integer milliseconds come back exactly", () => {
    const timestamps = new Float64Array([0.1, 0.30000000000000004, 1e-300, 5e15 + 0.5, 9.007199254740993e15]);
    const values = new Float64Array([1, 2, 3, 4, 5]);
    const got = decodeSelectFrame(encodeSelectFrame([{ labels: [], timestamps, values }])).series[0]!;
    expect(bitsOf(got.timestamps)).toEqual(bitsOf(timestamps));
  });

  test("an answer is cut into frames by series and by samples, never inside a series", () => {
    const one = (i: number, n: number): Series => ({
      labels: [{ name: "i", value: String(i) }],
      timestamps: Float64Array.from({ length: n }, (_, k) => k * 1000),
      values: Float64Array.from({ length: n }, (_, k) => i + k),
    });
    expect([...selectFrames([])]).toEqual([]);
    const many = Array.from({ length: 4500 }, (_, i) => one(i, 2));
    const frames = [...selectFrames(many)];
    expect(frames.map((f) => decodeSelectFrame(f).series.length)).toEqual([2000, 2000, 500]);
    // Three series of 600k samples: over the per-frame sample budget two at a time.
    const long = [one(0, 600_000), one(1, 600_000), one(2, 600_000)];
    const got = [...selectFrames(long)].map((f) => decodeSelectFrame(f).series);
    expect(got.map((g) => g.length)).toEqual([1, 1, 1]);
    expect(got.flat().map((s) => s.values[599_999])).toEqual([599_999, 600_000, 600_001]);
  });

  test("a frame at an odd offset of a larger buffer (as the transport hands it over) decodes", () => {
    const frame = encodeSelectFrame([{ labels: [{ name: "a", value: "b" }], timestamps: new Float64Array([1, 2]), values: new Float64Array([3, 4]) }]);
    const carrier = new Uint8Array(frame.length + 1);
    carrier.set(frame, 1);
    expect([...decodeSelectFrame(carrier.subarray(1)).series[0]!.values]).toEqual([3, 4]);
    // libp2p hands frames over as Node Buffers, whose slice() makes a view, not a copy.
    const buffer = Buffer.from(carrier.buffer, 1, frame.length);
    expect([...decodeSelectFrame(buffer).series[0]!.values]).toEqual([3, 4]);
  });

  test("any flipped byte or cut tail is refused with an error naming the frame as corrupt", () => {
    fc.assert(
      fc.property(
        fc.array(seriesArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (series, at, flip, cut) => {
          const frame = encodeSelectFrame(series).slice();
          if (cut) {
            expect(() => decodeSelectFrame(frame.subarray(0, at % frame.length))).toThrow(SelectFrameError);
          } else {
            frame[at % frame.length]! ^= flip;
            expect(() => decodeSelectFrame(frame)).toThrow(/corrupt select frame/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("what is wrong is named: not a frame, truncated, bad checksum", () => {
    const frame = encodeSelectFrame([{ labels: [{ name: "a", value: "b" }], timestamps: new Float64Array([1]), values: new Float64Array([2]) }]);
    expect(() => decodeSelectFrame(new Uint8Array(10))).toThrow("corrupt select frame: 10 bytes, shorter than the 40-byte header");
    expect(() => decodeSelectFrame(new Uint8Array(64))).toThrow("bad magic");
    expect(() => decodeSelectFrame(frame.subarray(0, frame.length - 1))).toThrow(/header describes \d+ bytes, the frame has \d+/);
    const flipped = frame.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(() => decodeSelectFrame(flipped)).toThrow("checksum mismatch");
  });
});
