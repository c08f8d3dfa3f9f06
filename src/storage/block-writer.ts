/** Writing a block directory from series sorted by labels (head cuts, compaction, import). */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { compareLabels, type Labels } from "../model/index.ts";
import { ByteWriter, checksum } from "./bytes.ts";
import { encodeBlockChunk } from "./blockchunk.ts";
import {
  BLOCK_CHUNK_SAMPLES,
  BLOCK_ZSTD_LEVEL,
  CHUNK_FILE_BYTES,
  FRAME_RAW_BYTES,
  INDEX_MAGIC,
  hashFile,
  writeFileSynced,
  type BlockMeta,
  type WriteSeries,
} from "./block-format.ts";
import { syncDir } from "./wal.ts";

/**
 * Writes a block from series sorted by labels. Returns its meta. `minTime`/`maxTime` bound the
 * block (maxTime exclusive); samples must lie inside. Yields to the event loop every few hundred
 * series so that a big head cut or compaction does not stall appends and queries.
 */
export async function writeBlock(...args: Parameters<typeof writeBlockFiles>): Promise<BlockMeta> {
  try {
    return await writeBlockFiles(...args);
  } catch (e) {
    // A failed write (a full disk) frees its space now, not at the next start's cleanup.
    rmSync(join(args[0], args[1] + ".tmp"), { recursive: true, force: true });
    throw e;
  }
}

async function writeBlockFiles(
  parentDir: string,
  ulid: string,
  minTime: number,
  maxTime: number,
  series: Iterable<WriteSeries>,
  compaction: BlockMeta["compaction"],
  /** Told of every chunk written: its encoded bytes, samples and time range (ms). */
  onChunk?: (bytes: number, samples: number, rangeMs: number) => void,
): Promise<BlockMeta> {
  const tmp = join(parentDir, ulid + ".tmp");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "chunks"), { recursive: true });
  const files: BlockMeta["files"] = {};

  // Chunk files: pack chunk bytes into frames, compress each frame.
  // Frames are streamed to the file as they fill, so a big compaction holds one frame at a time.
  let fileIdx = 1;
  let fd = -1;
  let fileSize = 0;
  let frameSums: number[] = [];
  let frame = new ByteWriter(FRAME_RAW_BYTES + 4096);
  const chunkFileName = () => `chunks/${String(fileIdx).padStart(6, "0")}`;
  const flushFile = () => {
    if (fd < 0) return;
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    // Each frame carries its own checksum (checked on every read); the file entry sums them up.
    files[chunkFileName()] = { size: fileSize, xxhash64: hashFile(new Uint8Array(Uint32Array.from(frameSums).buffer)) };
    fileIdx++;
    fileSize = 0;
    frameSums = [];
  };
  const flushFrame = () => {
    if (frame.pos === 0) return;
    const raw = frame.result();
    const comp = Bun.zstdCompressSync(raw, { level: BLOCK_ZSTD_LEVEL });
    const sum = checksum(comp);
    const hdr = new ByteWriter(12);
    hdr.u32(comp.length);
    hdr.u32(raw.length);
    hdr.u32(sum);
    if (fd < 0) fd = openSync(join(tmp, chunkFileName()), "w");
    for (const part of [hdr.result(), comp]) {
      let off = 0;
      while (off < part.length) off += writeSync(fd, part, off, part.length - off);
    }
    frameSums.push(sum);
    fileSize += 12 + comp.length;
    frame.pos = 0;
    if (fileSize >= CHUNK_FILE_BYTES) flushFile();
  };

  // Index pieces gathered while chunks are written.
  const symbols = new Map<string, number>();
  const seriesLabels: Labels[] = [];
  const seriesChunks: { minT: number; maxT: number; file: number; frame: number; off: number; len: number }[][] = [];
  let numSamples = 0;
  let numChunks = 0;
  let prev: Labels | null = null;
  try {
    let sinceYield = 0;
    for (const s of series) {
      if (++sinceYield >= 256) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
      const n = s.timestamps.length;
      if (n === 0) continue;
      if (prev !== null && compareLabels(prev, s.labels) >= 0) throw new Error("writeBlock: series not sorted by labels");
      prev = s.labels;
      if (s.timestamps[0]! < minTime || s.timestamps[n - 1]! >= maxTime) {
        throw new Error(`writeBlock: samples [${s.timestamps[0]},${s.timestamps[n - 1]}] outside block [${minTime},${maxTime})`);
      }
      for (const l of s.labels) {
        symbols.set(l.name, 0);
        symbols.set(l.value, 0);
      }
      const refs = [];
      // Even chunk sizes rather than a short tail.
      const nChunks = Math.ceil(n / BLOCK_CHUNK_SAMPLES);
      const per = Math.ceil(n / nChunks);
      for (let a = 0; a < n; a += per) {
        const b = Math.min(n, a + per);
        if (frame.pos >= FRAME_RAW_BYTES) flushFrame();
        const off = frame.pos;
        encodeBlockChunk(frame, s.timestamps, s.values, a, b);
        refs.push({ minT: s.timestamps[a]!, maxT: s.timestamps[b - 1]!, file: fileIdx, frame: fileSize, off, len: frame.pos - off });
        onChunk?.(frame.pos - off, b - a, s.timestamps[b - 1]! - s.timestamps[a]!);
        numSamples += b - a;
        numChunks++;
      }
      seriesLabels.push(s.labels);
      seriesChunks.push(refs);
    }
    flushFrame();
    flushFile();
  } finally {
    if (fd >= 0) closeSync(fd);
  }

  // Index.
  const symList = [...symbols.keys()].sort();
  symList.forEach((s, i) => symbols.set(s, i));
  const w = new ByteWriter(1 << 16);
  w.uvarint(symList.length);
  for (const s of symList) w.str(s);
  w.uvarint(seriesLabels.length);
  const postings = new Map<string, Map<string, number[]>>();
  for (let id = 0; id < seriesLabels.length; id++) {
    const ls = seriesLabels[id]!;
    w.uvarint(ls.length);
    for (const l of ls) {
      w.uvarint(symbols.get(l.name)!);
      w.uvarint(symbols.get(l.value)!);
      let byValue = postings.get(l.name);
      if (byValue === undefined) postings.set(l.name, (byValue = new Map()));
      const list = byValue.get(l.value);
      if (list === undefined) byValue.set(l.value, [id]);
      else list.push(id);
    }
    const cs = seriesChunks[id]!;
    w.uvarint(cs.length);
    let last = minTime;
    for (const c of cs) {
      w.varint(c.minT - last);
      w.uvarint(c.maxT - c.minT);
      w.uvarint(c.file);
      w.uvarint(c.frame);
      w.uvarint(c.off);
      w.uvarint(c.len);
      last = c.maxT;
    }
  }
  w.uvarint(postings.size);
  for (const [name, byValue] of postings) {
    w.uvarint(symbols.get(name)!);
    w.uvarint(byValue.size);
    for (const [value, ids] of byValue) {
      w.uvarint(symbols.get(value)!);
      w.uvarint(ids.length);
      let p = 0;
      for (const id of ids) {
        w.uvarint(id - p);
        p = id;
      }
    }
  }
  const body = Bun.zstdCompressSync(w.result(), { level: BLOCK_ZSTD_LEVEL });
  const iw = new ByteWriter(body.length + 16);
  iw.u32(INDEX_MAGIC);
  iw.u8(1);
  iw.bytes(body);
  iw.u32(checksum(iw.result()));
  const index = iw.result();
  writeFileSynced(join(tmp, "index"), index);
  files["index"] = { size: index.length, xxhash64: hashFile(index) };

  const meta: BlockMeta = {
    ulid,
    minTime,
    maxTime,
    stats: { numSamples, numSeries: seriesLabels.length, numChunks },
    compaction,
    version: 1,
    files,
  };
  writeFileSynced(join(tmp, "meta.json"), new TextEncoder().encode(JSON.stringify(meta, null, 2)));
  syncDir(join(tmp, "chunks"));
  syncDir(tmp);
  renameSync(tmp, join(parentDir, ulid));
  syncDir(parentDir);
  return meta;
}

