/**
 * Starting and stopping real cluster node processes for the tests, on 127.0.0.1 with free ports
 * and temporary data directories (kept across a node's restarts). Every process started here is
 * killed by `stopAll`, every directory removed by `removeDirs`.
 */
import { removeTempDirs, run, SHOAL_CLI, BUN, startShoal, stopAllProcesses, tempDir, type ShoalNode } from "../support/index.ts";

/** A cluster member; `args` are its cluster flags, as given to `startNode` (to restart it alike). */
export type TestNode = ShoalNode;

/** Fast failure detection for tests: heartbeats every 200 ms, dead after 2 s. */
export const FAST_TIMING = [
  "--cluster.heartbeat-interval=200ms",
  "--cluster.suspect-timeout=800ms",
  "--cluster.dead-timeout=2s",
  "--cluster.write-timeout=2s",
  "--cluster.query-timeout=5s",
];

/**
 * Starts a real node (`bun src/cli.ts`) on 127.0.0.1 named `name`, with its own data directory
 * (or `dataDir`, to restart a node on its data) and HTTP port; resolves once /-/ready answers.
 */
export async function startNode(name: string, args: string[], opts: { dataDir?: string; port?: number } = {}): Promise<TestNode> {
  const node = await startShoal({
    name,
    dataDir: opts.dataDir ?? tempDir(name),
    port: opts.port,
    // The cluster flags come from `args` alone (clusterArgs), so that a test can turn mDNS on.
    isolated: false,
    // The tests drive graceful leaves through POST /api/v1/cluster/leave and `shoal cluster leave`.
    args: [`--cluster.node-name=${name}`, "--web.enable-lifecycle", ...args],
  });
  return { ...node, args };
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

/** Sends `signal` (SIGKILL by default) to a node, e.g. SIGSTOP to freeze it; `stopAll` still ends it. */
export function kill(node: TestNode, signal: NodeJS.Signals = "SIGKILL"): void {
  node.proc.kill(signal);
}

/** SIGKILLs every node still running. */
export async function stopAll(): Promise<void> {
  await stopAllProcesses();
}

/** Deletes the data directories of every node started in this test file. */
export function removeDirs(): void {
  removeTempDirs();
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
export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run([BUN, SHOAL_CLI, ...args], { timeoutMs: 300_000 });
}

/**
 * Stops a node with SIGTERM and waits for it to exit (a graceful leave hands its data over
 * first, which may take long: SIGKILL only after two minutes).
 */
export function stopNode(node: TestNode): Promise<number> {
  return node.stop("SIGTERM", 120_000);
}

export function dumpLogs(nodes: TestNode[]): string {
  return nodes.map((n) => `--- ${n.name}\n${n.log.slice(-40).join("\n")}`).join("\n");
}
