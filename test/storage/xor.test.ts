import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { XorChunkBuilder, decodeChunkArrays, SAMPLES_PER_CHUNK } from "../../src/storage/xor.ts";
import { isStaleAt, STALE_NAN_HI, STALE_NAN_LO } from "../../src/model/index.ts";

/** Encodes (t, hi, lo) triples and decodes them back, comparing words, not numbers. */
function roundTrip(ts: number[], words: [number, number][]): void {
  const b = new XorChunkBuilder(8);
  for (let i = 0; i < ts.length; i++) b.append(ts[i]!, words[i]![0], words[i]![1]);
  const { timestamps, values } = decodeChunkArrays(b.bytes());
  expect(timestamps.length).toBe(ts.length);
  const w = new Uint32Array(values.buffer);
  for (let i = 0; i < ts.length; i++) {
    expect(timestamps[i]).toBe(ts[i]!);
    expect([w[2 * i + 1], w[2 * i]]).toEqual([words[i]![0] >>> 0, words[i]![1] >>> 0]);
  }
}

const word = fc.integer({ min: 0, max: 0xffffffff });
const interesting = fc.oneof(
  fc.tuple(word, word),
  fc.double().map((d) => {
    const w = new Uint32Array(new Float64Array([d]).buffer);
    return [w[1]!, w[0]!] as [number, number];
  }),
  fc.constant([STALE_NAN_HI, STALE_NAN_LO] as [number, number]),
  fc.integer({ min: 0, max: 1000 }).map((i) => {
    const w = new Uint32Array(new Float64Array([i]).buffer);
    return [w[1]!, w[0]!] as [number, number];
  }),
);

describe("xor chunk", () => {
  test("round-trips arbitrary bit patterns and timestamps bit-exact", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e13, max: 4e12 }),
        fc.array(fc.tuple(fc.oneof(fc.integer({ min: 14_900, max: 15_100 }), fc.integer({ min: 1, max: 30000 }), fc.integer({ min: 1, max: 2 ** 40 })), interesting), {
          minLength: 1,
          maxLength: SAMPLES_PER_CHUNK,
          size: "max",
        }),
        (t0, steps) => {
          const ts: number[] = [];
          let t = t0;
          for (const [d] of steps) ts.push((t += d));
          roundTrip(ts, steps.map((s) => s[1]));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("stale markers survive and are recognised by isStaleAt", () => {
    const b = new XorChunkBuilder();
    b.append(1000, 0x40590000, 0); // 100
    b.append(16000, STALE_NAN_HI, STALE_NAN_LO);
    b.append(31000, 0x7ff80000, 0); // canonical NaN
    const { values } = decodeChunkArrays(b.bytes());
    expect(isStaleAt(values, 0)).toBe(false);
    expect(isStaleAt(values, 1)).toBe(true);
    expect(isStaleAt(values, 2)).toBe(false);
    expect(Number.isNaN(values[2])).toBe(true);
  });

  test("regular 15s scrapes of a counter compress to a couple of bytes per sample", () => {
    const b = new XorChunkBuilder();
    const f = new Float64Array(1);
    const w = new Uint32Array(f.buffer);
    let v = 0;
    for (let i = 0; i < 120; i++) {
      v += 3;
      f[0] = v;
      b.append(1_700_000_000_000 + i * 15000, w[1]!, w[0]!);
    }
    expect(b.bytes().length / 120).toBeLessThan(2);
  });
});
