/**
 * consul_sd_configs through a real `shoal` process against our Consul catalog/health API: the
 * token, tags, node metadata and datacenter reach Consul as its API spells them; targets appear
 * in /api/v1/targets with Prometheus's `__meta_consul_*` labels, follow the catalog through
 * blocking queries, and stay while Consul fails (failures counted under Prometheus's names).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";
import { FakeConsul } from "./fake_consul.ts";

let consul: FakeConsul;
let exporterA: ReturnType<typeof Bun.serve>;
let exporterB: ReturnType<typeof Bun.serve>;
let shoal: ShoalNode;
let dir = "";

beforeAll(async () => {
  dir = tempDir("consul-sd");
  consul = new FakeConsul("dc1");
  const metrics = (v: number) => () => new Response(`probe_value ${v}\n`, { headers: { "content-type": "text/plain" } });
  exporterA = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(1) });
  exporterB = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(2) });
  consul.setService("web", [
    { node: "node-a", address: "127.0.0.1", port: exporterA.port!, tags: ["metrics", "prod"], nodeMeta: { rack: "r1" }, serviceMeta: { version: "1.4" } },
    { node: "node-z", address: "127.0.0.1", port: exporterB.port!, tags: ["metrics"], nodeMeta: { rack: "r9" } },
  ]);
  consul.setService("billing", [{ node: "node-b", address: "10.9.9.9", serviceAddress: "127.0.0.1", port: exporterB.port!, tags: ["internal"], nodeMeta: { rack: "r1" } }]);
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: consul-tagged
    consul_sd_configs:
      - server: ${consul.address}
        token: consul-acl-token
        tags: [metrics]
        node_meta: { rack: r1 }
        refresh_interval: 1s
    relabel_configs:
      - { source_labels: [__meta_consul_service], target_label: service }
      - { source_labels: [__meta_consul_node], target_label: node }
  - job_name: consul-named
    consul_sd_configs:
      - server: ${consul.address}
        datacenter: dc2
        services: [billing]
        tag_separator: ";"
        allow_stale: false
        refresh_interval: 1s
`,
  );
  shoal = await startShoal({ name: "shoal-consul-sd", args: [`--config.file=${join(dir, "shoal.yml")}`] });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
  consul?.stop();
  exporterA?.stop(true);
  exporterB?.stop(true);
  if (dir) removeTempDir(dir);
});

type Target = { scrapePool: string; health: string; labels: Record<string, string>; discoveredLabels: Record<string, string> };

async function targets(pool: string): Promise<Target[]> {
  const body = (await (await fetch(`${shoal.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets.filter((t) => t.scrapePool === pool);
}

async function services(): Promise<string[]> {
  return (await targets("consul-tagged")).map((t) => `${t.labels.service}@${t.labels.node}`).sort();
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${shoal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line === undefined ? NaN : Number(line.split(" ").pop());
}

test("services with every wanted tag on nodes with the wanted metadata are scraped, with Consul's labels", async () => {
  const [t] = await waitFor("consul target up", async () => {
    const ts = await targets("consul-tagged");
    return ts.length === 1 && ts[0]!.health === "up" ? ts : undefined;
  });
  expect(t!.labels).toMatchObject({ service: "web", node: "node-a", instance: `127.0.0.1:${exporterA.port}` });
  expect(t!.discoveredLabels).toMatchObject({
    __meta_consul_service: "web",
    __meta_consul_dc: "dc1",
    __meta_consul_node: "node-a",
    __meta_consul_address: "127.0.0.1",
    __meta_consul_service_port: String(exporterA.port),
    __meta_consul_service_id: "web-0",
    __meta_consul_tags: ",metrics,prod,",
    __meta_consul_health: "passing",
    __meta_consul_metadata_rack: "r1",
    __meta_consul_service_metadata_version: "1.4",
    __meta_consul_tagged_address_lan: "127.0.0.1",
    __meta_consul_tagged_address_wan: "198.18.0.1",
  });
  const health = consul.requests.map((r) => r.url).filter((u) => u.pathname === "/v1/health/service/web");
  expect(health.length).toBeGreaterThan(0);
  expect(health[0]!.searchParams.getAll("tag")).toEqual(["metrics"]);
  expect(health[0]!.searchParams.getAll("node-meta")).toEqual(["rack:r1"]);
  expect(health[0]!.searchParams.has("stale")).toBe(true);
  const tokens = new Set(consul.requests.filter((r) => r.url.pathname !== "/v1/health/service/billing").map((r) => r.token));
  expect([...tokens]).toEqual(["consul-acl-token"]);
});

test("a service listed by name is watched directly, in the configured datacenter", async () => {
  const [t] = await waitFor("billing target", async () => {
    const ts = await targets("consul-named");
    return ts.length === 1 ? ts : undefined;
  });
  expect(t!.labels.instance).toBe(`127.0.0.1:${exporterB.port}`);
  expect(t!.discoveredLabels).toMatchObject({ __meta_consul_dc: "dc2", __meta_consul_tags: ";internal;", __meta_consul_service_address: "127.0.0.1", __meta_consul_address: "10.9.9.9" });
  const billing = consul.requests.map((r) => r.url).filter((u) => u.pathname === "/v1/health/service/billing");
  expect(billing[0]!.searchParams.get("dc")).toBe("dc2");
  expect(billing[0]!.searchParams.has("stale")).toBe(false);
});

test("blocking queries bring new instances and removed services", async () => {
  consul.setService("api", [{ node: "node-c", address: "127.0.0.1", port: exporterB.port!, tags: ["metrics"], nodeMeta: { rack: "r1" }, status: "warning" }]);
  await waitFor("api added", async () => ((await services()).join() === "api@node-c,web@node-a" ? true : undefined));
  const api = (await targets("consul-tagged")).find((t) => t.labels.service === "api")!;
  expect(api.discoveredLabels.__meta_consul_health).toBe("warning");
  expect(consul.requests.some((r) => r.url.searchParams.has("index"))).toBe(true);
  consul.removeService("api");
  await waitFor("api removed", async () => ((await services()).join() === "web@node-a" ? true : undefined));
});

test("a failing Consul leaves the last targets in place and counts the failures", async () => {
  const before = await metric("prometheus_sd_consul_rpc_failures_total");
  consul.fail(true);
  await waitFor("failures counted", async () => ((await metric("prometheus_sd_consul_rpc_failures_total")) > before ? true : undefined));
  await Bun.sleep(1500);
  expect(await services()).toEqual(["web@node-a"]);
  expect(await metric('prometheus_sd_consul_rpc_duration_seconds_count{endpoint="catalog",call="service"}')).toBeGreaterThan(0);
  consul.setService("api", [{ node: "node-c", address: "127.0.0.1", port: exporterB.port!, tags: ["metrics"], nodeMeta: { rack: "r1" } }]);
  consul.fail(false);
  await waitFor("api after recovery", async () => ((await services()).join() === "api@node-c,web@node-a" ? true : undefined));
}, 40_000);
