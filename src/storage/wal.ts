/**
 * Write-ahead log: numbered segment files in <dir>/wal holding checksummed, length-prefixed
 * records — frame = [payload length u32 LE][xxHash32(payload) u32 LE][payload]. A commit is one
 * write(2) of its series record (new series only) and its samples record, so `commit()` resolves
 * once the OS has the batch; fsync runs every `fsyncIntervalMs` (0: on every commit) and on close (like Prometheus,
 * a machine crash may lose the last interval, a process crash loses nothing acknowledged).
 *
 * After the head is cut into a block, a checkpoint file (`checkpoint.N`: the head's series,
 * sealed chunks — in the block-chunk encoding — and open chunks' samples as of segment N)
 * replaces segments ≤ N. Replay = newest checkpoint + later segments. A
 * torn or corrupt tail is cut off at the last good record with a warning; later segments, which
 * can only depend on what was lost, are removed. So a write that fails part-way (a full disk) is
 * cut back at once (segment-writer.ts) and reported to the committer: a record acknowledged
 * after it never follows a torn one.
 */
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { nopObserver, type Labels, type Logger, type Observer } from "../model/index.ts";
import { ByteReader, ByteWriter, checksum, CorruptError, plainBytes } from "./bytes.ts";
import type { CommitLog, MemSeries } from "./head.ts";
import { SegmentWriter, segName, syncDir, truncateSegment, writeAll } from "./segment-writer.ts";

export { LogWriteError, segName, syncDir, truncateSegment, writeAll } from "./segment-writer.ts";

const REC_SERIES = 1;
const REC_SAMPLES = 2;
const REC_TOMBSTONES = 3;
const REC_CHUNKS = 4;
const FRAME_HEADER = 8;
const DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024;

export interface ReplayHandler {
  series(ref: number, labels: Labels): void;
  samples(refs: Int32Array, ts: Float64Array, vals: Float64Array): void;
  tombstone(ref: number, mint: number, maxt: number): void;
  chunk(ref: number, minT: number, maxT: number, bytes: Uint8Array): void;
}

export interface WalStats {
  bytesWritten: number;
  fsyncs: number;
  fsyncSeconds: number;
  corruptions: number;
  replaySeconds: number;
  /** Appends written to the segment (one write(2) each: Prometheus's page flush). */
  writes: number;
  writesFailed: number;
  /** Removals of the segments a checkpoint replaced (Prometheus's WAL truncation). */
  truncations: number;
  truncationsFailed: number;
  checkpointCreations: number;
  checkpointCreationsFailed: number;
  /** Removals of checkpoints older than a new one. */
  checkpointDeletions: number;
  checkpointDeletionsFailed: number;
}

export interface WalOptions {
  fsyncIntervalMs: number;
  logger: Logger;
  segmentBytes?: number;
  /** Seconds each fsync of a segment takes. */
  fsyncSeconds?: Observer;
}

/** Appends a frame (header + payload produced by `body`) to w. */
export function writeFrame(w: ByteWriter, body: (w: ByteWriter) => void): void {
  const start = w.pos;
  w.ensure(FRAME_HEADER);
  w.pos += FRAME_HEADER;
  body(w);
  const len = w.pos - start - FRAME_HEADER;
  w.view.setUint32(start, len, true);
  w.view.setUint32(start + 4, checksum(w.buf.subarray(start + FRAME_HEADER, w.pos)), true);
}

export function encodeSeries(w: ByteWriter, series: readonly { ref: number; labels: Labels }[]): void {
  writeFrame(w, (w) => {
    w.u8(REC_SERIES);
    w.uvarint(series.length);
    for (const s of series) {
      w.uvarint(s.ref);
      w.uvarint(s.labels.length);
      for (const l of s.labels) {
        w.str(l.name);
        w.str(l.value);
      }
    }
  });
}

/**
 * Samples record: the refs as zigzag varint differences (a scrape's series have neighbouring
 * refs: one byte each), the timestamps as differences from the first — or nothing when the whole
 * batch shares one timestamp, as a scrape does — and the values' raw 64 bits. About 9 bytes per
 * scraped sample instead of 20.
 */
export function encodeSamples(w: ByteWriter, refs: Int32Array, ts: Float64Array, vals: Float64Array, n: number): void {
  writeFrame(w, (w) => {
    w.u8(REC_SAMPLES);
    w.uvarint(n);
    if (n === 0) return;
    const base = ts[0]!;
    let same = true;
    for (let i = 1; i < n; i++) {
      if (ts[i] !== base) {
        same = false;
        break;
      }
    }
    w.varint(base);
    w.u8(same ? 1 : 0);
    // Hot path (every commit): varints written inline after one capacity check.
    w.ensure(n * (same ? 5 : 15) + n * 8);
    w.pos = writeRefDeltas(w.buf, w.pos, refs, n);
    if (!same) for (let i = 0; i < n; i++) w.varint(ts[i]! - base);
    w.bytes(new Uint8Array(vals.buffer, vals.byteOffset, n * 8));
  });
}

/** Zigzag varints of successive ref differences; returns the new position. */
function writeRefDeltas(buf: Uint8Array, pos: number, refs: Int32Array, n: number): number {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const r = refs[i]!;
    const d = r - prev;
    prev = r;
    let z = ((d << 1) ^ (d >> 31)) >>> 0;
    while (z >= 128) {
      buf[pos++] = (z & 127) | 128;
      z >>>= 7;
    }
    buf[pos++] = z;
  }
  return pos;
}

export function encodeTombstones(w: ByteWriter, refs: readonly number[], mint: number, maxt: number): void {
  writeFrame(w, (w) => {
    w.u8(REC_TOMBSTONES);
    w.uvarint(refs.length);
    w.f64(mint);
    w.f64(maxt);
    for (const r of refs) w.uvarint(r);
  });
}

export function encodeChunks(w: ByteWriter, ref: number, chunks: readonly { minT: number; maxT: number; bytes: Uint8Array }[]): void {
  writeFrame(w, (w) => {
    w.u8(REC_CHUNKS);
    w.uvarint(ref);
    w.uvarint(chunks.length);
    for (const c of chunks) {
      w.f64(c.minT);
      w.f64(c.maxT);
      w.uvarint(c.bytes.length);
      w.bytes(c.bytes);
    }
  });
}

function decodeRecord(payload: Uint8Array, h: ReplayHandler): void {
  const r = new ByteReader(payload);
  const type = r.u8();
  switch (type) {
    case REC_SERIES: {
      const count = r.uvarint();
      for (let i = 0; i < count; i++) {
        const ref = r.uvarint();
        const nl = r.uvarint();
        const labels: { name: string; value: string }[] = [];
        for (let j = 0; j < nl; j++) labels.push({ name: r.str(), value: r.str() });
        h.series(ref, labels);
      }
      return;
    }
    case REC_SAMPLES: {
      const n = r.uvarint();
      const refs = new Int32Array(n);
      const ts = new Float64Array(n);
      if (n === 0) {
        h.samples(refs, ts, new Float64Array(0));
        return;
      }
      const base = r.varint();
      const same = r.u8() === 1;
      let prev = 0;
      for (let i = 0; i < n; i++) {
        const z = r.uvarint();
        refs[i] = prev += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      if (same) ts.fill(base);
      else for (let i = 0; i < n; i++) ts[i] = base + r.varint();
      // Copy into an aligned buffer (slice copies bytes, so NaN payloads are kept).
      const vals = new Float64Array(r.bytes(n * 8).slice().buffer);
      if (r.remaining !== 0) throw new CorruptError("samples record has trailing bytes");
      h.samples(refs, ts, vals);
      return;
    }
    case REC_TOMBSTONES: {
      const count = r.uvarint();
      const mint = r.f64();
      const maxt = r.f64();
      for (let i = 0; i < count; i++) h.tombstone(r.uvarint(), mint, maxt);
      return;
    }
    case REC_CHUNKS: {
      const ref = r.uvarint();
      const count = r.uvarint();
      for (let i = 0; i < count; i++) {
        const minT = r.f64();
        const maxT = r.f64();
        const len = r.uvarint();
        h.chunk(ref, minT, maxT, r.bytes(len).slice());
      }
      return;
    }
    default:
      throw new CorruptError(`unknown record type ${type}`);
  }
}

/**
 * Hands each checksummed payload of `buf` (plain bytes: see plainBytes) to `decode`, in order;
 * returns the end offset of the last good frame and why reading stopped (null: at the end). A
 * throw from `decode` counts as an undecodable record. Shared by the WAL and the backfill log.
 */
export function readFrames(buf: Uint8Array, decode: (payload: Uint8Array) => void): { good: number; error: string | null } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER) return { good: pos, error: "torn record header" };
    const len = view.getUint32(pos, true);
    const sum = view.getUint32(pos + 4, true);
    if (len === 0 || pos + FRAME_HEADER + len > buf.length) return { good: pos, error: "torn record" };
    const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len);
    if (checksum(payload) !== sum) return { good: pos, error: "checksum mismatch" };
    try {
      decode(payload);
    } catch (e) {
      return { good: pos, error: `undecodable record: ${(e as Error).message}` };
    }
    pos += FRAME_HEADER + len;
  }
  return { good: pos, error: null };
}

/** Replays the frames of one file; returns the end offset of the last good record and why it stopped. */
function replayBuffer(file: Uint8Array, h: ReplayHandler): { good: number; error: string | null } {
  return readFrames(plainBytes(file), (payload) => decodeRecord(payload, h));
}

export class WAL implements CommitLog {
  readonly dir: string;
  /** The segment appended to; null while closed. */
  private seg: SegmentWriter | null = null;
  private readonly segmentLimit: number;
  private dirty = false;
  private fsyncing = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly w = new ByteWriter(64 * 1024);
  readonly stats: WalStats = {
    bytesWritten: 0,
    fsyncs: 0,
    fsyncSeconds: 0,
    corruptions: 0,
    replaySeconds: 0,
    writes: 0,
    writesFailed: 0,
    truncations: 0,
    truncationsFailed: 0,
    checkpointCreations: 0,
    checkpointCreationsFailed: 0,
    checkpointDeletions: 0,
    checkpointDeletionsFailed: 0,
  };
  private readonly fsyncObserver: Observer;
  private readonly logger: Logger;
  /** The last append failed (logged once per run of failures). */
  private failing = false;

  constructor(
    dbDir: string,
    private readonly opts: WalOptions,
  ) {
    this.dir = join(dbDir, "wal");
    this.logger = opts.logger;
    this.fsyncObserver = opts.fsyncSeconds ?? nopObserver;
    this.segmentLimit = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  private listFiles(cleanup = false): { segments: number[]; checkpoints: number[] } {
    const segments: number[] = [];
    const checkpoints: number[] = [];
    for (const f of readdirSync(this.dir)) {
      if (/^\d{8}$/.test(f)) segments.push(Number(f));
      else if (/^checkpoint\.\d{8}$/.test(f)) checkpoints.push(Number(f.slice(11)));
      else if (cleanup && f.endsWith(".tmp")) unlinkSync(join(this.dir, f));
    }
    segments.sort((a, b) => a - b);
    checkpoints.sort((a, b) => a - b);
    return { segments, checkpoints };
  }

  /** Replays the checkpoint and segments into `h`, repairs a bad tail, opens a fresh segment. */
  open(h: ReplayHandler, readOnly = false): void {
    if (readOnly && !existsSync(this.dir)) return;
    if (!readOnly) mkdirSync(this.dir, { recursive: true });
    const started = performance.now();
    const { segments, checkpoints } = this.listFiles(!readOnly);
    const cp = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]! : -1;
    if (cp >= 0) {
      const file = join(this.dir, `checkpoint.${segName(cp)}`);
      const res = replayBuffer(readFileSync(file), h);
      if (res.error !== null) {
        // A checkpoint is renamed into place only once complete, so this is disk damage.
        this.stats.corruptions++;
        this.logger.error("WAL checkpoint is corrupt; data after the damage is lost", { file, offset: res.good, reason: res.error });
      }
    }
    const live = segments.filter((s) => s > cp);
    for (let i = 0; i < live.length; i++) {
      const file = join(this.dir, segName(live[i]!));
      const buf = readFileSync(file);
      const res = replayBuffer(buf, h);
      if (res.error !== null && readOnly) {
        this.stats.corruptions++;
        this.logger.warn("WAL segment has a torn or corrupt tail; reading up to it (read-only, not repaired)", {
          segment: file,
          offset: res.good,
          reason: res.error,
        });
        break;
      }
      if (res.error !== null) {
        this.stats.corruptions++;
        this.logger.warn("WAL segment has a torn or corrupt tail; truncating it, earlier records are kept", {
          segment: file,
          offset: res.good,
          size: buf.length,
          reason: res.error,
        });
        truncateSegment(file, res.good);
        for (const later of live.slice(i + 1)) {
          this.logger.warn("removing WAL segment written after the corruption", { segment: segName(later) });
          unlinkSync(join(this.dir, segName(later)));
        }
        break;
      }
    }
    this.stats.replaySeconds = (performance.now() - started) / 1000;
    if (readOnly) return;
    const { segments: after } = this.listFiles();
    const last = Math.max(cp, after.length > 0 ? after[after.length - 1]! : 0);
    this.openSegment(last + 1);
    if (this.opts.fsyncIntervalMs > 0) {
      this.timer = setInterval(() => this.fsyncAsync(), this.opts.fsyncIntervalMs);
      this.timer.unref?.();
    }
  }

  private get fd(): number {
    return this.seg?.fd ?? -1;
  }

  private openSegment(n: number): void {
    this.seg = new SegmentWriter(this.dir, n, "WAL");
  }

  /**
   * Closes the current segment (fsync'd) and starts the next; returns the closed number. The
   * next segment is created before the current one is let go, so a failure (no space for a new
   * file) leaves the WAL appending where it was.
   */
  rotate(): number {
    const cur = this.seg;
    if (cur === null) throw new Error("WAL is closed");
    // A segment must end with a whole record: replay drops every segment after a torn one.
    cur.ensureWhole();
    // Forced: an asynchronous fsync may still be running on this descriptor.
    this.dirty = true;
    this.fsyncNow();
    const next = new SegmentWriter(this.dir, cur.n + 1, "WAL");
    cur.close();
    this.seg = next;
    return cur.n;
  }

  logCommit(newSeries: readonly MemSeries[], refs: Int32Array, ts: Float64Array, vals: Float64Array, n: number): void {
    const w = this.w;
    w.pos = 0;
    if (newSeries.length > 0) encodeSeries(w, newSeries);
    if (n > 0) encodeSamples(w, refs, ts, vals, n);
    const start = this.write(w.result());
    if (this.opts.fsyncIntervalMs === 0) {
      try {
        this.fsyncNow();
      } catch (e) {
        // Reported as failed, so it must not come back at replay either.
        this.seg!.cutTo(start);
        this.reportFailure(e);
        throw e;
      }
    }
  }

  logTombstones(refs: readonly number[], mint: number, maxt: number): void {
    const w = this.w;
    w.pos = 0;
    encodeTombstones(w, refs, mint, maxt);
    this.write(w.result());
  }

  /** Appends whole records or nothing (throws LogWriteError); returns where they start. */
  private write(b: Uint8Array): number {
    if (this.seg === null) throw new Error("WAL is closed");
    let seg = this.seg;
    let start = seg.size;
    try {
      if (seg.size > 0 && seg.size + b.length > this.segmentLimit) {
        this.rotate();
        seg = this.seg;
        start = seg.size;
      }
      seg.append(b);
    } catch (e) {
      this.stats.writesFailed++;
      this.reportFailure(e);
      throw e;
    }
    if (this.failing) {
      this.failing = false;
      this.logger.info("WAL writes succeed again", { segment: seg.path });
    }
    this.stats.writes++;
    this.stats.bytesWritten += b.length;
    this.dirty = true;
    return start;
  }

  /** Logs the first failed append of a run of failures (a full disk fails every commit). */
  private reportFailure(e: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.error("WAL write failed; commits are refused (reported as failed) until writing works again", {
      err: e instanceof Error ? e.message : String(e),
    });
  }

  fsyncNow(): void {
    if (this.seg === null || !this.dirty) return;
    const t0 = performance.now();
    this.seg.fsync();
    this.dirty = false;
    this.stats.fsyncs++;
    this.stats.fsyncSeconds += (performance.now() - t0) / 1000;
    this.fsyncObserver.observe((performance.now() - t0) / 1000);
  }

  private fsyncAsync(): void {
    if (this.fd < 0 || !this.dirty || this.fsyncing) return;
    this.fsyncing = true;
    this.dirty = false;
    const t0 = performance.now();
    const fd = this.fd;
    fsync(fd, (err) => {
      this.fsyncing = false;
      if (err) {
        // After a rotate the descriptor may be closed; the rotate fsync'd it synchronously.
        if (fd !== this.fd) return;
        this.dirty = true;
        this.logger.error("WAL fsync failed", { err });
        return;
      }
      this.stats.fsyncs++;
      this.stats.fsyncSeconds += (performance.now() - t0) / 1000;
      this.fsyncObserver.observe((performance.now() - t0) / 1000);
    });
  }

  /**
   * Replaces segments ≤ `upTo` with a checkpoint whose content `snapshot` already holds (taken
   * synchronously right after the rotate, so it reflects exactly those segments plus nothing
   * later that is not also in later segments).
   */
  async writeCheckpoint(upTo: number, snapshot: Uint8Array): Promise<void> {
    const name = `checkpoint.${segName(upTo)}`;
    const tmp = join(this.dir, name + ".tmp");
    this.stats.checkpointCreations++;
    try {
      const fd = openSync(tmp, "w");
      try {
        writeAll(fd, snapshot);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.dir, name));
    } catch (e) {
      // A full disk: the segments stay (they hold everything); free the space of the attempt.
      rmSync(tmp, { force: true });
      this.stats.checkpointCreationsFailed++;
      throw e;
    }
    syncDir(this.dir);
    // Replay starts at the newest checkpoint and skips segments it covers, so a segment or an
    // older checkpoint left behind by a failed removal only takes space until the next checkpoint.
    const { segments, checkpoints } = this.listFiles();
    this.stats.truncations++;
    try {
      for (const s of segments) if (s <= upTo) unlinkSync(join(this.dir, segName(s)));
    } catch (e) {
      this.stats.truncationsFailed++;
      this.logger.error("removing WAL segments replaced by a checkpoint failed; retried at the next checkpoint", { checkpoint: name, err: e as Error });
    }
    this.stats.checkpointDeletions++;
    try {
      for (const c of checkpoints) if (c < upTo) unlinkSync(join(this.dir, `checkpoint.${segName(c)}`));
    } catch (e) {
      this.stats.checkpointDeletionsFailed++;
      this.logger.error("removing old WAL checkpoints failed; retried at the next checkpoint", { checkpoint: name, err: e as Error });
    }
  }

  /** The number of the segment being appended to (0 while closed). */
  currentSegment(): number {
    return this.seg?.n ?? 0;
  }

  /** Bytes currently on disk in the WAL directory. */
  diskBytes(): number {
    if (!existsSync(this.dir)) return 0;
    let n = 0;
    for (const f of readdirSync(this.dir)) {
      try {
        n += statSync(join(this.dir, f)).size;
      } catch {
        // removed concurrently
      }
    }
    return n;
  }

  segmentCount(): number {
    return this.listFiles().segments.length;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const seg = this.seg;
    if (seg === null) return;
    this.dirty = true;
    try {
      this.fsyncNow();
    } finally {
      seg.close();
      this.seg = null;
    }
  }
}
