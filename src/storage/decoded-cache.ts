/**
 * Decoded block chunks kept for the next query. Blocks never change, so a chunk decoded once
 * can answer every later query that reads it: dashboards ask the same ranges every refresh, and
 * decoding (not evaluation) is most of a query's time. Bounded by bytes, least recently used
 * first out; the arrays are views that callers must not write (the Queryable contract).
 * Keys are numbers: a block's serial number × 2^32 + the chunk's index in that block.
 */
import { SampleArena } from "./sample-arena.ts";

export interface DecodedChunk {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** Bytes of decoded samples kept at most (16 bytes a sample: 8 M samples). */
const LIMIT_BYTES = 128 * 1024 * 1024;

const entries = new Map<number, DecodedChunk>();
/**
 * Cached chunks are decoded into slabs of their own (not a query's), so that a slab is freed
 * once its chunks have left the cache, and a query's scratch is not kept alive by the cache.
 */
export const decodedArena = new SampleArena();
let bytes = 0;
let nextSerial = 1;

/** A serial number for a newly opened block (its keys in this cache). */
export function newBlockSerial(): number {
  return nextSerial++;
}

export function decodedKey(serial: number, chunk: number): number {
  return serial * 0x1_0000_0000 + chunk;
}

export function getDecoded(key: number): DecodedChunk | undefined {
  const hit = entries.get(key);
  if (hit !== undefined) {
    // Most recently used moves to the end.
    entries.delete(key);
    entries.set(key, hit);
  }
  return hit;
}

export function putDecoded(key: number, chunk: DecodedChunk): void {
  const old = entries.get(key);
  if (old !== undefined) {
    bytes -= sizeOf(old);
    entries.delete(key);
  }
  entries.set(key, chunk);
  bytes += sizeOf(chunk);
  while (bytes > LIMIT_BYTES && entries.size > 1) {
    const [k, v] = entries.entries().next().value as [number, DecodedChunk];
    entries.delete(k);
    bytes -= sizeOf(v);
  }
}

/** Forgets every chunk of a block (it is being deleted or replaced). */
export function dropDecoded(serial: number, chunks: number): void {
  for (let c = 0; c < chunks; c++) {
    const k = decodedKey(serial, c);
    const v = entries.get(k);
    if (v !== undefined) {
      entries.delete(k);
      bytes -= sizeOf(v);
    }
  }
}

/** What the cache holds (for tests and status). */
export function decodedCacheStats(): { chunks: number; bytes: number } {
  return { chunks: entries.size, bytes };
}

function sizeOf(c: DecodedChunk): number {
  return c.ts.byteLength + c.vs.byteLength;
}
