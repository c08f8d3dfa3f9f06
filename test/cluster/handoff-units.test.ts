/**
 * The hand-off units' decisions driven by a manual clock, without processes: which ranges a
 * member re-replicates after a death and from whom, re-replication waiting for a suspect owner,
 * the drop waiting for its grace and for the owners to be alive, and the leave timeout.
 */
import { expect, test } from "bun:test";
import { defaultClusterConfig, type ClusterConfig } from "../../src/cluster/config.ts";
import { HandoffContext, type HandoffMembership, type Repairer } from "../../src/cluster/handoff/context.ts";
import { Drop } from "../../src/cluster/handoff/drop.ts";
import { Leave } from "../../src/cluster/handoff/leave.ts";
import { deathGains, ReReplication } from "../../src/cluster/handoff/rereplicate.ts";
import type { Member, MemberHealth, MemberState } from "../../src/cluster/membership.ts";
import type { Puller } from "../../src/cluster/puller.ts";
import { compareRings, nodeTokens, Ring } from "../../src/cluster/ring.ts";
import type { Rpc } from "../../src/cluster/rpc.ts";
import { Throttle, Transfers, type HandoffReason, type HandoffStorage } from "../../src/cluster/transfer.ts";
import { nopLogger } from "../../src/model/index.ts";
import { ManualClock } from "../support/clock.ts";

function ringOf(ids: string[], r: number): Ring {
  return new Ring(
    ids.map((id) => ({ id, tokens: nodeTokens(id, 32) })),
    r,
  );
}

function member(id: string, health: MemberHealth = "alive", state: MemberState = "active"): Member {
  return { id, self: id === "self", name: id, addrs: [], http: "", state, tokens: nodeTokens(id, 32), load: {}, hints: {}, clockOffsets: [], health, lastHeartbeat: 0, startedAt: 1, createdAt: 0, deadSince: 0 };
}

/** A membership whose members and rings the test sets. */
class FakeMembership implements HandoffMembership {
  readonly selfId = "self";
  readonly members = new Map<string, Member>();
  read: Ring;
  future: Ring;
  pending = false;

  constructor(ids: string[], r: number) {
    for (const id of ["self", ...ids]) this.members.set(id, member(id));
    this.read = ringOf(["self", ...ids], r);
    this.future = this.read;
  }
  self(): Member {
    return this.members.get("self")!;
  }
  get(id: string): Member | undefined {
    return this.members.get(id);
  }
  all(): Member[] {
    return [...this.members.values()];
  }
  isLive(id: string): boolean {
    const m = this.members.get(id);
    return m !== undefined && m.health !== "dead";
  }
  isReturning(m: Member): boolean {
    return m.returning === true;
  }
  setState(state: MemberState): void {
    this.self().state = state;
  }
  readRing(): Ring {
    return this.read;
  }
  futureRing(): Ring {
    return this.future;
  }
  pendingChange(): boolean {
    return this.pending;
  }
  health(id: string, health: MemberHealth): void {
    this.members.get(id)!.health = health;
  }
}

/** Local storage holding series at some hashes: what the drop asks of it. */
class FakeStorage {
  hashes: number[];
  dropCalls = 0;
  constructor(hashes: number[]) {
    this.hashes = hashes;
  }
  async *summarizeSeries(opts: { filter: (l: unknown, h: number) => boolean }): AsyncGenerator<{ count: number }[]> {
    yield this.hashes.filter((h) => opts.filter(null, h)).map(() => ({ count: 1 }));
  }
  async dropSeries(filter: (l: unknown, h: number) => boolean): Promise<number> {
    this.dropCalls++;
    const before = this.hashes.length;
    this.hashes = this.hashes.filter((h) => !filter(null, h));
    return before - this.hashes.length;
  }
}

class FakeRepairer implements Repairer {
  readonly syncs: string[] = [];
  readonly catchUps: string[] = [];
  async syncTo(peer: string): Promise<number> {
    this.syncs.push(peer);
    return 0;
  }
  async prepareCatchUp(): Promise<never> {
    return { windows: [], counts: new Float64Array(), sums: new Float64Array(), row: new Map() } as never;
  }
  async catchUp(peer: string, _ivs: unknown, _reason: HandoffReason): Promise<number> {
    this.catchUps.push(peer);
    return 0;
  }
}

class FakePuller implements Pick<Puller, "nextId" | "pullFrom" | "expireIncoming" | "stop"> {
  readonly pulls: { source: string; reason: HandoffReason }[] = [];
  private seq = 0;
  nextId(kind: string): string {
    return `t-${kind}-${++this.seq}`;
  }
  async pullFrom(source: string, req: { reason: HandoffReason }): Promise<void> {
    this.pulls.push({ source, reason: req.reason });
  }
  expireIncoming(): void {}
  stop(): void {}
}

interface Fixture {
  clock: ManualClock;
  membership: FakeMembership;
  storage: FakeStorage;
  repairer: FakeRepairer;
  puller: FakePuller;
  ctx: HandoffContext;
  /** Moves the clock by `ms` in `step`s, letting the promises that wake up run in between. */
  run(ms: number, step?: number): Promise<void>;
}

function fixture(opts: { ids: string[]; r: number; cfg?: Partial<ClusterConfig>; hashes?: number[]; hintsPending?: () => number }): Fixture {
  const clock = new ManualClock();
  const membership = new FakeMembership(opts.ids, opts.r);
  const storage = new FakeStorage(opts.hashes ?? []);
  const repairer = new FakeRepairer();
  const puller = new FakePuller();
  const ctx = new HandoffContext({
    cfg: { ...defaultClusterConfig(), ...opts.cfg },
    membership,
    local: storage as unknown as HandoffStorage,
    transfers: new Transfers(null as unknown as Rpc, storage as unknown as HandoffStorage, new Throttle(0), nopLogger),
    puller,
    repairer,
    hintsPending: opts.hintsPending ?? (() => 0),
    logger: nopLogger,
    clock,
  });
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await new Promise((r) => setImmediate(r));
    }
  };
  return { clock, membership, storage, repairer, puller, ctx, run };
}

/** The ranges `self` owns in `cur` and not in `prev`. */
function gainedFraction(prev: Ring, cur: Ring): number {
  let n = 0;
  compareRings(prev, cur, (iv, po, co) => {
    if (!po.includes("self") && co.includes("self")) n += iv[1] - iv[0] + 1;
  });
  return n / 2 ** 32;
}

test("re-replication takes the ranges a dead member left to this node, from their live survivors only", () => {
  const f = fixture({ ids: ["a", "b", "c", "d"], r: 2 });
  const prev = f.membership.read;
  const cur = ringOf(["self", "a", "b", "d"], 2); // c is gone from the read ring
  expect(gainedFraction(prev, cur)).toBeGreaterThan(0);
  // Gone because it left: nothing to re-replicate (it handed its ranges over).
  f.membership.members.get("c")!.state = "left";
  expect(deathGains(prev, cur, f.membership)).toEqual([]);
  // Gone because it died: every gained range comes from its other, live owners.
  f.membership.health("c", "dead");
  const gains = deathGains(prev, cur, f.membership);
  expect(gains.length).toBeGreaterThan(0);
  for (const g of gains) {
    for (const iv of g.ivs) {
      expect(prev.owners(iv[1])).toContain("c");
      expect(cur.owners(iv[1])).toContain("self");
      expect(g.survivors).toEqual(prev.owners(iv[1]).filter((id) => id !== "c"));
    }
    expect(g.survivors).not.toContain("self");
  }
  // A survivor that died too cannot give anything: its ranges are left out.
  for (const id of gains[0]!.survivors) f.membership.health(id, "dead");
  const left = deathGains(prev, cur, f.membership);
  expect(left.some((g) => g.survivors.join() === gains[0]!.survivors.join())).toBe(false);
});

test("re-replication pulls from a survivor, then waits for a suspect co-owner before comparing digests with it", async () => {
  const f = fixture({ ids: ["a", "b", "c", "d", "e"], r: 3 });
  const rr = new ReReplication(f.ctx);
  rr.onRingChange(); // remembers the ring
  f.membership.health("c", "dead");
  f.membership.read = ringOf(["self", "a", "b", "d", "e"], 3);
  const gains = deathGains(ringOf(["self", "a", "b", "c", "d", "e"], 3), f.membership.read, f.membership);
  // The survivors with two members each: one sends, the other's copy is compared afterwards.
  const pairs = gains.filter((g) => g.survivors.length === 2);
  expect(pairs.length).toBeGreaterThan(0);
  const suspect = pairs[0]!.survivors[0]!;
  f.membership.health(suspect, "suspect");
  rr.onRingChange();
  expect(rr.pendingRanges()).toBe(gains.reduce((n, g) => n + g.ivs.length, 0));
  await f.run(2000);
  expect(f.puller.pulls.every((p) => p.reason === "death")).toBe(true);
  expect(f.puller.pulls.length).toBeGreaterThan(0);
  // Two seconds of suspicion: no digests asked of it, its ranges still pending.
  expect(f.repairer.catchUps).not.toContain(suspect);
  expect(rr.pendingRanges()).toBeGreaterThan(0);
  f.membership.health(suspect, "alive");
  await f.run(300);
  expect(f.repairer.catchUps).toContain(suspect);
  expect(rr.pendingRanges()).toBe(0);
});

test("re-replication skips a co-owner that dies while it is waited for", async () => {
  const f = fixture({ ids: ["a", "b", "c", "d", "e"], r: 3 });
  const rr = new ReReplication(f.ctx);
  rr.onRingChange();
  f.membership.health("c", "dead");
  const prev = f.membership.read;
  f.membership.read = ringOf(["self", "a", "b", "d", "e"], 3);
  const pair = deathGains(prev, f.membership.read, f.membership).find((g) => g.survivors.length === 2)!;
  const suspect = pair.survivors[0]!;
  f.membership.health(suspect, "suspect");
  rr.onRingChange();
  await f.run(1000);
  expect(rr.pendingRanges()).toBeGreaterThan(0);
  f.membership.health(suspect, "dead");
  await f.run(300);
  expect(f.repairer.catchUps).not.toContain(suspect);
  expect(rr.pendingRanges()).toBe(0);
});

/** Hashes `self` does not own in a ring (so the drop has something to drop). */
function foreignHashes(ring: Ring, n: number): number[] {
  const out: number[] = [];
  for (let h = 12345; out.length < n; h = (h + 0x9e3779b1) >>> 0) if (!ring.owners(h).includes("self")) out.push(h);
  return out;
}

test("the drop waits for the grace of a settled ring, restarts it when a member reports hand-off, and waits for the owners to be alive", async () => {
  const grace = 1000;
  const ids = ["a", "b", "c"];
  const ring = ringOf(["self", ...ids], 2);
  const f = fixture({ ids, r: 2, cfg: { handoffDropGraceMs: grace }, hashes: foreignHashes(ring, 5) });
  const drop = new Drop(f.ctx);
  const tick = async () => {
    await drop.tick();
    await new Promise((r) => setImmediate(r));
  };
  await tick(); // first sight of the ring
  f.clock.advance(grace - 100);
  await tick();
  expect(f.storage.dropCalls).toBe(0);
  expect(drop.status().holdsForeignSeries).toBeNull();
  // Another member still re-replicating: the ring is not settled, the grace starts again.
  f.membership.members.get("a")!.load.handoffPendingRanges = 3;
  f.clock.advance(200);
  await tick();
  f.membership.members.get("a")!.load.handoffPendingRanges = 0;
  f.clock.advance(grace - 100);
  await tick();
  expect(f.storage.dropCalls).toBe(0);
  expect(drop.status().settledForSeconds).toBe((grace - 100) / 1000);
  // Grace over, but an owner of the ranges to drop is suspect: nothing is deleted.
  f.membership.health("b", "suspect");
  f.clock.advance(200);
  await tick();
  expect(f.storage.dropCalls).toBe(0);
  expect(drop.status().holdsForeignSeries).toBe(true);
  expect(f.storage.hashes.length).toBe(5);
  // Owners alive again: each is synced, then the series are dropped.
  f.membership.health("b", "alive");
  f.clock.advance(50);
  await tick();
  expect(f.storage.dropCalls).toBe(1);
  expect(f.storage.hashes).toEqual([]);
  expect(new Set(f.repairer.syncs)).toEqual(new Set(ids));
  expect(drop.status().droppedSeries).toBe(5);
  expect(drop.status().holdsForeignSeries).toBe(false);
});

test("the drop holds off while the read ring changes or a member joins or leaves", async () => {
  const grace = 500;
  const ring = ringOf(["self", "a", "b"], 2);
  const f = fixture({ ids: ["a", "b"], r: 2, cfg: { handoffDropGraceMs: grace }, hashes: foreignHashes(ring, 3) });
  const drop = new Drop(f.ctx);
  await drop.tick();
  f.membership.pending = true;
  for (let i = 0; i < 10; i++) {
    f.clock.advance(grace);
    await drop.tick();
  }
  expect(f.storage.dropCalls).toBe(0);
  f.membership.pending = false;
  f.membership.read = ringOf(["self", "a", "b", "c"], 2);
  f.membership.members.set("c", member("c"));
  f.membership.future = f.membership.read;
  await drop.tick(); // a new ring: its grace starts now
  f.clock.advance(grace - 1);
  await drop.tick();
  expect(f.storage.dropCalls).toBe(0);
  f.clock.advance(1);
  await drop.tick();
  expect(f.storage.dropCalls).toBe(1);
});

test("a leave that cannot deliver its hinted batches times out at the leave timeout, not before", async () => {
  const f = fixture({ ids: ["a"], r: 1, cfg: { handoffLeaveTimeoutMs: 2000, heartbeatIntervalMs: 100 }, hintsPending: () => 1 });
  // No ranges to hand over: the leave goes straight to the hinted batches.
  f.membership.read = f.membership.future = ringOf(["a"], 1);
  const leave = new Leave(f.ctx);
  let outcome = null as string | null;
  leave.start().then(
    () => (outcome = "left"),
    (err: Error) => (outcome = err.message),
  );
  expect(leave.start()).toBe(leave.start()); // idempotent
  expect(leave.requested()).toBe(true);
  expect(f.membership.self().state).toBe("leaving");
  await f.run(1900);
  expect(outcome).toBeNull();
  await f.run(300);
  expect(outcome).toBe("leave timed out after 2s with 1 hinted batches undelivered");
  expect(leave.status().error).toBe(outcome);
  expect(leave.status().finishedAt).toBeNull();
  expect(f.membership.self().state).toBe("leaving");
});

test("a leave finishes once its hinted batches are delivered, announcing left for a heartbeat first", async () => {
  let pending = 2;
  const f = fixture({ ids: ["a"], r: 1, cfg: { handoffLeaveTimeoutMs: 2000, heartbeatIntervalMs: 100 }, hintsPending: () => pending });
  f.membership.read = f.membership.future = ringOf(["a"], 1);
  const leave = new Leave(f.ctx);
  let done = false;
  void leave.start().then(() => (done = true));
  await f.run(500);
  expect(done).toBe(false);
  pending = 0;
  await f.run(100);
  expect(f.membership.self().state).toBe("left");
  await f.run(200);
  expect(done).toBe(true);
  expect(leave.status().error).toBeNull();
  expect(leave.status().finishedAt).not.toBeNull();
});
