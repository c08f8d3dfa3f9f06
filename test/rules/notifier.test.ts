/**
 * The notifier against fake Alertmanagers (Bun.serve): every Alertmanager of every set gets
 * every alert, in batches of at most 256, with external labels and alert relabeling applied,
 * auth headers sent, a bounded queue that drops its oldest alerts, and a drain on stop.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Notifier } from "../../src/rules/index.ts";
import { ManualClock } from "../support/clock.ts";
import { freePort, tempDir, waitFor } from "../support/index.ts";
import { alert, alertingConfig, FakeAlertmanager, memoryLogger } from "./notifier_fake_am.ts";

const open: FakeAlertmanager[] = [];
const notifiers: Notifier[] = [];

function fake(): FakeAlertmanager {
  const am = new FakeAlertmanager();
  open.push(am);
  return am;
}

function notifier(opts: Partial<ConstructorParameters<typeof Notifier>[0]> = {}): Notifier {
  const n = new Notifier({ logger: memoryLogger().logger, queueCapacity: 10_000, ...opts });
  notifiers.push(n);
  return n;
}

afterEach(async () => {
  for (const am of open) am.release();
  for (const n of notifiers.splice(0)) await n.stop();
  for (const am of open.splice(0)) await am.close();
});

describe("notifier", () => {
  test("every Alertmanager of every set gets every alert, even when another one fails", async () => {
    const a = fake();
    const b = fake();
    const c = fake();
    const failing = fake();
    failing.status = 500;
    // One that never answers (until the end) must not hold up the others.
    const stuck = fake();
    stuck.hold();
    const dead = `127.0.0.1:${freePort()}`;
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(`
alerting:
  alertmanagers:
    - static_configs: [{ targets: ["${a.address}", "${failing.address}", "${dead}", "${stuck.address}"] }]
    - static_configs: [{ targets: ["${b.address}", "${c.address}"] }]
`);
    await n.applyConfig(alerting, externalLabels);
    expect(n.alertmanagers().activeAlertmanagers.map((x) => x.url).sort()).toEqual(
      [a, failing, stuck, b, c].map((x) => `http://${x.address}/api/v2/alerts`).concat(`http://${dead}/api/v2/alerts`).sort(),
    );
    n.send([alert("One"), alert("Two")]);
    for (const am of [a, b, c]) {
      await waitFor("alerts delivered", () => am.alerts().length === 2);
      expect(am.alerts().map((x) => x.labels.alertname)).toEqual(["One", "Two"]);
      expect(am.posts[0]!.path).toBe("/api/v2/alerts");
    }
    await waitFor("failures counted", () => n.stats().alertmanagers.filter((s) => s.errors === 2).length === 2);
    const byUrl = Object.fromEntries(n.stats().alertmanagers.map((s) => [s.url, s]));
    expect(byUrl[`http://${a.address}/api/v2/alerts`]).toMatchObject({ sent: 2, errors: 0, dropped: 0, queueLength: 0 });
    expect(byUrl[`http://${failing.address}/api/v2/alerts`]).toMatchObject({ sent: 0, errors: 2, dropped: 2 });
    expect(byUrl[`http://${dead}/api/v2/alerts`]).toMatchObject({ sent: 0, errors: 2, dropped: 2 });
    expect(n.stats().alertmanagersDiscovered).toBe(6);
    expect(failing.posts.length).toBe(1);
    expect(stuck.posts.length).toBe(1);
    expect(byUrl[`http://${stuck.address}/api/v2/alerts`]).toMatchObject({ sent: 0, errors: 0 });
  });

  test("the v2 body: labels, annotations, RFC 3339 times, endsAt left out when unknown, generatorURL", async () => {
    const am = fake();
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${am.address}"] }]\n`);
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("Firing"), alert("Resolved", {}, { startsAtMs: Date.UTC(2025, 0, 1, 12), endsAtMs: Date.UTC(2025, 0, 1, 13, 0, 0, 5) })]);
    await waitFor("delivered", () => am.alerts().length === 2);
    const [firing, resolved] = am.alerts();
    expect(firing).toEqual({
      labels: { alertname: "Firing" },
      annotations: { summary: "Firing summary" },
      startsAt: "2025-01-01T12:00:00.000Z",
      generatorURL: "http://shoal:9090/graph?g0.expr=Firing",
    });
    expect(resolved!.endsAt).toBe("2025-01-01T13:00:00.005Z");
    expect(am.posts[0]!.headers.get("content-type")).toBe("application/json");
  });

  test("batches hold at most 256 alerts and keep their order", async () => {
    const am = fake();
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${am.address}"] }]\n`);
    await n.applyConfig(alerting, externalLabels);
    const many = Array.from({ length: 600 }, (_, i) => alert(`A${i}`));
    n.send(many);
    await waitFor("all delivered", () => am.alerts().length === 600);
    expect(am.posts.map((p) => p.alerts.length)).toEqual([256, 256, 88]);
    expect(am.alerts().map((a) => a.labels.alertname)).toEqual(many.map((a) => a.labels.alertname));
  });

  test("a full queue drops its oldest alerts and counts them", async () => {
    const am = fake();
    am.hold();
    const n = notifier({ queueCapacity: 5 });
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${am.address}"] }]\n`);
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("A0")]);
    await waitFor("first request under way", () => am.posts.length === 1);
    for (let i = 1; i <= 8; i++) n.send([alert(`A${i}`)]);
    expect(n.stats().alertmanagers[0]).toMatchObject({ queueLength: 5, dropped: 3 });
    // A batch larger than the whole queue keeps only its newest alerts.
    n.send(Array.from({ length: 7 }, (_, i) => alert(`B${i}`)));
    expect(n.stats().alertmanagers[0]).toMatchObject({ queueLength: 5, dropped: 10 });
    am.release();
    await waitFor("rest delivered", () => am.alerts().length === 6);
    expect(am.alerts().map((a) => a.labels.alertname)).toEqual(["A0", "B2", "B3", "B4", "B5", "B6"]);
    expect(n.stats().queueCapacity).toBe(5);
  });

  test("external labels are added (the alert's own win); alert_relabel_configs run globally, then per set", async () => {
    const plain = fake();
    const tagged = fake();
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(`
global:
  external_labels: { region: eu, team: platform }
alerting:
  alert_relabel_configs:
    - { source_labels: [severity], regex: none, action: drop }
  alertmanagers:
    - static_configs: [{ targets: ["${plain.address}"] }]
    - static_configs: [{ targets: ["${tagged.address}"] }]
      alert_relabel_configs:
        - { target_label: via, replacement: second }
        - { source_labels: [alertname], regex: Quiet, action: drop }
`);
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("Loud", { team: "db", severity: "page" }), alert("Silent", { severity: "none" }), alert("Quiet")]);
    await waitFor("plain got its alerts", () => plain.alerts().length === 2);
    await waitFor("tagged got its alert", () => tagged.alerts().length === 1);
    expect(plain.alerts().map((a) => a.labels)).toEqual([
      { alertname: "Loud", team: "db", severity: "page", region: "eu" },
      { alertname: "Quiet", region: "eu", team: "platform" },
    ]);
    expect(tagged.alerts()[0]!.labels).toEqual({ alertname: "Loud", team: "db", severity: "page", region: "eu", via: "second" });
  });

  test("basic_auth, authorization from a file, and path_prefix reach the Alertmanager", async () => {
    const dir = tempDir("notifier-auth");
    writeFileSync(join(dir, "token"), "s3cret-token\n");
    const basic = fake();
    const bearer = fake();
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(
      `
alerting:
  alertmanagers:
    - static_configs: [{ targets: ["${basic.address}"] }]
      basic_auth: { username: alice, password: wonder }
      path_prefix: /am
    - static_configs: [{ targets: ["${bearer.address}"] }]
      authorization: { credentials_file: token }
`,
      join(dir, "shoal.yml"),
    );
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("Auth")]);
    await waitFor("both delivered", () => basic.posts.length === 1 && bearer.posts.length === 1);
    expect(basic.posts[0]!.headers.get("authorization")).toBe(`Basic ${Buffer.from("alice:wonder").toString("base64")}`);
    expect(basic.posts[0]!.path).toBe("/am/api/v2/alerts");
    expect(bearer.posts[0]!.headers.get("authorization")).toBe("Bearer s3cret-token");
  });

  test("relabel_configs choose the Alertmanagers; dropped ones are listed as dropped", async () => {
    const kept = fake();
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig(`
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${kept.address}", "127.0.0.1:1"]
          labels: { dc: a }
      relabel_configs:
        - { source_labels: [__address__], regex: "127.0.0.1:1", action: drop }
        - { target_label: __alerts_path__, replacement: /custom/api/v2/alerts }
`);
    await n.applyConfig(alerting, externalLabels);
    expect(n.alertmanagers()).toEqual({
      activeAlertmanagers: [{ url: `http://${kept.address}/custom/api/v2/alerts` }],
      droppedAlertmanagers: [{ url: "http://127.0.0.1:1/api/v2/alerts" }],
    });
    n.send([alert("X")]);
    await waitFor("delivered", () => kept.posts.length === 1);
    expect(kept.posts[0]!.path).toBe("/custom/api/v2/alerts");
  });

  test("Alertmanagers from file_sd_configs are found, and followed when the file changes", async () => {
    const first = fake();
    const second = fake();
    const dir = tempDir("notifier-sd");
    const sd = join(dir, "ams.json");
    writeFileSync(sd, JSON.stringify([{ targets: [first.address] }]));
    const n = notifier({ fileSDPollInterval: 50 });
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - file_sd_configs: [{ files: ["${sd}"] }]\n`);
    await n.applyConfig(alerting, externalLabels);
    expect(n.alertmanagers().activeAlertmanagers).toEqual([{ url: `http://${first.address}/api/v2/alerts` }]);
    writeFileSync(sd, JSON.stringify([{ targets: [second.address] }]));
    await waitFor("second found", () => n.alertmanagers().activeAlertmanagers[0]?.url === `http://${second.address}/api/v2/alerts`);
    n.send([alert("Moved")]);
    await waitFor("delivered to the new one", () => second.posts.length === 1);
    expect(first.posts.length).toBe(0);
  });

  test("a request slower than the set's timeout fails and is counted (manual clock)", async () => {
    const clock = new ManualClock();
    const am = fake();
    am.hold();
    const n = notifier({ clock });
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${am.address}"] }]\n      timeout: 3s\n`);
    expect(alerting.alertmanagers[0]!.timeout).toBe(3000);
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("Slow")]);
    await waitFor("request under way", () => am.posts.length === 1);
    clock.advance(2999);
    await Bun.sleep(20);
    expect(n.stats().alertmanagers[0]).toMatchObject({ errors: 0, sent: 0 });
    clock.advance(1);
    await waitFor("timed out", () => n.stats().alertmanagers[0]!.errors === 1);
    expect(n.stats().alertmanagers[0]).toMatchObject({ sent: 0, dropped: 1 });
  });

  test("stop sends what is queued, and gives up at the drain deadline", async () => {
    const clock = new ManualClock();
    const slow = fake();
    const stuck = fake();
    slow.hold();
    stuck.hold();
    const n = notifier({ clock, drainTimeoutMs: 5000 });
    const { alerting, externalLabels } = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${slow.address}", "${stuck.address}"] }]\n      timeout: 1h\n`);
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("First")]);
    await waitFor("both busy", () => slow.posts.length === 1 && stuck.posts.length === 1);
    n.send([alert("Second"), alert("Third")]);
    let stopped = false;
    const stopping = n.stop().then(() => (stopped = true));
    n.send([alert("AfterStop")]);
    slow.release();
    await waitFor("slow drained", () => slow.alerts().length === 3);
    expect(slow.alerts().map((a) => a.labels.alertname)).toEqual(["First", "Second", "Third"]);
    await Bun.sleep(20);
    expect(stopped).toBe(false);
    clock.advance(5000);
    await stopping;
    expect(stuck.alerts().map((a) => a.labels.alertname)).toEqual(["First"]);
  });

  test("a reload keeps unchanged sets (and their figures) and replaces changed ones", async () => {
    const a = fake();
    const b = fake();
    const n = notifier();
    const one = alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${a.address}"] }]\n`);
    await n.applyConfig(one.alerting, one.externalLabels);
    n.send([alert("Before")]);
    await waitFor("delivered", () => n.stats().alertmanagers[0]?.sent === 1);
    await n.applyConfig(alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${a.address}"] }]\n`).alerting, one.externalLabels);
    expect(n.stats().alertmanagers).toEqual([expect.objectContaining({ url: `http://${a.address}/api/v2/alerts`, sent: 1 })]);
    await n.applyConfig(alertingConfig(`alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${b.address}"] }]\n`).alerting, one.externalLabels);
    n.send([alert("After")]);
    await waitFor("delivered to b", () => b.alerts().length === 1);
    expect(a.alerts().map((x) => x.labels.alertname)).toEqual(["Before"]);
    expect(n.stats().alertmanagers.map((s) => s.url)).toEqual([`http://${b.address}/api/v2/alerts`]);
  });

  test("no alerting section: nothing is sent and nothing is listed", async () => {
    const n = notifier();
    const { alerting, externalLabels } = alertingConfig("global: {}\n");
    await n.applyConfig(alerting, externalLabels);
    n.send([alert("Nowhere")]);
    expect(n.alertmanagers()).toEqual({ activeAlertmanagers: [], droppedAlertmanagers: [] });
    expect(n.stats()).toEqual({ queueCapacity: 10_000, alertmanagersDiscovered: 0, alertmanagers: [] });
  });
});
