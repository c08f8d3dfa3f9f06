/**
 * A queue's durable backlog: numbered segment files of checksummed records, read in order by one
 * reader, with an acknowledged cursor (segment, offset) kept in `cursor.json`. Everything a
 * commit handed to the queue is in a segment before the commit returns, so a restart (or a crash
 * of the process) resumes from the cursor; at worst what was acknowledged since the cursor was
 * last saved (a second) is sent again. The backlog is bounded in bytes: past the bound the oldest
 * segment is deleted and its unsent samples counted as dropped, so an endpoint down for days
 * cannot fill the disk.
 *
 * Record layout (little-endian, every record padded to 8 bytes so that the reader can view its
 * columns in place):
 *   u32 length (whole record) | u32 crc32 of bytes [8, length) | u32 type | u32 count | f64 min timestamp
 *   SERIES:  count × (u32 ref, u32 byteLength, labels encoded as protobuf TimeSeries.labels)
 *   SAMPLES: u32 refs[count], padding to 8, f64 timestamps[count], u32 values[2 × count]
 * A segment is self-contained: every series is described in it before its first sample.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../model/index.ts";

export const RECORD_SERIES = 1;
export const RECORD_SAMPLES = 2;
const HEADER = 24;
const SEGMENT_RE = /^\d{8}$/;
/** Refs are handed out in blocks recorded in cursor.json first, so a crash never reuses one. */
const REF_BLOCK = 65_536;

export interface DiskPosition {
  segment: number;
  offset: number;
}

interface SegmentInfo {
  seq: number;
  bytes: number;
  /** Samples in it from the cursor on (for the cursor's segment) or in all of it. */
  samples: number;
  /** Of those, acknowledged (or dropped) by the queue. */
  acked: number;
  minT: number;
}

interface CursorFile {
  segment: number;
  offset: number;
  refCeiling: number;
  deliveredThroughMs: number;
  highestSentMs: number;
}

/** A record as read: columns are views into the reader's buffer, valid until the next `next()`. */
export interface ReadRecord {
  type: number;
  count: number;
  minT: number;
  /** Where the record ends: once it is acknowledged, the cursor may move here. */
  end: DiskPosition;
  view: DataView;
  /** Byte offset of the payload in `view.buffer`. */
  payload: number;
}

export interface DiskQueueOptions {
  dir: string;
  /** A new segment is started when the current one would grow past this. */
  segmentBytes: number;
  /** The whole backlog is kept below this; older segments are dropped. */
  maxBytes: number;
  logger: Logger;
  /** Called with the count of unsent samples lost when an old segment is dropped for space. */
  onEvicted: (samples: number) => void;
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function segmentName(seq: number): string {
  return String(seq).padStart(8, "0");
}

export class DiskQueue {
  private readonly segments: SegmentInfo[] = [];
  private writeFd = -1;
  private writeSeq = 0;
  private writePos = 0;
  /** The first segment this process wrote; older ones were found at open. */
  private firstNewSegment = 0;
  private scratch = new ArrayBuffer(1 << 20);
  private nextRef = 0;
  private refCeiling = 0;
  private cursor: DiskPosition;
  private savedCursor: DiskPosition;
  /** What cursor.json says besides the position, kept by the queue. */
  deliveredThroughMs = 0;
  highestSentMs = 0;

  // Reader state.
  private readFd = -1;
  private readSeq: number;
  private readPos: number;
  private readBuf = new ArrayBuffer(4 << 20);
  private readBufLen = 0;
  private readBufFilePos = -1;

  private constructor(
    private readonly opts: DiskQueueOptions,
    cursor: CursorFile,
  ) {
    this.cursor = { segment: cursor.segment, offset: cursor.offset };
    this.savedCursor = { ...this.cursor };
    this.refCeiling = cursor.refCeiling;
    this.nextRef = cursor.refCeiling;
    this.deliveredThroughMs = cursor.deliveredThroughMs;
    this.highestSentMs = cursor.highestSentMs;
    this.readSeq = cursor.segment;
    this.readPos = 0;
  }

  /** Opens (or creates) the queue in `dir`, counts the backlog and starts a fresh segment for writing. */
  static open(opts: DiskQueueOptions): DiskQueue {
    mkdirSync(opts.dir, { recursive: true });
    let cursor: CursorFile = { segment: 0, offset: 0, refCeiling: 0, deliveredThroughMs: 0, highestSentMs: 0 };
    const cursorPath = join(opts.dir, "cursor.json");
    if (existsSync(cursorPath)) {
      try {
        cursor = { ...cursor, ...(JSON.parse(readFileSync(cursorPath, "utf8")) as Partial<CursorFile>) };
      } catch (e) {
        opts.logger.warn("Unreadable remote write queue cursor; resending the whole backlog", { file: cursorPath, err: e as Error });
      }
    }
    const q = new DiskQueue(opts, cursor);
    const seqs = readdirSync(opts.dir)
      .filter((f) => SEGMENT_RE.test(f))
      .map(Number)
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const path = join(opts.dir, segmentName(seq));
      // Wholly acknowledged, or empty (a start that wrote nothing): nothing to read in it.
      if (seq < cursor.segment || (seq !== cursor.segment && statSync(path).size === 0)) {
        rmSync(path, { force: true });
        continue;
      }
      q.segments.push(q.scanSegment(seq, path, seq === cursor.segment ? cursor.offset : 0));
    }
    if (q.segments.length > 0 && q.cursor.segment < q.segments[0]!.seq) q.cursor = { segment: q.segments[0]!.seq, offset: 0 };
    q.readSeq = q.segments.length > 0 ? q.segments[0]!.seq : q.cursor.segment;
    q.writeSeq = seqs.length > 0 ? seqs[seqs.length - 1]! + 1 : Math.max(cursor.segment, 0);
    if (q.segments.length === 0) q.cursor = { segment: q.writeSeq, offset: 0 };
    q.firstNewSegment = q.writeSeq;
    q.reserveRefs();
    q.startSegment();
    return q;
  }

  /** Counts the samples (from `from` on) and their lowest timestamp by walking the record headers. */
  private scanSegment(seq: number, path: string, from: number): SegmentInfo {
    const size = statSync(path).size;
    const info: SegmentInfo = { seq, bytes: size, samples: 0, acked: 0, minT: Infinity };
    const fd = openSync(path, "r");
    const head = new Uint8Array(HEADER);
    const dv = new DataView(head.buffer);
    try {
      for (let pos = 0; pos + HEADER <= size; ) {
        if (readSync(fd, head, 0, HEADER, pos) < HEADER) break;
        const len = dv.getUint32(0, true);
        if (len < HEADER || pos + len > size || len % 8 !== 0) break;
        if (dv.getUint32(8, true) === RECORD_SAMPLES && pos >= from) {
          info.samples += dv.getUint32(12, true);
          info.minT = Math.min(info.minT, dv.getFloat64(16, true));
        }
        pos += len;
      }
    } finally {
      closeSync(fd);
    }
    return info;
  }

  private reserveRefs(): void {
    this.refCeiling = this.nextRef + REF_BLOCK;
    this.saveCursor(true);
  }

  /** A new series ref, never handed out before in this queue's life. */
  allocateRef(): number {
    if (this.nextRef >= this.refCeiling) this.reserveRefs();
    return this.nextRef++;
  }

  private startSegment(): void {
    if (this.writeFd >= 0) {
      fsyncSync(this.writeFd);
      closeSync(this.writeFd);
    }
    this.writeFd = openSync(join(this.opts.dir, segmentName(this.writeSeq)), "w");
    this.writePos = 0;
    this.segments.push({ seq: this.writeSeq, bytes: 0, samples: 0, acked: 0, minT: Infinity });
  }

  /** The segment the next write goes to, after making room for `bytes` (a record larger than a segment gets one of its own). */
  prepare(bytes: number): number {
    if (this.writePos > 0 && this.writePos + bytes > this.opts.segmentBytes) {
      this.writeSeq++;
      this.startSegment();
    }
    return this.writeSeq;
  }

  /**
   * Appends a SERIES record (when `series` is non-empty) and a SAMPLES record in one write.
   * `seriesBlocks[i]` describes `seriesRefs[i]`. Values are their 32-bit halves.
   */
  append(seriesRefs: readonly number[], seriesBlocks: readonly Uint8Array[], refs: Uint32Array, ts: Float64Array, values: Uint32Array, n: number, minT: number): void {
    let seriesLen = 0;
    if (seriesRefs.length > 0) {
      seriesLen = HEADER;
      for (const b of seriesBlocks) seriesLen += 8 + b.length;
      seriesLen = pad8(seriesLen);
    }
    const tsOff = pad8(HEADER + 4 * n);
    const samplesLen = pad8(tsOff + 16 * n);
    const total = seriesLen + samplesLen;
    if (this.scratch.byteLength < total) this.scratch = new ArrayBuffer(pad8(total * 2));
    const u8 = new Uint8Array(this.scratch, 0, total);
    u8.fill(0);
    const dv = new DataView(this.scratch);
    if (seriesLen > 0) {
      let p = HEADER;
      for (let i = 0; i < seriesRefs.length; i++) {
        const b = seriesBlocks[i]!;
        dv.setUint32(p, seriesRefs[i]!, true);
        dv.setUint32(p + 4, b.length, true);
        u8.set(b, p + 8);
        p += 8 + b.length;
      }
      this.header(dv, u8, 0, seriesLen, RECORD_SERIES, seriesRefs.length, 0);
    }
    const base = seriesLen;
    new Uint32Array(this.scratch, base + HEADER, n).set(refs.subarray(0, n));
    new Float64Array(this.scratch, base + tsOff, n).set(ts.subarray(0, n));
    new Uint32Array(this.scratch, base + tsOff + 8 * n, 2 * n).set(values.subarray(0, 2 * n));
    this.header(dv, u8, base, samplesLen, RECORD_SAMPLES, n, minT);
    try {
      const n = writeSync(this.writeFd, u8, 0, total, this.writePos);
      if (n !== total) throw new Error(`short write to the remote write queue (${n} of ${total} bytes)`);
    } catch (e) {
      // A torn record would hide every record written after it from the reader: cut it off.
      try {
        ftruncateSync(this.writeFd, this.writePos);
      } catch {
        // The next open cuts it: a segment is read up to its first bad record.
      }
      throw e;
    }
    this.writePos += total;
    const seg = this.segments[this.segments.length - 1]!;
    seg.bytes += total;
    seg.samples += n;
    if (minT < seg.minT) seg.minT = minT;
    this.enforceMaxBytes();
  }

  private header(dv: DataView, u8: Uint8Array, at: number, len: number, type: number, count: number, minT: number): void {
    dv.setUint32(at, len, true);
    dv.setUint32(at + 8, type, true);
    dv.setUint32(at + 12, count, true);
    dv.setFloat64(at + 16, minT, true);
    dv.setUint32(at + 4, Bun.hash.crc32(u8.subarray(at + 8, at + len)), true);
  }

  private enforceMaxBytes(): void {
    let total = this.diskBytes();
    while (total > this.opts.maxBytes && this.segments.length > 1) {
      const old = this.segments.shift()!;
      rmSync(join(this.opts.dir, segmentName(old.seq)), { force: true });
      total -= old.bytes;
      const lost = old.samples - old.acked;
      if (lost > 0) this.opts.onEvicted(lost);
      this.opts.logger.warn("Remote write queue is full: dropped its oldest segment", { segment: old.seq, samples: lost, maxBytes: this.opts.maxBytes });
      const next = this.segments[0]!;
      if (this.cursor.segment < next.seq) this.cursor = { segment: next.seq, offset: 0 };
      if (this.readSeq < next.seq) this.skipReaderTo(next.seq);
    }
  }

  /** Bytes of all segments. */
  diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /** Samples written and not yet acknowledged. */
  pendingSamples(): number {
    let n = 0;
    for (const s of this.segments) n += s.samples - s.acked;
    return n;
  }

  /**
   * Lowest timestamp in the segments found at open, from `seq` on, that are not wholly sent
   * (Infinity when none): what this process wrote is tracked record by record by the queue.
   */
  oldMinTFrom(seq: number): number {
    let m = Infinity;
    for (const s of this.segments) if (s.seq >= seq && s.seq < this.firstNewSegment && s.samples > s.acked && s.minT < m) m = s.minT;
    return m;
  }

  /** The segment being written. */
  get writeSegment(): number {
    return this.writeSeq;
  }

  get readerSegment(): number {
    return this.readSeq;
  }

  /** Counts `samples` of a record in `segment` as handled (sent, failed or dropped). */
  acked(segment: number, samples: number): void {
    for (const s of this.segments) {
      if (s.seq === segment) {
        s.acked += samples;
        return;
      }
    }
  }

  /** Moves the acknowledged cursor; segments wholly before it are deleted. */
  advance(to: DiskPosition): void {
    if (to.segment < this.cursor.segment || (to.segment === this.cursor.segment && to.offset <= this.cursor.offset)) return;
    this.cursor = { ...to };
    while (this.segments.length > 1 && this.segments[0]!.seq < to.segment) {
      const old = this.segments.shift()!;
      rmSync(join(this.opts.dir, segmentName(old.seq)), { force: true });
    }
  }

  /** Writes cursor.json when the cursor moved (or always with `force`): atomic rename. */
  saveCursor(force = false): void {
    if (!force && this.savedCursor.segment === this.cursor.segment && this.savedCursor.offset === this.cursor.offset) return;
    const file: CursorFile = { ...this.cursor, refCeiling: this.refCeiling, deliveredThroughMs: this.deliveredThroughMs, highestSentMs: this.highestSentMs };
    const path = join(this.opts.dir, "cursor.json");
    writeFileSync(`${path}.tmp`, JSON.stringify(file));
    renameSync(`${path}.tmp`, path);
    this.savedCursor = { ...this.cursor };
  }

  private skipReaderTo(seq: number): void {
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
    this.readSeq = seq;
    this.readPos = 0;
    this.readBufFilePos = -1;
  }

  /** The next record, or null when the reader has read everything written so far. */
  next(): ReadRecord | null {
    for (;;) {
      const isWriting = this.readSeq === this.writeSeq;
      const end = isWriting ? this.writePos : this.segmentSize(this.readSeq);
      if (end < 0 || this.readPos + HEADER > end) {
        if (isWriting) return null;
        // Done with this segment (or it is gone): on to the next one that exists.
        const next = this.segments.find((s) => s.seq > this.readSeq);
        if (!next) return null;
        this.skipReaderTo(next.seq);
        continue;
      }
      if (this.readFd < 0) this.readFd = openSync(join(this.opts.dir, segmentName(this.readSeq)), "r");
      const rec = this.readAt(end);
      if (rec === null) {
        this.opts.logger.warn("Remote write queue segment has a corrupt record; skipping the rest of it", { segment: this.readSeq, offset: this.readPos });
        if (isWriting) return null;
        this.readPos = end;
        continue;
      }
      return rec;
    }
  }

  private segmentSize(seq: number): number {
    const s = this.segments.find((x) => x.seq === seq);
    return s ? s.bytes : -1;
  }

  private readAt(end: number): ReadRecord | null {
    // Make sure the header, then the whole record, are in the buffer.
    if (!this.buffered(this.readPos, HEADER, end)) return null;
    let dv = new DataView(this.readBuf);
    let at = this.readPos - this.readBufFilePos;
    const len = dv.getUint32(at, true);
    if (len < HEADER || len % 8 !== 0 || this.readPos + len > end) return null;
    if (!this.buffered(this.readPos, len, end)) return null;
    dv = new DataView(this.readBuf);
    at = this.readPos - this.readBufFilePos;
    const crc = Bun.hash.crc32(new Uint8Array(this.readBuf, at + 8, len - 8));
    if (crc !== dv.getUint32(at + 4, true)) return null;
    this.readPos += len;
    return {
      type: dv.getUint32(at + 8, true),
      count: dv.getUint32(at + 12, true),
      minT: dv.getFloat64(at + 16, true),
      end: { segment: this.readSeq, offset: this.readPos },
      view: dv,
      payload: at + HEADER,
    };
  }

  /** Ensures file bytes [pos, pos + len) are in readBuf, reading ahead up to `end`. */
  private buffered(pos: number, len: number, end: number): boolean {
    if (this.readBufFilePos >= 0 && pos >= this.readBufFilePos && pos + len <= this.readBufFilePos + this.readBufLen) return true;
    if (this.readBuf.byteLength < len) this.readBuf = new ArrayBuffer(pad8(len * 2));
    const want = Math.min(this.readBuf.byteLength, end - pos);
    if (want < len) return false;
    const got = readSync(this.readFd, new Uint8Array(this.readBuf, 0, want), 0, want, pos);
    this.readBufFilePos = pos;
    this.readBufLen = got;
    return got >= len;
  }

  /** Where the reader may skip samples records: before the cursor in its segment they were acknowledged already. */
  get cursorPosition(): DiskPosition {
    return this.cursor;
  }

  close(): void {
    this.saveCursor(true);
    if (this.writeFd >= 0) {
      fsyncSync(this.writeFd);
      closeSync(this.writeFd);
      this.writeFd = -1;
    }
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
  }
}
