/** The backfill store's per-series merge (property test): sorted, first sample of a timestamp wins. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { BackfillSeries } from "../../src/storage/backfill-store.ts";
test("insert equals a map where the first sample of a timestamp wins", () => {
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 30 }), { maxLength: 12 }), (calls) => {
    const s = new BackfillSeries(1, [], "k", 1);
    const want = new Map<number, number>();
    calls.forEach((raw, c) => {
      const ts = [...new Set(raw)].sort((a, b) => a - b);
      const t = Float64Array.from(ts);
      const w = new Uint32Array(2 * ts.length);
      ts.forEach((x, k) => { w[2 * k] = c; w[2 * k + 1] = x; if (!want.has(x)) want.set(x, c); });
      s.insert(t, w, ts.length);
    });
    const exp = [...want].sort((a, b) => a[0] - b[0]);
    expect(Array.from(s.ts.subarray(0, s.n))).toEqual(exp.map((e) => e[0]));
    expect(Array.from({ length: s.n }, (_, k) => s.words[2 * k])).toEqual(exp.map((e) => e[1]));
  }), { numRuns: 500 });
});
