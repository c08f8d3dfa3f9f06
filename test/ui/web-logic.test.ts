/** The UI's pure logic: durations and times, URL state, series alignment, the cluster status reader. */
import { describe, expect, test } from "bun:test";
import { mergeTransfers, readClusterStatus, readTransfers, type ClusterStatus, type TransferProgress } from "../../web/src/cluster/model.ts";
import { formatAxisValue, formatSeries, parseSampleValue } from "../../web/src/format.ts";
import { alignSeries } from "../../web/src/query/align.ts";
import { defaultPanel, parsePanels, serializePanels } from "../../web/src/query/state.ts";
import { defaultStep, formatDuration, formatUtc, nextRange, parseDuration, parseTime } from "../../web/src/time.ts";

describe("durations and times", () => {
  test("parse and format Prometheus durations", () => {
    expect(parseDuration("1h")).toBe(3600);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172800);
    expect(parseDuration("15")).toBe(15);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("1x")).toBeNull();
    expect(parseDuration("")).toBeNull();
    expect(formatDuration(5400)).toBe("1h30m");
    expect(formatDuration(604800)).toBe("1w");
    expect(formatDuration(90061)).toBe("1d1h1m1s");
  });
  test("range buttons walk Prometheus's steps", () => {
    expect(nextRange(3600, 1)).toBe(7200);
    expect(nextRange(3600, -1)).toBe(1800);
    expect(nextRange(5400, -1)).toBe(3600);
    expect(defaultStep(3600)).toBe(14);
    expect(defaultStep(60)).toBe(1);
  });
  test("UTC times round-trip", () => {
    const t = Date.UTC(2024, 0, 2, 15, 4, 5);
    expect(formatUtc(t)).toBe("2024-01-02 15:04:05");
    expect(parseTime("2024-01-02 15:04:05")).toBe(t);
    expect(parseTime("1704207845")).toBe(t);
    expect(parseTime("nonsense")).toBeNull();
  });
});

describe("URL state", () => {
  test("reads Prometheus 2 links", () => {
    const panels = parsePanels(
      "g0.expr=rate(x%5B5m%5D)&g0.tab=0&g0.stacked=1&g0.range_input=6h&g0.end_input=2024-01-02%2015%3A04%3A05&g0.step_input=30&g1.expr=up&g1.tab=1",
    );
    expect(panels).toHaveLength(2);
    expect(panels[0]).toEqual({
      expr: "rate(x[5m])",
      tab: "graph",
      range: 21600,
      end: Date.UTC(2024, 0, 2, 15, 4, 5),
      moment: null,
      step: 30,
      stacked: true,
    });
    expect(panels[1]!.expr).toBe("up");
    expect(panels[1]!.tab).toBe("table");
  });
  test("writes and reads back its own links", () => {
    const a = { ...defaultPanel(), expr: 'sum by (job) (up{job=~"a|b"})', tab: "graph" as const, range: 900, stacked: true };
    const b = { ...defaultPanel(), expr: "up", moment: Date.UTC(2024, 5, 1, 0, 0, 0) };
    const qs = serializePanels([a, b]);
    expect(qs).toContain("g0.range_input=15m");
    expect(qs).toContain("g0.tab=graph");
    expect(parsePanels(qs)).toEqual([a, b]);
  });
});

describe("series", () => {
  test("formats series like Prometheus", () => {
    expect(formatSeries({ __name__: "up", job: "a", instance: "x:1" })).toBe('up{instance="x:1", job="a"}');
    expect(formatSeries({ job: "a" })).toBe('{job="a"}');
    expect(formatSeries({})).toBe("{}");
    expect(parseSampleValue("+Inf")).toBe(Infinity);
    expect(Number.isNaN(parseSampleValue("NaN"))).toBe(true);
    expect(formatAxisValue(1500)).toBe("1.5k");
    expect(formatAxisValue(0.002)).toBe("2m");
  });
  test("aligns a matrix on the query's steps, with gaps as nulls", () => {
    const data = alignSeries({
      start: 100,
      end: 160,
      step: 20,
      stacked: false,
      series: [
        { metric: { a: "1" }, values: [[100, "1"], [120, "2"], [160, "4"]] },
        { metric: { a: "2" }, values: [[140, "+Inf"], [160, "5"]] },
      ],
    });
    expect(Array.from(data.xs)).toEqual([100, 120, 140, 160]);
    expect(data.columns).toEqual([
      [1, 2, null, 4],
      [null, null, null, 5],
    ]);
  });
});

describe("cluster status reader", () => {
  const member = { addresses: [], load: {}, catchingUp: false, hintedHandoff: { pendingBatches: 0, pendingBytes: 0 } };
  const status: ClusterStatus = {
    clusterName: "shoal",
    clusterId: "0123456789abcdef0123456789abcdef",
    clusterIdSettled: true,
    warnings: [],
    refusedPeers: [],
    self: "id-a",
    replicationFactor: 2,
    configuredReplicationFactor: 3,
    writeQuorum: 2,
    mdns: false,
    privateNetwork: false,
    replication: { healthy: false, targetReplicas: 3, standalone: false, minLiveReplicas: 1, underReplicatedRanges: 64, fullyReplicatedFraction: 0.75, underReplicatedFraction: 0.25, unavailableFraction: 0 },
    members: [
      { ...member, id: "id-a", name: "a", self: true, state: "active", health: "alive", addresses: ["/ip4/127.0.0.1/tcp/1"], httpAddress: "127.0.0.1:9", lastHeartbeatAgeSeconds: 0, tokens: 128, ringShare: 0.6, replicaShare: 1, hintedHandoff: { pendingBatches: 2, pendingBytes: 100 } },
      { ...member, id: "id-b", name: "b", self: false, state: "joining", health: "suspect", httpAddress: "127.0.0.1:10", lastHeartbeatAgeSeconds: 4.5, tokens: 128, ringShare: 0.4, replicaShare: 1 },
    ],
    handoff: {
      state: "idle",
      transfers: [],
      recent: [],
      underReplicatedRanges: 64,
      reReplicatingRanges: 0,
      totals: { bytes: { in: 0, out: 2048 }, series: { in: 0, out: 25 }, samples: { in: 0, out: 500 }, failedTransfers: 0 },
      drop: { graceSeconds: 300, droppedSeries: 0, lastDropAt: null, settledForSeconds: 10, holdsForeignSeries: false },
      leave: { requested: false, startedAt: null, finishedAt: null, error: null },
      antiEntropy: { runs: 3, lastRunAt: null, lastDurationSeconds: 0.1, lastComparedCells: 40, lastDifferingCells: 1, repairs: 7, lastError: null },
    },
    remoteWrite: { ringShare: 0.6, takeovers: [], takeoverSamples: 0 },
  };
  const transfer = (o: Partial<TransferProgress>): TransferProgress => ({
    id: "t1",
    peer: "id-b",
    peerName: "b",
    direction: "out",
    reason: "join",
    state: "running",
    ringFraction: 0.2,
    done: { series: 25, samples: 500, bytes: 2048 },
    total: { series: 100, samples: 2000, bytes: 8192 },
    startedAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:01Z",
    ...o,
  });

  test("replication is shown against the configured factor: a member short is under-replicated, a standalone node is fine", () => {
    const short = readClusterStatus({
      ...status,
      replication: { healthy: false, targetReplicas: 3, standalone: false, minLiveReplicas: 2, underReplicatedRanges: 256, fullyReplicatedFraction: 0, underReplicatedFraction: 1, unavailableFraction: 0 },
    });
    expect(short.replication).toEqual({ healthy: false, text: "0.0% of the ring fully replicated · 100.0% under-replicated (256 ranges with fewer than 3 live copies, fewest 2)" });
    const alone = readClusterStatus({
      ...status,
      replication: { healthy: true, targetReplicas: 1, standalone: true, minLiveReplicas: 1, underReplicatedRanges: 0, fullyReplicatedFraction: 1, underReplicatedFraction: 0, unavailableFraction: 0 },
    });
    expect(alone.replication).toEqual({ healthy: true, text: "standalone node: one copy (the replication factor applies once members join)" });
  });

  test("reads members, shares, backlog and replication", () => {
    const v = readClusterStatus(status);
    expect(v.self).toBe("id-a");
    expect([v.replicationFactor, v.configuredReplicationFactor, v.writeQuorum]).toEqual([2, 3, 2]);
    expect(v.members.map((m) => [m.name, m.self, m.state, m.health, m.heartbeatAge, m.tokenCount, m.ringShare])).toEqual([
      ["a", true, "active", "alive", 0, 128, 0.6],
      ["b", false, "joining", "suspect", 4.5, 128, 0.4],
    ]);
    expect([v.members[0]!.hintBytes, v.members[0]!.hintBatches]).toEqual([100, 2]);
    expect(v.replication).toEqual({ healthy: false, text: "75.0% of the ring fully replicated · 25.0% under-replicated (64 ranges with fewer than 3 live copies, fewest 1)" });
    expect(v.handoff.moved.samplesOut).toBe(500);
    expect(v.handoff.antiEntropy.repairs).toBe(7);
    expect(v.transfers).toEqual([]);
  });

  test("transfers: sender first, progress from samples, running and recent ones", () => {
    const v = readClusterStatus({ ...status, handoff: { ...status.handoff, transfers: [transfer({})], recent: [transfer({ id: "t0", state: "done", done: { series: 4, samples: 9, bytes: 10 }, total: { series: 4, samples: 9, bytes: 10 } })] } });
    expect(v.transfers.map((t) => [t.id, t.route, t.reason, t.state, t.progress])).toEqual([
      ["t1", "a → b", "join", "running", 0.25],
      ["t0", "a → b", "join", "done", 1],
    ]);
  });

  test("a transfer reported by both ends is shown once, as the receiver sees it", () => {
    const sent = readTransfers("a", [transfer({})]);
    const received = readTransfers("b", [transfer({ peer: "id-a", peerName: "a", direction: "in", done: { series: 30, samples: 600, bytes: 2500 } })]);
    expect(received[0]!.route).toBe("a → b");
    const merged = mergeTransfers([sent, received]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.node).toBe("b");
    expect(merged[0]!.samples.done).toBe(600);
    expect(mergeTransfers([received, sent])[0]!.node).toBe("b");
    const other = readTransfers("c", [transfer({ id: "t9", state: "done" })]);
    expect(mergeTransfers([sent, other]).map((t) => t.id)).toEqual(["t1", "t9"]);
  });
});
