import { describe, expect, test } from "bun:test";
import { goTime } from "../../src/rules/index.ts";
import { advance, firstSlot, newManager, rigForEachTest, samplesOf, T0, writeRuleFile, writeSeries, type Rig } from "./rig.ts";

let rig: Rig;
rigForEachTest(async (r) => {
  rig = r;
  await writeSeries(rig.db, { __name__: "http_requests_total", job: "api", instance: "a" }, T0 - 600_000, T0 + 600_000, 5000, () => 10);
  await writeSeries(rig.db, { __name__: "http_requests_total", job: "api", instance: "b" }, T0 - 600_000, T0 + 600_000, 5000, () => 32);
});

describe("recording rules", () => {
  test("write their result under the rule's name with group and rule labels, at the group's slots; later rules see earlier output", async () => {
    const file = writeRuleFile(
      rig.dir,
      "rec.yml",
      `groups:
- name: rec
  interval: 10s
  labels: {team: infra, source: group}
  rules:
  - record: job:http_requests:sum
    expr: sum by (job) (http_requests_total)
    labels: {source: rule}
  - record: job:http_requests:double
    expr: job:http_requests:sum * 2
  - record: answer
    expr: "42"
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    const s1 = firstSlot(file, "rec", 10_000);
    await advance(rig, [manager], s1 - T0 + 10_000);

    const sum = await samplesOf(rig, "job:http_requests:sum", T0, T0 + 60_000);
    expect(sum).toEqual([{ labels: { __name__: "job:http_requests:sum", job: "api", source: "rule", team: "infra" }, points: [[s1, 42], [s1 + 10_000, 42]] }]);
    const double = await samplesOf(rig, "job:http_requests:double", T0, T0 + 60_000);
    // Group labels are every rule's labels: they override what the input series carried.
    expect(double).toEqual([{ labels: { __name__: "job:http_requests:double", job: "api", source: "group", team: "infra" }, points: [[s1, 84], [s1 + 10_000, 84]] }]);
    const answer = await samplesOf(rig, "answer", T0, T0 + 60_000);
    expect(answer).toEqual([{ labels: { __name__: "answer", source: "group", team: "infra" }, points: [[s1, 42], [s1 + 10_000, 42]] }]);

    const [g] = manager.ruleGroups();
    expect(g!.file).toBe(file);
    expect(g!.interval).toBe(10);
    expect(g!.evaluatedBy).toBe("node-a");
    expect(g!.rules.map((r) => [r.name, r.health, r.query])).toEqual([
      ["job:http_requests:sum", "ok", "sum by (job) (http_requests_total)"],
      ["job:http_requests:double", "ok", "job:http_requests:sum * 2"],
      ["answer", "ok", "42"],
    ]);
    expect(g!.lastEvaluation).toBe(goTime(s1 + 10_000));
    await manager.stop();
  });

  test("a result with the same label set twice fails the rule and writes nothing", async () => {
    const file = writeRuleFile(
      rig.dir,
      "dup.yml",
      `groups:
- name: dup
  interval: 10s
  rules:
  - record: per_instance
    expr: http_requests_total
    labels: {instance: merged}
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 20_000);
    const rule = manager.ruleGroups()[0]!.rules[0]!;
    expect(rule.health).toBe("err");
    expect(rule.lastError).toBe("vector contains metrics with the same labelset after applying rule labels");
    expect(await samplesOf(rig, "per_instance", T0, T0 + 60_000)).toEqual([]);
    expect(manager.stats()[0]!.evaluationFailuresTotal).toBeGreaterThan(0);
    await manager.stop();
  });

  test("a group limit fails a rule that returns more series, with Prometheus's message, and writes nothing", async () => {
    const file = writeRuleFile(
      rig.dir,
      "limit.yml",
      `groups:
- name: limited
  interval: 10s
  limit: 1
  rules:
  - record: per_instance
    expr: http_requests_total
  - record: one
    expr: sum(http_requests_total)
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 20_000);
    const [many, one] = manager.ruleGroups()[0]!.rules;
    expect(many!.health).toBe("err");
    expect(many!.lastError).toBe("exceeded limit of 1 with 2 series");
    expect(one!.health).toBe("ok");
    expect(await samplesOf(rig, "per_instance", T0, T0 + 60_000)).toEqual([]);
    expect((await samplesOf(rig, "one", T0, T0 + 60_000)).length).toBe(1);
    await manager.stop();
  });

  test("query_offset evaluates and writes at the slot minus the offset; the global rule_query_offset applies to groups without one", async () => {
    await writeSeries(rig.db, { __name__: "ramp" }, T0 - 600_000, T0 + 600_000, 1000, (t) => (t - T0) / 1000);
    const file = writeRuleFile(
      rig.dir,
      "offset.yml",
      `groups:
- name: own
  interval: 10s
  query_offset: 1m
  rules:
  - record: ramp:own
    expr: ramp
- name: global
  interval: 10s
  rules:
  - record: ramp:global
    expr: ramp
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000, [], 30_000);
    await advance(rig, [manager], 20_000);
    const own = firstSlot(file, "own", 10_000);
    const global = firstSlot(file, "global", 10_000);
    const ownPoints = (await samplesOf(rig, "ramp:own", T0 - 120_000, T0 + 60_000))[0]!.points;
    expect(ownPoints[0]).toEqual([own - 60_000, Math.floor((own - 60_000 - T0) / 1000)]);
    const globalPoints = (await samplesOf(rig, "ramp:global", T0 - 120_000, T0 + 60_000))[0]!.points;
    expect(globalPoints[0]).toEqual([global - 30_000, Math.floor((global - 30_000 - T0) / 1000)]);
    await manager.stop();
  });

  test("a series the rule stops returning gets a staleness marker at the next evaluation", async () => {
    await writeSeries(rig.db, { __name__: "temperature", room: "a" }, T0 - 600_000, T0 + 600_000, 1000, () => 30);
    await writeSeries(rig.db, { __name__: "temperature", room: "b" }, T0 - 600_000, T0 + 600_000, 1000, (t) => (t < T0 + 25_000 ? 30 : 10));
    const file = writeRuleFile(
      rig.dir,
      "stale.yml",
      `groups:
- name: hot
  interval: 10s
  rules:
  - record: hot_rooms
    expr: temperature > 20
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 60_000);
    const s1 = firstSlot(file, "hot", 10_000);
    const series = await samplesOf(rig, "hot_rooms", T0, T0 + 120_000);
    const b = series.find((s) => s.labels.room === "b")!;
    const firstWithout = s1 + Math.ceil((T0 + 25_000 - s1) / 10_000) * 10_000;
    expect(b.points.at(-1)).toEqual([firstWithout, "stale"]);
    expect(b.points.slice(0, -1).every(([, v]) => v === 30)).toBe(true);
    const a = series.find((s) => s.labels.room === "a")!;
    expect(a.points.every(([, v]) => v === 30)).toBe(true);
    await manager.stop();
  });
});
