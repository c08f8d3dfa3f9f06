/**
 * Forwarding remote_write samples once in a cluster, driven by a manual clock on a real member
 * table and ring views: which member forwards a series (the read ring's first owner, through
 * joins, leaves and suspicion), and the takeover when that member changes — which samples the new
 * forwarder hands its queues (after the old one's published watermark minus the margin, taken
 * when the change is seen), the watermark it publishes meanwhile, and retries.
 */
import { afterAll, expect, test } from "bun:test";
import type { HeartbeatMessage, MemberState } from "../../src/cluster/heartbeat.ts";
import { LateTolerantAppendable } from "../../src/cluster/late.ts";
import type { MemberTable } from "../../src/cluster/member_table.ts";
import { RemoteForwarding, runsAfter, takenOverRanges, type RemoteForwardTarget } from "../../src/cluster/remote_forward.ts";
import type { Ring } from "../../src/cluster/ring.ts";
import type { RingViews } from "../../src/cluster/ring_views.ts";
import type { ExportOptions } from "../../src/storage/export.ts";
import { openTSDB, type SeriesData } from "../../src/storage/index.ts";
import { isStaleAt, labelsFromRecord, labelsHash32, nopLogger, setStaleAt, type Labels, type SampleRuns } from "../../src/model/index.ts";
import type { ManualClock } from "../support/clock.ts";
import { removeTempDirs, tempDir } from "../support/index.ts";
import { heartbeats, memberTable, TIMEOUTS as T } from "./member_table_fixture.ts";

afterAll(() => removeTempDirs());

const TICK = 50;
const MARGIN = 2000;
const RETRY = 5000;
/** How long after the change a takeover reads the local copy. */
const SETTLE = 1000;

/** The local copy: 300 series, one sample a second from 10 s before the clock's start to 20 s after. */
class FakeLocal {
  readonly series: SeriesData[] = [];
  exports = 0;

  constructor(base: number) {
    for (let i = 0; i < 300; i++) {
      const ts: number[] = [];
      for (let k = -10; k <= 20; k++) ts.push(base + k * 1000);
      this.series.push({ labels: labelsFromRecord({ __name__: "m", series: `s${i}` }), timestamps: Float64Array.from(ts), values: Float64Array.from(ts, (t) => t / 1000) });
    }
  }

  async *exportSeries(opts: ExportOptions): AsyncIterable<SeriesData[]> {
    this.exports++;
    const out: SeriesData[] = [];
    for (const s of this.series) {
      if (!opts.filter(s.labels, labelsHash32(s.labels))) continue;
      const keep = [...s.timestamps.keys()].filter((i) => s.timestamps[i]! >= (opts.mint ?? -Infinity));
      out.push({ labels: s.labels, timestamps: Float64Array.from(keep, (i) => s.timestamps[i]!), values: Float64Array.from(keep, (i) => s.values[i]!) });
      // Several batches, as the storage cuts them.
      if (out.length === 40) yield out.splice(0);
    }
    if (out.length > 0) yield out;
  }
}

/** The remote room's door: records what each queue was handed; `gate` holds writes back, `failures` fails the next ones. */
class FakeTarget implements RemoteForwardTarget {
  active = true;
  delivered = new Map<string, number>([["q1", 0]]);
  /** queue → series → timestamps handed. */
  readonly handed = new Map<string, Map<string, number[]>>();
  gate: Promise<void> | null = null;
  failures = 0;
  writes = 0;

  queues() {
    return [...this.delivered].map(([name, deliveredThroughMs]) => ({ name, deliveredThroughMs }));
  }

  async write(batch: SampleRuns, queues?: readonly string[]): Promise<void> {
    this.writes++;
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error("disk full");
    }
    for (const q of queues ?? [...this.delivered.keys()]) {
      let m = this.handed.get(q);
      if (!m) this.handed.set(q, (m = new Map()));
      for (let r = 0; r < batch.runs; r++) {
        const id = batch.labels[r]!.find((l) => l.name === "series")!.value;
        const list = m.get(id) ?? [];
        for (let i = r === 0 ? 0 : batch.ends[r - 1]!; i < batch.ends[r]!; i++) list.push(batch.timestamps[i]!);
        m.set(id, list);
      }
    }
  }
}

interface Fixture {
  clock: ManualClock;
  base: number;
  table: MemberTable;
  views: RingViews;
  local: FakeLocal;
  target: FakeTarget;
  fwd: RemoteForwarding;
  hb(id: string, extra?: Partial<HeartbeatMessage>): void;
  /** Heartbeats from `ids` every heartbeat interval and health ticks, for `ms`. */
  run(ms: number, ids: readonly string[], extra?: (id: string) => Partial<HeartbeatMessage>): void;
  /** Lets the takeovers' promises run (the manual clock does not move). */
  flush(): Promise<void>;
  /** Moves the clock past the settle delay of a takeover planned now, then flushes. */
  settle(): Promise<void>;
}

function fixture(selfState: MemberState = "active"): Fixture {
  const { clock, table, views } = memberTable({ expectsOthers: true });
  const base = clock.wallNow();
  const local = new FakeLocal(base);
  const target = new FakeTarget();
  const fwd = new RemoteForwarding({
    selfId: "self",
    readRing: () => views.readRing(),
    member: (id) => table.get(id),
    target,
    local,
    marginMs: MARGIN,
    clock,
    logger: nopLogger,
    settleMs: SETTLE,
    retryDelayMs: RETRY,
    batchSamples: 1000,
  });
  // As in the cluster: the views are invalidated first (memberTable's listener), then the
  // listeners see the new rings.
  table.onChange(() => fwd.onRingChange());
  table.setState(selfState);
  const next = heartbeats(clock);
  const hb = (id: string, extra: Partial<HeartbeatMessage> = {}) => table.heartbeat(next(id, extra));
  const run = (ms: number, ids: readonly string[], extra?: (id: string) => Partial<HeartbeatMessage>) => {
    for (let t = 0; t < ms; t += TICK) {
      if (t % T.heartbeatIntervalMs === 0) for (const id of ids) hb(id, extra?.(id));
      clock.advance(TICK);
      table.tick();
    }
  };
  const flush = async () => {
    for (let i = 0; i < 50; i++) await Promise.resolve();
  };
  const settle = async () => {
    await flush();
    clock.advance(SETTLE);
    await flush();
  };
  return { clock, base, table, views, local, target, fwd, hb, run, flush, settle };
}

function id(labels: Labels): string {
  return labels.find((l) => l.name === "series")!.value;
}

/** Per series the local copy holds, its primary on `ring`. */
function primaries(f: Fixture, ring: Ring): Map<string, string> {
  return new Map(f.local.series.map((s) => [id(s.labels), ring.primaryOf(labelsHash32(s.labels))!]));
}

/** What a takeover must hand the queue: for the series whose primary went from `from` to self, the local samples after `after`. */
function expected(f: Fixture, before: Map<string, string>, after: Map<string, string>, from: string, afterMs: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of f.local.series) {
    const k = id(s.labels);
    if (before.get(k) !== from || after.get(k) !== "self") continue;
    out.set(k, [...s.timestamps].filter((t) => t > afterMs));
  }
  return out;
}

function sorted(m: Map<string, number[]> | undefined): [string, number[]][] {
  return [...(m ?? new Map<string, number[]>())].map(([k, v]) => [k, [...v].sort((a, b) => a - b)] as [string, number[]]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test("each series is forwarded by exactly one member: the first owner on the read ring", () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"]);
  const ring = f.views.readRing();
  let mine = 0;
  for (const s of f.local.series) {
    const p = ring.primaryOf(labelsHash32(s.labels));
    expect(f.fwd.forwardsSeries(s.labels)).toBe(p === "self");
    // The write ring's first owner is the same member.
    expect(f.views.ring().owners(labelsHash32(s.labels))[0]).toBe(p!);
    if (p === "self") mine++;
  }
  expect(mine).toBeGreaterThan(20);
  expect(mine).toBeLessThan(200);
  expect(f.fwd.status().ringShare).toBeGreaterThan(0.05);
});

test("a joining member forwards nothing until it is active; a leaving one forwards until it has left; a suspect one stays the forwarder", () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"]);
  const before = primaries(f, f.views.readRing());
  const ofA = f.local.series.filter((s) => before.get(id(s.labels)) === "a");
  expect(ofA.length).toBeGreaterThan(0);
  // a suspect: still the forwarder of its series.
  f.run(T.suspectTimeoutMs + 2 * TICK, ["b", "c"]);
  expect(f.table.condition("a")).toBe("suspect");
  for (const s of ofA) expect(f.fwd.forwardsSeries(s.labels)).toBe(false);
  // a back, then leaving: still the forwarder; left: no more.
  f.run(400, ["a", "b", "c"], (x) => (x === "a" ? { state: "leaving" } : {}));
  for (const s of ofA) expect(f.fwd.forwardsSeries(s.labels)).toBe(false);
  f.run(400, ["a", "b", "c"], (x) => (x === "a" ? { state: "left" } : {}));
  const after = primaries(f, f.views.readRing());
  expect([...after.values()]).not.toContain("a");
  for (const s of ofA) expect(f.fwd.forwardsSeries(s.labels)).toBe(after.get(id(s.labels)) === "self");
  expect(ofA.filter((s) => after.get(id(s.labels)) === "self").length).toBeGreaterThan(0);
  // d joining takes nothing over until it is active.
  f.run(400, ["b", "c", "d"], (x) => (x === "d" ? { state: "joining" } : {}));
  expect(primaries(f, f.views.readRing())).toEqual(after);
  f.run(400, ["b", "c", "d"]);
  expect([...primaries(f, f.views.readRing()).values()]).toContain("d");
});

test("a dead forwarder's ranges are taken over from its published watermark minus the margin, read when the death is seen", async () => {
  const f = fixture();
  const wA = f.base + 10_000;
  f.run(600, ["a", "b", "c"], (x) => ({ remote: { q1: x === "a" ? wA : f.base + 15_000 } }));
  expect(f.table.get("a")!.remoteDelivered).toEqual({ q1: wA });
  const before = primaries(f, f.views.readRing());
  // a goes silent; b and c keep publishing. Until a is dead nothing is taken over.
  f.run(T.suspectTimeoutMs + 2 * TICK, ["b", "c"], () => ({ remote: { q1: f.base + 15_000 } }));
  await f.flush();
  expect(f.target.writes).toBe(0);
  f.run(T.deadTimeoutMs, ["b", "c"], () => ({ remote: { q1: f.base + 15_000 } }));
  expect(f.table.condition("a")).toBe("dead");
  const after = primaries(f, f.views.readRing());
  // A heartbeat cannot change what the plan took (a dead member sends none; here we check the
  // snapshot by changing the table's record after the fact).
  f.table.get("a")!.remoteDelivered = { q1: f.base + 19_000 };
  await f.settle();
  const want = expected(f, before, after, "a", wA - MARGIN);
  expect(want.size).toBeGreaterThan(0);
  expect(sorted(f.target.handed.get("q1"))).toEqual(sorted(want));
  // Only samples after wA - MARGIN = base + 8 s: 12 per series.
  for (const ts of want.values()) expect(ts.length).toBe(12);
  const st = f.fwd.status();
  expect(st.takeovers).toHaveLength(1);
  expect(st.takeovers[0]).toMatchObject({ fromName: "a", state: "done", after: { q1: wA - MARGIN }, attempts: 1 });
  expect(st.takeoverSamples).toBe(12 * want.size);
});

test("a forwarder that published no watermark for a queue is taken over from when this node first saw the queue", async () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"]); // nobody publishes `remote` (older members)
  const before = primaries(f, f.views.readRing());
  f.run(T.deadTimeoutMs + 4 * TICK, ["b", "c"]);
  const after = primaries(f, f.views.readRing());
  await f.settle();
  // The queue was first seen at the fixture's start (base).
  const want = expected(f, before, after, "a", f.base - MARGIN);
  expect(sorted(f.target.handed.get("q1"))).toEqual(sorted(want));
  for (const ts of want.values()) expect(ts.length).toBe(22);
});

test("while a takeover is not durable in the queue the published watermark is held at its start", async () => {
  const f = fixture();
  f.target.delivered.set("q1", f.base + 20_000);
  f.run(600, ["a", "b", "c"], () => ({ remote: { q1: f.base + 10_000 } }));
  expect(f.fwd.publishedWatermarks()).toEqual({ q1: f.base + 20_000 });
  let open!: () => void;
  f.target.gate = new Promise((r) => (open = r));
  f.run(T.deadTimeoutMs + 4 * TICK, ["b", "c"], () => ({ remote: { q1: f.base + 10_000 } }));
  await f.settle();
  expect(f.fwd.pending()).toBe(1);
  expect(f.fwd.publishedWatermarks()).toEqual({ q1: f.base + 10_000 - MARGIN });
  open();
  f.target.gate = null;
  await f.flush();
  expect(f.fwd.pending()).toBe(0);
  expect(f.fwd.publishedWatermarks()).toEqual({ q1: f.base + 20_000 });
});

test("a takeover that failed is tried again, whole, after the retry delay", async () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"], () => ({ remote: { q1: f.base + 10_000 } }));
  const before = primaries(f, f.views.readRing());
  f.target.failures = 1;
  f.run(T.deadTimeoutMs + 4 * TICK, ["b", "c"], () => ({ remote: { q1: f.base + 10_000 } }));
  const after = primaries(f, f.views.readRing());
  await f.flush();
  // Nothing is read before the settle delay.
  expect(f.local.exports).toBe(0);
  await f.settle();
  expect(f.fwd.pending()).toBe(1);
  expect(f.fwd.status().takeovers[0]!.lastError).toBe("disk full");
  f.clock.advance(RETRY - 1);
  await f.flush();
  expect(f.fwd.pending()).toBe(1);
  f.clock.advance(1);
  await f.flush();
  expect(f.fwd.pending()).toBe(0);
  expect(f.local.exports).toBe(2);
  expect(sorted(f.target.handed.get("q1"))).toEqual(sorted(expected(f, before, after, "a", f.base + 10_000 - MARGIN)));
  expect(f.fwd.status().takeovers[0]).toMatchObject({ state: "done", attempts: 2, lastError: "" });
});

test("a joiner takes over from each former forwarder's own watermark once it is active; the former forwarders take nothing over", async () => {
  const f = fixture("joining");
  const w: Record<string, number> = { a: f.base + 5000, b: f.base + 9000, c: f.base + 14_000 };
  f.run(600, ["a", "b", "c"], (x) => ({ remote: { q1: w[x]! } }));
  expect(f.views.readRing().ids).not.toContain("self");
  for (const s of f.local.series) expect(f.fwd.forwardsSeries(s.labels)).toBe(false);
  const before = primaries(f, f.views.readRing());
  f.table.setState("active");
  const after = primaries(f, f.views.readRing());
  await f.settle();
  const want = new Map<string, number[]>();
  for (const from of ["a", "b", "c"]) for (const [k, v] of expected(f, before, after, from, w[from]! - MARGIN)) want.set(k, v);
  expect(want.size).toBeGreaterThan(20);
  expect(sorted(f.target.handed.get("q1"))).toEqual(sorted(want));
  expect(f.fwd.status().takeovers.map((t) => t.fromName).sort()).toEqual(["a", "b", "c"]);

  // From a former forwarder's side: a member joining and turning active takes ranges away from
  // this node, which plans nothing.
  const g = fixture();
  g.run(600, ["a", "b"]);
  const writes = g.target.writes;
  g.run(600, ["a", "b", "d"]);
  await g.settle();
  expect(g.target.writes).toBe(writes);
  expect(g.fwd.status().takeovers).toHaveLength(0);
});

test("samples stored by backfill (hint replays, late samples) are forwarded for the series this node forwards only", async () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"]);
  await f.fwd.forwardBackfilled(f.local.series);
  const handed = f.target.handed.get("q1")!;
  const ring = f.views.readRing();
  const mine = f.local.series.filter((s) => ring.primaryOf(labelsHash32(s.labels)) === "self").map((s) => id(s.labels));
  expect([...handed.keys()].sort()).toEqual(mine.sort());
  for (const ts of handed.values()) expect(ts).toHaveLength(31);
  // Nothing is configured: nothing is collected.
  f.target.active = false;
  const writes = f.target.writes;
  await f.fwd.forwardBackfilled(f.local.series);
  expect(f.target.writes).toBe(writes);
});

test("runsAfter keeps a stale marker's bits and leaves out series without samples after the cut", () => {
  const stale = new Float64Array([1, 0, 3]);
  setStaleAt(stale, 1);
  const runs = runsAfter(
    [
      { labels: labelsFromRecord({ series: "old" }), timestamps: Float64Array.from([1, 2]), values: Float64Array.from([1, 2]) },
      { labels: labelsFromRecord({ series: "new" }), timestamps: Float64Array.from([5, 6, 7]), values: stale },
    ],
    5,
  );
  expect(runs.runs).toBe(1);
  expect(id(runs.labels[0]!)).toBe("new");
  expect([...runs.timestamps.subarray(0, runs.ends[0]!)]).toEqual([6, 7]);
  expect(isStaleAt(runs.values, 0)).toBe(true);
  expect(runs.values[1]).toBe(3);
});

test("the watermarks in heartbeats are read tolerantly: members without them, or with malformed entries, publish none", () => {
  const f = fixture();
  f.hb("a", { remote: { q1: 1234, q2: "soon" as unknown as number, q3: Number.NaN } });
  expect(f.table.get("a")!.remoteDelivered).toEqual({ q1: 1234 });
  f.hb("a", { remote: "garbage" as unknown as Record<string, number> });
  expect(f.table.get("a")!.remoteDelivered).toEqual({});
  f.hb("b");
  expect(f.table.get("b")!.remoteDelivered).toEqual({});
});

test("takenOverRanges names the former primary of each range this node became the primary of", () => {
  const f = fixture();
  f.run(600, ["a", "b", "c"]);
  const prev = f.views.readRing();
  f.run(T.deadTimeoutMs + 4 * TICK, ["a", "c"]);
  const cur = f.views.readRing();
  const got = takenOverRanges(prev, cur, "self");
  expect([...got.keys()]).toEqual(["b"]);
  expect(takenOverRanges(cur, cur, "self").size).toBe(0);
});

test("a replica's late samples are handed on for forwarding once stored; a refusal fails the write", async () => {
  const db = await openTSDB({ dir: tempDir("late-forward"), logger: nopLogger });
  try {
    const handed: SeriesData[][] = [];
    let refuse = false;
    const late = new LateTolerantAppendable(db, async (series) => {
      if (refuse) throw new Error("queue full");
      handed.push(series.map((s) => ({ labels: s.labels, timestamps: s.timestamps.slice(), values: s.values.slice() })));
    });
    const labels = labelsFromRecord({ __name__: "overtaken" });
    let app = late.appender();
    app.append(labels, 5000, 5);
    await app.commit();
    expect(handed).toEqual([]); // in order: the commit tap's business, not this
    app = late.appender();
    app.append(labels, 4000, 4); // overtaken by 5000
    app.append(labels, 6000, 6);
    await app.commit();
    expect(handed).toHaveLength(1);
    expect([...handed[0]![0]!.timestamps]).toEqual([4000]);
    refuse = true;
    app = late.appender();
    app.append(labels, 3000, 3);
    await expect(app.commit()).rejects.toThrow("queue full");
  } finally {
    await db.close();
  }
});
