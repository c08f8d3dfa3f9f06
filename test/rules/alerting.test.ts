import { describe, expect, test } from "bun:test";
import { goTime } from "../../src/rules/index.ts";
import { advance, firstSlot, newManager, rigForEachTest, samplesOf, T0, writeRuleFile, writeSeries, type Rig } from "./rig.ts";

let rig: Rig;
rigForEachTest((r) => (rig = r));

/** errors{instance="a"} is 3 from T0-10m until `until`, then 0. */
async function errorsUntil(until: number): Promise<void> {
  await writeSeries(rig.db, { __name__: "errors", instance: "a" }, T0 - 600_000, T0 + 3_600_000, 1000, (t) => (t < until ? 3 : 0));
}

describe("alerting rules", () => {
  test("go pending, then firing after `for`, then resolved, with Prometheus's notifications, ALERTS and ALERTS_FOR_STATE", async () => {
    const file = writeRuleFile(
      rig.dir,
      "alerts.yml",
      `groups:
- name: alerts
  interval: 10s
  rules:
  - alert: HighErrors
    expr: errors > 0
    for: 30s
    labels: {severity: page}
    annotations: {summary: "errors are high"}
`,
    );
    const s1 = firstSlot(file, "alerts", 10_000);
    const resolveAt = s1 + 150_000;
    await errorsUntil(resolveAt - 5000);
    const { manager, notified } = newManager(rig);
    await manager.update([file], 15_000);

    await advance(rig, [manager], s1 - T0);
    let rule = manager.ruleGroups()[0]!.rules[0]!;
    expect(rule.type === "alerting" && rule.state).toBe("pending");
    expect(notified).toEqual([]);

    // Firing once active for 30s: sent with startsAt = the evaluation that fired it and
    // endsAt = 4 × max(interval, resend delay) later.
    await advance(rig, [manager], 30_000);
    rule = manager.ruleGroups()[0]!.rules[0]!;
    expect(rule.type === "alerting" && rule.state).toBe("firing");
    const fired = s1 + 30_000;
    const labels = { alertname: "HighErrors", instance: "a", severity: "page" };
    const generatorURL = "http://shoal.example:9090/graph?g0.expr=errors+%3E+0&g0.tab=1";
    expect(notified).toEqual([[{ labels, annotations: { summary: "errors are high" }, startsAtMs: fired, endsAtMs: fired + 240_000, generatorURL }]]);
    if (rule.type === "alerting") {
      expect(rule.alerts).toEqual([{ labels, annotations: { summary: "errors are high" }, state: "firing", activeAt: goTime(s1), value: "3e+00" }]);
    }

    // Not again until the resend delay (1m) has passed: Prometheus resends when lastSent + delay < now.
    await advance(rig, [manager], 60_000);
    expect(notified.length).toBe(1);
    await advance(rig, [manager], 10_000);
    expect(notified.length).toBe(2);
    expect(notified[1]![0]!.endsAtMs).toBe(fired + 70_000 + 240_000);
    expect(notified[1]![0]!.startsAtMs).toBe(fired);

    // Resolved: sent at once with endsAt = the resolving evaluation.
    await advance(rig, [manager], resolveAt - (fired + 70_000));
    expect(notified.length).toBe(3);
    expect(notified[2]![0]!.endsAtMs).toBe(resolveAt);
    expect(manager.ruleGroups()[0]!.rules[0]!.type === "alerting" && (manager.ruleGroups()[0]!.rules[0] as { state: string }).state).toBe("inactive");

    const alerts = await samplesOf(rig, "ALERTS", T0, T0 + 3_600_000);
    const pending = alerts.find((s) => s.labels.alertstate === "pending")!;
    const firing = alerts.find((s) => s.labels.alertstate === "firing")!;
    expect(pending.labels).toEqual({ __name__: "ALERTS", alertstate: "pending", ...labels });
    expect(pending.points).toEqual([[s1, 1], [s1 + 10_000, 1], [s1 + 20_000, 1], [fired, "stale"]]);
    expect(firing.points[0]).toEqual([fired, 1]);
    expect(firing.points.at(-1)).toEqual([resolveAt, "stale"]);
    const forState = await samplesOf(rig, "ALERTS_FOR_STATE", T0, T0 + 3_600_000);
    expect(forState[0]!.labels).toEqual({ __name__: "ALERTS_FOR_STATE", ...labels });
    expect(forState[0]!.points.slice(0, -1).every(([, v]) => v === Math.floor(s1 / 1000))).toBe(true);
    expect(forState[0]!.points.at(-1)).toEqual([resolveAt, "stale"]);

    // The resolved alert is re-sent every resend delay while it is kept (15 minutes).
    await advance(rig, [manager], 70_000);
    expect(notified.length).toBe(4);
    expect(notified[3]![0]!.endsAtMs).toBe(resolveAt);
    await manager.stop();
  });

  test("keep_firing_for holds a firing alert that disappeared, then resolves it", async () => {
    const file = writeRuleFile(
      rig.dir,
      "keep.yml",
      `groups:
- name: keep
  interval: 10s
  rules:
  - alert: Flapping
    expr: errors > 0
    keep_firing_for: 20s
`,
    );
    const s1 = firstSlot(file, "keep", 10_000);
    await errorsUntil(s1 + 15_000);
    const { manager, notified } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], s1 - T0 + 10_000);
    const state = () => {
      const r = manager.ruleGroups()[0]!.rules[0]!;
      return r.type === "alerting" ? [r.state, r.alerts.map((a) => a.keepFiringSince ?? "")] : [];
    };
    expect(state()).toEqual(["firing", [""]]);
    // s1+20s: the condition is gone, but the alert keeps firing for 20s.
    await advance(rig, [manager], 10_000);
    expect(state()).toEqual(["firing", [goTime(s1 + 20_000)]]);
    await advance(rig, [manager], 10_000);
    expect(state()[0]).toBe("firing");
    await advance(rig, [manager], 10_000);
    expect(state()).toEqual(["inactive", []]);
    expect(notified.at(-1)![0]!.endsAtMs).toBe(s1 + 40_000);
    await manager.stop();
  });

  test("a group limit fails an alerting rule with more alerts, forgetting its alerts", async () => {
    await writeSeries(rig.db, { __name__: "errors", instance: "b" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    await errorsUntil(T0 + 600_000);
    const file = writeRuleFile(
      rig.dir,
      "limit.yml",
      `groups:
- name: limited
  interval: 10s
  limit: 1
  rules:
  - alert: Errors
    expr: errors > 0
`,
    );
    const { manager, notified } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 30_000);
    const r = manager.ruleGroups()[0]!.rules[0]!;
    expect(r.health).toBe("err");
    expect(r.lastError).toBe("exceeded limit of 1 with 2 alerts");
    expect(r.type === "alerting" && r.alerts).toEqual([]);
    expect(notified).toEqual([]);
    expect(await samplesOf(rig, "ALERTS", T0, T0 + 600_000)).toEqual([]);
    await manager.stop();
  });

  test("two result series that become the same alert fail the rule", async () => {
    await writeSeries(rig.db, { __name__: "errors", instance: "b" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    await errorsUntil(T0 + 600_000);
    const file = writeRuleFile(
      rig.dir,
      "dup.yml",
      `groups:
- name: dup
  interval: 10s
  rules:
  - alert: Errors
    expr: errors > 0
    labels: {instance: any}
`,
    );
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 20_000);
    const r = manager.ruleGroups()[0]!.rules[0]!;
    expect(r.lastError).toBe("vector contains metrics with the same labelset after applying alert labels");
    await manager.stop();
  });
});
