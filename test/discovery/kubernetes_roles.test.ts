/**
 * Each kubernetes_sd role turns API objects (JSON shapes from the Kubernetes API reference,
 * served by our list/watch server) into the target groups and `__meta_kubernetes_*` labels
 * Prometheus gives them; selectors and namespaces reach the API server as query parameters.
 */
import { afterEach, expect, test } from "bun:test";
import { parseConfig, type KubernetesSDConfig, type TargetGroup } from "../../src/config/index.ts";
import { KubernetesDiscoverer, NO_DISCOVERY_OBSERVERS } from "../../src/discovery/index.ts";
import { labelsToRecord, nopLogger } from "../../src/model/index.ts";
import { waitFor } from "../support/index.ts";
import { FakeKubeApi } from "./fake_kube_api.ts";
import { endpointSlice, endpoints, ingress, namespace, node, pod, service } from "./kube_objects.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function sdConfig(yaml: string): KubernetesSDConfig {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - ${yaml.trim().split("\n").join("\n        ")}\n`, "/tmp/k.yml");
  return cfg.scrapeConfigs[0]!.kubernetesSDConfigs[0]!;
}

type Plain = { source: string; labels: Record<string, string>; targets: Record<string, string>[] };

async function discover(api: FakeKubeApi, yaml: string, until: (groups: Plain[]) => boolean): Promise<Plain[]> {
  const d = new KubernetesDiscoverer(sdConfig(`api_server: ${api.url}\n${yaml}`), { logger: nopLogger, observers: NO_DISCOVERY_OBSERVERS, sourcePrefix: "" });
  cleanups.push(() => d.stop());
  let latest: Plain[] = [];
  d.start((groups: TargetGroup[]) => {
    latest = groups.map((g) => ({ source: g.source, labels: labelsToRecord(g.labels), targets: g.targets.map((t) => labelsToRecord(t)) }));
  });
  await waitFor("kubernetes groups", () => until(latest), { timeoutMs: 5000 });
  return latest;
}

function api(): FakeKubeApi {
  const a = new FakeKubeApi();
  cleanups.push(() => a.stop());
  return a;
}

test("pod role: one target per container port, a port-less target per container without ports, pod labels on the group", async () => {
  const a = api();
  a.put("/api/v1/pods", pod("web-0", { ip: "10.1.0.5", port: 8080 }));
  const [g] = await discover(a, "role: pod", (gs) => gs.length === 1);
  expect(g!.source).toBe("pod/default/web-0");
  expect(g!.labels).toEqual({
    __meta_kubernetes_namespace: "default",
    __meta_kubernetes_pod_name: "web-0",
    __meta_kubernetes_pod_ip: "10.1.0.5",
    __meta_kubernetes_pod_ready: "true",
    __meta_kubernetes_pod_phase: "Running",
    __meta_kubernetes_pod_node_name: "node-1",
    __meta_kubernetes_pod_host_ip: "10.0.0.11",
    __meta_kubernetes_pod_uid: "uid-web-0",
    __meta_kubernetes_pod_label_app: "web",
    __meta_kubernetes_pod_labelpresent_app: "true",
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
    __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: "true",
    __meta_kubernetes_pod_controller_kind: "ReplicaSet",
    __meta_kubernetes_pod_controller_name: "web-5d4f8c",
  });
  expect(g!.targets).toEqual([
    {
      __address__: "10.1.0.5:8080",
      __meta_kubernetes_pod_container_name: "app",
      __meta_kubernetes_pod_container_id: "containerd://c0ffee",
      __meta_kubernetes_pod_container_image: "registry.example/web:1.4",
      __meta_kubernetes_pod_container_init: "false",
      __meta_kubernetes_pod_container_port_name: "metrics",
      __meta_kubernetes_pod_container_port_number: "8080",
      __meta_kubernetes_pod_container_port_protocol: "TCP",
    },
    {
      __address__: "10.1.0.5",
      // An empty value (no status for this container) is no label, as everywhere in Shoal.
      __meta_kubernetes_pod_container_name: "sidecar",
      __meta_kubernetes_pod_container_image: "registry.example/proxy:2",
      __meta_kubernetes_pod_container_init: "false",
    },
    {
      __address__: "10.1.0.5",
      __meta_kubernetes_pod_container_name: "init-db",
      __meta_kubernetes_pod_container_id: "containerd://1n1t",
      __meta_kubernetes_pod_container_image: "busybox:1.36",
      __meta_kubernetes_pod_container_init: "true",
    },
  ]);
});

test("service role: the service's DNS name and port, its type and cluster IP", async () => {
  const a = api();
  a.put("/api/v1/services", service("web", { namespace: "shop", port: 80, type: "LoadBalancer" }));
  const [g] = await discover(a, "role: service", (gs) => gs.length === 1);
  expect(g!.source).toBe("svc/shop/web");
  expect(g!.labels).toEqual({
    __meta_kubernetes_namespace: "shop",
    __meta_kubernetes_service_name: "web",
    __meta_kubernetes_service_label_app: "web",
    __meta_kubernetes_service_labelpresent_app: "true",
    __meta_kubernetes_service_annotation_prometheus_io_probe: "true",
    __meta_kubernetes_service_annotationpresent_prometheus_io_probe: "true",
  });
  expect(g!.targets).toEqual([
    {
      __address__: "web.shop.svc:80",
      __meta_kubernetes_service_port_name: "http",
      __meta_kubernetes_service_port_number: "80",
      __meta_kubernetes_service_port_protocol: "TCP",
      __meta_kubernetes_service_type: "LoadBalancer",
      __meta_kubernetes_service_cluster_ip: "10.96.0.20",
      __meta_kubernetes_service_loadbalancer_ip: "203.0.113.7",
    },
  ]);
});

test("endpoints role: addresses with their service's and pod's labels, unlisted pod ports too", async () => {
  const a = api();
  a.put("/api/v1/services", service("web", { port: 80 }));
  a.put("/api/v1/pods", pod("web-0", { ip: "10.1.0.5", port: 8080 }));
  a.put("/api/v1/endpoints", endpoints("web", { ip: "10.1.0.5", port: 80, podName: "web-0", notReadyIp: "10.1.0.9" }));
  const [g] = await discover(a, "role: endpoints", (gs) => gs.length === 1 && gs[0]!.targets.length === 3);
  expect(g!.source).toBe("endpoints/default/web");
  expect(g!.labels.__meta_kubernetes_endpoints_name).toBe("web");
  expect(g!.labels.__meta_kubernetes_service_name).toBe("web");
  expect(g!.labels.__meta_kubernetes_namespace).toBe("default");
  const [ready, notReady, unlisted] = g!.targets;
  expect(ready).toMatchObject({
    __address__: "10.1.0.5:80",
    __meta_kubernetes_endpoint_port_name: "http",
    __meta_kubernetes_endpoint_port_protocol: "TCP",
    __meta_kubernetes_endpoint_ready: "true",
    __meta_kubernetes_endpoint_node_name: "node-1",
    __meta_kubernetes_endpoint_address_target_kind: "Pod",
    __meta_kubernetes_endpoint_address_target_name: "web-0",
    __meta_kubernetes_pod_name: "web-0",
    __meta_kubernetes_pod_ip: "10.1.0.5",
  });
  expect(ready!.__meta_kubernetes_pod_container_name).toBeUndefined();
  expect(notReady).toEqual({
    __address__: "10.1.0.9:80",
    __meta_kubernetes_endpoint_port_name: "http",
    __meta_kubernetes_endpoint_port_protocol: "TCP",
    __meta_kubernetes_endpoint_ready: "false",
    __meta_kubernetes_endpoint_hostname: "web-1",
  });
  expect(unlisted).toMatchObject({ __address__: "10.1.0.5:8080", __meta_kubernetes_pod_container_name: "app", __meta_kubernetes_pod_container_port_number: "8080" });
});

test("endpointslice role: conditions, zone, hostname and the service named by kubernetes.io/service-name", async () => {
  const a = api();
  a.put("/api/v1/services", service("web", { port: 8080 }));
  a.put("/api/v1/pods", pod("web-0", { ip: "10.1.0.5", port: 8080 }));
  a.put("/apis/discovery.k8s.io/v1/endpointslices", endpointSlice("web-abc12", { service: "web", ip: "10.1.0.5", port: 8080, podName: "web-0" }));
  const [g] = await discover(a, "role: endpointslice", (gs) => gs.length === 1 && gs[0]!.labels.__meta_kubernetes_service_name === "web");
  expect(g!.source).toBe("endpointslice/default/web-abc12");
  expect(g!.labels.__meta_kubernetes_endpointslice_address_type).toBe("IPv4");
  expect(g!.labels.__meta_kubernetes_endpointslice_label_kubernetes_io_service_name).toBe("web");
  expect(g!.targets).toHaveLength(1);
  expect(g!.targets[0]).toMatchObject({
    __address__: "10.1.0.5:8080",
    __meta_kubernetes_endpointslice_port: "8080",
    __meta_kubernetes_endpointslice_port_name: "http",
    __meta_kubernetes_endpointslice_port_protocol: "TCP",
    __meta_kubernetes_endpointslice_port_app_protocol: "http",
    __meta_kubernetes_endpointslice_endpoint_conditions_ready: "true",
    __meta_kubernetes_endpointslice_endpoint_conditions_serving: "true",
    __meta_kubernetes_endpointslice_endpoint_conditions_terminating: "false",
    __meta_kubernetes_endpointslice_endpoint_hostname: "web-0",
    __meta_kubernetes_endpointslice_endpoint_node_name: "node-1",
    __meta_kubernetes_endpointslice_endpoint_zone: "eu-west-1a",
    __meta_kubernetes_endpointslice_address_target_kind: "Pod",
    __meta_kubernetes_endpointslice_address_target_name: "web-0",
    __meta_kubernetes_pod_container_name: "app",
    __meta_kubernetes_pod_container_port_name: "metrics",
  });
});

test("node role: the kubelet at the InternalIP, conditions and addresses as labels", async () => {
  const a = api();
  a.put("/api/v1/nodes", node("node-1", { ip: "10.0.0.11", kubeletPort: 10250 }));
  const [g] = await discover(a, "role: node", (gs) => gs.length === 1);
  expect(g!.source).toBe("node/node-1");
  expect(g!.labels).toMatchObject({
    __meta_kubernetes_node_name: "node-1",
    __meta_kubernetes_node_provider_id: "aws:///eu-west-1a/i-node-1",
    __meta_kubernetes_node_condition_ready: "true",
    __meta_kubernetes_node_condition_memorypressure: "false",
    __meta_kubernetes_node_label_topology_kubernetes_io_zone: "eu-west-1a",
    __meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl: "0",
  });
  expect(g!.targets).toEqual([
    { __address__: "10.0.0.11:10250", instance: "node-1", __meta_kubernetes_node_address_InternalIP: "10.0.0.11", __meta_kubernetes_node_address_Hostname: "node-1" },
  ]);
});

test("ingress role: one target per host and path, https where a TLS wildcard covers the host", async () => {
  const a = api();
  a.put("/apis/networking.k8s.io/v1/ingresses", ingress("web", { host: "shop.example.com" }));
  const [g] = await discover(a, "role: ingress", (gs) => gs.length === 1);
  expect(g!.labels).toMatchObject({ __meta_kubernetes_ingress_name: "web", __meta_kubernetes_ingress_class_name: "nginx", __meta_kubernetes_namespace: "default" });
  expect(g!.targets).toEqual([
    { __address__: "shop.example.com", __meta_kubernetes_ingress_scheme: "https", __meta_kubernetes_ingress_host: "shop.example.com", __meta_kubernetes_ingress_path: "/" },
    { __address__: "shop.example.com", __meta_kubernetes_ingress_scheme: "https", __meta_kubernetes_ingress_host: "shop.example.com", __meta_kubernetes_ingress_path: "/api" },
    { __address__: "plain.example.org", __meta_kubernetes_ingress_scheme: "http", __meta_kubernetes_ingress_host: "plain.example.org", __meta_kubernetes_ingress_path: "/" },
  ]);
});

test("namespaces and selectors go to the API server; attach_metadata adds node and namespace labels", async () => {
  const a = api();
  a.put("/api/v1/pods", pod("web-0", { namespace: "shop", ip: "10.1.0.5", port: 8080, labels: { app: "web" } }));
  a.put("/api/v1/pods", pod("db-0", { namespace: "shop", ip: "10.1.0.6", port: 5432, labels: { app: "db" } }));
  a.put("/api/v1/pods", pod("web-9", { namespace: "other", ip: "10.1.0.7", port: 8080 }));
  a.put("/api/v1/nodes", node("node-1", { ip: "10.0.0.11", kubeletPort: 10250 }));
  a.put("/api/v1/namespaces", namespace("shop", { team: "checkout" }));
  const groups = await discover(
    a,
    `role: pod
namespaces: { names: [shop] }
selectors: [{ role: pod, label: "app=web", field: "status.phase=Running" }]
attach_metadata: { node: true, namespace: true }`,
    (gs) => gs.length === 1,
  );
  expect(groups[0]!.source).toBe("pod/shop/web-0");
  expect(groups[0]!.labels).toMatchObject({
    __meta_kubernetes_node_name: "node-1",
    __meta_kubernetes_node_label_kubernetes_io_hostname: "node-1",
    __meta_kubernetes_namespace_label_team: "checkout",
  });
  const podRequests = a.requests.filter((u) => u.pathname.endsWith("/pods"));
  expect(podRequests.length).toBeGreaterThan(0);
  for (const u of podRequests) {
    expect(u.pathname).toBe("/api/v1/namespaces/shop/pods");
    expect(u.searchParams.get("labelSelector")).toBe("app=web");
    expect(u.searchParams.get("fieldSelector")).toBe("status.phase=Running");
  }
  expect(a.requests.some((u) => u.pathname === "/api/v1/nodes")).toBe(true);
});
