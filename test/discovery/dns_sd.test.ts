/**
 * dns_sd_configs through a real `shoal` process asking a real DNS server (Debian's dnsmasq,
 * through --dns.server): SRV and A records become targets with Prometheus's `__meta_dns_*`
 * labels; targets appear, change and disappear as the records do; a DNS server that stops
 * answering leaves the last list in place, with the failed lookups counted. Alertmanagers are
 * found the same way.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startDnsmasq, startShoal, tempDir, waitFor, type Dnsmasq, type DnsRecords, type ShoalNode } from "../support/index.ts";

let dns: Dnsmasq;
let shoal: ShoalNode;
let exporterA: ReturnType<typeof Bun.serve>;
let exporterB: ReturnType<typeof Bun.serve>;
let dir = "";

const records = (srvTargets: [string, number][]): DnsRecords => ({
  hosts: [
    ["127.0.0.1", "exp.test"],
    ["127.0.0.1", "am.test"],
    ["127.0.0.1", "exp-a.test"],
    ["127.0.0.1", "exp-b.test"],
  ],
  srv: srvTargets.map(([target, port]) => ["_exp._tcp.test", target, port]),
});

beforeAll(async () => {
  dir = tempDir("dns-sd");
  const metrics = (v: number) => () => new Response(`probe_value ${v}\n`, { headers: { "content-type": "text/plain" } });
  exporterA = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(1) });
  exporterB = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(2) });
  dns = await startDnsmasq(records([["exp-a.test", exporterA.port!]]));
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: srv
    dns_sd_configs:
      - names: [_exp._tcp.test]
        refresh_interval: 1s
    relabel_configs:
      # The test names resolve only at dnsmasq: scrape the port the SRV record gives on this machine.
      - source_labels: [__meta_dns_srv_record_port]
        target_label: __address__
        replacement: 127.0.0.1:$1
      - source_labels: [__meta_dns_srv_record_target]
        target_label: srv_target
  - job_name: a-records
    dns_sd_configs:
      - names: [exp.test]
        type: A
        port: ${exporterB.port}
        refresh_interval: 1s
alerting:
  alertmanagers:
    - dns_sd_configs:
        - names: [am.test]
          type: A
          port: 9093
          refresh_interval: 1s
`,
  );
  shoal = await startShoal({ name: "shoal-dns-sd", args: [`--config.file=${join(dir, "shoal.yml")}`, `--dns.server=${dns.address}`] });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
  await dns?.stop();
  exporterA?.stop(true);
  exporterB?.stop(true);
  if (dir) removeTempDir(dir);
});

type Target = { scrapePool: string; health: string; labels: Record<string, string>; discoveredLabels: Record<string, string> };

async function targets(pool: string): Promise<Target[]> {
  const res = (await (await fetch(`${shoal.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return res.data.activeTargets.filter((t) => t.scrapePool === pool).sort((a, b) => a.labels.instance!.localeCompare(b.labels.instance!));
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${shoal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(" ").at(-1));
}

test("SRV and A records become targets with Prometheus's __meta_dns_* labels, and are scraped", async () => {
  const [srv] = await waitFor("the SRV target up", async () => {
    const ts = await targets("srv");
    return ts.length === 1 && ts[0]!.health === "up" ? ts : undefined;
  });
  expect(srv!.discoveredLabels).toMatchObject({
    __address__: `exp-a.test:${exporterA.port}`,
    __meta_dns_name: "_exp._tcp.test",
    __meta_dns_srv_record_target: "exp-a.test.",
    __meta_dns_srv_record_port: String(exporterA.port),
  });
  expect(srv!.labels).toEqual({ instance: `127.0.0.1:${exporterA.port}`, job: "srv", srv_target: "exp-a.test." });
  const [a] = await waitFor("the A target up", async () => {
    const ts = await targets("a-records");
    return ts.length === 1 && ts[0]!.health === "up" ? ts : undefined;
  });
  expect(a!.discoveredLabels).toMatchObject({ __address__: `127.0.0.1:${exporterB.port}`, __meta_dns_name: "exp.test" });
  expect(Object.keys(a!.discoveredLabels).filter((k) => k.startsWith("__meta_"))).toEqual(["__meta_dns_name"]);
  expect(await metric("prometheus_sd_dns_lookups_total")).toBeGreaterThan(2);
}, 30_000);

test("targets follow the records: one more, then the name gone", async () => {
  await dns.setRecords(records([["exp-a.test", exporterA.port!], ["exp-b.test", exporterB.port!]]));
  const two = await waitFor("two SRV targets", async () => {
    const ts = await targets("srv");
    return ts.length === 2 ? ts : undefined;
  });
  expect(two.map((t) => t.labels.srv_target).sort()).toEqual(["exp-a.test.", "exp-b.test."]);
  await dns.setRecords(records([]));
  await waitFor("no SRV target once the name does not exist", async () => (await targets("srv")).length === 0);
  expect((await targets("a-records")).length).toBe(1);
  await dns.setRecords(records([["exp-b.test", exporterB.port!]]));
  await waitFor("the SRV target back", async () => (await targets("srv")).map((t) => t.labels.srv_target).join() === "exp-b.test.");
}, 60_000);

test("a DNS server that stops answering leaves the last targets in place", async () => {
  const srvBefore = await targets("srv");
  const aBefore = await targets("a-records");
  const failures0 = await metric("prometheus_sd_dns_lookup_failures_total");
  await dns.stop();
  await waitFor("failed lookups", async () => (await metric("prometheus_sd_dns_lookup_failures_total")) >= failures0 + 6, { timeoutMs: 20_000 });
  expect((await targets("srv")).map((t) => t.labels.instance)).toEqual(srvBefore.map((t) => t.labels.instance));
  expect((await targets("a-records")).map((t) => t.labels.instance)).toEqual(aBefore.map((t) => t.labels.instance));
  expect(shoal.output()).toContain("Error refreshing DNS targets");
  await dns.setRecords(records([["exp-a.test", exporterA.port!]]));
  await waitFor("the SRV target of the restarted server", async () => (await targets("srv")).map((t) => t.labels.srv_target).join() === "exp-a.test.");
}, 60_000);

test("Alertmanagers are discovered through dns_sd_configs too", async () => {
  const ams = await waitFor("an Alertmanager from the A record", async () => {
    const res = (await (await fetch(`${shoal.url}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
    return res.data.activeAlertmanagers.length > 0 ? res.data.activeAlertmanagers : undefined;
  });
  expect(ams).toEqual([{ url: "http://127.0.0.1:9093/api/v2/alerts" }]);
}, 30_000);

test("--dns.server must be IP:PORT", async () => {
  const bad = await startShoal({ name: "shoal-bad-dns", args: ["--dns.server=dns.example:53"], waitReady: false });
  const code = await bad.proc.exited;
  expect(code).not.toBe(0);
  expect(bad.output()).toContain('--dns.server: expected IP:PORT of a DNS server');
  await bad.stop();
}, 30_000);
