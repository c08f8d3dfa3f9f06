/**
 * The HA-pair election on a manual clock: Mimir's rules on the deciding member, and the same
 * decisions on every member when requests of the two replicas arrive through different members,
 * the owner changes, or cannot be reached.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { clusterConfigFromFlagValues } from "../../src/cluster/index.ts";
import { HaElection, type HaAsk } from "../../src/cluster/ha_election.ts";
import { HaTracker, type HaAnswer } from "../../src/cluster/ha_tracker.ts";
import { WriteUnavailableError } from "../../src/model/index.ts";
import { ManualClock } from "../support/clock.ts";
import { runCli } from "./harness.ts";

const UPDATE = 2_000;
const FAILOVER = 6_000;

/** Members a, b, c with one clock; `owner` decides every HA cluster; asks are counted. */
function members(clock: ManualClock, owner: { id: string }, down = new Set<string>()) {
  const byId = new Map<string, HaElection>();
  const asks: string[] = [];
  for (const id of ["a", "b", "c"]) {
    byId.set(
      id,
      new HaElection({
        tracker: new HaTracker({ updateTimeoutMs: UPDATE, failoverTimeoutMs: FAILOVER }, clock),
        clusterLabel: "cluster",
        replicaLabel: "__replica__",
        ownerOf: () => (owner.id === id ? null : owner.id),
        ask: async (to: string, req: HaAsk): Promise<HaAnswer> => {
          asks.push(`${id}->${to}`);
          if (down.has(to)) throw new Error(`dial ${to}: connection refused`);
          return byId.get(to)!.answer(req);
        },
      }),
    );
  }
  return { m: (id: string) => byId.get(id)!, asks };
}

const accepted = async (e: HaElection, replica: string) => (await e.check("c1", replica)).accept;

describe("HA tracker on the deciding member", () => {
  test("the first replica heard from is elected; the other is dropped until the elected one is silent for the failover timeout", () => {
    const clock = new ManualClock();
    const t = new HaTracker({ updateTimeoutMs: UPDATE, failoverTimeoutMs: FAILOVER }, clock);
    expect(t.decide("c1", "r1").elected).toBe("r1");
    expect(t.decide("c1", "r2")).toEqual({ elected: "r1", ageMs: 0 });
    clock.advance(5_000);
    expect(t.decide("c1", "r1").elected).toBe("r1"); // refreshes
    clock.advance(FAILOVER - 1);
    expect(t.decide("c1", "r2").elected).toBe("r1"); // one millisecond short
    clock.advance(1);
    expect(t.decide("c1", "r2").elected).toBe("r2"); // failover
    expect(t.electedChanges.get("c1")).toBe(1);
    expect(t.decide("c1", "r1").elected).toBe("r2"); // the old one is now the one dropped
    // Clusters are independent.
    expect(t.decide("c2", "r1").elected).toBe("r1");
  });

  test("an asking member's copy is kept only when it heard of the elected replica last", () => {
    const clock = new ManualClock();
    const t = new HaTracker({ updateTimeoutMs: UPDATE, failoverTimeoutMs: FAILOVER }, clock);
    // A new owner without an entry adopts the hint instead of electing the asker.
    expect(t.decide("c1", "r2", { replica: "r1", ageMs: 1_000 }).elected).toBe("r1");
    // An older copy does not override what the owner knows.
    clock.advance(FAILOVER + 1);
    expect(t.decide("c1", "r2", { replica: "r1", ageMs: FAILOVER + 100 }).elected).toBe("r2");
    // A member taking over from a hint waits one update timeout before failing over (the others
    // following the previous owner ask it meanwhile), even when the hint looks silent; then it does.
    const u = new HaTracker({ updateTimeoutMs: UPDATE, failoverTimeoutMs: FAILOVER }, clock);
    expect(u.decide("c1", "r2", { replica: "r1", ageMs: FAILOVER }).elected).toBe("r1");
    clock.advance(UPDATE - 1);
    expect(u.decide("c1", "r2").elected).toBe("r1");
    clock.advance(1);
    expect(u.decide("c1", "r2").elected).toBe("r2");
  });

  test("entries not heard of for 30 minutes are forgotten", () => {
    const clock = new ManualClock();
    const t = new HaTracker({ updateTimeoutMs: UPDATE, failoverTimeoutMs: FAILOVER }, clock);
    t.decide("c1", "r1");
    clock.advance(30 * 60_000 + 1);
    t.sweep();
    expect(t.snapshot()).toEqual([]);
    expect(t.decide("c1", "r2").elected).toBe("r2");
  });
});

describe("HA election across members", () => {
  test("replicas arriving through different members: one is stored everywhere; the others ask the owner once per update timeout", async () => {
    const clock = new ManualClock();
    const { m, asks } = members(clock, { id: "a" });
    expect(await accepted(m("b"), "r1")).toBe(true);
    expect(await accepted(m("c"), "r2")).toBe(false);
    expect(await accepted(m("a"), "r2")).toBe(false);
    asks.length = 0;
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      expect(await accepted(m("b"), "r1")).toBe(true);
      expect(await accepted(m("c"), "r2")).toBe(false);
    }
    // 5 s of requests every 500 ms: b re-confirms with the owner every 2 s; c rejects from what it knows.
    expect(asks.filter((a) => a === "b->a").length).toBeLessThanOrEqual(3);
    expect(asks.filter((a) => a === "c->a").length).toBeLessThanOrEqual(2);
  });

  test("the elected replica stops: the other is stored after the failover timeout, not before", async () => {
    const clock = new ManualClock();
    const { m } = members(clock, { id: "a" });
    expect(await accepted(m("b"), "r1")).toBe(true);
    let lastR1 = clock.now();
    // r1 keeps sending through b for a while; its last request at lastR1.
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      expect(await accepted(m("b"), "r1")).toBe(true);
      expect(await accepted(m("c"), "r2")).toBe(false);
      lastR1 = clock.now();
    }
    let firstR2 = -1;
    for (let i = 0; i < 20 && firstR2 < 0; i++) {
      clock.advance(500);
      if (await accepted(m("c"), "r2")) firstR2 = clock.now();
    }
    // b's last confirmation may be up to an update timeout older than r1's last request.
    expect(firstR2 - lastR1).toBeGreaterThanOrEqual(FAILOVER - UPDATE);
    expect(firstR2 - lastR1).toBeLessThanOrEqual(FAILOVER + 500);
    // r1 comes back: dropped now, through any member, including b which had elected it.
    expect(await accepted(m("b"), "r1")).toBe(false);
    expect(await accepted(m("a"), "r1")).toBe(false);
    expect(await accepted(m("c"), "r2")).toBe(true);
  });

  test("the owner changes: the new one continues the election from the askers' copies instead of flipping", async () => {
    const clock = new ManualClock();
    const owner = { id: "a" };
    const down = new Set<string>();
    const { m } = members(clock, owner, down);
    expect(await accepted(m("b"), "r1")).toBe(true);
    clock.advance(1_000);
    expect(await accepted(m("c"), "r2")).toBe(false); // c's copy: r1, heard of at 0
    // r1 keeps sending through b (which re-confirms with a); r2 pauses.
    for (let i = 0; i < 12; i++) {
      clock.advance(500);
      expect(await accepted(m("b"), "r1")).toBe(true);
    }
    // a dies; c decides now. Its own copy of r1 is older than the failover timeout, but r1 is
    // alive: c must not elect r2 before b (still sending r1) had the chance to tell it.
    down.add("a");
    owner.id = "c";
    expect(await accepted(m("c"), "r2")).toBe(false);
    for (let i = 0; i < 20; i++) {
      clock.advance(500);
      expect(await accepted(m("b"), "r1")).toBe(true);
      expect(await accepted(m("c"), "r2")).toBe(false);
      expect(await accepted(m("a"), "r2")).toBe(false);
    }
  });

  test("an owner that cannot be asked makes the write unavailable (503, retried), never a local guess", async () => {
    const clock = new ManualClock();
    const down = new Set(["a"]);
    const { m } = members(clock, { id: "a" }, down);
    expect(m("b").check("c1", "r1")).rejects.toBeInstanceOf(WriteUnavailableError);
    expect(m("b").check("c1", "r1")).rejects.toThrow(/HA election of cluster "c1" did not answer: dial a/);
  });

  test("malformed asks are refused by the owner", () => {
    const clock = new ManualClock();
    const { m } = members(clock, { id: "a" });
    expect(() => m("a").answer({ cluster: 1 })).toThrow(/malformed HA election request/);
    expect(() => m("a").answer(null)).toThrow(/malformed/);
  });

  // After the deciding member changes, the members following the previous one's word may go on
  // for an update timeout; from then on one replica is stored, as within one owner's term.
  test("property: under any interleaving, once an owner's term is an update timeout old, the stored replica changes only after the previous one was silent for failover − update", async () => {
    // A schedule: steps of 100..1500 ms; at each, r1 and/or r2 send through a random member;
    // r1 may stop for a while and resume; the owner may move to another member.
    const step = fc.record({
      dt: fc.integer({ min: 100, max: 1500 }),
      r1: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
      r2: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
      moveOwner: fc.option(fc.constantFrom("a", "b", "c"), { freq: 10, nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 80 }), async (steps) => {
        const clock = new ManualClock();
        const owner = { id: "a" };
        const { m } = members(clock, owner);
        const lastSent = new Map<string, number>();
        let stored: string | null = null;
        let movedAt = -Infinity;
        for (const s of steps) {
          clock.advance(s.dt);
          if (s.moveOwner && s.moveOwner !== owner.id) {
            owner.id = s.moveOwner;
            movedAt = clock.now();
            stored = null;
          }
          for (const [replica, via] of [
            ["r1", s.r1],
            ["r2", s.r2],
          ] as const) {
            if (!via) continue;
            const ok = await accepted(m(via), replica);
            if (ok && stored !== replica && clock.now() - movedAt > UPDATE) {
              if (stored !== null) {
                // The replica stored so far sent nothing for at least failover − update.
                const quiet = clock.now() - (lastSent.get(stored) ?? -Infinity);
                if (quiet < FAILOVER - UPDATE) throw new Error(`switched from ${stored} to ${replica} after ${stored} was quiet for only ${quiet} ms`);
              }
              stored = replica;
            }
            lastSent.set(replica, clock.now());
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("HA tracker flags", () => {
  const cfg = (pairs: Record<string, string>) => clusterConfigFromFlagValues(new Map(Object.entries(pairs)));

  test("off by default with Mimir's defaults; each flag is read", () => {
    const d = cfg({});
    expect([d.haTrackerEnabled, d.haClusterLabel, d.haReplicaLabel, d.haUpdateTimeoutMs, d.haFailoverTimeoutMs]).toEqual([false, "cluster", "__replica__", 15_000, 30_000]);
    const c = cfg({
      "distributor.ha-tracker.enable": "true",
      "distributor.ha-tracker.cluster": "ha_cluster",
      "distributor.ha-tracker.replica": "prometheus_replica",
      "distributor.ha-tracker.update-timeout": "5s",
      "distributor.ha-tracker.failover-timeout": "10s",
    });
    expect([c.haTrackerEnabled, c.haClusterLabel, c.haReplicaLabel, c.haUpdateTimeoutMs, c.haFailoverTimeoutMs]).toEqual([true, "ha_cluster", "prometheus_replica", 5_000, 10_000]);
  });

  test("a failover timeout not 1s above the update timeout, or bad label names, are refused", () => {
    expect(() => cfg({ "distributor.ha-tracker.failover-timeout": "15500ms" })).toThrow("--distributor.ha-tracker.failover-timeout must be at least 1s longer than --distributor.ha-tracker.update-timeout");
    expect(() => cfg({ "distributor.ha-tracker.replica": "a-b" })).toThrow('--distributor.ha-tracker.replica: expected a label name, got "a-b"');
    expect(() => cfg({ "distributor.ha-tracker.replica": "cluster" })).toThrow("must name different labels");
  });

  test("the node refuses to start with a bad HA flag, naming it", async () => {
    const r = await runCli(["--distributor.ha-tracker.enable", "--distributor.ha-tracker.failover-timeout=2s", "--distributor.ha-tracker.update-timeout=2s"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--distributor.ha-tracker.failover-timeout must be at least 1s longer");
  });
});
