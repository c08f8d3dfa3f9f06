/**
 * `shoal tsdb import FILE`: backfills samples into blocks written straight into the data
 * directory (one block per aligned block range, like promtool), then compacts them with the
 * node's normal rules. Samples of a series may come in any order; a timestamp given twice with
 * different values is an error naming both lines (an identical repeat is dropped).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { compareLabels, formatLabels, labelsKey, type Labels, type Logger } from "../../model/index.ts";
import { writeBlock, type WriteSeries } from "../block.ts";
import { openLocalTSDB } from "../db.ts";
import { newULID } from "../ulid.ts";
import { ImportParser, ImportSyntaxError, type EmitSample } from "./textformat.ts";

const READ_BYTES = 16 * 1024 * 1024;

/** Streams the file through the parser in 16 MiB pieces; the format is told by its last line. */
export function readImportFile(file: string, emit: EmitSample, pieceBytes = READ_BYTES): { format: "openmetrics" | "text"; samples: number } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 4096);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    const parser = new ImportParser(/(^|\n)# EOF\s*$/.test(tail.toString("utf8")), emit);
    const decoder = new TextDecoder("utf-8");
    const buf = Buffer.alloc(pieceBytes);
    let pos = 0;
    let carry = "";
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(pieceBytes, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      const text = carry + decoder.decode(buf.subarray(0, n), { stream: pos < size });
      const cut = text.lastIndexOf("\n");
      if (cut < 0) {
        carry = text;
        continue;
      }
      parser.feed(text.slice(0, cut + 1));
      carry = text.slice(cut + 1);
    }
    if (carry.length > 0) parser.feed(carry);
    return { format: parser.openMetrics ? "openmetrics" : "text", samples: parser.samples };
  } finally {
    closeSync(fd);
  }
}

class SeriesAcc {
  ts = new Float64Array(16);
  words = new Uint32Array(32);
  lines = new Int32Array(16);
  n = 0;
  constructor(readonly labels: Labels) {}
  push(t: number, hi: number, lo: number, line: number): void {
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.n * 2);
      ts.set(this.ts);
      this.ts = ts;
      const w = new Uint32Array(this.n * 4);
      w.set(this.words);
      this.words = w;
      const l = new Int32Array(this.n * 2);
      l.set(this.lines);
      this.lines = l;
    }
    const i = this.n++;
    this.ts[i] = t;
    this.words[2 * i] = lo;
    this.words[2 * i + 1] = hi;
    this.lines[i] = line;
  }
}

export interface ImportResult {
  format: string;
  series: number;
  samples: number;
  duplicatesDropped: number;
  blocksWritten: number;
  minTime: number;
  maxTime: number;
}

export async function importFile(file: string, dataDir: string, blockDurationMs: number, logger: Logger): Promise<ImportResult> {
  const bySeries = new Map<string, SeriesAcc>();
  const byText = new Map<string, SeriesAcc>();
  const parsed = readImportFile(file, (labels, key, t, hi, lo, line) => {
    let acc = byText.get(key);
    if (acc === undefined) {
      const lk = labelsKey(labels);
      acc = bySeries.get(lk);
      if (acc === undefined) bySeries.set(lk, (acc = new SeriesAcc(labels)));
      byText.set(key, acc);
    }
    acc.push(t, hi, lo, line);
  });
  const all = [...bySeries.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  let duplicatesDropped = 0;
  let minTime = Infinity;
  let maxTime = -Infinity;
  let samples = 0;
  // Per block window: the series with samples in it.
  const windows = new Map<number, WriteSeries[]>();
  for (const acc of all) {
    const n = acc.n;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => acc.ts[a]! - acc.ts[b]! || a - b);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    const vw = new Uint32Array(vs.buffer);
    let k = 0;
    for (const i of order) {
      const t = acc.ts[i]!;
      const hi = acc.words[2 * i + 1]!;
      const lo = acc.words[2 * i]!;
      if (k > 0 && ts[k - 1] === t) {
        if (vw[2 * k - 1] === hi && vw[2 * k - 2] === lo) {
          duplicatesDropped++;
          continue;
        }
        const prevLine = acc.lines[order[order.indexOf(i) - 1]!]!;
        throw new ImportSyntaxError(acc.lines[i]!, `${formatLabels(acc.labels)} has two different values at ${t} (also line ${prevLine})`);
      }
      ts[k] = t;
      vw[2 * k] = lo;
      vw[2 * k + 1] = hi;
      k++;
    }
    samples += k;
    minTime = Math.min(minTime, ts[0]!);
    maxTime = Math.max(maxTime, ts[k - 1]!);
    for (let a = 0; a < k; ) {
      const w = Math.floor(ts[a]! / blockDurationMs);
      let b = a;
      while (b < k && Math.floor(ts[b]! / blockDurationMs) === w) b++;
      const list = windows.get(w) ?? [];
      list.push({ labels: acc.labels, timestamps: ts.subarray(a, b), values: vs.subarray(a, b) });
      windows.set(w, list);
      a = b;
    }
  }
  if (parsed.format === "text" && samples > 0 && maxTime < 1e11) {
    logger.warn(
      "all timestamps are before 1973 when read as milliseconds; if they are seconds, the input is OpenMetrics and must end with a '# EOF' line",
      { file, maxTime },
    );
  }
  let blocksWritten = 0;
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const ulid = newULID();
    const meta = await writeBlock(dataDir, ulid, w * blockDurationMs, (w + 1) * blockDurationMs, windows.get(w)!, { level: 1, sources: [ulid] });
    blocksWritten++;
    logger.info("block written", { ulid, minTime: meta.minTime, maxTime: meta.maxTime, series: meta.stats.numSeries, samples: meta.stats.numSamples });
  }
  if (blocksWritten > 0) {
    const db = await openLocalTSDB({ dir: dataDir, blockDurationMs, logger }, "blocksOnly");
    try {
      await db.compactBlocksNow();
    } finally {
      await db.close();
    }
  }
  return { format: parsed.format, series: all.length, samples, duplicatesDropped, blocksWritten, minTime, maxTime };
}
