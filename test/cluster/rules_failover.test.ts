/**
 * Alerts that survive a node's death: a 3-node cluster evaluates 12 rule groups (one firing
 * alert and one recording rule each) and sends to a real Alertmanager 0.25 with a webhook behind
 * it. The owners of groups are SIGKILLed, restarted, leave gracefully, and a fourth node joins:
 * through all of it every alert stays firing in Alertmanager (never resolved, never pending on
 * the nodes), the webhook gets exactly one notification per group, and each recording rule's
 * series has no gap longer than one interval plus the dead timeout.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAlertmanager, startWebhookReceiver, tempDir, waitFor, type AlertmanagerServer, type WebhookReceiver } from "../support/index.ts";
import { clusterArgs, dumpLogs, getJSON, removeDirs, startNode, stopAll, stopNode, uniqueClusterName, kill, type TestNode } from "./harness.ts";

const GROUPS = 12;
const INTERVAL_MS = 1000;
const DEAD_TIMEOUT_MS = 2000;

const nodes: TestNode[] = [];
let am: AlertmanagerServer | undefined;
let webhook: WebhookReceiver | undefined;
const target = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => new Response("# TYPE queue_depth gauge\nqueue_depth 42\n", { headers: { "content-type": "text/plain; version=0.0.4" } }),
});

afterAll(async () => {
  await stopAll();
  await am?.stop("SIGKILL");
  await webhook?.stop();
  target.stop(true);
  removeDirs();
});

interface GroupStatus {
  name: string;
  evaluatedBy: string;
  rules: { type: string; state?: string; alerts?: { state: string }[] }[];
}

async function groups(node: TestNode): Promise<GroupStatus[]> {
  return (await getJSON<{ data: { groups: GroupStatus[] } }>(node, "/api/v1/rules")).data.groups;
}

test("firing alerts stay firing and rule series have no gaps through a SIGKILL, a restart, a graceful leave and a join", async () => {
  const dir = tempDir("rules-failover");
  webhook = startWebhookReceiver();
  // One Alertmanager group per rule group: an extra notification for any of them is visible.
  am = await startAlertmanager({
    configYaml: `route:
  receiver: webhook
  group_by: [alertname, group]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: ${JSON.stringify(webhook.url)}
        send_resolved: true
`,
  });
  const rules = ["groups:"];
  for (let g = 0; g < GROUPS; g++) {
    rules.push(
      `  - name: g${g}`,
      `    interval: ${INTERVAL_MS / 1000}s`,
      "    rules:",
      `      - record: g${g}:queue_depth:max`,
      "        expr: max(queue_depth)",
      `      - alert: QueueStuck`,
      "        expr: max(queue_depth) > 10",
      "        for: 3s",
      "        labels:",
      `          group: g${g}`,
    );
  }
  writeFileSync(join(dir, "failover.rules.yml"), rules.join("\n") + "\n");
  writeFileSync(
    join(dir, "config.yml"),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [${JSON.stringify(join(dir, "failover.rules.yml"))}]
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:${target.port}"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${am.address}"]
`,
  );
  const name = uniqueClusterName("rules-failover");
  const args = (extra: string[] = []) => clusterArgs(name, [`--config.file=${join(dir, "config.yml")}`, "--cluster.alert-rules=false", ...extra]);
  try {
    nodes.push(await startNode("n1", args()));
    const port = /tcp\/(\d+)/.exec((await getJSON<{ data: { members: { self: boolean; addresses: string[] }[] } }>(nodes[0]!, "/api/v1/status/cluster")).data.members.find((m) => m.self)!.addresses.join(" "))![1];
    const join_ = `--cluster.join=127.0.0.1:${port}`;
    nodes.push(await startNode("n2", args([join_])));
    nodes.push(await startNode("n3", args([join_])));

    const live = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
    await waitFor("every group firing, evaluated by one member", async () => {
      const gs = await groups(live()[0]!);
      return gs.length === GROUPS && gs.every((g) => g.evaluatedBy !== "" && g.rules.find((r) => r.type === "alerting")?.state === "firing");
    }, { timeoutMs: 60_000 });
    await waitFor("one notification per group", async () => webhook!.count() >= GROUPS, { timeoutMs: 30_000 });

    // Watch, until the end: no node ever shows a group's alert pending or inactive once firing;
    // Alertmanager never holds it resolved.
    const problems: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const n of live()) {
          try {
            for (const g of await groups(n)) {
              const alert = g.rules.find((r) => r.type === "alerting");
              if (g.evaluatedBy !== "" && alert?.state !== "firing") problems.push(`${n.name}: ${g.name} evaluated by ${g.evaluatedBy} is ${alert?.state}`);
            }
          } catch {
            // a node being stopped
          }
        }
        const held = await am!.alerts();
        for (let g = 0; g < GROUPS; g++) {
          const a = held.find((x) => x.labels.group === `g${g}`);
          if (!a || a.status.state !== "active") problems.push(`Alertmanager: g${g} is ${a?.status.state ?? "gone"}`);
        }
        await Bun.sleep(250);
      }
    })();
    const byName = (n: string) => nodes.find((x) => x.name === n && x.proc.exitCode === null && x.proc.signalCode === null)!;
    const ownerOf = async (group: string) => (await groups(live()[0]!)).find((g) => g.name === group)!.evaluatedBy;
    const settle = () => Bun.sleep(4 * INTERVAL_MS + DEAD_TIMEOUT_MS);

    // 1. SIGKILL the owner of g0; 2. restart it on its data (groups move back).
    const victim = byName(await ownerOf("g0"));
    kill(victim);
    await victim.proc.exited;
    await settle();
    await waitFor("g0 taken over", async () => (await ownerOf("g0")) !== victim.name && (await ownerOf("g0")) !== "", { timeoutMs: 10_000 });
    nodes.push(await startNode(victim.name, victim.args, { dataDir: victim.dataDir }));
    await settle();
    // 3. The owner of g1 leaves gracefully.
    const leaver = byName(await ownerOf("g1"));
    expect(await stopNode(leaver)).toBe(0);
    await settle();
    // 4. A new node joins and takes some groups.
    const before = new Map((await groups(live()[0]!)).map((g) => [g.name, g.evaluatedBy]));
    const anchor = live()[0]!;
    const anchorPort = /tcp\/(\d+)/.exec((await getJSON<{ data: { members: { self: boolean; addresses: string[] }[] } }>(anchor, "/api/v1/status/cluster")).data.members.find((m) => m.self)!.addresses.join(" "))![1];
    nodes.push(await startNode("n4", args([`--cluster.join=127.0.0.1:${anchorPort}`])));
    await waitFor("n4 evaluates some groups", async () => (await groups(anchor)).some((g) => g.evaluatedBy === "n4"), { timeoutMs: 30_000 });
    await settle();
    const moved = (await groups(anchor)).filter((g) => g.evaluatedBy === "n4" && before.get(g.name) !== "n4").length;
    watching = false;
    await watcher;

    expect(problems).toEqual([]);
    expect(moved).toBeGreaterThan(0);
    // Alertmanager's own rules: one notification per group, none for a resolution or a re-fire.
    expect(webhook.notifications.filter((n) => n.alerts.some((a) => a.status === "resolved"))).toEqual([]);
    expect(webhook.count()).toBe(GROUPS);
    // The recording rules' samples over the whole run: no gap longer than an interval plus the dead timeout.
    const res = await getJSON<{ data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }>(
      anchor,
      `/api/v1/query?query=${encodeURIComponent('{__name__=~"g[0-9]+:queue_depth:max"}[10m]')}`,
    );
    expect(res.data.result.length).toBe(GROUPS);
    for (const s of res.data.result) {
      let worst = 0;
      for (let i = 1; i < s.values.length; i++) worst = Math.max(worst, (s.values[i]![0] - s.values[i - 1]![0]) * 1000);
      expect({ series: s.metric.__name__, worstGapMs: worst <= INTERVAL_MS + DEAD_TIMEOUT_MS }).toEqual({ series: s.metric.__name__, worstGapMs: true });
    }
  } catch (e) {
    console.log(dumpLogs(nodes));
    throw e;
  }
}, 300_000);
