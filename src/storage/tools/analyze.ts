/** `shoal tsdb analyze`: what the data directory holds and what it costs. */
import { labelsKey, METRIC_NAME, type Labels, type Logger } from "../../model/index.ts";
import { openLocalTSDB } from "../db.ts";

function top(m: Map<string, number>, n: number): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

export async function analyze(dataDir: string, limit: number, logger: Logger): Promise<string> {
  const db = await openLocalTSDB({ dir: dataDir, logger }, "readOnly");
  try {
    const out: string[] = [];
    let blockSamples = 0;
    let blockBytes = 0;
    out.push(`Data directory: ${dataDir}`);
    out.push("");
    out.push(`Blocks: ${db.blocks.length}`);
    if (db.blocks.length > 0) {
      out.push("ULID                        MIN TIME       MAX TIME       SERIES     SAMPLES       CHUNKS     BYTES        BYTES/SAMPLE");
    }
    for (const b of db.blocks) {
      const st = b.meta.stats;
      blockSamples += st.numSamples;
      blockBytes += b.sizeBytes;
      out.push(
        [
          b.ulid.padEnd(27),
          String(b.meta.minTime).padEnd(14),
          String(b.meta.maxTime).padEnd(14),
          String(st.numSeries).padEnd(10),
          String(st.numSamples).padEnd(13),
          String(st.numChunks).padEnd(10),
          String(b.sizeBytes).padEnd(12),
          st.numSamples > 0 ? (b.sizeBytes / st.numSamples).toFixed(3) : "-",
        ].join(" "),
      );
    }
    let headSamples = 0;
    for (const s of db.head.allSeries()) headSamples += s.sampleCount;
    const series = new Map<string, Labels>();
    for (const b of db.blocks) {
      for (let id = 0; id < b.numSeries; id++) {
        const ls = b.labelsOf(id);
        series.set(labelsKey(ls), ls);
      }
    }
    for (const s of db.head.allSeries()) series.set(labelsKey(s.labels), s.labels);
    const byMetric = new Map<string, number>();
    const valuesByName = new Map<string, Set<string>>();
    const seriesByName = new Map<string, number>();
    const byPair = new Map<string, number>();
    for (const ls of series.values()) {
      for (const l of ls) {
        if (l.name === METRIC_NAME) byMetric.set(l.value, (byMetric.get(l.value) ?? 0) + 1);
        let vs = valuesByName.get(l.name);
        if (vs === undefined) valuesByName.set(l.name, (vs = new Set()));
        vs.add(l.value);
        seriesByName.set(l.name, (seriesByName.get(l.name) ?? 0) + 1);
        const pair = `${l.name}=${JSON.stringify(l.value)}`;
        byPair.set(pair, (byPair.get(pair) ?? 0) + 1);
      }
    }
    const walBytes = db.wal.diskBytes();
    out.push("");
    out.push(`Head: ${db.head.numSeries} series, ${headSamples} samples (from the WAL, ${walBytes} bytes)`);
    out.push("");
    out.push(`Total series: ${series.size}`);
    out.push(`Total samples: ${blockSamples + headSamples}`);
    out.push(`Block bytes: ${blockBytes}`);
    out.push(`Bytes per sample in blocks: ${blockSamples > 0 ? (blockBytes / blockSamples).toFixed(3) : "-"}`);
    out.push(`Label names: ${valuesByName.size}`);
    out.push(`Label pairs: ${byPair.size}`);
    const section = (title: string, rows: [string, number][]) => {
      out.push("");
      out.push(title);
      for (const [k, v] of rows) out.push(`${String(v).padStart(10)} ${k}`);
    };
    section(`Highest cardinality labels (distinct values, top ${limit}):`, top(new Map([...valuesByName].map(([k, v]) => [k, v.size])), limit));
    section(`Label names most involved in series (top ${limit}):`, top(seriesByName, limit));
    section(`Highest cardinality metric names (series, top ${limit}):`, top(byMetric, limit));
    section(`Most common label pairs (series, top ${limit}):`, top(byPair, limit));
    return out.join("\n") + "\n";
  } finally {
    await db.close();
  }
}
