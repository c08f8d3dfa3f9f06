/**
 * kubernetes_sd_configs through a real `shoal` process against our Kubernetes API server
 * (HTTPS with an openssl CA, service-account token): in-cluster credentials, `api_server` with
 * a bearer token file, and a kubeconfig file all reach it; targets appear in /api/v1/targets
 * with their `__meta_kubernetes_*` labels, change and disappear with watch events, stay while
 * the API fails, and come back through a re-list after the watch expires (410 Gone).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestPki } from "../e2e/tls_certs.ts";
import { removeTempDir, startShoal, tempDir, waitFor, type ShoalNode } from "../support/index.ts";
import { FakeKubeApi } from "./fake_kube_api.ts";
import { endpoints, pod, service } from "./kube_objects.ts";

const TOKEN = "sa-token-0123";
let api: FakeKubeApi;
let exporterA: ReturnType<typeof Bun.serve>;
let exporterB: ReturnType<typeof Bun.serve>;
let shoal: ShoalNode;
let dir = "";

beforeAll(async () => {
  dir = tempDir("kubernetes-sd");
  const pki = makeTestPki(dir);
  const cert = pki.issue("apiserver", ["IP:127.0.0.1", "DNS:localhost"]);
  api = new FakeKubeApi({ authorization: `Bearer ${TOKEN}`, tls: { cert: cert.cert, key: cert.key } });
  const metrics = (v: number) => () => new Response(`probe_value ${v}\n`, { headers: { "content-type": "text/plain" } });
  exporterA = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(1) });
  exporterB = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: metrics(2) });
  api.put("/api/v1/pods", pod("web-0", { namespace: "monitoring", ip: "127.0.0.1", port: exporterA.port! }));
  api.put("/api/v1/pods", pod("elsewhere-0", { namespace: "kube-system", ip: "127.0.0.1", port: exporterB.port! }));
  api.put("/api/v1/services", service("web", { namespace: "monitoring", port: exporterA.port! }));
  api.put("/api/v1/endpoints", endpoints("web", { namespace: "monitoring", ip: "127.0.0.1", port: exporterA.port!, podName: "web-0" }));

  const sa = join(dir, "serviceaccount");
  mkdirSync(sa);
  writeFileSync(join(sa, "token"), `${TOKEN}\n`);
  writeFileSync(join(sa, "ca.crt"), pki.ca);
  writeFileSync(join(sa, "namespace"), "monitoring");
  writeFileSync(join(dir, "token"), TOKEN);
  writeFileSync(
    join(dir, "kubeconfig"),
    `apiVersion: v1
kind: Config
current-context: test
clusters:
  - name: fake
    cluster:
      server: ${api.url}
      certificate-authority: ${pki.caFile}
users:
  - name: prometheus
    user:
      tokenFile: token
contexts:
  - name: test
    context: { cluster: fake, user: prometheus }
`,
  );
  writeFileSync(
    join(dir, "shoal.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: in-cluster-pods
    kubernetes_sd_configs:
      - role: pod
        namespaces: { own_namespace: true }
    relabel_configs:
      - { source_labels: [__meta_kubernetes_pod_container_port_name], regex: metrics, action: keep }
      - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }
      - { source_labels: [__meta_kubernetes_pod_label_version], target_label: version }
  - job_name: api-server-services
    kubernetes_sd_configs:
      - role: service
        api_server: ${api.url}
        bearer_token_file: token
        tls_config: { ca_file: ${pki.caFile} }
  - job_name: kubeconfig-endpoints
    kubernetes_sd_configs:
      - role: endpoints
        kubeconfig_file: kubeconfig
        namespaces: { names: [monitoring] }
alerting:
  alertmanagers:
    - kubernetes_sd_configs:
        - role: service
          api_server: ${api.url}
          authorization: { credentials_file: token }
          tls_config: { ca_file: ${pki.caFile} }
`,
  );
  shoal = await startShoal({
    name: "shoal-kubernetes-sd",
    args: [`--config.file=${join(dir, "shoal.yml")}`],
    env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(api.server.port), SHOAL_KUBERNETES_SERVICEACCOUNT_DIR: sa },
  });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
  api?.stop();
  exporterA?.stop(true);
  exporterB?.stop(true);
  if (dir) removeTempDir(dir);
});

type Target = { scrapePool: string; health: string; labels: Record<string, string>; discoveredLabels: Record<string, string> };

async function targets(pool: string): Promise<Target[]> {
  const body = (await (await fetch(`${shoal.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets.filter((t) => t.scrapePool === pool);
}

async function podNames(): Promise<string[]> {
  return (await targets("in-cluster-pods")).map((t) => t.labels.pod!).sort();
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${shoal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line === undefined ? NaN : Number(line.split(" ").pop());
}

test("in-cluster credentials: the pods of the own namespace are scraped with their labels", async () => {
  const [t] = await waitFor("in-cluster pod target up", async () => {
    const ts = await targets("in-cluster-pods");
    return ts.length === 1 && ts[0]!.health === "up" ? ts : undefined;
  });
  expect(t!.labels).toMatchObject({ job: "in-cluster-pods", pod: "web-0", instance: `127.0.0.1:${exporterA.port}` });
  expect(t!.discoveredLabels).toMatchObject({
    __meta_kubernetes_namespace: "monitoring",
    __meta_kubernetes_pod_name: "web-0",
    __meta_kubernetes_pod_container_port_name: "metrics",
    __meta_kubernetes_pod_controller_kind: "ReplicaSet",
  });
  // Only the own namespace was asked for, with the service account's token.
  const podPaths = new Set(api.requests.filter((u) => u.pathname.endsWith("/pods")).map((u) => u.pathname));
  expect([...podPaths]).toEqual(["/api/v1/namespaces/monitoring/pods"]);
});

test("api_server with a bearer token file, and a kubeconfig file, reach the same API", async () => {
  await waitFor("service and endpoints targets", async () => {
    const svc = await targets("api-server-services");
    const eps = await targets("kubeconfig-endpoints");
    return svc.length === 1 && eps.length >= 1 ? true : undefined;
  });
  const [svc] = await targets("api-server-services");
  expect(svc!.labels.instance).toBe(`web.monitoring.svc:${exporterA.port}`);
  expect(svc!.discoveredLabels.__meta_kubernetes_service_name).toBe("web");
  const eps = await targets("kubeconfig-endpoints");
  expect(eps.find((t) => t.labels.instance === `127.0.0.1:${exporterA.port}`)!.discoveredLabels).toMatchObject({
    __meta_kubernetes_endpoints_name: "web",
    __meta_kubernetes_service_name: "web",
    __meta_kubernetes_pod_name: "web-0",
  });
});

test("watch events add, change and remove targets", async () => {
  api.put("/api/v1/pods", pod("web-1", { namespace: "monitoring", ip: "127.0.0.1", port: exporterB.port! }));
  await waitFor("web-1 added", async () => ((await podNames()).join() === "web-0,web-1" ? true : undefined));
  api.put("/api/v1/pods", pod("web-1", { namespace: "monitoring", ip: "127.0.0.1", port: exporterB.port!, labels: { app: "web", version: "v2" } }));
  await waitFor("web-1 relabeled", async () => ((await targets("in-cluster-pods")).some((t) => t.labels.version === "v2") ? true : undefined));
  api.remove("/api/v1/pods", "monitoring", "web-1");
  await waitFor("web-1 removed", async () => ((await podNames()).join() === "web-0" ? true : undefined));
  expect(await metric('prometheus_sd_kubernetes_events_total{role="pod",event="add"}')).toBeGreaterThanOrEqual(2);
  expect(await metric('prometheus_sd_kubernetes_events_total{role="pod",event="update"}')).toBeGreaterThanOrEqual(1);
  expect(await metric('prometheus_sd_kubernetes_events_total{role="pod",event="delete"}')).toBeGreaterThanOrEqual(1);
});

test("a failing API server leaves the last targets in place; it is listed again when it is back", async () => {
  const failuresBefore = await metric("prometheus_sd_kubernetes_failures_total");
  api.fail(true);
  await waitFor("failures counted", async () => ((await metric("prometheus_sd_kubernetes_failures_total")) > failuresBefore ? true : undefined));
  await Bun.sleep(1500);
  expect(await podNames()).toEqual(["web-0"]);
  // A change made while Shoal could not see it arrives through the re-list.
  api.put("/api/v1/pods", pod("web-2", { namespace: "monitoring", ip: "127.0.0.1", port: exporterB.port! }));
  api.fail(false);
  await waitFor("web-2 after recovery", async () => ((await podNames()).join() === "web-0,web-2" ? true : undefined), { timeoutMs: 40_000 });
}, 60_000);

test("an expired watch (410 Gone) is followed by a fresh list", async () => {
  const listsBefore = api.requests.filter((u) => u.pathname === "/api/v1/namespaces/monitoring/pods" && !u.searchParams.has("watch")).length;
  api.expire();
  api.put("/api/v1/pods", pod("web-3", { namespace: "monitoring", ip: "127.0.0.1", port: exporterB.port! }));
  await waitFor("web-3 after re-list", async () => ((await podNames()).includes("web-3") ? true : undefined));
  const listsAfter = api.requests.filter((u) => u.pathname === "/api/v1/namespaces/monitoring/pods" && !u.searchParams.has("watch")).length;
  expect(listsAfter).toBeGreaterThan(listsBefore);
  expect(await podNames()).toEqual(["web-0", "web-2", "web-3"]);
});

test("Alertmanagers are found through kubernetes_sd_configs too", async () => {
  const urls = await waitFor("alertmanager discovered", async () => {
    const body = (await (await fetch(`${shoal.url}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
    const u = body.data.activeAlertmanagers.map((a) => a.url);
    return u.length > 0 ? u : undefined;
  });
  expect(urls).toEqual([`http://web.monitoring.svc:${exporterA.port}/api/v2/alerts`]);
});
