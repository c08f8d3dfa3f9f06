/**
 * The open, appended-to segment of a log (the WAL, the backfill log), holding whole records only.
 *
 * A write(2) that fails part-way — ENOSPC on a full disk, EDQUOT, EIO — leaves the front of a
 * record in the file. Replay stops at such a record and drops everything after it, so a record
 * appended later (acknowledged once space is back) would be lost at the next crash. A failed
 * append therefore cuts the file back to the end of its last whole record before it reports the
 * failure; while that cut cannot be made, every append is refused, so nothing is ever
 * acknowledged behind a torn record.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/** A log append that failed; nothing of it is in the log. `code` is the errno name (ENOSPC …). */
export class LogWriteError extends Error {
  readonly code: string | undefined;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "LogWriteError";
    this.code = (cause as NodeJS.ErrnoException | null)?.code;
  }
}

/** A segment's file name: its number, eight digits. */
export const segName = (n: number) => String(n).padStart(8, "0");

/** fsync of a directory, so that a new or renamed entry in it is durable. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** write(2) until all of `b` is written; throws on the first failed (or empty) write. */
export function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) {
    const n = writeSync(fd, b, off, b.length - off);
    if (n <= 0) throw Object.assign(new Error("write(2) wrote nothing"), { code: "EIO" });
    off += n;
  }
}

/** Cuts a segment durably at `size` bytes (its torn or corrupt tail goes). */
export function truncateSegment(file: string, size: number): void {
  const fd = openSync(file, "r+");
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class SegmentWriter {
  readonly path: string;
  readonly fd: number;
  /** Bytes of whole records in the file: where the next record starts. */
  private whole: number;
  /** The file may hold bytes past `whole` (a failed write whose cut failed too). */
  private torn = false;

  /** Creates (or opens for appending) segment `n` of `dir`, durably named. */
  constructor(
    dir: string,
    readonly n: number,
    private readonly what: string,
  ) {
    this.path = join(dir, segName(n));
    this.fd = openSync(this.path, "a");
    try {
      this.whole = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    syncDir(dir);
  }

  get size(): number {
    return this.whole;
  }

  /** Appends `b` (whole records) completely or not at all; throws LogWriteError. */
  append(b: Uint8Array): void {
    this.ensureWhole();
    const start = this.whole;
    try {
      writeAll(this.fd, b);
    } catch (e) {
      this.cutTo(start);
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      const repaired = this.torn ? "its partial record could not be removed yet; appends are refused until it is" : "its partial record was removed";
      throw new LogWriteError(`${this.what} write to ${this.path} failed (${code}: ${(e as Error).message}); ${repaired}, nothing of it was stored`, e);
    }
    this.whole += b.length;
  }

  /**
   * Removes everything after `mark` (an earlier `size`): a unit of several records, or a record
   * whose fsync failed, that is reported as failed must not be replayed either. On failure the
   * segment is left torn and repaired by the next append.
   */
  cutTo(mark: number): void {
    this.whole = mark;
    try {
      ftruncateSync(this.fd, mark);
      this.torn = false;
    } catch {
      this.torn = true;
    }
  }

  /** Throws while a torn tail cannot be cut off (appending after it would be lost at replay). */
  ensureWhole(): void {
    if (!this.torn) return;
    try {
      ftruncateSync(this.fd, this.whole);
    } catch (e) {
      throw new LogWriteError(`${this.what} segment ${this.path} still holds a partial record that cannot be removed (${(e as Error).message}); appends are refused`, e);
    }
    this.torn = false;
  }

  fsync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    // A last try: a torn tail left here would be cut by replay anyway, with nothing after it.
    if (this.torn) this.cutTo(this.whole);
    closeSync(this.fd);
  }
}
