/** The UI's pure logic: durations and times, URL state, series alignment, the cluster status reader. */
import { describe, expect, test } from "bun:test";
import { readClusterStatus, sharesFromTokens } from "../../web/src/cluster/model.ts";
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
  const status = {
    clusterName: "shoal",
    self: "id-a",
    replicationFactor: 2,
    configuredReplicationFactor: 3,
    writeQuorum: 2,
    replication: { healthy: false, fullyReplicatedFraction: 0.75, underReplicatedFraction: 0.25, unavailableFraction: 0 },
    members: [
      { id: "id-a", name: "a", self: true, state: "active", health: "alive", addresses: ["/ip4/127.0.0.1/tcp/1"], httpAddress: "127.0.0.1:9", lastHeartbeatAgeSeconds: 0, tokens: 128, ringShare: 0.6, replicaShare: 1, hintedHandoff: { pendingBatches: 2, pendingBytes: 100 } },
      { id: "id-b", name: "b", self: false, state: "joining", health: "suspect", addresses: [], httpAddress: "127.0.0.1:10", lastHeartbeatAgeSeconds: 4.5, tokens: 128, ringShare: 0.4, replicaShare: 1, hintedHandoff: { pendingBatches: 0, pendingBytes: 0 } },
    ],
  };
  test("reads members, shares and backlog", () => {
    const v = readClusterStatus(status);
    expect(v.self).toBe("id-a");
    expect(v.replicationFactor).toBe(2);
    expect(v.configuredReplicationFactor).toBe(3);
    expect(v.members.map((m) => [m.name, m.self, m.state, m.health, m.heartbeatAge, m.tokenCount, m.ringShare])).toEqual([
      ["a", true, "active", "alive", 0, 128, 0.6],
      ["b", false, "joining", "suspect", 4.5, 128, 0.4],
    ]);
    expect(v.members[0]!.handoffBacklogBytes).toBe(100);
    expect(v.members[0]!.handoffBacklogBatches).toBe(2);
    expect(v.replication).toEqual({ healthy: false, text: "75.0% of the ring fully replicated · 25.0% under-replicated" });
  });
  test("reads handoff transfers in list or summary form", () => {
    const list = readClusterStatus({
      ...status,
      handoff: { transfers: [{ kind: "join", from: "id-a", to: "id-b", state: "streaming", doneSeries: 25, totalSeries: 100, bytes: 2048 }] },
    });
    expect(list.transfers).toEqual([{ label: "join a → b", state: "streaming", progress: 0.25, detail: "doneSeries 25 · totalSeries 100 · bytes 2,048" }]);
    expect(readClusterStatus({ ...status, handoff: [] }).transfers).toEqual([]);
    expect(readClusterStatus(status).transfers).toEqual([]);
  });

  test("derives shares from token positions", () => {
    const RING = 2 ** 32;
    // Member 0 owns (3/4, 1/4] wrapping = half; member 1 owns (1/4, 3/4] = half.
    expect(sharesFromTokens([[RING / 4], [(3 * RING) / 4]])).toEqual([0.5, 0.5]);
    const shares = sharesFromTokens([[10, 20], [RING - 5]]);
    expect(shares[0]! + shares[1]!).toBeCloseTo(1, 12);
    expect(shares[1]).toBeCloseTo((RING - 5 - 20) / RING, 12);
  });
});
