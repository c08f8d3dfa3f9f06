/**
 * Replication health against the CONFIGURED factor, driven by a manual clock through the member
 * table's real health state machine and ring views: a dead member of three at R=3 leaves every
 * range with two live copies, which is under-replicated although the ring (capped by its member
 * count) places only two; too few members for the factor is under-replication too; a standalone
 * node holds its one copy by design.
 */
import { expect, test } from "bun:test";
import { assessReplication, type ReplicationHealth } from "../../src/cluster/replication_health.ts";
import type { RingViews } from "../../src/cluster/ring_views.ts";
import { clusterFamilies } from "../../src/telemetry/cluster_metrics.ts";
import type { ClusterFigures } from "../../src/model/index.ts";
import { heartbeats, memberTable, TIMEOUTS as T } from "./member_table_fixture.ts";

const TICK = 50;

function fixture(opts: { R: number; expectsOthers?: boolean }) {
  const { clock, table, views } = memberTable(opts);
  table.setState("active");
  const next = heartbeats(clock);
  const hb = (id: string) => table.heartbeat(next(id));
  /** Heartbeats from `ids` every heartbeat interval, health ticks every TICK, for `ms`. */
  const run = (ms: number, ids: readonly string[]) => {
    for (let t = 0; t < ms; t += TICK) {
      if (t % T.heartbeatIntervalMs === 0) for (const id of ids) hb(id);
      clock.advance(TICK);
      table.tick();
    }
  };
  /** What Cluster.replicationHealth() computes, with `reReplicating` as the members' heartbeats would report it. */
  const health = (reReplicating = { fraction: 0, ranges: 0 }): ReplicationHealth =>
    assessReplication({
      readRing: views.readRing(),
      coverageRing: views.coverageRing(),
      answering: (id) => table.isLive(id) && table.get(id)?.health === "alive",
      configuredFactor: opts.R,
      standalone: !table.expectsPeers(),
      reReplicating,
    });
  return { clock, table, views, run, health };
}

/** Token ranges of the read ring (each counted once). */
function rangeCount(views: RingViews): number {
  let n = 0;
  views.readRing().forEachRange(() => n++);
  return n;
}

test("three members at R=3: all copies live is healthy; one dead leaves every range under-replicated until it is back", () => {
  const f = fixture({ R: 3 });
  f.run(1000, ["a", "b"]);
  let h = f.health();
  expect(h).toMatchObject({ healthy: true, targetReplicas: 3, minLiveReplicas: 3, underReplicatedRanges: 0, underReplicatedFraction: 0, unavailableFraction: 0 });

  f.run(T.deadTimeoutMs + 4 * TICK, ["a"]);
  expect(f.table.condition("b")).toBe("dead");
  // The ring now places two copies (capped by its two members) — that is not the factor.
  expect(f.views.readRing().replicationFactor).toBe(2);
  h = f.health();
  expect(h.healthy).toBe(false);
  expect(h.minLiveReplicas).toBe(2);
  expect(h.underReplicatedFraction).toBeCloseTo(1, 9);
  expect(h.underReplicatedRanges).toBe(rangeCount(f.views));
  expect(h.unavailableFraction).toBe(0); // two copies live: nothing is unreadable
  expect(h.fullyReplicatedFraction).toBeCloseTo(0, 9);

  // Still so once its ranges count as re-replicated onto the two survivors (b replaced).
  f.run(3 * T.deadTimeoutMs, ["a"]);
  expect(f.table.condition("b")).toBe("replaced");
  expect(f.health()).toMatchObject({ healthy: false, minLiveReplicas: 2 });

  f.run(1000, ["a", "b"]);
  expect(f.table.condition("b")).toBe("active");
  expect(f.health()).toMatchObject({ healthy: true, minLiveReplicas: 3, underReplicatedRanges: 0, underReplicatedFraction: 0 });
});

test("a suspect owner counts as a missing copy", () => {
  const f = fixture({ R: 3 });
  f.run(1000, ["a", "b"]);
  f.run(T.suspectTimeoutMs + 2 * TICK, ["a"]);
  expect(f.table.condition("b")).toBe("suspect");
  expect(f.health()).toMatchObject({ healthy: false, minLiveReplicas: 2, underReplicatedRanges: rangeCount(f.views) });
});

test("two members at R=3 can never hold three copies: under-replicated, and says so", () => {
  const f = fixture({ R: 3 });
  f.run(1000, ["a"]);
  const h = f.health();
  expect(h).toMatchObject({ healthy: false, targetReplicas: 3, standalone: false, minLiveReplicas: 2, underReplicatedRanges: rangeCount(f.views), unavailableFraction: 0 });
  expect(h.underReplicatedFraction).toBeCloseTo(1, 9);
});

test("five members at R=3: a death is under-replicated while its ranges are re-replicated, healthy once they are", () => {
  const f = fixture({ R: 3 });
  const others = ["a", "b", "c", "d"];
  f.run(1000, others);
  expect(f.health().healthy).toBe(true);
  f.run(T.deadTimeoutMs + 4 * TICK, ["a", "b", "c"]);
  expect(f.table.condition("d")).toBe("dead");
  // The four left still place three copies everywhere; the new owners are copying d's ranges.
  expect(f.health({ fraction: 0.4, ranges: 50 })).toMatchObject({ healthy: false, underReplicatedRanges: 50, minLiveReplicas: 3 });
  expect(f.health({ fraction: 0.4, ranges: 50 }).underReplicatedFraction).toBeCloseTo(0.4, 9);
  expect(f.health()).toMatchObject({ healthy: true, underReplicatedRanges: 0 });
});

test("a standalone node holds its one copy by design; a node that expects members is judged by the factor", () => {
  const alone = fixture({ R: 3 });
  expect(alone.health()).toMatchObject({ healthy: true, standalone: true, targetReplicas: 1, minLiveReplicas: 1, underReplicatedRanges: 0 });
  // Started with --cluster.join (or peers remembered on disk) and none heard yet: one copy is not enough.
  const expecting = fixture({ R: 3, expectsOthers: true });
  expect(expecting.health()).toMatchObject({ healthy: false, standalone: false, targetReplicas: 3, minLiveReplicas: 1 });
  // A member was met and died: no longer standalone, whatever happens next.
  const left = fixture({ R: 2 });
  left.run(1000, ["a"]);
  left.run(T.deadTimeoutMs + 4 * TICK, []);
  expect(left.health()).toMatchObject({ healthy: false, standalone: false, targetReplicas: 2, minLiveReplicas: 1 });
});

test("the metrics: the configured factor as shoal_cluster_replication_factor, the ring's cap under its own name, every dead member as down", () => {
  const figures: ClusterFigures = {
    members: [
      { id: "self", name: "self", self: true, state: "active", health: "alive", heartbeatAgeSeconds: 0 },
      { id: "a", name: "a", self: false, state: "active", health: "alive", heartbeatAgeSeconds: 0.1 },
      { id: "b", name: "b", self: false, state: "active", health: "dead", heartbeatAgeSeconds: 9 },
    ],
    replicationFactor: 3,
    effectiveReplicationFactor: 2,
    replication: { underReplicatedRanges: 64, underReplicatedFraction: 1, unavailableFraction: 0, minLiveReplicas: 2 },
    forwardedSamples: [],
    forwardedBatches: [],
    writeQuorumFailures: 0,
    hintQueues: [],
    hints: { queuedBatches: 0, replayedBatches: 0, replayedBytes: 0, droppedBatches: 0 },
    handoff: { bytes: [], series: [], samples: [], failedTransfers: [], activeTransfers: 0, droppedSeries: 0, reReplicatingRanges: 0 },
    antiEntropy: { repairs: 0, runs: 0 },
    lateSamplesBackfilled: 0,
    fanout: { latency: [], partialResults: 0, memberErrors: [] },
    rpcRequests: [],
  };
  const fams = new Map(clusterFamilies(figures).map((f) => [f.name, f.samples]));
  const value = (name: string) => fams.get(name)?.[0]?.value;
  expect(value("shoal_cluster_replication_factor")).toBe(3);
  expect(value("shoal_cluster_effective_replication_factor")).toBe(2);
  expect(value("shoal_cluster_ranges_under_replicated")).toBe(64);
  expect(value("shoal_cluster_ring_under_replicated_ratio")).toBe(1);
  expect(value("shoal_cluster_ranges_min_live_replicas")).toBe(2);
  // This node's own line is left out: a dead node's last scrape must not speak for it.
  expect(fams.get("shoal_cluster_member_up")!.map((s) => [s.labels?.member, s.value])).toEqual([
    ["a", 1],
    ["b", 0],
  ]);
});
