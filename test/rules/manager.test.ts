import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openTSDB } from "../../src/storage/index.ts";
import { goTime, RuleLoadError, slotOffsetMs, type RuleManager } from "../../src/rules/index.ts";
import type { AlertingRuleStatus } from "../../src/model/index.ts";
import { Registry, registerRuleMetrics } from "../../src/telemetry/index.ts";
import { advance, firstSlot, newManager, rigForEachTest, samplesOf, T0, writeRuleFile, writeSeries, type Rig } from "./rig.ts";

let rig: Rig;
rigForEachTest((r) => (rig = r));

function alertRule(m: RuleManager, group: string, name: string): AlertingRuleStatus {
  const r = m.ruleGroups().find((g) => g.name === group)!.rules.find((x) => x.name === name)!;
  if (r.type !== "alerting") throw new Error(`${name} is not an alerting rule`);
  return r;
}

const ALERTS_FILE = `groups:
- name: alerts
  interval: 10s
  rules:
  - alert: LongFiring
    expr: errors > 0
    for: 15m
  - alert: ShortFiring
    expr: errors > 0
    for: 1m
  - alert: LongPending
    expr: late > 0
    for: 30m
  - alert: NearlyDue
    expr: early > 0
    for: 30m
  - alert: ShortPending
    expr: recent > 0
    for: 5m
`;

describe("rule manager", () => {
  test("two members evaluate a group at the same slotted instants, wherever they started", async () => {
    await writeSeries(rig.db, { __name__: "x" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    const file = writeRuleFile(rig.dir, "slot.yml", "groups:\n- name: slotted\n  interval: 20s\n  rules:\n  - record: x:copy\n    expr: x\n");
    const other = await openTSDB({ dir: join(rig.dir, "other") });
    await writeSeries(other, { __name__: "x" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    const a = newManager(rig);
    await a.manager.update([file], 15_000);
    await advance(rig, [a.manager], 7_300);
    // The second member starts 7.3s later, on its own storage.
    const b = newManager(rig, { storage: other });
    await b.manager.update([file], 15_000);
    await advance(rig, [a.manager, b.manager], 60_000);
    const offset = slotOffsetMs(file, "slotted", 20_000);
    const aTimes = (await samplesOf(rig, "x:copy", T0, T0 + 600_000))[0]!.points.map(([t]) => t);
    const bTimes = (await samplesOf({ ...rig, db: other }, "x:copy", T0, T0 + 600_000))[0]!.points.map(([t]) => t);
    expect(aTimes.every((t) => (t - offset) % 20_000 === 0)).toBe(true);
    expect(bTimes.length).toBeGreaterThan(1);
    expect(aTimes.slice(-bTimes.length)).toEqual(bTimes);
    await a.manager.stop();
    await b.manager.stop();
    await other.close();
  });

  test("a member that takes a group over restores `for` state before its first evaluation: firing stays firing, pending is shifted as Prometheus does", async () => {
    await writeSeries(rig.db, { __name__: "errors" }, T0 - 3_600_000, T0 + 7_200_000, 5000, () => 1);
    const file = writeRuleFile(rig.dir, "alerts.yml", ALERTS_FILE);
    const s1 = firstSlot(file, "alerts", 10_000);
    // `late` becomes active at s1 + 10m, `recent` at s1 + 22m; `early` at s1.
    await writeSeries(rig.db, { __name__: "late" }, T0 - 3_600_000, T0 + 7_200_000, 5000, (t) => (t >= s1 + 600_000 ? 1 : 0));
    await writeSeries(rig.db, { __name__: "recent" }, T0 - 3_600_000, T0 + 7_200_000, 5000, (t) => (t >= s1 + 1_320_000 ? 1 : 0));
    await writeSeries(rig.db, { __name__: "early" }, T0 - 3_600_000, T0 + 7_200_000, 5000, () => 1);
    const a = newManager(rig);
    const b = newManager(rig, { nodeName: "node-b" });
    b.owns.value = false;
    await a.manager.update([file], 15_000);
    await b.manager.update([file], 15_000);

    // A evaluates for 24 minutes: LongFiring and ShortFiring fire, LongPending and ShortPending
    // are pending (active since s1+10m), NearlyDue is pending with 6 minutes to go.
    await advance(rig, [a.manager, b.manager], s1 - T0 + 1_440_000, 10_000);
    const lastA = s1 + 1_440_000;
    expect(alertRule(a.manager, "alerts", "LongFiring").state).toBe("firing");
    expect(alertRule(a.manager, "alerts", "ShortFiring").state).toBe("firing");
    expect(alertRule(a.manager, "alerts", "LongPending").state).toBe("pending");
    expect(alertRule(a.manager, "alerts", "NearlyDue").state).toBe("pending");
    expect(b.manager.ruleGroups()[0]!.evaluatedBy).toBe("");
    expect(alertRule(b.manager, "alerts", "LongFiring").state).toBe("inactive");
    const aNotified = a.notified.length;
    const longPendingSince = Date.parse(alertRule(a.manager, "alerts", "LongPending").alerts[0]!.activeAt);

    // A dies (stops owning at once); B owns the group from the next-but-two slot (a 30s gap).
    a.owns.value = false;
    a.manager.reshard();
    expect(a.manager.ruleGroups()[0]!.evaluatedBy).toBe("");
    expect(alertRule(a.manager, "alerts", "LongFiring").alerts).toEqual([]);
    await advance(rig, [a.manager, b.manager], 20_000, 10_000);
    b.owns.value = true;
    b.manager.reshard();
    await advance(rig, [a.manager, b.manager], 10_000, 10_000);
    const firstB = lastA + 30_000;
    expect(b.manager.ruleGroups()[0]!.evaluatedBy).toBe("node-b");
    expect(b.manager.ruleGroups()[0]!.lastEvaluation).toBe(goTime(firstB));

    // Firing alerts are firing at B's first evaluation, with their original activeAt, and B sends them.
    const sec = (ms: number) => Math.floor(ms / 1000) * 1000;
    expect(alertRule(b.manager, "alerts", "LongFiring").state).toBe("firing");
    expect(alertRule(b.manager, "alerts", "LongFiring").alerts[0]!.activeAt).toBe(goTime(sec(s1)));
    // Prometheus would not restore a rule whose `for` is below the grace period; Shoal keeps it firing.
    expect(alertRule(b.manager, "alerts", "ShortFiring").state).toBe("firing");
    expect(b.notified.flat().map((n) => n.labels.alertname).sort()).toEqual(["LongFiring", "ShortFiring"]);
    // A pending alert with more than the grace period to go is shifted by the time nobody evaluated it.
    const downAt = sec(lastA);
    expect(alertRule(b.manager, "alerts", "LongPending").alerts[0]!.activeAt).toBe(goTime(sec(longPendingSince) + (firstB - downAt)));
    // One with less than the grace period to go fires no sooner than the grace period from now.
    expect(alertRule(b.manager, "alerts", "NearlyDue").alerts[0]!.activeAt).toBe(goTime(firstB + 600_000 - 1_800_000));
    expect(alertRule(b.manager, "alerts", "NearlyDue").state).toBe("pending");
    // A pending alert whose `for` is below the grace period starts over.
    expect(alertRule(b.manager, "alerts", "ShortPending").alerts[0]!.activeAt).toBe(goTime(firstB));

    // B wrote the firing ALERTS at its first slot; A wrote nothing after it lost the group.
    const firing = (await samplesOf(rig, 'ALERTS{alertname="LongFiring",alertstate="firing"}', T0, T0 + 7_200_000))[0]!;
    expect(firing.points.filter(([t]) => t > lastA)).toEqual([[firstB, 1]]);
    expect(firing.points.some(([, v]) => v === "stale")).toBe(false);
    expect(a.notified.length).toBe(aNotified);
    await a.manager.stop();
    await b.manager.stop();
  });

  test("a reload keeps the state of unchanged groups and carries alerts into changed ones; a removed group's series go stale", async () => {
    await writeSeries(rig.db, { __name__: "errors" }, T0 - 600_000, T0 + 3_600_000, 5000, () => 1);
    const v1 = `groups:
- name: alerts
  interval: 10s
  rules:
  - alert: Errors
    expr: errors > 0
    for: 1m
- name: extra
  interval: 10s
  rules:
  - record: errors:copy
    expr: errors
`;
    const file = writeRuleFile(rig.dir, "r.yml", v1);
    const { manager } = newManager(rig);
    await manager.update([file], 15_000);
    await advance(rig, [manager], 120_000, 10_000);
    const before = alertRule(manager, "alerts", "Errors");
    expect(before.state).toBe("firing");

    // Same content: nothing changes.
    await manager.update([file], 15_000);
    expect(alertRule(manager, "alerts", "Errors").alerts).toEqual(before.alerts);

    // A second rule in the group and the other group removed: the alert goes on firing with the
    // same activeAt; errors:copy is marked stale two intervals later.
    writeRuleFile(rig.dir, "r.yml", v1.slice(0, v1.indexOf("- name: extra")) + "  - record: more\n    expr: errors * 2\n");
    const reloadedAt = rig.clock.wallNow();
    await manager.update([file], 15_000);
    expect(manager.ruleGroups().map((g) => g.name)).toEqual(["alerts"]);
    await advance(rig, [manager], 30_000, 10_000);
    const after = alertRule(manager, "alerts", "Errors");
    expect(after.state).toBe("firing");
    expect(after.alerts[0]!.activeAt).toBe(before.alerts[0]!.activeAt);
    const copy = (await samplesOf(rig, "errors:copy", T0, T0 + 3_600_000))[0]!;
    expect(copy.points.at(-1)).toEqual([reloadedAt, "stale"]);
    await manager.stop();
  });

  test("a reload with errors names every error of every file and keeps the running groups", async () => {
    await writeSeries(rig.db, { __name__: "x" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    const good = writeRuleFile(rig.dir, "good.yml", "groups:\n- name: g\n  interval: 10s\n  rules:\n  - record: x:copy\n    expr: x\n");
    const { manager } = newManager(rig);
    await manager.update([good], 15_000);
    const bad1 = writeRuleFile(rig.dir, "bad1.yml", "groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(\n");
    const bad2 = writeRuleFile(rig.dir, "bad2.yml", "groups:\n- name: h\n  rules:\n  - alert: A\n    expr: up\n  - record: 'bad name'\n    expr: up\n");
    let err: unknown;
    try {
      await manager.update([good, bad1, bad2, join(rig.dir, "missing.yml")], 15_000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleLoadError);
    const errors = (err as RuleLoadError).errors;
    expect(errors.some((e) => e.startsWith(`${bad1}:`) && e.includes("could not parse expression"))).toBe(true);
    expect(errors.some((e) => e.startsWith(`${bad2}:`) && e.includes("invalid recording rule name: bad name"))).toBe(true);
    expect(errors.some((e) => e.includes("missing.yml") && e.includes("no such file or directory"))).toBe(true);
    expect(manager.ruleGroups().map((g) => g.file)).toEqual([good]);
    await advance(rig, [manager], 20_000);
    expect((await samplesOf(rig, "x:copy", T0, T0 + 600_000))[0]!.points.length).toBeGreaterThan(0);
    await manager.stop();
  });

  test("iterations overrun by a slow evaluation are counted as missed and skipped, as Prometheus's ticker does", async () => {
    await writeSeries(rig.db, { __name__: "x" }, T0 - 600_000, T0 + 600_000, 1000, () => 1);
    const file = writeRuleFile(rig.dir, "m.yml", "groups:\n- name: m\n  interval: 10s\n  rules:\n  - record: x:copy\n    expr: x\n");
    let slow = false;
    const { manager } = newManager(rig, {
      query: async (expr, t) => {
        // The evaluation takes 35s of the clock.
        if (slow) {
          // After the timer callback that started the evaluation has returned.
          await Promise.resolve();
          rig.clock.advance(35_000);
        }
        slow = false;
        return (await rig.engine.instantQuery(rig.db, expr, t)).value;
      },
    });
    await manager.update([file], 15_000);
    const s1 = firstSlot(file, "m", 10_000);
    await advance(rig, [manager], s1 - T0, 10_000);
    expect(manager.stats()[0]).toMatchObject({ iterationsTotal: 1, iterationsMissedTotal: 0, evaluationsTotal: 1, rules: 1, intervalSeconds: 10 });
    slow = true;
    await advance(rig, [manager], 10_000, 10_000);
    rig.clock.advance(0);
    await manager.idle();
    // s1+10s took until s1+45s: s1+20s and s1+30s were missed, s1+40s is evaluated at once.
    expect(manager.stats()[0]).toMatchObject({ iterationsTotal: 5, iterationsMissedTotal: 2, evaluationsTotal: 3, lastEvaluationSamples: 1 });
    expect((await samplesOf(rig, "x:copy", T0, T0 + 600_000))[0]!.points.map(([t]) => t)).toEqual([s1, s1 + 10_000, s1 + 40_000]);
    // The figures on /metrics, under Prometheus's names.
    const reg = new Registry();
    registerRuleMetrics(reg, () => manager.stats());
    const text = reg.render();
    const key = `${file};m`;
    expect(text).toContain(`prometheus_rule_group_iterations_missed_total{rule_group="${key}"} 2`);
    expect(text).toContain(`prometheus_rule_group_iterations_total{rule_group="${key}"} 5`);
    expect(text).toContain(`prometheus_rule_evaluations_total{rule_group="${key}"} 3`);
    expect(text).toContain(`prometheus_rule_group_rules{rule_group="${key}"} 1`);
    expect(text).toContain(`prometheus_rule_group_interval_seconds{rule_group="${key}"} 10`);
    expect(text).toContain(`prometheus_rule_group_last_evaluation_samples{rule_group="${key}"} 1`);
    await manager.stop();
  });
});

