/**
 * The member table's health state machine driven by a manual clock: every transition (joined,
 * suspect, dead, replaced, forgotten, alive again, returning, leaving, left, joining again) in
 * the orders of events the chaos test and past fixes found, without processes or sleeps.
 */
import { expect, test } from "bun:test";
import type { HeartbeatMessage } from "../../src/cluster/heartbeat.ts";
import type { MemberTable, MemberTransition } from "../../src/cluster/member_table.ts";
import { nodeTokens } from "../../src/cluster/ring.ts";
import type { RingViews } from "../../src/cluster/ring_views.ts";
import { ManualClock } from "../support/clock.ts";
import { heartbeats, memberTable, TIMEOUTS as T, type TableOptions } from "./member_table_fixture.ts";

const TICK = 50;

interface Fixture {
  clock: ManualClock;
  table: MemberTable;
  views: RingViews;
  transitions: string[];
  /** Heartbeats from `ids` every heartbeat interval and health ticks every TICK, for `ms`. */
  run(ms: number, ids: readonly string[], extra?: Partial<HeartbeatMessage>): void;
  hb(id: string, extra?: Partial<HeartbeatMessage>): void;
}

function fixture(opts: TableOptions = {}): Fixture {
  const { clock, table, views } = memberTable(opts);
  const transitions: string[] = [];
  table.onTransition((t: MemberTransition) => transitions.push(`${t.id}:${t.to}`));
  const next = heartbeats(clock);
  const hb = (id: string, extra: Partial<HeartbeatMessage> = {}) => table.heartbeat(next(id, extra));
  const run = (ms: number, ids: readonly string[], extra?: Partial<HeartbeatMessage>) => {
    for (let t = 0; t < ms; t += TICK) {
      if (t % T.heartbeatIntervalMs === 0) for (const id of ids) hb(id, extra);
      clock.advance(TICK);
      table.tick();
    }
  };
  return { clock, table, views, transitions, run, hb };
}

test("a silent member is suspect after the suspect timeout, dead after the dead timeout, alive again when heard", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b"]);
  expect(f.table.condition("a")).toBe("active");
  f.run(T.suspectTimeoutMs + 2 * TICK, ["b"]);
  expect(f.table.condition("a")).toBe("suspect");
  expect(f.views.readRing().ids).toContain("a"); // a suspect member keeps its ranges
  f.run(T.deadTimeoutMs - T.suspectTimeoutMs, ["b"]);
  expect(f.table.condition("a")).toBe("dead");
  expect(f.views.readRing().ids).not.toContain("a");
  expect(f.views.coverageRing().ids).toContain("a"); // its data is gone until re-replicated
  f.hb("a");
  expect(f.table.condition("a")).toBe("active");
  expect(f.transitions.filter((t) => t.startsWith("a:"))).toEqual(["a:joined", "a:suspect", "a:dead", "a:alive"]);
});

test("a dead member with live co-owners is replaced after two dead timeouts, then forgotten after the forget timeout", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b", "c"]);
  f.run(T.deadTimeoutMs + 2 * TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("dead");
  const sinceDeath = () => f.clock.now() - f.table.get("a")!.deadSince;
  f.run(2 * T.deadTimeoutMs - sinceDeath() - 2 * TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("dead"); // the others may not have published their pulls yet
  f.run(4 * TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("replaced");
  expect(f.views.coverageRing().ids).not.toContain("a");
  f.run(T.forgetTimeoutMs, ["b", "c"]);
  expect(f.table.get("a")).toBeUndefined();
  expect(f.transitions.filter((t) => t.startsWith("a:"))).toEqual(["a:joined", "a:suspect", "a:dead", "a:replaced", "a:forgotten"]);
});

test("a dead member is not declared replaced while another member is suspect (its figures may be stale), nor while one reports pending ranges", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b", "c"]);
  f.run(T.deadTimeoutMs + 2 * TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("dead");
  const sinceDeath = () => f.clock.now() - f.table.get("a")!.deadSince;
  // c falls silent a little before the re-replication could be declared done, and is suspect then.
  f.run(2 * T.deadTimeoutMs - sinceDeath() - T.suspectTimeoutMs, ["b", "c"]);
  f.run(T.suspectTimeoutMs + 6 * TICK, ["b"]);
  expect(f.table.condition("c")).toBe("suspect");
  expect(sinceDeath()).toBeGreaterThan(2 * T.deadTimeoutMs);
  expect(f.table.condition("a")).toBe("dead");
  // c is back, but reports ranges it is still re-replicating.
  f.run(T.deadTimeoutMs, ["b", "c"], { load: { handoffPendingRanges: 3 } });
  expect(f.table.condition("a")).toBe("dead");
  f.run(T.heartbeatIntervalMs + TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("replaced");
});

test("a dead member is not declared replaced while a member is joining (it pulls from the survivors)", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b", "c"]);
  f.run(T.deadTimeoutMs + 2 * TICK, ["b", "c"]);
  f.hb("n", { state: "joining", returning: false });
  f.run(3 * T.deadTimeoutMs, ["b", "c", "n"], { state: "active" });
  expect(f.table.condition("a")).toBe("replaced");
  const g = fixture();
  g.table.setState("active");
  g.run(1000, ["a", "b", "c"]);
  g.run(T.deadTimeoutMs + 2 * TICK, ["b", "c"]);
  g.run(3 * T.deadTimeoutMs, ["b", "c", "n"], { state: "joining" });
  expect(g.table.condition("a")).toBe("dead");
});

test("a dead member whose ranges had no live co-owner is never declared replaced by this node", () => {
  const f = fixture({ R: 1 });
  f.table.setState("active");
  f.run(1000, ["a"]);
  f.run(5 * T.deadTimeoutMs, []);
  expect(f.table.condition("a")).toBe("dead");
  expect(f.views.coverageRing().ids).toContain("a");
});

test("a dead member is replaced also when a peer reports it replaced, and a dead member learnt from a peer counts for coverage", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b"]);
  f.run(T.deadTimeoutMs + 2 * TICK, ["b"]);
  expect(f.table.condition("a")).toBe("dead");
  const dead = (replaced: boolean) => [{ id: "a", name: "a", tokens: new Uint8Array(nodeTokens("a", 32).buffer), createdAt: 0, deadMs: 500, replaced }];
  f.hb("b", { dead: dead(true) });
  expect(f.table.condition("a")).toBe("replaced");
  expect(f.transitions).toContain("a:replaced");
  // A member this node never knew, dead before it joined: it must know its ranges.
  const g = fixture();
  g.hb("b", { dead: [{ ...dead(false)[0]!, id: "z", name: "z" }] });
  expect(g.table.condition("z")).toBe("dead");
  expect(g.views.coverageRing().ids).toContain("z");
});

test("a member that left is removed after the dead timeout without a death, and never learnt back as dead from a peer", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b"]);
  f.run(T.heartbeatIntervalMs, ["a"], { state: "leaving" });
  expect(f.table.condition("a")).toBe("leaving");
  expect(f.table.pendingChange()).toBe(true);
  f.run(T.heartbeatIntervalMs, ["a"], { state: "left" });
  expect(f.table.condition("a")).toBe("left");
  f.run(T.deadTimeoutMs + 2 * TICK, ["b"]);
  expect(f.table.get("a")).toBeUndefined();
  expect(f.table.departed.has("a")).toBe(true);
  f.hb("b", { dead: [{ id: "a", name: "a", tokens: new Uint8Array(nodeTokens("a", 32).buffer), createdAt: 0, deadMs: 10, replaced: false }] });
  expect(f.table.get("a")).toBeUndefined();
  expect(f.transitions.filter((t) => t.startsWith("a:"))).toEqual(["a:joined", "a:leaving", "a:left", "a:departed"]);
});

test("a new joining member does not count for coverage; a returning one (restart on its data, or back after a silence) does", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["b", "c"]);
  f.hb("new", { state: "joining", returning: false });
  expect(f.table.condition("new")).toBe("joining");
  expect(f.views.coverageRing().ids).not.toContain("new");
  expect(f.views.futureRing().ids).toContain("new");
  expect(f.views.readRing().ids).not.toContain("new");
  f.hb("back", { state: "joining", returning: true });
  expect(f.table.condition("back")).toBe("returning");
  expect(f.views.coverageRing().ids).toContain("back");
  // An older member that does not publish `returning`: an identity older than its process.
  f.hb("old", { state: "joining", returning: undefined, createdAt: f.clock.wallNow() - 100_000, startedAt: f.clock.wallNow() });
  expect(f.table.condition("old")).toBe("returning");
  f.hb("fresh", { state: "joining", returning: undefined, createdAt: f.clock.wallNow(), startedAt: f.clock.wallNow() });
  expect(f.table.condition("fresh")).toBe("joining");
});

test("this node: a restart on an old data directory is returning; a silence past the dead timeout makes it join again as returning", () => {
  const clockStart = new ManualClock();
  const restarted = fixture({ createdAt: clockStart.wallNow() - 3_600_000 });
  expect(restarted.table.condition("self")).toBe("returning");
  const fresh = fixture({ createdAt: new ManualClock().wallNow() });
  expect(fresh.table.condition("self")).toBe("joining");
  fresh.table.publishing();
  fresh.table.setState("active");
  fresh.run(1000, ["a"]);
  fresh.table.publishing();
  fresh.clock.advance(T.deadTimeoutMs + 1); // paused: no publication, no tick
  fresh.table.publishing();
  expect(fresh.table.self().state).toBe("joining");
  expect(fresh.table.condition("self")).toBe("returning");
  expect(fresh.transitions).toContain("self:rejoining");
});

test("only a member alive all along makes this node join again by holding it dead", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b"]);
  const holdsSelfDead = { dead: [{ id: "self", name: "self", tokens: new Uint8Array(0), createdAt: 0, deadMs: 100 }] };
  // b was itself silent (paused): when it resumes it holds everybody dead; that does not count.
  f.run(T.deadTimeoutMs + 2 * TICK, ["a"]);
  expect(f.table.condition("b")).toBe("dead");
  f.hb("b", holdsSelfDead);
  expect(f.table.self().state).toBe("active");
  // a, alive all along, holds this node dead: our heartbeats did not reach it.
  f.hb("a", holdsSelfDead);
  expect(f.table.self().state).toBe("joining");
});

test("a node that was itself stalled judges the others only after a grace of two heartbeats", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a"]);
  f.clock.advance(T.deadTimeoutMs + 500); // this process was stopped: no ticks, no heartbeats read
  f.table.tick();
  expect(f.table.condition("a")).toBe("active");
  f.hb("a"); // the queued heartbeat is read
  f.run(2 * T.heartbeatIntervalMs + TICK, ["a"]);
  expect(f.table.condition("a")).toBe("active");
  expect(f.transitions.filter((t) => t.startsWith("a:"))).toEqual(["a:joined"]);
});

test("a just-started node's view is partial until it heard every member its peers name", () => {
  const f = fixture({ expectsOthers: true });
  expect(f.table.unheardMembers()).toEqual(["(any member)"]);
  f.hb("a", { peers: ["b", "c"] });
  expect(f.table.unheardMembers().sort()).toEqual(["b", "c"]);
  f.hb("b", { peers: ["a", "c"] });
  expect(f.table.unheardMembers()).toEqual(["c"]);
  f.hb("c", { peers: ["a", "b"] });
  expect(f.table.unheardMembers()).toEqual([]);
  // Complete once: a member that starts later is a newcomer.
  f.hb("d", { peers: ["e"] });
  expect(f.table.unheardMembers()).toEqual([]);
});

test("a node that expects members and heard none holds its view partial only for a dead timeout", () => {
  // This is the rule behind a restarted node that answers without a warning before it heard
  // anyone: after one dead timeout of silence it takes itself for alone.
  const f = fixture({ expectsOthers: true });
  f.clock.advance(T.deadTimeoutMs - 1);
  expect(f.table.unheardMembers()).toEqual(["(any member)"]);
  f.clock.advance(2);
  expect(f.table.unheardMembers()).toEqual([]);
  const alone = fixture({ expectsOthers: false });
  expect(alone.table.unheardMembers()).toEqual([]);
});

test("a rule group moves to its first standby when its owner is suspect, and back when it is heard again", () => {
  const f = fixture();
  f.table.setState("active");
  f.run(1000, ["a", "b"]);
  // A group key whose owner is "a" on the rule ring of self, a and b.
  const hashOf = (i: number) => Bun.hash.xxHash32(`group-${i}`);
  let hash = 0;
  for (let i = 0; ; i++) {
    hash = hashOf(i);
    if (f.views.ruleRing().primaryOf(hash) === "a") break;
  }
  const standby = f.views.ruleRing().owners(hash)[1];
  expect(f.views.scrapeRing().primaryOf(hash)).toBe("a");
  f.run(T.suspectTimeoutMs + 2 * TICK, ["b"]);
  expect(f.table.condition("a")).toBe("suspect");
  expect(f.views.scrapeRing().primaryOf(hash)).toBe("a"); // scrapes wait for the dead timeout
  expect(f.views.ruleRing().primaryOf(hash)).toBe(standby!); // rule groups do not
  f.hb("a");
  expect(f.views.ruleRing().primaryOf(hash)).toBe("a");
});
