/**
 * The chaos test's nodes and what the schedule did to them. Every node is a real process started
 * through the cluster test harness (so `stopAll` kills whatever is left). A node is `down` while
 * it is SIGKILLed (until restarted on its data directory), SIGSTOPped, or leaving (until it
 * exited); the schedule never lets more than `maxDown` nodes be down at once. A new node is
 * `starting` (neither up nor down) until its HTTP API is ready.
 */
import { clusterArgs, clusterPort, kill, runCli, startNode, type TestNode } from "../harness.ts";

import type { LeaveDoor } from "./plan.ts";

export type NodeState = "starting" | "up" | "paused" | "killed" | "leaving" | "left";

export interface FleetNode {
  name: string;
  dir: string;
  state: NodeState;
  proc?: TestNode;
  /** Earlier processes of this node (before restarts), for their logs. */
  past: TestNode[];
  /** libp2p port of the running process (a join address for the others). */
  clusterPort?: number;
  /** Times this name was started (1 = first start). */
  starts: number;
  /** Exit code of a graceful leave, once it exited. */
  leaveExit?: number;
  leaveDurationMs?: number;
  /** Resolves once a leaving node has exited. */
  gone?: Promise<void>;
}

export class Fleet {
  readonly nodes: FleetNode[] = [];
  /** Problems found while driving the nodes (a leave that exited non-zero, ...). */
  readonly problems: string[] = [];

  constructor(
    readonly clusterName: string,
    readonly extraArgs: string[],
    private readonly note: (line: string) => void,
  ) {}

  members(): FleetNode[] {
    return this.nodes.filter((n) => n.state !== "left");
  }

  up(): FleetNode[] {
    return this.nodes.filter((n) => n.state === "up");
  }

  /** Nodes that answer HTTP (a leaving node still serves until it exits). */
  serving(): FleetNode[] {
    return this.nodes.filter((n) => n.state === "up" || n.state === "leaving");
  }

  down(): number {
    return this.nodes.filter((n) => n.state === "paused" || n.state === "killed" || n.state === "leaving").length;
  }

  byName(name: string): FleetNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  private async joinArgs(exclude?: FleetNode): Promise<string[]> {
    const peers = this.up().filter((n) => n !== exclude && n.clusterPort !== undefined);
    // Two join addresses: the first one may be stopped before the node gets to it.
    return peers.slice(0, 2).map((p) => `--cluster.join=127.0.0.1:${p.clusterPort}`);
  }

  private async launch(n: FleetNode): Promise<void> {
    const join = await this.joinArgs(n);
    const proc = await startNode(n.name, clusterArgs(this.clusterName, [...this.extraArgs, ...join]), { dataDir: n.dir });
    if (n.proc) n.past.push(n.proc);
    n.proc = proc;
    // A process that ends when nobody killed it or asked it to leave crashed.
    void proc.proc.exited.then((code) => {
      if (n.proc !== proc || n.state === "killed" || n.state === "leaving" || n.state === "left") return;
      const last = proc.log.slice(-12).join("\n");
      this.problems.push(`${n.name} exited by itself (code ${code}, signal ${proc.proc.signalCode}) in state ${n.state}; its last log lines:\n${last}`);
      this.note(`${n.name} CRASHED (exit ${code})`);
      n.state = "killed";
      n.clusterPort = undefined;
    });
    n.starts++;
    n.clusterPort = await clusterPort(proc);
    n.state = "up";
  }

  /** Starts a new member (a fresh data directory); the first one founds the cluster. */
  async join(name: string, dir: string): Promise<FleetNode> {
    if (this.nodes.some((x) => x.name === name)) throw new Error(`a node ${name} exists already`);
    const n: FleetNode = { name, dir, state: "starting", starts: 0, past: [] };
    this.nodes.push(n);
    try {
      await this.launch(n);
    } catch (err) {
      n.state = "left";
      throw err;
    }
    return n;
  }

  /** Restarts a SIGKILLed node on its own data directory. */
  async restart(n: FleetNode): Promise<void> {
    if (n.state !== "killed") throw new Error(`restart of ${n.name} in state ${n.state}`);
    await this.launch(n);
  }

  async sigkill(n: FleetNode): Promise<void> {
    if (n.state !== "up") throw new Error(`kill of ${n.name} in state ${n.state}`);
    n.state = "killed"; // before the signal: the exit is expected
    kill(n.proc!, "SIGKILL");
    await n.proc!.proc.exited;
    n.clusterPort = undefined;
  }

  pause(n: FleetNode): void {
    if (n.state !== "up") throw new Error(`pause of ${n.name} in state ${n.state}`);
    n.proc!.proc.kill("SIGSTOP");
    n.state = "paused";
  }

  resume(n: FleetNode): void {
    if (n.state !== "paused") return;
    n.proc!.proc.kill("SIGCONT");
    n.state = "up";
  }

  /**
   * Asks a node to leave through one of the three doors and follows it until it exits (in the
   * background: `gone` resolves then). The node counts as down meanwhile.
   */
  async leave(n: FleetNode, door: LeaveDoor, timeoutMs: number): Promise<void> {
    if (n.state !== "up") throw new Error(`leave of ${n.name} in state ${n.state}`);
    const proc = n.proc!;
    n.state = "leaving";
    const started = Date.now();
    if (door === "sigterm") {
      proc.proc.kill("SIGTERM");
    } else if (door === "http") {
      const res = await fetch(`${proc.url}/api/v1/cluster/leave`, { method: "POST", signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) this.problems.push(`POST /api/v1/cluster/leave on ${n.name}: ${res.status} ${text}`);
    } else {
      const r = await runCli(["cluster", "leave", `--url=${proc.url}`]);
      if (r.code !== 0) this.problems.push(`shoal cluster leave on ${n.name}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    n.gone = (async () => {
      const timer = setTimeout(() => {
        this.problems.push(`${n.name} did not exit within ${timeoutMs} ms of its leave (${door})`);
        proc.proc.kill("SIGKILL");
      }, timeoutMs);
      const code = await proc.proc.exited;
      clearTimeout(timer);
      n.leaveExit = code;
      n.leaveDurationMs = Date.now() - started;
      n.state = "left";
      n.clusterPort = undefined;
      this.note(`${n.name} left (exit ${code}) after ${n.leaveDurationMs} ms`);
      if (code !== 0) this.problems.push(`${n.name} exited ${code} after a graceful leave (${door})`);
    })();
  }
}
