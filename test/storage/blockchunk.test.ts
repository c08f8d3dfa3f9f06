import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeBlockChunk, encodeBlockChunk } from "../../src/storage/blockchunk.ts";
import { ByteWriter } from "../../src/storage/bytes.ts";
import { STALE_NAN_HI, STALE_NAN_LO } from "../../src/model/index.ts";
import { bitsOf } from "./helpers.ts";

function roundTrip(ts: number[], words: [number, number][]): void {
  const t = Float64Array.from(ts);
  const v = new Float64Array(ts.length);
  const w = new Uint32Array(v.buffer);
  words.forEach(([hi, lo], i) => {
    w[2 * i] = lo;
    w[2 * i + 1] = hi;
  });
  const out = new ByteWriter(16);
  encodeBlockChunk(out, t, v, 0, ts.length);
  const bytes = out.result().slice();
  const t2 = new Float64Array(ts.length);
  const v2 = new Float64Array(ts.length);
  expect(decodeBlockChunk(bytes, t2, new Uint32Array(v2.buffer), 0)).toBe(ts.length);
  expect([...t2]).toEqual(ts);
  expect(bitsOf(v2)).toEqual(bitsOf(v));
  // The fast path (values stored as doubles through outV) at an offset into a shared buffer.
  const off = 3;
  const ab = new ArrayBuffer((ts.length + off) * 8);
  const t3 = new Float64Array(ts.length + off);
  expect(decodeBlockChunk(bytes, t3, new Uint32Array(ab), off, new Float64Array(ab))).toBe(ts.length);
  expect([...t3.subarray(off)]).toEqual(ts);
  expect(bitsOf(new Float64Array(ab, off * 8))).toEqual(bitsOf(v));
}

const wordsOf = (d: number): [number, number] => {
  const w = new Uint32Array(new Float64Array([d]).buffer);
  return [w[1]!, w[0]!];
};
const word = fc.integer({ min: 0, max: 0xffffffff });
const value = fc.oneof(
  fc.tuple(word, word),
  fc.double().map(wordsOf),
  fc.integer({ min: -1e6, max: 1e6 }).map((i) => wordsOf(i / 100)),
  fc.integer({ min: 0, max: 2 ** 53 }).map(wordsOf),
  fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 0.1, 1e-300, 5e-324, 2 ** 50, 2 ** 50 + 1).map(wordsOf),
  fc.constant([STALE_NAN_HI, STALE_NAN_LO] as [number, number]),
);

describe("block chunk encoding", () => {
  test("round-trips every bit pattern and timestamp", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e13, max: 4e12 }),
        fc.array(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 30000 }), fc.integer({ min: 1, max: 2 ** 40 })), value), { minLength: 1, maxLength: 300, size: "max" }),
        (t0, steps) => {
          const ts: number[] = [];
          let t = t0;
          for (const [d] of steps) ts.push((t += d));
          roundTrip(ts, steps.map((s) => s[1]));
        },
      ),
      { numRuns: 400 },
    );
  });

  test("decimal gauges, counters and a stale marker take about a byte per sample before zstd", () => {
    const n = 480;
    const ts: number[] = [];
    const words: [number, number][] = [];
    let c = 1000;
    for (let i = 0; i < n; i++) {
      ts.push(1_700_000_000_000 + i * 15000 + (i % 3));
      c += i % 5;
      words.push(i === n - 1 ? [STALE_NAN_HI, STALE_NAN_LO] : wordsOf(c));
    }
    roundTrip(ts, words);
    const out = new ByteWriter();
    const v = new Float64Array(n);
    const vw = new Uint32Array(v.buffer);
    words.forEach(([hi, lo], i) => ((vw[2 * i] = lo), (vw[2 * i + 1] = hi)));
    encodeBlockChunk(out, Float64Array.from(ts), v, 0, n);
    expect(out.pos / n).toBeLessThan(2.1);
  });
});
