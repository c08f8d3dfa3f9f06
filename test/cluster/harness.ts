/**
 * Starting and stopping real cluster node processes for the tests, on 127.0.0.1 with free ports
 * and temporary data directories. Every process started here is killed by `stopAll`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface TestNode {
  name: string;
  dir: string;
  args: string[];
  proc: Subprocess<"ignore", "pipe", "pipe">;
  httpPort: number;
  url: string;
  log: string[];
}

const live = new Set<TestNode>();
const dirs: string[] = [];

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `shoal-${prefix}-`));
  dirs.push(d);
  return d;
}

/** Fast failure detection for tests: heartbeats every 200 ms, dead after 2 s. */
export const FAST_TIMING = [
  "--cluster.heartbeat-interval=200ms",
  "--cluster.suspect-timeout=800ms",
  "--cluster.dead-timeout=2s",
  "--cluster.write-timeout=2s",
  "--cluster.query-timeout=5s",
];

const REPO_ROOT = join(import.meta.dir, "..", "..");

/** A free TCP port on 127.0.0.1 (probed; the tiny race with other processes is acceptable). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/**
 * Starts a real node (`bun src/cli.ts`) on 127.0.0.1 with its own data directory and cluster
 * port; resolves once /-/ready answers.
 */
export async function startNode(name: string, args: string[], opts: { dir?: string; httpPort?: number } = {}): Promise<TestNode> {
  const dir = opts.dir ?? tempDir(name);
  const httpPort = opts.httpPort ?? freePort();
  const cmd = [
    process.execPath,
    join(REPO_ROOT, "src", "cli.ts"),
    `--web.listen-address=127.0.0.1:${httpPort}`,
    `--storage.tsdb.path=${dir}`,
    `--cluster.node-name=${name}`,
    // The tests drive graceful leaves through POST /api/v1/cluster/leave and `shoal cluster leave`.
    "--web.enable-lifecycle",
    ...args,
  ];
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const log: string[] = [];
  const node: TestNode = { name, dir, args, proc, httpPort, url: `http://127.0.0.1:${httpPort}`, log };
  live.add(node);
  void collect(proc.stdout, log);
  void collect(proc.stderr, log);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      const r = await fetch(node.url + "/-/ready", { signal: AbortSignal.timeout(1000) });
      if (r.ok) return node;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`node ${name} did not become ready (exit ${proc.exitCode}):\n${log.slice(-30).join("\n")}`);
}

async function collect(stream: ReadableStream<Uint8Array>, log: string[]): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      log.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (log.length > 5000) log.splice(0, 1000);
    }
  }
}

export async function getJSON<T>(node: TestNode, path: string): Promise<T> {
  const res = await fetch(node.url + path, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as T;
}

export interface StatusMember {
  id: string;
  name: string;
  state: string;
  health: string;
  addresses: string[];
  lastHeartbeatAgeSeconds: number;
  hintedHandoff: { pendingBatches: number; pendingBytes: number };
  ringShare: number;
  self: boolean;
}

export async function clusterStatus(node: TestNode): Promise<{ members: StatusMember[]; replicationFactor: number; self: string }> {
  const r = await getJSON<{ data: { members: StatusMember[]; replicationFactor: number; self: string } }>(node, "/api/v1/status/cluster");
  return r.data;
}

/** The libp2p TCP port the node listens on, from its own status. */
export async function clusterPort(node: TestNode): Promise<number> {
  const s = await clusterStatus(node);
  const self = s.members.find((m) => m.self)!;
  const m = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(self.addresses.join(" "));
  if (!m) throw new Error(`no 127.0.0.1 address in ${self.addresses.join(" ")}`);
  return Number(m[1]);
}

/** Names of the members a node sees alive (itself included). */
export async function aliveMembers(node: TestNode): Promise<string[]> {
  const s = await clusterStatus(node);
  return s.members.filter((m) => m.health === "alive").map((m) => m.name).sort();
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

export function kill(node: TestNode, signal: NodeJS.Signals = "SIGKILL"): void {
  node.proc.kill(signal);
  if (signal === "SIGKILL" || signal === "SIGTERM") live.delete(node);
}

export async function stopAll(): Promise<void> {
  for (const n of live) {
    try {
      n.proc.kill("SIGCONT");
      n.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
    await n.proc.exited;
  }
  live.clear();
}

export function removeDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function uniqueClusterName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Flags for a test cluster node: its own cluster name, a free cluster port, fast timing. */
export function clusterArgs(clusterName: string, extra: string[] = []): string[] {
  return ["--cluster.listen-address=127.0.0.1:0", "--cluster.mdns=false", `--cluster.name=${clusterName}`, ...FAST_TIMING, ...extra];
}

/**
 * Starts nodes n1..n`count` of a new cluster, the others joining through n1, and pushes them to
 * `into` as they start (so that a failing test can print their logs). Returns the cluster name
 * and the --cluster.join flag for nodes started later.
 */
export async function startCluster(prefix: string, count: number, extra: string[], into: TestNode[]): Promise<{ name: string; join: string }> {
  const name = uniqueClusterName(prefix);
  const first = await startNode("n1", clusterArgs(name, extra));
  into.push(first);
  const join = `--cluster.join=127.0.0.1:${await clusterPort(first)}`;
  for (let i = 2; i <= count; i++) into.push(await startNode(`n${i}`, clusterArgs(name, [...extra, join])));
  return { name, join };
}

/** Runs `bun src/cli.ts ARGS` to completion. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "src", "cli.ts"), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Stops a node with SIGTERM and waits for it to exit. */
export async function stopNode(node: TestNode): Promise<number> {
  node.proc.kill("SIGTERM");
  const code = await node.proc.exited;
  live.delete(node);
  return code;
}

export function dumpLogs(nodes: TestNode[]): string {
  return nodes.map((n) => `--- ${n.name}\n${n.log.slice(-40).join("\n")}`).join("\n");
}
