/**
 * Hinted handoff: write batches a replica did not acknowledge are kept on disk, one queue per
 * peer, and replayed in order when the peer is alive again. A queue is a directory of segment
 * files of records `[u32 length][u32 crc32][payload]`; it is bounded by dropping its oldest
 * segments. Replays may repeat a batch after a crash (samples are idempotent), never skip one.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../model/index.ts";

const SEGMENT_BYTES = 8 * 1024 * 1024;
const HEADER = 8;

class PeerQueue {
  /** Closed segments (oldest first) plus the open one last, by sequence number. */
  private segments: { seq: number; bytes: number; records: number }[] = [];
  private fd: number | null = null;
  bytes = 0;
  records = 0;
  replaying = false;

  constructor(
    readonly peer: string,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir).sort()) {
      const m = /^(\d{12})\.seg$/.exec(f);
      if (!m) continue;
      const size = statSync(join(dir, f)).size;
      const records = countRecords(readFileSync(join(dir, f)));
      this.segments.push({ seq: Number(m[1]), bytes: size, records });
      this.bytes += size;
      this.records += records;
    }
  }

  private path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, "0")}.seg`);
  }

  append(payload: Uint8Array): void {
    let cur = this.segments[this.segments.length - 1];
    if (this.fd === null || !cur || cur.bytes >= SEGMENT_BYTES) {
      this.roll();
      cur = { seq: (cur?.seq ?? 0) + 1, bytes: 0, records: 0 };
      this.segments.push(cur);
      this.fd = openSync(this.path(cur.seq), "a");
    }
    const rec = new Uint8Array(HEADER + payload.length);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, payload.length, true);
    dv.setUint32(4, Bun.hash.crc32(payload) >>> 0, true);
    rec.set(payload, HEADER);
    writeSync(this.fd, rec);
    cur.bytes += rec.length;
    cur.records++;
    this.bytes += rec.length;
    this.records++;
  }

  /** Closes the open segment so it can be replayed; new hints go to a new segment. */
  roll(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Drops the oldest segments until the queue is within `max` bytes; returns records dropped. */
  trim(max: number): number {
    let dropped = 0;
    while (this.bytes > max && this.segments.length > 0) {
      if (this.segments.length === 1) this.roll();
      const s = this.segments.shift()!;
      rmSync(this.path(s.seq), { force: true });
      this.bytes -= s.bytes;
      this.records -= s.records;
      dropped += s.records;
    }
    return dropped;
  }

  /** Replays every record through `send`, oldest first, deleting each segment once sent. */
  async replay(send: (payload: Uint8Array) => Promise<void>, onSent: (bytes: number) => void): Promise<void> {
    while (this.segments.length > 0) {
      const s = this.segments[0]!;
      // Close the segment if it is the open one: hints arriving meanwhile start a new segment.
      if (s === this.segments[this.segments.length - 1]) this.roll();
      const file = this.path(s.seq);
      const buf = existsSync(file) ? readFileSync(file) : new Uint8Array(0);
      for (const payload of records(buf, this.logger, file)) {
        await send(payload);
        onSent(payload.length + HEADER);
      }
      if (this.segments[0] === s) {
        this.segments.shift();
        rmSync(file, { force: true });
        this.bytes -= s.bytes;
        this.records -= s.records;
      }
    }
  }

  close(): void {
    this.roll();
  }
}

function* records(buf: Uint8Array, logger: Logger, file: string): Generator<Uint8Array> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = dv.getUint32(off, true);
    const crc = dv.getUint32(off + 4, true);
    if (off + HEADER + len > buf.length) break;
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if ((Bun.hash.crc32(payload) >>> 0) !== crc) {
      logger.warn("hinted-handoff segment is corrupt; skipping its rest", { file, offset: off });
      return;
    }
    yield payload;
    off += HEADER + len;
  }
  if (off !== buf.length) logger.warn("hinted-handoff segment has a torn tail", { file, offset: off });
}

function countRecords(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  let n = 0;
  while (off + HEADER <= buf.length) {
    const len = dv.getUint32(off, true);
    if (off + HEADER + len > buf.length) break;
    off += HEADER + len;
    n++;
  }
  return n;
}

export interface HintStats {
  bytes: number;
  records: number;
}

export class HintedHandoff {
  private readonly queues = new Map<string, PeerQueue>();
  /** Counters for metrics. */
  readonly totals = { queuedRecords: 0, replayedRecords: 0, replayedBytes: 0, droppedRecords: 0, replayFailures: 0 };

  constructor(
    private readonly dir: string,
    private readonly maxBytesPerPeer: number,
    private readonly logger: Logger,
  ) {
    if (existsSync(dir)) {
      for (const peer of readdirSync(dir)) this.queue(peer);
    }
  }

  private queue(peer: string): PeerQueue {
    let q = this.queues.get(peer);
    if (!q) this.queues.set(peer, (q = new PeerQueue(peer, join(this.dir, peer), this.logger)));
    return q;
  }

  enqueue(peer: string, payload: Uint8Array): void {
    const q = this.queue(peer);
    try {
      q.append(payload);
      this.totals.queuedRecords++;
    } catch (err) {
      this.logger.error("cannot write hinted-handoff queue", { peer, err });
      this.totals.droppedRecords++;
      return;
    }
    const dropped = q.trim(this.maxBytesPerPeer);
    if (dropped > 0) {
      this.totals.droppedRecords += dropped;
      this.logger.warn("hinted-handoff queue full; dropped oldest batches", { peer, dropped });
    }
  }

  stats(peer: string): HintStats {
    const q = this.queues.get(peer);
    return { bytes: q?.bytes ?? 0, records: q?.records ?? 0 };
  }

  peers(): string[] {
    return [...this.queues.keys()];
  }

  /** Replays a peer's queue unless a replay is already running; stops at the first failure. */
  async replay(peer: string, send: (payload: Uint8Array) => Promise<void>): Promise<void> {
    const q = this.queues.get(peer);
    if (!q || q.records === 0 || q.replaying) return;
    q.replaying = true;
    const start = q.records;
    try {
      await q.replay(send, (bytes) => {
        this.totals.replayedRecords++;
        this.totals.replayedBytes += bytes;
      });
      this.logger.info("hinted-handoff queue replayed", { peer, batches: start });
    } catch (err) {
      this.totals.replayFailures++;
      this.logger.warn("hinted-handoff replay interrupted", { peer, err });
    } finally {
      q.replaying = false;
    }
  }

  /** Deletes a peer's queue (the peer was forgotten: it will not come back). */
  drop(peer: string): void {
    const q = this.queues.get(peer);
    if (!q) return;
    q.close();
    this.totals.droppedRecords += q.records;
    rmSync(join(this.dir, peer), { recursive: true, force: true });
    this.queues.delete(peer);
  }

  close(): void {
    for (const q of this.queues.values()) q.close();
  }
}
