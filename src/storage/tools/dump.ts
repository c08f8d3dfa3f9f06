/** `shoal tsdb dump`: every sample as `{labels} value timestamp_ms`, sorted by series then time. */
import { Matcher, type Logger } from "../../model/index.ts";
import { openLocalTSDB } from "../db.ts";
import { formatValueAt } from "./textformat.ts";

/** Labels the way promtool dump prints them: `{__name__="m", a="b"}` (JSON string escapes). */
export function formatDumpLabels(labels: readonly { name: string; value: string }[]): string {
  let s = "{";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) s += ", ";
    s += (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l.name) ? l.name : JSON.stringify(l.name)) + "=" + JSON.stringify(l.value);
  }
  return s + "}";
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
    const q = db.querier(mint, maxt);
    try {
      const sets = selectors.length > 0 ? selectors : [[new Matcher("=~", "__name__", ".*")]];
      // Several --match flags: union of their series, still sorted by labels.
      const seen = new Set<string>();
      const series = [];
      for (const m of sets) {
        for (const s of (await q.select(m)).series) {
          const k = formatDumpLabels(s.labels);
          if (seen.has(k)) continue;
          seen.add(k);
          series.push(s);
        }
      }
      if (sets.length > 1) {
        const { compareLabels } = await import("../../model/index.ts");
        series.sort((a, b) => compareLabels(a.labels, b.labels));
      }
      let buf = "";
      for (const s of series) {
        const prefix = formatDumpLabels(s.labels) + " ";
        for (let i = 0; i < s.timestamps.length; i++) {
          buf += prefix + formatValueAt(s.values, i) + " " + s.timestamps[i] + "\n";
          lines++;
          if (buf.length > 1 << 20) {
            await write(buf);
            buf = "";
          }
        }
      }
      if (buf.length > 0) await write(buf);
    } finally {
      q.close();
    }
  } finally {
    await db.close();
  }
  return lines;
}
