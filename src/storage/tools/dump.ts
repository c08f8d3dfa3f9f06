/**
 * `shoal tsdb dump`: every sample as `{labels} value timestamp_ms`, sorted by series then time.
 * Series are streamed: only the label sets are gathered up front, samples are read, merged
 * across blocks, backfilled samples and head, printed and dropped one series at a time.
 */
import { compareLabels, Matcher, type Labels, type Logger } from "../../model/index.ts";
import { openLocalTSDB } from "../db.ts";
import { mergeSamples, type SourceSeries } from "../merge.ts";
import { formatValueAt } from "./textformat.ts";

/** Labels the way promtool dump prints them: `{__name__="m", a="b"}` (JSON string escapes). */
function formatDumpLabels(labels: readonly { name: string; value: string }[]): string {
  let s = "{";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) s += ", ";
    s += (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l.name) ? l.name : JSON.stringify(l.name)) + "=" + JSON.stringify(l.value);
  }
  return s + "}";
}

interface Entry {
  labels: Labels;
  order: number;
  read: () => { timestamps: Float64Array; values: Float64Array } | null;
}

export async function dump(
  dataDir: string,
  selectors: Matcher[][],
  mint: number,
  maxt: number,
  logger: Logger,
  write: (s: string) => void | Promise<void>,
): Promise<number> {
  const db = await openLocalTSDB({ dir: dataDir, logger }, "readOnly");
  let lines = 0;
  try {
    const sets = selectors.length > 0 ? selectors : [[new Matcher("=~", "__name__", ".*")]];
    const entries: Entry[] = [];
    const seen = new Set<string>();
    db.blocks.forEach((b, bi) => {
      if (b.maxT < mint || b.minT > maxt) return;
      for (const m of sets) {
        for (const id of b.matching(m)) {
          const key = `${bi}:${id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          entries.push({ labels: b.labelsOf(id), order: bi, read: () => b.readSamples(id, mint, maxt) });
        }
      }
    });
    // Backfilled samples not yet written as blocks (replayed from the backfill log).
    db.backfiller.stores().forEach((store, si) => {
      for (const m of sets) {
        for (const s of store.matching(m)) {
          const key = `b${si}:${s.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          entries.push({ labels: s.labels, order: db.blocks.length, read: () => s.read(mint, maxt) });
        }
      }
    });
    for (const m of sets) {
      for (const ref of db.head.matchingRefs(m)) {
        const key = `h:${ref}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = db.head.seriesByRef(ref)!;
        entries.push({ labels: s.labels, order: db.blocks.length + 1, read: () => db.head.readSamples(s, mint, maxt) });
      }
    }
    entries.sort((a, b) => compareLabels(a.labels, b.labels) || a.order - b.order);
    let buf = "";
    for (let i = 0; i < entries.length; ) {
      let j = i + 1;
      while (j < entries.length && compareLabels(entries[i]!.labels, entries[j]!.labels) === 0) j++;
      const parts: SourceSeries[] = [];
      for (let k = i; k < j; k++) {
        const r = entries[k]!.read();
        if (r !== null) parts.push({ labels: entries[k]!.labels, ...r });
      }
      const labels = entries[i]!.labels;
      i = j;
      if (parts.length === 0) continue;
      const s = parts.length === 1 ? parts[0]! : mergeSamples(parts);
      const prefix = formatDumpLabels(labels) + " ";
      for (let k = 0; k < s.timestamps.length; k++) {
        buf += prefix + formatValueAt(s.values, k) + " " + s.timestamps[k] + "\n";
        lines++;
      }
      if (buf.length > 1 << 20) {
        await write(buf);
        buf = "";
      }
    }
    if (buf.length > 0) await write(buf);
  } finally {
    await db.close();
  }
  return lines;
}
