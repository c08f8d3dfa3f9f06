/**
 * Bit-exact read-back of a generated dataset: a size or a throughput only means something when
 * every sample is there. Used by run.ts (after each import) and backfill.ts (after compaction).
 */
import { labelsKey, Matcher, type Queryable } from "../../src/model/index.ts";
import type { Dataset } from "../generator.ts";

/** Reads every series back and compares timestamps and value bits; returns a one-line verdict. */
export async function verifyReadBack(db: Queryable, ds: Dataset): Promise<string> {
  const q = db.querier(ds.startMs - 1, ds.endMs + 1);
  try {
    const set = await q.select([new Matcher("=~", "__name__", ".+")]);
    const want = new Map(ds.series.map((s) => [labelsKey(s.labels), s] as const));
    let samples = 0;
    let wrong = 0;
    for (const got of set.series) {
      const s = want.get(labelsKey(got.labels));
      samples += got.values.length;
      if (s === undefined) {
        wrong++;
        continue;
      }
      const ts = ds.timestamps[s.target]!;
      let ok = got.values.length === s.values.length;
      const gv = new BigInt64Array(got.values.buffer, got.values.byteOffset, got.values.length);
      const wv = new BigInt64Array(s.values.buffer, s.values.byteOffset, s.values.length);
      for (let i = 0; ok && i < gv.length; i++) ok = gv[i] === wv[i] && got.timestamps[i] === ts[i];
      if (!ok) wrong++;
    }
    if (samples === ds.samples && wrong === 0 && set.series.length === ds.series.length) return `verified: all ${samples} samples read back bit-exact`;
    return `MISMATCH: read ${samples} of ${ds.samples} samples, ${set.series.length} of ${ds.series.length} series, ${wrong} series differ`;
  } finally {
    await q.close();
  }
}
