/**
 * What a block is made of (see block.ts for the directory layout): shared constants, the meta
 * shape, the series handed to the writer, file helpers and the tombstones file format.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { Labels } from "../model/index.ts";
import { ByteReader, ByteWriter, checksum, CorruptError } from "./bytes.ts";

export const INDEX_MAGIC = 0x58494853; // "SHIX"
const TOMB_MAGIC = 0x42544853; // "SHTB"
export const FRAME_RAW_BYTES = 512 * 1024;
export const CHUNK_FILE_BYTES = 512 * 1024 * 1024;
export const BLOCK_ZSTD_LEVEL = 9;

export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: { numSamples: number; numSeries: number; numChunks: number };
  /** hints: Prometheus's ["from-out-of-order"] marks blocks written from backfilled samples. */
  compaction: { level: number; sources: string[]; parents?: string[]; hints?: string[] };
  version: 1;
  files: Record<string, { size: number; xxhash64: string }>;
}

export interface ChunkData {
  minT: number;
  maxT: number;
  bytes: Uint8Array;
}

/** One series of a block being written: all its samples in the block, time-ordered. */
export interface WriteSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

/** Samples per chunk in blocks: above the head's 120 (zstd likes longer runs; 1024 saves only ~3% more) while a short look-back still decodes little. */
export const BLOCK_CHUNK_SAMPLES = 256;

export const hashFile = (b: Uint8Array) => Bun.hash.xxHash64(b).toString(16);

export function writeFileSynced(path: string, data: Uint8Array): void {
  const fd = openSync(path, "w");
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Deleted intervals per series id. */
export type Tombstones = Map<number, [number, number][]>;

export function encodeTombstones(t: Tombstones): Uint8Array {
  const w = new ByteWriter();
  w.u32(TOMB_MAGIC);
  w.uvarint(t.size);
  for (const [id, ivs] of t) {
    w.uvarint(id);
    w.uvarint(ivs.length);
    for (const [a, b] of ivs) {
      w.f64(a);
      w.f64(b);
    }
  }
  w.u32(checksum(w.result()));
  return w.result();
}

export function decodeTombstones(b: Uint8Array): Tombstones {
  if (b.length < 8 || checksum(b.subarray(0, b.length - 4)) !== new DataView(b.buffer, b.byteOffset).getUint32(b.length - 4, true)) {
    throw new CorruptError("tombstones checksum mismatch");
  }
  const r = new ByteReader(b.subarray(0, b.length - 4));
  if (r.u32() !== TOMB_MAGIC) throw new CorruptError("bad tombstones magic");
  const out: Tombstones = new Map();
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    const id = r.uvarint();
    const k = r.uvarint();
    const ivs: [number, number][] = [];
    for (let j = 0; j < k; j++) ivs.push([r.f64(), r.f64()]);
    out.set(id, ivs);
  }
  return out;
}

