/**
 * What the benchmark scripts share: flags, temp dirs, starting and stopping real servers on free
 * ports, reading a process's CPU time and memory from /proc, sizing directories, and printing a
 * Markdown table (the same text goes into bench/README.md).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const repoRoot = resolve(import.meta.dir, "..");

// ---------------------------------------------------------------------------------------------
// Flags: --name value, --name=value, --flag.

export class Flags {
  private readonly args: string[];
  constructor(args = process.argv.slice(2)) {
    this.args = args;
  }
  has(name: string): boolean {
    return this.args.includes(`--${name}`);
  }
  get(name: string): string | undefined {
    const i = this.args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = this.args[i]!;
    return a.includes("=") ? a.slice(a.indexOf("=") + 1) : this.args[i + 1];
  }
  num(name: string, def: number): number {
    const v = this.get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
    return n;
  }
  str(name: string, def: string): string {
    return this.get(name) ?? def;
  }
}

// ---------------------------------------------------------------------------------------------
// Temp dirs and sizes.

export function benchDir(name: string, keep: boolean): { dir: string; cleanup: () => void } {
  const base = join(tmpdir(), "shoal-bench");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, `${name}-`));
  return {
    dir,
    cleanup: () => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of the sizes of every file under `path` (apparent sizes, as `du -sb` counts them). */
export function dirBytes(path: string): number {
  let total = 0;
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  for (const name of readdirSync(path)) total += dirBytes(join(path, name));
  return total;
}

// ---------------------------------------------------------------------------------------------
// Ports and processes.

/** The one free-port probe of the tests and benchmarks. */
import { freePort } from "../test/support/index.ts";
export { freePort };

const running = new Set<Subprocess>();

/** Kills whatever a benchmark left running when it exits or is interrupted. */
function killAll(): void {
  for (const p of running) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

export interface Server {
  readonly name: string;
  readonly proc: Subprocess;
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  cmd: string[];
  /** Base URL to poll for readiness, and the path to poll. */
  url: string;
  readyPath: string;
  logFile: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function startServer(o: StartOptions): Promise<Server> {
  const fd = openSync(o.logFile, "a");
  const proc = Bun.spawn(o.cmd, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdout: fd,
    stderr: fd,
    stdin: "ignore",
  });
  closeSync(fd);
  running.add(proc);
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      await proc.exited;
      clearTimeout(timer);
    }
    running.delete(proc);
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${o.name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready; log: ${o.logFile}\n${tail(o.logFile)}`);
    }
    try {
      const res = await fetch(o.url + o.readyPath, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${o.name} was not ready at ${o.url}${o.readyPath} in time; log: ${o.logFile}\n${tail(o.logFile)}`);
    }
    await Bun.sleep(100);
  }
  return { name: o.name, proc, pid: proc.pid, url: o.url, logFile: o.logFile, stop };
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "";
  }
}

/** Runs a command to completion; throws with its output when it fails. */
export async function runCommand(cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ seconds: number; out: string }> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  running.add(proc);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  running.delete(proc);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (exit ${code}):\n${(out + err).slice(-3000)}`);
  return { seconds, out: out + err };
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

const CLK_TCK = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK)); the same on every x86-64/arm64 kernel

/** User + system CPU seconds a process has used (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number = process.pid): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

// ---------------------------------------------------------------------------------------------
// Which Shoal to run: the compiled binary when asked for (or when it is the only one), else the
// sources through the Bun that runs this script.

/**
 * Flags that keep a benchmark's Shoal node to itself: no mDNS (it would find and join other
 * Shoal nodes on this machine) and a cluster port picked by the OS instead of the shared 7946.
 */
export const SHOAL_ISOLATION_FLAGS = ["--cluster.listen-address=127.0.0.1:0", "--no-cluster.mdns"];

/** `bunFlags` (e.g. --cpu-prof) go to Bun when Shoal runs from source; a compiled binary ignores them. */
export function shoalCommand(flags: Flags, bunFlags: string[] = []): string[] {
  const bin = flags.get("shoal-binary");
  if (bin !== undefined) return [resolve(bin)];
  return [process.execPath, ...bunFlags, join(repoRoot, "src", "cli.ts")];
}

export function which(cmd: string): string | null {
  return Bun.which(cmd);
}

// ---------------------------------------------------------------------------------------------
// Output.

export function fmtNum(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return "n/a";
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(digits)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(digits);
}

export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(header), "| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |", ...rows.map(line)].join("\n");
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function machineLine(): string {
  let cpu = "unknown CPU";
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux
  }
  const cores = navigator.hardwareConcurrency;
  let load = "";
  try {
    // The machine may be shared: the 1-minute load average says how much.
    load = `, load average ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`;
  } catch {
    // not Linux
  }
  return `${cpu}, ${cores} cores${load}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 16)}Z`;
}

/** A member of a Shoal cluster as /api/v1/status/cluster lists it. */
export interface ClusterMemberJSON {
  name: string;
  health: string;
  state?: string;
  addresses: string[];
  self: boolean;
}

export async function clusterMembers(server: Server): Promise<ClusterMemberJSON[]> {
  const r = (await (await fetch(`${server.url}/api/v1/status/cluster`)).json()) as { data: { members: ClusterMemberJSON[] } };
  return r.data.members;
}

export interface ShoalClusterOptions {
  /** Node names are `${label}-1` … and data directories live under `work`. */
  label: string;
  work: string;
  /** The Shoal command (shoalCommand), then flags every node gets. */
  cmd: string[];
  /** Unique per run, so that two benchmarks never join each other. */
  clusterName: string;
  nodes: number;
  replicationFactor: number;
  extra?: string[];
}

/**
 * Starts a Shoal cluster on 127.0.0.1 (the first node, the others joining it, no mDNS) and waits
 * until every node sees every member alive and active.
 */
export async function startShoalCluster(o: ShoalClusterOptions): Promise<Server[]> {
  const nodes: Server[] = [];
  let joinFlag: string[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const port = freePort();
    const name = `${o.label}-${i + 1}`;
    const s = await startServer({
      name,
      cmd: [
        ...o.cmd,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.tsdb.path=${join(o.work, name)}`,
        "--log.level=warn",
        "--cluster.listen-address=127.0.0.1:0",
        "--cluster.mdns=false",
        `--cluster.name=${o.clusterName}-${o.label}`,
        `--cluster.node-name=${name}`,
        `--cluster.replication-factor=${o.replicationFactor}`,
        ...(o.extra ?? []),
        ...joinFlag,
      ],
      url: `http://127.0.0.1:${port}`,
      readyPath: "/-/ready",
      logFile: join(o.work, `${name}.log`),
      cwd: o.work,
    });
    nodes.push(s);
    if (i === 0) {
      const self = (await clusterMembers(s)).find((m) => m.self)!;
      const m = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(self.addresses.join(" "))!;
      joinFlag = [`--cluster.join=127.0.0.1:${m[1]}`];
    }
  }
  for (const s of nodes) {
    while ((await clusterMembers(s)).filter((m) => m.health === "alive" && (m.state === undefined || m.state === "active")).length !== o.nodes) {
      await Bun.sleep(100);
    }
  }
  return nodes;
}

/** Waits until the nodes are idle (replicas and hinted batches delivered): under 5% of a core for 2 s, at most 2 minutes. */
export async function waitIdle(nodes: Server[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  let quiet = 0;
  let before = nodes.map((s) => cpuSeconds(s.pid));
  while (Date.now() < deadline && quiet < 2) {
    await Bun.sleep(1000);
    const now = nodes.map((s) => cpuSeconds(s.pid));
    const busy = Math.max(...now.map((c, i) => c - before[i]!));
    quiet = busy < 0.05 ? quiet + 1 : 0;
    before = now;
  }
}
