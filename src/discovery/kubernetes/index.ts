/**
 * kubernetes_sd_configs: list/watch streams of the kinds a role needs (its own kind, plus the
 * services and pods that endpoints and slices refer to, plus nodes, namespaces, replica sets and
 * jobs that attach_metadata asks for), in each configured namespace. After any change the
 * role's groups are rebuilt from the stores as a whole and reported when they differ.
 */
import { labelsFromRecord, type Logger } from "../../model/index.ts";
import type { KubernetesRole, KubernetesSDConfig, TargetGroup } from "../../config/index.ts";
import type { Discoverer } from "../discoverer.ts";
import type { DiscoveryObservers } from "../metrics.ts";
import { connect, type Connection } from "./connection.ts";
import { buildEndpoints } from "./endpoints.ts";
import { buildEndpointSlice } from "./endpointslice.ts";
import type { RawGroup } from "./group.ts";
import { buildIngress } from "./ingress.ts";
import { buildNode } from "./node.ts";
import type { EndpointSlice, Endpoints, Ingress, KubeObject, Node, Pod, Service } from "./objects.ts";
import { buildPod } from "./pod.ts";
import { buildService } from "./service.ts";
import type { Kind, Stores } from "./stores.ts";
import { ResourceWatcher } from "./watch.ts";

export { serviceAccountDir } from "./connection.ts";

/** API group path and whether the kind lives in namespaces. */
const KINDS: Record<Kind, { api: string; namespaced: boolean }> = {
  pods: { api: "/api/v1", namespaced: true },
  services: { api: "/api/v1", namespaced: true },
  endpoints: { api: "/api/v1", namespaced: true },
  nodes: { api: "/api/v1", namespaced: false },
  namespaces: { api: "/api/v1", namespaced: false },
  endpointslices: { api: "/apis/discovery.k8s.io/v1", namespaced: true },
  ingresses: { api: "/apis/networking.k8s.io/v1", namespaced: true },
  replicasets: { api: "/apis/apps/v1", namespaced: true },
  jobs: { api: "/apis/batch/v1", namespaced: true },
};

/** The role whose selector filters a kind, and whose name its events are counted under. */
const KIND_ROLE: Partial<Record<Kind, KubernetesRole>> = {
  pods: "pod",
  services: "service",
  endpoints: "endpoints",
  endpointslices: "endpointslice",
  nodes: "node",
  ingresses: "ingress",
};

const PRIMARY: Record<KubernetesRole, Kind> = {
  node: "nodes",
  pod: "pods",
  service: "services",
  endpoints: "endpoints",
  endpointslice: "endpointslices",
  ingress: "ingresses",
};

/** Every kind a config's role reads. */
function watchedKinds(cfg: KubernetesSDConfig): Kind[] {
  const kinds = new Set<Kind>([PRIMARY[cfg.role]]);
  const a = cfg.attachMetadata;
  const podBacked = cfg.role === "pod" || cfg.role === "endpoints" || cfg.role === "endpointslice";
  if (cfg.role === "endpoints" || cfg.role === "endpointslice") kinds.add("services").add("pods");
  if (podBacked && a.node) kinds.add("nodes");
  if (cfg.role !== "node" && a.namespace) kinds.add("namespaces");
  if (podBacked && a.deployment) kinds.add("replicasets");
  if (podBacked && (a.job || a.cronjob)) kinds.add("jobs");
  return [...kinds];
}

export interface KubernetesDiscovererOptions {
  logger: Logger;
  observers: DiscoveryObservers;
  /** Put before each group's source, to keep groups of several configs apart. */
  sourcePrefix: string;
  /** Where in-cluster credentials are read from (default: the process's environment). */
  env?: Record<string, string | undefined>;
}

export class KubernetesDiscoverer implements Discoverer {
  private readonly watchers = new Map<Kind, ResourceWatcher[]>();
  private rebuildTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private lastEmitted = "";
  private stopped = false;

  constructor(
    private readonly cfg: KubernetesSDConfig,
    private readonly opts: KubernetesDiscovererOptions,
  ) {}

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    onUpdate([]);
    this.connectAndWatch(onUpdate, 1000);
  }

  stop(): void {
    this.stopped = true;
    for (const list of this.watchers.values()) for (const w of list) w.stop();
    if (this.rebuildTimer !== null) clearTimeout(this.rebuildTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }

  /** Credentials that cannot be loaded yet (a kubeconfig not written yet) are tried again later. */
  private connectAndWatch(onUpdate: (groups: TargetGroup[]) => void, retryMs: number): void {
    if (this.stopped) return;
    let conn: Connection;
    try {
      conn = connect(this.cfg, this.opts.env);
    } catch (e) {
      this.opts.logger.error("Cannot create Kubernetes service discovery", { err: (e as Error).message, retry_in: `${retryMs / 1000}s` });
      this.retryTimer = setTimeout(() => this.connectAndWatch(onUpdate, Math.min(retryMs * 2, 60_000)), retryMs);
      return;
    }
    const namespaces = this.namespaces(conn);
    const { observers, logger } = this.opts;
    for (const kind of watchedKinds(this.cfg)) {
      const { api, namespaced } = KINDS[kind];
      const role = KIND_ROLE[kind];
      const selector = role ? this.cfg.selectors.find((s) => s.role === role) : undefined;
      // Nodes watched for their labels only (attach_metadata) are not the role's events.
      const countedRole = role !== undefined && (kind !== "nodes" || this.cfg.role === "node") ? role : undefined;
      const list = (namespaced ? namespaces : [""]).map(
        (ns) =>
          new ResourceWatcher({
            conn,
            path: ns === "" ? `${api}/${kind}` : `${api}/namespaces/${encodeURIComponent(ns)}/${kind}`,
            labelSelector: selector?.label ?? "",
            fieldSelector: selector?.field ?? "",
            logger,
            onChange: () => this.scheduleRebuild(onUpdate),
            onEvent: (event) => {
              if (countedRole) observers.kubernetesEvents.inc(1, countedRole, event);
            },
            onFailure: () => observers.kubernetesFailures.inc(1),
          }),
      );
      this.watchers.set(kind, list);
    }
    for (const list of this.watchers.values()) for (const w of list) w.start();
  }

  /** The configured namespaces (and the pod's own), or [""] for all. */
  private namespaces(conn: Connection): string[] {
    const ns = [...this.cfg.namespaces.names];
    if (this.cfg.namespaces.ownNamespace && conn.ownNamespace !== undefined) ns.push(conn.ownNamespace);
    return ns.length === 0 ? [""] : [...new Set(ns)];
  }

  private scheduleRebuild(onUpdate: (groups: TargetGroup[]) => void): void {
    // Events arrive in bursts (a LIST, a chunk of watch lines): rebuild once per burst.
    if (this.rebuildTimer !== null || this.stopped) return;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = null;
      this.rebuild(onUpdate);
    }, 10);
  }

  private rebuild(onUpdate: (groups: TargetGroup[]) => void): void {
    for (const list of this.watchers.values()) for (const w of list) if (!w.synced) return;
    const stores: Stores = {
      get: <T extends KubeObject>(kind: Kind, key: string) => {
        for (const w of this.watchers.get(kind) ?? []) {
          const o = w.store.get(key);
          if (o) return o as T;
        }
        return undefined;
      },
      all: <T extends KubeObject>(kind: Kind) => (this.watchers.get(kind) ?? []).flatMap((w) => [...w.store.values()]) as T[],
    };
    const attach = this.cfg.attachMetadata;
    const raw: RawGroup[] = [];
    switch (this.cfg.role) {
      case "node":
        for (const n of stores.all<Node>("nodes")) {
          const g = buildNode(n);
          if (g) raw.push(g);
        }
        break;
      case "pod":
        for (const p of stores.all<Pod>("pods")) raw.push(buildPod(p, stores, attach));
        break;
      case "service":
        for (const s of stores.all<Service>("services")) raw.push(buildService(s, stores, attach));
        break;
      case "endpoints":
        for (const e of stores.all<Endpoints>("endpoints")) raw.push(buildEndpoints(e, stores, attach));
        break;
      case "endpointslice":
        for (const e of stores.all<EndpointSlice>("endpointslices")) raw.push(buildEndpointSlice(e, stores, attach));
        break;
      case "ingress":
        for (const i of stores.all<Ingress>("ingresses")) raw.push(buildIngress(i, stores, attach));
        break;
    }
    raw.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    const key = JSON.stringify(raw);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    onUpdate(
      raw.map((g) => ({
        source: this.opts.sourcePrefix + g.source,
        labels: labelsFromRecord(g.labels),
        targets: g.targets.map((t) => labelsFromRecord(t)),
      })),
    );
  }
}
