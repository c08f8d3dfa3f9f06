/**
 * One writer per data directory: an OS advisory lock on `<dir>/lock` (flock(2), as
 * Prometheus's), held by an open descriptor for the life of the process. The kernel drops it
 * when the process dies, however it dies (SIGKILL included), so neither a zombie nor a PID
 * recycled by an unrelated process blocks a restart, and two processes can never both hold it.
 *
 * The file also holds the owner's PID — for information only (tools that look for the node
 * running on this machine); it plays no part in the locking decision. A clean release empties
 * it. The file itself stays: removing it would let a process that opened the old file and one
 * that creates a new one both "hold" the lock.
 *
 * flock is called through libc with bun:ffi (libc.so.6 on Linux, libSystem on macOS). Where that
 * is not possible the lock falls back, with a warning, to the PID check alone: the directory is
 * refused while the process named in the file is alive.
 */
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../model/index.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
/** EWOULDBLOCK (= EAGAIN): Linux 11, the BSDs and macOS 35. */
const EWOULDBLOCK = process.platform === "linux" ? 11 : 35;

interface Flock {
  flock(fd: number, op: number): number;
  errno(): number;
}

let flockImpl: Flock | string | undefined;

/** libc's flock and errno, or why they cannot be had on this system. */
function loadFlock(): Flock | string {
  const libs =
    process.platform === "linux"
      ? ["libc.so.6", "libc.so"]
      : process.platform === "darwin"
        ? ["libc.dylib", "/usr/lib/libSystem.B.dylib"]
        : process.platform === "freebsd"
          ? ["libc.so.7"]
          : [];
  if (libs.length === 0) return `no known libc on ${process.platform}`;
  const errnoSym = process.platform === "linux" ? "__errno_location" : "__error";
  let why = "";
  for (const lib of libs) {
    try {
      const { symbols } = dlopen(lib, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        [errnoSym]: { args: [], returns: FFIType.ptr },
      });
      const errnoAt = symbols[errnoSym] as () => Pointer | null;
      return {
        flock: (fd, op) => symbols.flock(fd, op) as number,
        errno: () => {
          const p = errnoAt();
          return p === null ? -1 : read.i32(p, 0);
        },
      };
    } catch (e) {
      why = `${lib}: ${(e as Error).message}`;
    }
  }
  return why;
}

function flockOrWhy(): Flock | string {
  return (flockImpl ??= loadFlock());
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The PID written in a lock file, if it holds one. */
function pidIn(path: string): number | null {
  try {
    const s = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(s) ? Number(s) : null;
  } catch {
    return null;
  }
}

/** The directory is locked by another process. */
export class DirLockedError extends Error {}

export class DirLock {
  private constructor(
    private fd: number,
    /** Locked with flock (false: the PID-file fallback). */
    readonly osLock: boolean,
  ) {}

  /** Takes the lock of `dir` or throws DirLockedError naming the holder. */
  static acquire(dir: string, logger: Logger): DirLock {
    const path = join(dir, "lock");
    const inUse = (pid: number | null) =>
      new DirLockedError(
        `data directory ${dir} is in use by ${pid !== null ? `process ${pid}` : "another process"} (it holds the lock on ${path}); stop it first, or use another --storage.tsdb.path`,
      );
    // Opened without truncating: the holder's PID stays readable until we hold the lock.
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    const impl = flockOrWhy();
    let osLock = false;
    try {
      if (typeof impl === "string") {
        logger.warn("OS file locks are not available; the data directory lock falls back to the PID in the lock file", { reason: impl });
        const pid = pidIn(path);
        if (pid !== null && pid !== process.pid && processAlive(pid)) throw inUse(pid);
      } else {
        if (impl.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
          const errno = impl.errno();
          if (errno === EWOULDBLOCK) throw inUse(pidIn(path));
          throw new Error(`cannot lock ${path}: flock failed with errno ${errno}`);
        }
        osLock = true;
      }
      ftruncateSync(fd, 0);
      const pid = String(process.pid);
      writeSync(fd, pid, 0);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new DirLock(fd, osLock);
  }

  /** Empties the file (no PID: no holder) and lets the lock go. */
  release(): void {
    if (this.fd < 0) return;
    try {
      ftruncateSync(this.fd, 0);
    } catch {
      // The lock goes with the descriptor anyway.
    }
    const impl = flockOrWhy();
    if (this.osLock && typeof impl !== "string") impl.flock(this.fd, LOCK_UN);
    closeSync(this.fd);
    this.fd = -1;
  }
}
