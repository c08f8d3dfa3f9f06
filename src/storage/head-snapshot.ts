/** The WAL checkpoint written after a head cut and at shutdown: the head as WAL records. */
import { ByteWriter } from "./bytes.ts";
import type { Head } from "./head.ts";
import { encodeChunks as encodeChunksRecord, encodeSamples, encodeSeries } from "./wal.ts";

/** The head as WAL records: series, sealed chunks, and the open chunks' samples. */
export function encodeHeadSnapshot(head: Head): Uint8Array {
  const w = new ByteWriter(1 << 20);
  const logged = [...head.allSeries()].filter((s) => s.walLogged);
  for (let i = 0; i < logged.length; i += 1000) encodeSeries(w, logged.slice(i, i + 1000));
  let refs: number[] = [];
  let ts: number[] = [];
  let words: number[] = [];
  const flushSamples = () => {
    if (refs.length === 0) return;
    const vals = new Float64Array(refs.length);
    new Uint32Array(vals.buffer).set(words);
    encodeSamples(w, Int32Array.from(refs), Float64Array.from(ts), vals, refs.length);
    refs = [];
    ts = [];
    words = [];
  };
  for (const s of logged) {
    if (s.sealedMeta !== null) encodeChunksRecord(w, s.ref, s.sealedChunks());
    if (s.count > 0) {
      const r = head.readSamples(s, s.minT, Infinity);
      if (r === null) continue;
      const vw = new Uint32Array(r.values.buffer, r.values.byteOffset, r.values.length * 2);
      for (let i = 0; i < r.timestamps.length; i++) {
        refs.push(s.ref);
        ts.push(r.timestamps[i]!);
        words.push(vw[2 * i]!, vw[2 * i + 1]!);
      }
      if (refs.length >= 100_000) flushSamples();
    }
  }
  flushSamples();
  return w.result().slice();
}
