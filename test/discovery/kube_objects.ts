/**
 * Kubernetes objects as the API server returns them in JSON (field names and nesting from the
 * Kubernetes API reference: core/v1 Pod, Service, Endpoints, Node, Namespace; discovery/v1
 * EndpointSlice; networking/v1 Ingress), with the parts a test varies as parameters.
 */
import type { KubeObject } from "./fake_kube_api.ts";

export function pod(name: string, opts: { namespace?: string; ip: string; port: number; nodeName?: string; labels?: Record<string, string>; ready?: boolean }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: opts.namespace ?? "default",
      uid: `uid-${name}`,
      labels: opts.labels ?? { app: "web" },
      annotations: { "prometheus.io/scrape": "true" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d4f8c", uid: "rs-uid", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: opts.nodeName ?? "node-1",
      containers: [
        { name: "app", image: "registry.example/web:1.4", ports: [{ name: "metrics", containerPort: opts.port, protocol: "TCP" }] },
        { name: "sidecar", image: "registry.example/proxy:2" },
      ],
      initContainers: [{ name: "init-db", image: "busybox:1.36" }],
    },
    status: {
      phase: "Running",
      conditions: [
        { type: "Initialized", status: "True" },
        { type: "Ready", status: opts.ready === false ? "False" : "True" },
      ],
      hostIP: "10.0.0.11",
      podIP: opts.ip,
      podIPs: [{ ip: opts.ip }],
      containerStatuses: [{ name: "app", ready: true, restartCount: 0, image: "registry.example/web:1.4", imageID: "sha256:abc", containerID: "containerd://c0ffee" }],
      initContainerStatuses: [{ name: "init-db", ready: true, restartCount: 0, image: "busybox:1.36", imageID: "sha256:def", containerID: "containerd://1n1t" }],
    },
  };
}

export function service(name: string, opts: { namespace?: string; port: number; type?: string }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: opts.namespace ?? "default", labels: { app: "web" }, annotations: { "prometheus.io/probe": "true" } },
    spec: {
      type: opts.type ?? "ClusterIP",
      clusterIP: "10.96.0.20",
      clusterIPs: ["10.96.0.20"],
      selector: { app: "web" },
      ports: [{ name: "http", protocol: "TCP", port: opts.port, targetPort: opts.port }],
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
    },
    status: { loadBalancer: opts.type === "LoadBalancer" ? { ingress: [{ ip: "203.0.113.7" }] } : {} },
  };
}

export function endpoints(name: string, opts: { namespace?: string; ip: string; port: number; podName: string; notReadyIp?: string }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace: opts.namespace ?? "default", labels: { app: "web" } },
    subsets: [
      {
        addresses: [{ ip: opts.ip, nodeName: "node-1", targetRef: { kind: "Pod", namespace: opts.namespace ?? "default", name: opts.podName, uid: `uid-${opts.podName}` } }],
        ...(opts.notReadyIp ? { notReadyAddresses: [{ ip: opts.notReadyIp, hostname: "web-1" }] } : {}),
        ports: [{ name: "http", port: opts.port, protocol: "TCP" }],
      },
    ],
  };
}

export function endpointSlice(name: string, opts: { namespace?: string; service: string; ip: string; port: number; podName: string }): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: opts.namespace ?? "default", labels: { "kubernetes.io/service-name": opts.service, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } },
    addressType: "IPv4",
    ports: [{ name: "http", protocol: "TCP", port: opts.port, appProtocol: "http" }],
    endpoints: [
      {
        addresses: [opts.ip],
        conditions: { ready: true, serving: true, terminating: false },
        hostname: "web-0",
        nodeName: "node-1",
        zone: "eu-west-1a",
        targetRef: { kind: "Pod", namespace: opts.namespace ?? "default", name: opts.podName, uid: `uid-${opts.podName}` },
      },
    ],
  };
}

export function node(name: string, opts: { ip: string; kubeletPort: number }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "eu-west-1a" }, annotations: { "node.alpha.kubernetes.io/ttl": "0" } },
    spec: { podCIDR: "10.244.1.0/24", providerID: `aws:///eu-west-1a/i-${name}` },
    status: {
      addresses: [
        { type: "InternalIP", address: opts.ip },
        { type: "Hostname", address: name },
      ],
      conditions: [
        { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory" },
        { type: "Ready", status: "True", reason: "KubeletReady" },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: opts.kubeletPort } },
      nodeInfo: { kubeletVersion: "v1.30.2" },
    },
  };
}

export function ingress(name: string, opts: { namespace?: string; host: string }): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: opts.namespace ?? "default", labels: { app: "web" } },
    spec: {
      ingressClassName: "nginx",
      tls: [{ hosts: [`*.${opts.host.split(".").slice(1).join(".")}`], secretName: "web-tls" }],
      rules: [
        {
          host: opts.host,
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } },
              { path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } },
            ],
          },
        },
        { host: "plain.example.org" },
      ],
    },
  };
}

export function namespace(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
}
