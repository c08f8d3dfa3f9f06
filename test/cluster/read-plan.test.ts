/**
 * The read plan (one replica known complete per range) driven by the real member table and ring
 * views on a manual clock: which member serves which ranges, and which members are passed over
 * because they may lack acknowledged samples (suspect, joining or returning, hinted for, held
 * dead by another member, or owning a range only since a death not yet repaired). And what the
 * planned select then asks and warns about when a chosen member fails.
 */
import { expect, test } from "bun:test";
import type { HeartbeatMessage } from "../../src/cluster/heartbeat.ts";
import { plannedSelect } from "../../src/cluster/planned_select.ts";
import { coverageGaps, liveOwnersOf, planReads, ReadPlanner, type ReadPlan } from "../../src/cluster/read_plan.ts";
import { compareRings, HashRanges, type HashInterval } from "../../src/cluster/ring.ts";
import { heartbeats, memberTable, TIMEOUTS as T } from "./member_table_fixture.ts";
const TICK = 50;
const RING = 2 ** 32;

function fixture(ids: readonly string[], R = 3) {
  const { clock, table, views } = memberTable({ R });
  table.setState("active");
  const everyone = ["self", ...ids];
  const extras = new Map<string, Partial<HeartbeatMessage>>();
  const next = heartbeats(clock);
  const hb = (id: string) => table.heartbeat(next(id, { peers: everyone.filter((p) => p !== id), ...extras.get(id) }));
  /** Heartbeats from `from` every interval and health ticks, for `ms`. */
  const run = (ms: number, from: readonly string[] = ids) => {
    for (let t = 0; t < ms; t += TICK) {
      if (t % T.heartbeatIntervalMs === 0) for (const id of from) hb(id);
      clock.advance(TICK);
      table.tick();
    }
  };
  run(T.heartbeatIntervalMs);
  let ownHints: Record<string, number> = {};
  const plan = () => planReads({ table, views: views!, ownHints });
  return {
    clock,
    table,
    views: views!,
    run,
    plan,
    /** Later heartbeats of `id` carry these fields. */
    set: (id: string, extra: Partial<HeartbeatMessage>) => extras.set(id, { ...extras.get(id), ...extra }),
    setOwnHints: (h: Record<string, number>) => (ownHints = h),
  };
}

type Fixture = ReturnType<typeof fixture>;

/** Width of the ring each member serves, and of the fallback, as fractions. */
function shares(p: ReadPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, r] of p.chosen) out[id] = r.fraction();
  if (p.fallback.count > 0) out.fallback = p.fallback.fraction();
  return out;
}

/** Every piece of the ring is served by exactly one chosen owner or is in the fallback. */
function expectWellFormed(f: Fixture, p: ReadPlan): void {
  let total = p.fallback.fraction();
  for (const r of p.chosen.values()) total += r.fraction();
  expect(Math.abs(total - 1)).toBeLessThan(1e-9);
  compareRings(f.views.readRing(), f.views.coverageRing(), ([lo, hi], readOwners, coverageOwners) => {
    const servers = [...p.chosen].filter(([, r]) => r.covers(lo, hi)).map(([id]) => id);
    const inFallback = p.fallback.covers(lo, hi);
    expect(servers.length + (inFallback ? 1 : 0)).toBe(1);
    for (const id of servers) {
      expect(readOwners).toContain(id);
      expect(coverageOwners).toContain(id);
    }
  });
}

/** Pieces of the ring owned by `id` on the read ring. */
function ownedBy(f: Fixture, id: string): HashInterval[] {
  const out: HashInterval[] = [];
  compareRings(f.views.readRing(), f.views.readRing(), (interval, owners) => {
    if (owners.includes(id)) out.push(interval);
  });
  return out;
}

test("with as many members as replicas this node serves every range alone", () => {
  const f = fixture(["a", "b"]);
  const p = f.plan();
  expect(shares(p)).toEqual({ self: 1 });
  expect(p.incomplete.size).toBe(0);
});

test("with more members than replicas every range has one server, this node wherever it owns the range, the rest spread", () => {
  const f = fixture(["a", "b", "c", "d"]);
  const p = f.plan();
  expectWellFormed(f, p);
  expect(p.fallback.count).toBe(0);
  const selfOwned = new HashRanges(ownedBy(f, "self"));
  expect(p.chosen.get("self")!.fraction()).toBeCloseTo(selfOwned.fraction(), 9);
  // The others' share is spread: nobody serves more than half of what this node does not.
  const rest = 1 - selfOwned.fraction();
  for (const id of ["a", "b", "c", "d"]) expect(p.chosen.get(id)?.fraction() ?? 0).toBeLessThan(rest / 2);
  expect(p.chosen.size).toBe(5);
});

test("a member some member holds hinted batches for is passed over until they are replayed", () => {
  const f = fixture(["a", "b", "c", "d"]);
  f.set("b", { hints: { c: 4 } });
  f.run(T.heartbeatIntervalMs);
  let p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("c")).toBe(false);
  expect(p.incomplete.get("c")).toBe("hinted batches are held for it");
  // Every range c owns has other owners that are complete: nothing falls back.
  expect(p.fallback.count).toBe(0);
  f.set("b", { hints: {} });
  f.run(T.heartbeatIntervalMs);
  p = f.plan();
  expect(p.chosen.has("c")).toBe(true);
  // This node's own queues count as well.
  f.setOwnHints({ a: 1 });
  p = f.plan();
  expect(p.chosen.has("a")).toBe(false);
  expect(p.incomplete.get("a")).toBe("hinted batches are held for it");
});

test("the plan is made again only when a ring or a member's eligibility changed", () => {
  const f = fixture(["a", "b", "c", "d"]);
  const planner = new ReadPlanner();
  let ownHints: Record<string, number> = {};
  const plan = () => planner.plan({ table: f.table, views: f.views, ownHints });
  const first = plan();
  f.run(T.heartbeatIntervalMs);
  expect(plan()).toBe(first);
  ownHints = { c: 1 };
  const second = plan();
  expect(second).not.toBe(first);
  expect(second.chosen.has("c")).toBe(false);
  expect(plan()).toBe(second);
  f.run(T.suspectTimeoutMs + 2 * TICK, ["a", "b", "d"]);
  ownHints = {};
  const third = plan();
  expect(third.chosen.has("c")).toBe(false);
  expect(third.incomplete.get("c")).toBe("suspect");
  f.run(T.heartbeatIntervalMs);
  expect(plan().chosen.has("c")).toBe(true);
});

test("hints held by a member that died still count: only it held those batches", () => {
  const f = fixture(["a", "b", "c", "d"]);
  f.set("d", { hints: { a: 2 } });
  f.run(T.heartbeatIntervalMs);
  f.run(T.deadTimeoutMs + 2 * TICK, ["a", "b", "c"]);
  expect(f.table.condition("d")).toBe("dead");
  const p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("a")).toBe(false);
  expect(p.chosen.has("d")).toBe(false);
});

test("a suspect member is passed over; where every owner is passed over the range falls back", () => {
  const f = fixture(["a", "b"], 2);
  f.run(T.suspectTimeoutMs + 2 * TICK, ["b"]);
  expect(f.table.condition("a")).toBe("suspect");
  let p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("a")).toBe(false);
  expect(p.incomplete.get("a")).toBe("suspect");
  expect(p.fallback.count).toBe(0);
  // b is behind too: the ranges owned by a and b only have no complete owner.
  f.setOwnHints({ b: 1 });
  p = f.plan();
  expectWellFormed(f, p);
  let both = 0;
  compareRings(f.views.readRing(), f.views.readRing(), ([lo, hi], owners) => {
    if (owners.includes("a") && owners.includes("b")) {
      both += hi - lo + 1;
      expect(p.fallback.covers(lo, hi)).toBe(true);
    }
  });
  expect(both).toBeGreaterThan(0);
  expect(p.fallback.fraction()).toBeCloseTo(both / RING, 9);
  // The fallback is read from the live owners of those ranges (a suspect one is not asked).
  expect(liveOwnersOf(f, p.fallback)).toEqual(["b"]);
});

test("a member heard again after it was held dead is passed over for a dead timeout (nobody wrote to it meanwhile)", () => {
  const f = fixture(["a", "b", "c", "d"]);
  f.run(T.deadTimeoutMs + 2 * TICK, ["a", "b", "c"]);
  expect(f.table.condition("d")).toBe("dead");
  f.run(T.heartbeatIntervalMs);
  expect(f.table.condition("d")).toBe("active");
  let p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("d")).toBe(false);
  expect(p.incomplete.get("d")).toBe("back from dead");
  f.run(T.deadTimeoutMs);
  p = f.plan();
  expect(p.chosen.has("d")).toBe(true);
});

test("the cluster is quiet only after the quiet period without a change, by this node's view and every member's", () => {
  const f = fixture(["a", "b", "c"]);
  const Q = 5000;
  const quiet = () => f.clock.wallNow() - f.table.clusterQuietSince() >= Q;
  f.set("a", { quietSince: f.clock.wallNow() - 60_000 });
  f.set("b", { quietSince: f.clock.wallNow() - 60_000 });
  // c says nothing of its own view: not known quiet.
  f.run(Q + TICK);
  expect(quiet()).toBe(false);
  f.set("c", { quietSince: f.clock.wallNow() - 60_000 });
  f.run(T.heartbeatIntervalMs);
  expect(quiet()).toBe(true);
  // A member's own account of a change counts (shifted to this node's clock).
  f.set("b", { quietSince: f.clock.wallNow() });
  f.run(T.heartbeatIntervalMs);
  expect(quiet()).toBe(false);
  f.set("b", { quietSince: f.clock.wallNow() - 60_000 });
  f.run(T.heartbeatIntervalMs);
  expect(quiet()).toBe(true);
  // A heartbeat that leaves out an established member, and hinted batches held: changes.
  f.set("a", { peers: ["self", "c"] });
  f.run(T.heartbeatIntervalMs);
  f.set("a", { peers: ["self", "b", "c"] });
  expect(quiet()).toBe(false);
  f.run(Q + TICK);
  expect(quiet()).toBe(true);
  f.set("a", { hints: { c: 2 } });
  f.run(T.heartbeatIntervalMs);
  f.set("a", { hints: {} });
  expect(quiet()).toBe(false);
  f.run(Q + TICK);
  expect(quiet()).toBe(true);
  // A suspect member: not quiet while it is not alive, nor for the quiet period after.
  f.run(T.suspectTimeoutMs + 2 * TICK, ["a", "b"]);
  expect(f.table.condition("c")).toBe("suspect");
  expect(quiet()).toBe(false);
  f.run(Q + TICK);
  expect(quiet()).toBe(true);
});

test("a member another live member does not name alive is passed over (that member writes elsewhere, without hints)", () => {
  const f = fixture(["a", "b", "c"]);
  f.set("b", { peers: ["self", "c"] });
  f.run(T.heartbeatIntervalMs);
  const p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("a")).toBe(false);
  expect(p.incomplete.get("a")).toBe("not held alive by b");
});

test("joining and returning members are not read; leaving ones only where no active owner is complete", () => {
  const f = fixture(["a", "b", "c", "d", "e"]);
  f.set("a", { state: "joining", returning: true });
  f.set("b", { state: "leaving" });
  f.run(T.heartbeatIntervalMs);
  expect(f.table.condition("a")).toBe("returning");
  let p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("a")).toBe(false);
  expect(f.views.readRing().ids).not.toContain("a");
  // Every range of b has an active owner besides it.
  expect(p.chosen.has("b")).toBe(false);
  expect(p.fallback.count).toBe(0);
  // With its active co-owners behind, b serves its ranges rather than letting them fall back.
  f.setOwnHints({ c: 1, d: 1, e: 1 });
  p = f.plan();
  expectWellFormed(f, p);
  expect(p.chosen.has("b")).toBe(true);
});

test("a member that took ranges over from a dead member does not serve them before their re-replication is done", () => {
  const f = fixture(["a", "b", "c", "d"], 2);
  f.run(T.deadTimeoutMs + 2 * TICK, ["a", "b", "c"]);
  expect(f.table.condition("d")).toBe("dead");
  const p = f.plan();
  expectWellFormed(f, p);
  let tookOver = 0;
  compareRings(f.views.readRing(), f.views.coverageRing(), ([lo, hi], readOwners, coverageOwners) => {
    for (const id of readOwners) {
      if (coverageOwners.includes(id)) continue;
      tookOver += hi - lo + 1;
      expect(p.chosen.get(id)?.covers(lo, hi) ?? false).toBe(false);
    }
  });
  expect(tookOver).toBeGreaterThan(0);
  // Once replaced, the ring as written is the read ring again: the new owners serve their ranges.
  f.run(3 * T.deadTimeoutMs, ["a", "b", "c"]);
  expect(f.table.condition("d")).toBe("replaced");
  const after = f.plan();
  expectWellFormed(f, after);
  expect(after.fallback.count).toBe(0);
});

test("the planned select reads the ranges of a chosen member that fails from their other owners, without a warning", async () => {
  const f = fixture(["a", "b", "c", "d"]);
  const plan = f.plan();
  const calls: string[] = [];
  const gaps = await plannedSelect({
    plan,
    selfId: "self",
    alive: ["self", "a", "b", "c", "d"],
    liveOwnersOf: (r) => liveOwnersOf(f, r),
    coverage: f.views.coverageRing(),
    read: f.views.readRing(),
    mint: 0,
    maxt: 1000,
    cut: 5000,
    turn: 0,
    call: async (id, lo, hi, ranges, widen) => {
      // Every member is asked for what it stored lately (the window itself is older than the cut).
      if (widen) {
        expect([lo, hi, ranges]).toEqual([5000, 1000, null]);
        return true;
      }
      calls.push(`${id}:${ranges === null ? "all" : ranges === plan.chosen.get(id) ? "chosen" : "fallback"}`);
      expect([lo, hi]).toEqual([0, 1000]);
      return id !== "b";
    },
  });
  // b's ranges went to their other owners; a read of one live replica known complete for
  // everything else, and of every other owner for b's ranges, leaves no gap.
  expect(calls.filter((c) => c.startsWith("b:"))).toEqual(["b:chosen"]);
  expect(calls.filter((c) => c.endsWith(":fallback")).length).toBeGreaterThan(0);
  expect(gaps.none.fraction).toBe(0);
  expect(gaps.thin.fraction).toBe(0);
  // The same failure with nobody else answering for b's ranges is a gap, named.
  const alone = coverageGaps(f.views.coverageRing(), f.views.readRing(), [
    [...plan.chosen].filter(([id]) => id !== "b").map(([member, ranges]) => ({ member, ranges, complete: true })),
  ]);
  expect(alone.none.fraction).toBeCloseTo(plan.chosen.get("b")!.fraction(), 9);
});

test("the planned select asks a read quorum for the newest samples and what it stored lately, this node alone for the older ones when it owns everything", async () => {
  const f = fixture(["a", "b"]);
  const calls: string[] = [];
  const base = {
    plan: f.plan(),
    selfId: "self",
    alive: ["a", "b", "self"],
    liveOwnersOf: (r: HashRanges) => liveOwnersOf(f, r),
    coverage: f.views.coverageRing(),
    read: f.views.readRing(),
    turn: 0,
    call: async (id: string, lo: number, hi: number, ranges: HashRanges | null, widen: boolean) => {
      calls.push(`${id}:${lo}-${hi}:${ranges === null ? "all" : "some"}${widen ? ":widened" : ""}`);
      return id !== "b";
    },
  };
  // R = 3: a write is on two of its three owners once acknowledged, so this node and one other
  // see every acknowledged write.
  let gaps = await plannedSelect({ ...base, mint: 0, maxt: 10_000, cut: 8000 });
  expect(calls).toEqual(["a:8000-10000:all:widened", "self:0-10000:all"]);
  expect(gaps.none.fraction + gaps.thin.fraction).toBe(0);
  // The next select asks the other member first; it does not answer, so the rest are asked.
  calls.length = 0;
  gaps = await plannedSelect({ ...base, turn: 1, mint: 0, maxt: 10_000, cut: 8000 });
  expect(calls).toEqual(["b:8000-10000:all:widened", "self:0-10000:all", "a:8000-10000:all:widened"]);
  expect(gaps.none.fraction + gaps.thin.fraction).toBe(0);
  calls.length = 0;
  gaps = await plannedSelect({ ...base, mint: 0, maxt: 5000, cut: 8000 });
  // An older window: the others only for what they stored lately (an empty window widened).
  expect(calls).toEqual(["a:8000-5000:all:widened", "self:0-5000:all"]);
  expect(gaps.none.fraction + gaps.thin.fraction).toBe(0);
  // The newest samples from this node alone: fewer than a read quorum, said so.
  calls.length = 0;
  gaps = await plannedSelect({ ...base, alive: ["self"], mint: 9000, maxt: 10_000, cut: 8000 });
  expect(calls).toEqual(["self:9000-10000:all:widened"]);
  expect(gaps.thin.fraction).toBe(1);
});
