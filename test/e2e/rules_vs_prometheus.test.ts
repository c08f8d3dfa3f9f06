/**
 * The same rule file in a real Prometheus 2.42 and in Shoal, over the same scraped target: the
 * recording rules' series, ALERTS / ALERTS_FOR_STATE, the alerts with their expanded labels and
 * annotations and /api/v1/rules agree; Shoal's alerts reach a real Alertmanager 0.25, whose
 * webhook counts the notifications (one when they fire, one when one of them resolves).
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  removeTempDir,
  startAlertmanager,
  startPrometheus,
  startShoal,
  startWebhookReceiver,
  tempDir,
  waitFor,
  type AlertmanagerServer,
  type PrometheusServer,
  type ShoalNode,
  type WebhookReceiver,
} from "../support/index.ts";

const dir = tempDir("rules-vs-prom");
const depth: Record<string, number> = { a: 5, b: 50, c: 70.25 };
const target = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => {
    const lines = ["# TYPE queue_depth gauge", ...Object.entries(depth).map(([q, v]) => `queue_depth{queue="${q}"} ${v}`)];
    return new Response(lines.join("\n") + "\n", { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

const RULES = `groups:
  - name: queues
    interval: 1s
    rules:
      - record: queue:depth:sum
        expr: sum(queue_depth)
      - record: queue:depth:doubled
        expr: queue_depth * 2
        labels:
          doubled: "yes"
      - alert: QueueHigh
        expr: queue_depth > 10
        for: 3s
        labels:
          severity: page
          queue_copy: "{{ $labels.queue }}"
        annotations:
          summary: "Queue {{ $labels.queue }} has {{ $value }} items"
          description: '{{ printf "%.1f" $value }} on {{ $labels.instance }} at {{ $externalLabels.site }}; {{ humanize 123456 }}'
      - alert: QueueEmpty
        expr: queue_depth < 1
        for: 1s
`;
const rulesFile = join(dir, "queues.rules.yml");
writeFileSync(rulesFile, RULES);

function config(alertmanager?: string): string {
  return `global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels:
    site: lab
rule_files:
  - ${rulesFile}
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:${target.port}"]
${
  alertmanager === undefined
    ? ""
    : `alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${alertmanager}"]
`
}`;
}

let webhook: WebhookReceiver;
let am: AlertmanagerServer;
let prom: PrometheusServer;
let shoal: ShoalNode;

afterAll(async () => {
  await Promise.all([shoal?.stop("SIGKILL"), prom?.stop("SIGKILL"), am?.stop("SIGKILL")]);
  await webhook?.stop();
  target.stop(true);
  removeTempDir(dir);
});

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  value: string;
}

async function api<T>(url: string, path: string): Promise<T> {
  const r = await fetch(url + path, { signal: AbortSignal.timeout(10_000) });
  const body = (await r.json()) as { status: string; data: T };
  expect(body.status).toBe("success");
  return body.data;
}

async function alerts(url: string): Promise<ApiAlert[]> {
  const data = await api<{ alerts: ApiAlert[] }>(url, "/api/v1/alerts");
  return data.alerts.map((a) => ({ labels: a.labels, annotations: a.annotations, state: a.state, value: a.value })).sort((x, y) => JSON.stringify(x.labels).localeCompare(JSON.stringify(y.labels)));
}

async function vector(url: string, query: string): Promise<string[]> {
  const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(url, `/api/v1/query?query=${encodeURIComponent(query)}`);
  return data.result.map((s) => `${JSON.stringify(Object.entries(s.metric).sort())} ${s.value[1]}`).sort();
}

test("Prometheus and Shoal evaluate one rule file alike, and Shoal's alerts reach Alertmanager", async () => {
  webhook = startWebhookReceiver();
  am = await startAlertmanager({ webhookURL: webhook.url });
  prom = await startPrometheus(config());
  writeFileSync(join(dir, "shoal.yml"), config(am.address));
  // Only the rule file both have (the built-in cluster alerts are Shoal's own).
  shoal = await startShoal({ args: [`--config.file=${join(dir, "shoal.yml")}`, "--cluster.alert-rules=false"] });

  const firing = async (url: string) => (await alerts(url)).filter((a) => a.state === "firing").length === 2;
  await waitFor("QueueHigh firing in both", async () => (await firing(prom.url)) && (await firing(shoal.url)), { timeoutMs: 30_000 });

  // Alerts: labels (templated), annotations (templated), state and value agree.
  expect(await alerts(shoal.url)).toEqual(await alerts(prom.url));
  // Recording rules, ALERTS and ALERTS_FOR_STATE series: the same label sets and values.
  for (const q of ["queue:depth:sum", "queue:depth:doubled", "ALERTS", "count by (alertname, queue) (ALERTS_FOR_STATE)"]) {
    expect({ q, v: await vector(shoal.url, q) }).toEqual({ q, v: await vector(prom.url, q) });
  }
  // /api/v1/rules: the same groups and rules, with the same printed queries, labels and health.
  type Rules = { groups: { name: string; file: string; interval: number; rules: { name: string; query: string; type: string; health: string; labels?: Record<string, string>; annotations?: Record<string, string>; duration?: number; state?: string }[] }[] };
  const shape = (r: Rules) =>
    r.groups.map((g) => ({ name: g.name, file: g.file, interval: g.interval, rules: g.rules.map((x) => ({ name: x.name, query: x.query, type: x.type, health: x.health, labels: x.labels ?? {}, annotations: x.annotations ?? {}, duration: x.duration, state: x.state })) }));
  expect(shape(await api<Rules>(shoal.url, "/api/v1/rules"))).toEqual(shape(await api<Rules>(prom.url, "/api/v1/rules")));

  // Alertmanager got both alerts in one notification, with Shoal's external label.
  await waitFor("the webhook notified", async () => webhook.count() >= 1, { timeoutMs: 20_000 });
  const first = webhook.notifications[0]!;
  expect(first.status).toBe("firing");
  expect(first.alerts.map((a) => a.labels.queue).sort()).toEqual(["b", "c"]);
  expect(first.alerts.every((a) => a.labels.site === "lab" && a.labels.severity === "page")).toBe(true);
  expect(first.alerts.find((a) => a.labels.queue === "b")!.annotations.summary).toBe("Queue b has 50 items");

  // Queue b drains: the alert resolves in both, and Alertmanager says so once.
  depth.b = 2;
  const resolved = async (url: string) => (await alerts(url)).filter((a) => a.labels.alertname === "QueueHigh").length === 1;
  await waitFor("QueueHigh for b resolved in both", async () => (await resolved(prom.url)) && (await resolved(shoal.url)), { timeoutMs: 20_000 });
  expect(await alerts(shoal.url)).toEqual(await alerts(prom.url));
  await waitFor("the webhook told of the resolution", async () => webhook.alerts().some((a) => a.status === "resolved" && a.labels.queue === "b"), { timeoutMs: 20_000 });
  await Bun.sleep(3000); // Alertmanager's group interval is 1s: anything extra would have come
  expect(webhook.count()).toBe(2);
  const notified = (await (await fetch(`${shoal.url}/metrics`)).text()).match(/^prometheus_notifications_sent_total\{[^}]*\} (\d+)/m);
  expect(Number(notified?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  const ams = await api<{ activeAlertmanagers: { url: string }[] }>(shoal.url, "/api/v1/alertmanagers");
  expect(ams.activeAlertmanagers.map((a) => a.url)).toEqual([`http://${am.address}/api/v2/alerts`]);
}, 120_000);
