/**
 * The backfill log (`<dir>/wbl/`, Prometheus's "write-behind log" for out-of-order data): the
 * samples accepted by `backfill()` that are not yet in a block. It is separate from the head's
 * WAL so that head checkpoints (which replace WAL segments by a snapshot of the head) never drop
 * backfilled samples, and so that writing the backfill store out as blocks can delete exactly
 * the segments it covers.
 *
 * Segments `wbl/NNNNNNNN` hold frames like the WAL's — [payload length u32][xxHash32 u32][payload]
 * — with two record types:
 *   1 samples: series count, then per series its labels, sample count, first timestamp and
 *     increasing timestamp differences as varints, and the values' raw 64 bits;
 *   2 drop: label sets whose backfilled samples logged before it are gone (dropSeries).
 * A record is written with write(2) at once (a process crash loses nothing) and `sync()` then
 * fsyncs it without blocking the event loop; concurrent calls share one fsync (group commit).
 * backfill() resolves only after that: a hand-off sender deletes its copy once we acknowledge,
 * so even a machine crash must not lose it.
 */
import { existsSync, fsync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Labels, Logger } from "../model/index.ts";
import { ByteReader, ByteWriter, CorruptError, plainBytes } from "./bytes.ts";
import { readFrames, writeFrame } from "./wal.ts";
import { SegmentWriter, segName, syncDir, truncateSegment } from "./segment-writer.ts";

const REC_BACKFILL_SAMPLES = 1;
const REC_BACKFILL_DROP = 2;
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** A call is logged as records of about this size, written as they fill (bounded buffer). */
const RECORD_BYTES = 4 * 1024 * 1024;

/** One series of a samples record: timestamps strictly increasing, values as (lo, hi) word pairs. */
export interface LoggedSeries {
  labels: Labels;
  ts: Float64Array;
  words: Uint32Array;
  n: number;
}

export interface BackfillReplay {
  samples(labels: Labels, ts: Float64Array, words: Uint32Array): void;
  drop(labels: Labels): void;
}

function writeLabels(w: ByteWriter, labels: Labels): void {
  w.uvarint(labels.length);
  for (const l of labels) {
    w.str(l.name);
    w.str(l.value);
  }
}

function readLabels(r: ByteReader): Labels {
  const n = r.uvarint();
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < n; i++) out.push({ name: r.str(), value: r.str() });
  return out;
}

function encodeBackfillSamples(w: ByteWriter, series: readonly LoggedSeries[]): void {
  writeFrame(w, (w) => {
    w.u8(REC_BACKFILL_SAMPLES);
    w.uvarint(series.length);
    for (const s of series) {
      writeLabels(w, s.labels);
      const n = s.n;
      w.uvarint(n);
      if (n === 0) continue;
      w.varint(s.ts[0]!);
      w.ensure(n * 10 + n * 8);
      w.pos = writeDeltas(w.buf, w.pos, s.ts, n);
      w.bytes(new Uint8Array(s.words.buffer, s.words.byteOffset, n * 8));
    }
  });
}

/** Unsigned varints of the (positive) timestamp differences, written inline; returns the new position. */
function writeDeltas(buf: Uint8Array, pos: number, ts: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    let d = ts[i]! - ts[i - 1]!;
    if (d < 0x80000000) {
      while (d >= 128) {
        buf[pos++] = (d & 127) | 128;
        d >>>= 7;
      }
      buf[pos++] = d;
      continue;
    }
    while (d >= 128) {
      buf[pos++] = (d % 128) | 128;
      d = Math.floor(d / 128);
    }
    buf[pos++] = d;
  }
  return pos;
}

function decodeRecord(payload: Uint8Array, h: BackfillReplay): void {
  const r = new ByteReader(payload);
  const type = r.u8();
  if (type === REC_BACKFILL_SAMPLES) {
    const count = r.uvarint();
    for (let k = 0; k < count; k++) {
      const labels = readLabels(r);
      const n = r.uvarint();
      if (n === 0) continue;
      const ts = new Float64Array(n);
      let t = r.varint();
      ts[0] = t;
      for (let i = 1; i < n; i++) ts[i] = t += r.uvarint();
      // slice() copies into an aligned buffer; the bits (NaN payloads) are kept.
      const words = new Uint32Array(r.bytes(n * 8).slice().buffer);
      h.samples(labels, ts, words);
    }
  } else if (type === REC_BACKFILL_DROP) {
    const count = r.uvarint();
    for (let k = 0; k < count; k++) h.drop(readLabels(r));
  } else {
    throw new CorruptError(`unknown backfill record type ${type}`);
  }
  if (r.remaining !== 0) throw new CorruptError("backfill record has trailing bytes");
}

export class BackfillLog {
  readonly dir: string;
  /** The segment appended to; null while closed. */
  private seg: SegmentWriter | null = null;
  private w = new ByteWriter(1 << 20);
  bytesWritten = 0;
  fsyncs = 0;
  /** Bytes written since the last fsync started. */
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  corruptions = 0;

  constructor(
    dbDir: string,
    private readonly logger: Logger,
  ) {
    this.dir = join(dbDir, "wbl");
  }

  private segments(): number[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => /^\d{8}$/.test(f))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * Replays every segment into `h`. A torn or corrupt tail (a crash mid-write: that call never
   * resolved) is cut off unless `readOnly`. Then opens a fresh segment for appends.
   */
  open(h: BackfillReplay, readOnly: boolean): void {
    if (readOnly && !existsSync(this.dir)) return;
    if (!readOnly) mkdirSync(this.dir, { recursive: true });
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      const file = join(this.dir, segName(segs[i]!));
      const buf = plainBytes(readFileSync(file));
      const { good, error } = readFrames(buf, (payload) => decodeRecord(payload, h));
      if (error === null) continue;
      this.corruptions++;
      this.logger.warn("backfill log segment has a torn or corrupt tail; earlier records are kept", { segment: file, offset: good, reason: error });
      if (readOnly) break;
      truncateSegment(file, good);
      for (const later of segs.slice(i + 1)) unlinkSync(join(this.dir, segName(later)));
      break;
    }
    if (readOnly) return;
    const after = this.segments();
    this.openSegment((after.length > 0 ? after[after.length - 1]! : 0) + 1);
  }

  private get fd(): number {
    return this.seg?.fd ?? -1;
  }

  private openSegment(n: number): void {
    this.seg = new SegmentWriter(this.dir, n, "backfill log");
  }

  /**
   * Writes the samples records of one call (write(2)); `sync()` makes them survive a machine
   * crash. A failure removes the call's earlier records too: the call is refused as a whole.
   */
  logSamples(series: readonly LoggedSeries[]): void {
    const w = this.w;
    w.pos = 0;
    let from = 0;
    let estimate = 0;
    let first: { seg: SegmentWriter; start: number } | null = null;
    try {
      for (let i = 0; i < series.length; i++) {
        estimate += series[i]!.n * 12 + 64;
        if (estimate < RECORD_BYTES && i < series.length - 1) continue;
        encodeBackfillSamples(w, series.slice(from, i + 1));
        from = i + 1;
        estimate = 0;
        const start = this.write(w.result());
        first ??= { seg: this.seg!, start };
        w.pos = 0;
      }
    } catch (e) {
      // Records in an earlier segment (a rotate in between) stay; replay dedups them.
      if (first !== null && first.seg === this.seg) first.seg.cutTo(first.start);
      throw e;
    } finally {
      // One huge series may have grown the buffer: do not keep it.
      if (w.buf.length > 4 * RECORD_BYTES) this.w = new ByteWriter(1 << 20);
    }
  }

  logDrop(labelSets: readonly Labels[]): void {
    const w = this.w;
    w.pos = 0;
    writeFrame(w, (w) => {
      w.u8(REC_BACKFILL_DROP);
      w.uvarint(labelSets.length);
      for (const ls of labelSets) writeLabels(w, ls);
    });
    this.write(w.result());
    this.syncNow();
  }

  /** Appends whole records or nothing (throws LogWriteError); returns where they start. */
  private write(b: Uint8Array): number {
    if (this.seg === null) throw new Error("backfill log is closed");
    if (this.seg.size > 0 && this.seg.size + b.length > SEGMENT_BYTES) this.rotate();
    const seg = this.seg;
    const start = seg.size;
    seg.append(b);
    this.bytesWritten += b.length;
    this.dirty = true;
    return start;
  }

  /**
   * Resolves once everything written so far is fsync'd. One fsync runs at a time; calls made
   * while it runs share the next one.
   */
  sync(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.syncing === null) return this.startSync();
    const next = this.syncing.then(
      () => this.startSync(),
      () => this.startSync(),
    );
    this.queued = next;
    return next;
  }

  private startSync(): Promise<void> {
    this.queued = null;
    if (!this.dirty || this.fd < 0) return Promise.resolve();
    this.dirty = false;
    const fd = this.fd;
    const p = new Promise<void>((resolve, reject) => {
      fsync(fd, (err) => {
        this.syncing = null;
        // After a rotate or close the descriptor is gone, but those fsync'd it synchronously.
        if (err && fd === this.fd) {
          this.dirty = true;
          reject(err);
          return;
        }
        this.fsyncs++;
        resolve();
      });
    });
    this.syncing = p;
    return p;
  }

  private syncNow(): void {
    if (this.seg === null) return;
    this.seg.fsync();
    this.dirty = false;
    this.fsyncs++;
  }

  /** Starts a new segment; returns the number of the last closed one. */
  rotate(): number {
    const cur = this.seg;
    if (cur === null) throw new Error("backfill log is closed");
    // Replay drops every segment after one that ends in a torn record.
    cur.ensureWhole();
    this.syncNow();
    // The next segment exists before this one is let go: a failure leaves appends where they were.
    const next = new SegmentWriter(this.dir, cur.n + 1, "backfill log");
    cur.close();
    this.seg = next;
    return cur.n;
  }

  /** Deletes segments ≤ upTo (their samples are now in durable blocks). */
  truncate(upTo: number): void {
    for (const s of this.segments()) if (s <= upTo) unlinkSync(join(this.dir, segName(s)));
    syncDir(this.dir);
  }

  close(): void {
    const seg = this.seg;
    if (seg === null) return;
    try {
      this.syncNow();
    } finally {
      seg.close();
      this.seg = null;
    }
  }
}
