/**
 * Finding the process of a node that runs on this machine, for `shoal cluster leave` when the
 * node's lifecycle API is off: SIGTERM starts the same graceful leave as the HTTP endpoint.
 *
 * The node is asked where its data directory is (/api/v1/status/flags and runtimeinfo's CWD,
 * both readable without the lifecycle API); the data directory's lock file names the process
 * that holds it (its PID as content, or, for an OS lock without content, the holder listed in
 * /proc/locks). The process must be alive and, where /proc shows it, work in the node's CWD.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { cliFetch } from "./http_client.ts";

type LocalNodeProcess = { pid: number; dataDir: string } | { pid: null; why: string };

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address === "::ffff:127.0.0.1";
}

/** Whether every address `host` resolves to belongs to this machine. */
async function isLocalHost(host: string): Promise<boolean> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  let addresses: string[];
  try {
    addresses = (await lookup(bare, { all: true })).map((a) => a.address);
  } catch {
    return false;
  }
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) own.add(a.address);
  return addresses.length > 0 && addresses.every((a) => isLoopback(a) || own.has(a) || a === "0.0.0.0" || a === "::");
}

async function getData<T>(url: string): Promise<T> {
  const res = await cliFetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json().catch(() => null)) as { status?: string; data?: T } | null;
  if (!res.ok || body?.status !== "success" || body.data === undefined) throw new Error(`${url}: HTTP ${res.status}`);
  return body.data;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The PID holding `lockPath`: its content when that is a PID, else its flock holder in /proc/locks. */
function lockHolderPid(lockPath: string): number | null {
  const content = readFileSync(lockPath, "utf8").trim();
  if (/^\d+$/.test(content)) return Number(content);
  if (!existsSync("/proc/locks")) return null;
  const ino = statSync(lockPath).ino;
  // Lines look like "1: FLOCK  ADVISORY  WRITE 12345 08:01:6815768 0 EOF".
  for (const line of readFileSync("/proc/locks", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    const dev = f[5]?.split(":");
    if (dev?.length === 3 && Number(dev[2]) === ino && /^\d+$/.test(f[4] ?? "")) return Number(f[4]);
  }
  return null;
}

/** The PID of the node at `baseUrl` when it runs on this machine, or why it cannot be found. */
export async function findLocalNodeProcess(baseUrl: string): Promise<LocalNodeProcess> {
  const host = new URL(baseUrl).hostname;
  if (!(await isLocalHost(host))) return { pid: null, why: `${host} is not an address of this machine` };
  let dataDir: string;
  let cwd: string;
  try {
    const flags = await getData<Record<string, string>>(`${baseUrl}/api/v1/status/flags`);
    const runtime = await getData<{ CWD?: string }>(`${baseUrl}/api/v1/status/runtimeinfo`);
    if (!runtime.CWD || flags["storage.tsdb.path"] === undefined) return { pid: null, why: "the node does not report its data directory" };
    cwd = runtime.CWD;
    dataDir = resolve(cwd, flags["storage.tsdb.path"]);
  } catch (e) {
    return { pid: null, why: `cannot ask the node for its data directory: ${(e as Error).message}` };
  }
  const lockPath = join(dataDir, "lock");
  let pid: number | null;
  try {
    pid = lockHolderPid(lockPath);
  } catch (e) {
    return { pid: null, why: `cannot read the lock file ${lockPath}: ${(e as Error).message}` };
  }
  if (pid === null) return { pid: null, why: `the lock file ${lockPath} does not name its process` };
  if (pid === process.pid || !alive(pid)) return { pid: null, why: `process ${pid} from ${lockPath} is not running` };
  // The lock could be another machine's (a shared filesystem) or stale with a recycled PID:
  // the process must work where the node says it does.
  const procCwd = `/proc/${pid}/cwd`;
  if (existsSync(`/proc/${pid}`)) {
    let same = false;
    try {
      same = realpathSync(procCwd) === realpathSync(cwd);
    } catch {
      same = false;
    }
    if (!same) return { pid: null, why: `process ${pid} from ${lockPath} does not run in the node's directory ${cwd}` };
  }
  return { pid, dataDir };
}
