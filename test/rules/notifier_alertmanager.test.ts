/**
 * The notifier against a real Alertmanager 0.25 with a webhook receiver behind it: what the
 * Notifier sends arrives at the webhook with its labels (external labels included) and
 * annotations, and an alert sent again with endsAt in the past is delivered as resolved.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { Notifier } from "../../src/rules/index.ts";
import {
  ALERTMANAGER_BIN,
  startAlertmanager,
  startWebhookReceiver,
  waitFor,
  type AlertmanagerServer,
  type WebhookReceiver,
} from "../support/index.ts";
import { alert, alertingConfig, memoryLogger } from "./notifier_fake_am.ts";

describe.skipIf(!existsSync(ALERTMANAGER_BIN))("notifier → real Alertmanager 0.25 → webhook", () => {
  let webhook: WebhookReceiver;
  let am: AlertmanagerServer;
  let notifier: Notifier;

  beforeAll(async () => {
    webhook = startWebhookReceiver();
    am = await startAlertmanager({ webhookURL: webhook.url, groupWait: "100ms", groupInterval: "500ms" });
    notifier = new Notifier({ logger: memoryLogger().logger, queueCapacity: 100 });
    const { alerting, externalLabels } = alertingConfig(`
global:
  external_labels: { cluster: shoal-test }
alerting:
  alertmanagers:
    - static_configs: [{ targets: ["${am.address}"] }]
`);
    await notifier.applyConfig(alerting, externalLabels);
  }, 40_000);

  afterAll(async () => {
    await notifier?.stop();
    await am?.stop();
    await webhook?.stop();
  });

  test("a firing alert reaches the webhook with its labels and annotations; its resolution arrives as resolved", async () => {
    const startsAtMs = Date.now() - 60_000;
    const firing = alert("DiskFull", { severity: "page", instance: "db1" }, { startsAtMs, endsAtMs: Date.now() + 5 * 60_000 });
    firing.annotations = { summary: "disk on db1 is full", runbook: "https://example.com/disk" };
    notifier.send([firing]);

    const fired = await waitFor("firing notification", () => webhook.notifications.find((n) => n.status === "firing"), { timeoutMs: 15_000 });
    expect(fired.alerts).toHaveLength(1);
    const got = fired.alerts[0]!;
    expect(got.status).toBe("firing");
    expect(got.labels).toEqual({ alertname: "DiskFull", severity: "page", instance: "db1", cluster: "shoal-test" });
    expect(got.annotations).toEqual({ summary: "disk on db1 is full", runbook: "https://example.com/disk" });
    expect(Date.parse(got.startsAt)).toBe(startsAtMs);
    expect(got.generatorURL).toBe("http://shoal:9090/graph?g0.expr=DiskFull");
    expect((await am.alerts()).map((a) => a.labels.alertname)).toEqual(["DiskFull"]);

    const endsAtMs = Date.now() - 1000;
    notifier.send([{ ...firing, endsAtMs }]);
    const resolved = await waitFor("resolved notification", () => webhook.notifications.find((n) => n.status === "resolved"), { timeoutMs: 15_000 });
    expect(resolved.alerts).toHaveLength(1);
    expect(resolved.alerts[0]!.status).toBe("resolved");
    expect(resolved.alerts[0]!.labels.alertname).toBe("DiskFull");
    expect(Date.parse(resolved.alerts[0]!.endsAt)).toBe(endsAtMs);
    expect(notifier.stats().alertmanagers[0]).toMatchObject({ sent: 2, errors: 0, dropped: 0 });
    // One notification when it fired, one when it resolved: nothing repeated in between.
    expect(webhook.count()).toBe(2);
  }, 40_000);
});
