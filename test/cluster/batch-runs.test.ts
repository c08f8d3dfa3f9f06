/**
 * The distributor's wire batches built straight from its columns (encodeRuns) decode to the same
 * series as encodeBatch of the same runs: labels, timestamps, value bits (stale markers too),
 * for all runs (columns sent as they are) and for a selection (copied run by run).
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { decodeBatch, encodeBatch, encodeRuns, type BatchSeries } from "../../src/cluster/batch.ts";
import { decodeFrame, encodeFrame } from "../../src/cluster/codec.ts";
import { PendingRuns } from "../../src/cluster/distributor.ts";
import { isStaleAt, type Labels } from "../../src/model/index.ts";

function views(p: PendingRuns, runs: Int32Array | null, n: number): BatchSeries[] {
  const out: BatchSeries[] = [];
  for (let k = 0; k < n; k++) {
    const r = runs === null ? k : runs[k]!;
    const a = p.start(r);
    const b = p.ends[r]!;
    out.push({ labels: p.labels[r]!, timestamps: p.timestamps.subarray(a, b), values: p.values.subarray(a, b) });
  }
  return out;
}

function same(a: BatchSeries[], b: BatchSeries[]): void {
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    expect(b[i]!.labels).toEqual(a[i]!.labels);
    expect([...b[i]!.timestamps]).toEqual([...a[i]!.timestamps]);
    const wa = new Uint32Array(a[i]!.values.slice().buffer);
    const wb = new Uint32Array(b[i]!.values.slice().buffer);
    expect([...wb]).toEqual([...wa]);
    for (let j = 0; j < a[i]!.values.length; j++) expect(isStaleAt(b[i]!.values, j)).toBe(isStaleAt(a[i]!.values, j));
  }
}

test("encodeRuns agrees with encodeBatch over all runs and over a selection", () => {
  const sets: Labels[] = Array.from({ length: 12 }, (_, i) => [
    { name: "__name__", value: `m${i % 3}` },
    { name: "i", value: String(i) },
  ]);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(11), fc.integer({ min: 1, max: 4 }), fc.double(), fc.boolean()), { minLength: 1, maxLength: 60 }),
      fc.func(fc.boolean()),
      (samples, pick) => {
        const p = new PendingRuns();
        let t = 1000;
        for (const [s, reps, v, stale] of samples) for (let k = 0; k < reps; k++) p.push(sets[s]!, t++, v, stale && k === reps - 1);
        const all = decodeBatch(decodeFrame(encodeFrame(encodeRuns(p, null, p.runs))));
        same(decodeBatch(encodeBatch(views(p, null, p.runs))), all);
        const chosen = Int32Array.from({ length: p.runs }, (_, r) => r).filter((r) => pick(r));
        const some = decodeBatch(decodeFrame(encodeFrame(encodeRuns(p, chosen, chosen.length))));
        same(decodeBatch(encodeBatch(views(p, chosen, chosen.length))), some);
      },
    ),
    { numRuns: 300 },
  );
});
