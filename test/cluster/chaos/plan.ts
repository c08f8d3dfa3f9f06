/**
 * The chaos schedule, planned in full from the seed before anything runs: a timeline of events
 * against simulated node states, so the same seed always gives the same plan whatever the
 * machine's timing. The plan never has more than `maxDown` nodes down (SIGKILLed and not yet
 * restarted, SIGSTOPped, or leaving and not yet gone) and keeps the membership between
 * `minMembers` and `maxMembers`. The executor waits for slow steps (a restart, a join, a leave
 * that has not exited by its `gone` event), so the real cluster is never worse off than the plan.
 */
import { Prng } from "./prng.ts";

export type LeaveDoor = "sigterm" | "http" | "cli";

export type PlannedEvent =
  | { at: number; kind: "kill" | "restart" | "resume" | "gone"; node: string }
  | { at: number; kind: "pause"; node: string; forMs: number }
  | { at: number; kind: "leave"; node: string; door: LeaveDoor }
  | { at: number; kind: "join"; node: string };

export interface PlanOptions {
  seed: number;
  seconds: number;
  startNodes: number;
  replication: number;
  /** Joins and graceful leaves (the hand-off protocol) in the plan. */
  membershipChanges: boolean;
  /** Time a leaving node is counted down in the plan before the executor waits for its exit. */
  leaveAllowanceMs?: number;
}

type SimState = "up" | "paused" | "killed" | "leaving" | "left";

export function planSchedule(o: PlanOptions): PlannedEvent[] {
  const rng = new Prng(o.seed);
  const maxDown = o.replication - 1;
  const minMembers = o.startNodes - 1;
  const maxMembers = o.startNodes + 1;
  const leaveAllowance = o.leaveAllowanceMs ?? 8000;
  const state = new Map<string, SimState>();
  for (let i = 1; i <= o.startNodes; i++) state.set(`c${i}`, "up");
  let nextId = o.startNodes + 1;
  const events: PlannedEvent[] = [];
  /** Events in the future (resumes, leave completions), applied when the clock passes them. */
  const pending: PlannedEvent[] = [];
  const apply = (e: PlannedEvent) => {
    if (e.kind === "resume" || e.kind === "restart") state.set(e.node, "up");
    else if (e.kind === "gone") state.set(e.node, "left");
  };
  const names = (s: SimState) => [...state].filter(([, v]) => v === s).map(([k]) => k);
  let t = 0;
  const end = o.seconds * 1000;
  for (;;) {
    // The same number of draws every step, so that plans of different lengths share a prefix.
    t += rng.int(1500, 5000);
    const roll = rng.next();
    const who = rng.next();
    const howLong = rng.int(500, 6000);
    const door = (["sigterm", "http", "cli"] as const)[rng.int(0, 2)]!;
    if (t >= end) break;
    pending.sort((a, b) => a.at - b.at);
    while (pending.length && pending[0]!.at <= t) {
      const e = pending.shift()!;
      apply(e);
      events.push(e);
    }
    const up = names("up");
    const killed = names("killed");
    const down = names("paused").length + killed.length + names("leaving").length;
    // Members that stay: a leaving node is on its way out (two leaves at once must not take the
    // membership below the minimum).
    const members = [...state.values()].filter((s) => s !== "left" && s !== "leaving").length;
    const canDown = down < maxDown && up.length > 1;
    const weights: [string, number][] = [
      ["kill", canDown ? 3 : 0],
      ["pause", canDown ? 3 : 0],
      ["restart", killed.length ? 4 : 0],
      ["leave", o.membershipChanges && canDown && members > minMembers ? 2 : 0],
      ["join", o.membershipChanges && members < maxMembers ? 2 : 0],
      ["idle", 1],
    ];
    const action = pickWeighted(weights, roll);
    const choose = (list: string[]) => list[Math.min(list.length - 1, Math.floor(who * list.length))]!;
    if (action === "kill") {
      const n = choose(up);
      state.set(n, "killed");
      events.push({ at: t, kind: "kill", node: n });
    } else if (action === "pause") {
      const n = choose(up);
      state.set(n, "paused");
      events.push({ at: t, kind: "pause", node: n, forMs: howLong });
      pending.push({ at: t + howLong, kind: "resume", node: n });
    } else if (action === "restart") {
      const n = choose(killed);
      state.set(n, "up");
      events.push({ at: t, kind: "restart", node: n });
    } else if (action === "leave") {
      const n = choose(up);
      state.set(n, "leaving");
      events.push({ at: t, kind: "leave", node: n, door });
      pending.push({ at: t + leaveAllowance, kind: "gone", node: n });
    } else if (action === "join") {
      const n = `c${nextId++}`;
      state.set(n, "up");
      events.push({ at: t, kind: "join", node: n });
    }
  }
  // Healing: what is still pending happens at the end.
  const healing: PlannedEvent[] = [...pending.map((e) => ({ ...e, at: Math.max(e.at, end) }) as PlannedEvent)];
  for (const n of names("killed")) healing.push({ at: end, kind: "restart", node: n });
  healing.sort((a, b) => a.at - b.at);
  events.push(...healing);
  return events;
}

function pickWeighted(weights: [string, number][], roll: number): string {
  const entries = weights.filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = roll * total;
  for (const [k, w] of entries) {
    r -= w;
    if (r < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

export function describe(e: PlannedEvent): string {
  const at = `+${(e.at / 1000).toFixed(1)}s`;
  switch (e.kind) {
    case "kill":
      return `${at} SIGKILL ${e.node}`;
    case "pause":
      return `${at} SIGSTOP ${e.node} for ${e.forMs} ms`;
    case "resume":
      return `${at} SIGCONT ${e.node}`;
    case "restart":
      return `${at} restart ${e.node} on its data directory`;
    case "leave":
      return `${at} graceful leave of ${e.node} via ${e.door}`;
    case "gone":
      return `${at} (${e.node} has exited after its leave)`;
    case "join":
      return `${at} join of a new node ${e.node}`;
  }
}
