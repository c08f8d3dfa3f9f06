/** The pod role, and the pod labels the endpoints and endpointslice roles add to their targets. */
import { addAnnotationsAndLabels, addObjectMetaLabels, controllerOf, joinHostPort, META, type LabelRecord } from "./meta_labels.ts";
import type { Container, MetaOnly, Node, Pod } from "./objects.ts";
import type { AttachMetadata, Stores } from "./stores.ts";
import type { RawGroup } from "./group.ts";

function podReady(pod: Pod): string {
  const c = pod.status?.conditions?.find((x) => x.type === "Ready");
  return (c?.status ?? "Unknown").toLowerCase();
}

/** The labels of a pod shared by all its targets (not its namespace: callers add that). */
export function podLabels(pod: Pod, stores: Stores, attach: AttachMetadata): LabelRecord {
  const ls: LabelRecord = {
    [`${META}pod_ip`]: pod.status?.podIP ?? "",
    [`${META}pod_ready`]: podReady(pod),
    [`${META}pod_phase`]: pod.status?.phase ?? "",
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? "",
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? "",
    [`${META}pod_uid`]: pod.metadata.uid ?? "",
  };
  addObjectMetaLabels(ls, pod.metadata, "pod");
  const owner = controllerOf(pod.metadata);
  if (owner) {
    if (owner.kind) ls[`${META}pod_controller_kind`] = owner.kind;
    if (owner.name) ls[`${META}pod_controller_name`] = owner.name;
    const ns = pod.metadata.namespace ?? "";
    if (owner.kind === "ReplicaSet" && attach.deployment) {
      const rs = stores.get<MetaOnly>("replicasets", `${ns}/${owner.name}`);
      const rsOwner = rs && controllerOf(rs.metadata);
      if (rsOwner?.kind === "Deployment") ls[`${META}pod_deployment_name`] = rsOwner.name;
    } else if (owner.kind === "Job") {
      if (attach.job) ls[`${META}pod_job_name`] = owner.name;
      if (attach.cronjob) {
        const job = stores.get<MetaOnly>("jobs", `${ns}/${owner.name}`);
        const jobOwner = job && controllerOf(job.metadata);
        if (jobOwner?.kind === "CronJob") ls[`${META}pod_cronjob_name`] = jobOwner.name;
      }
    }
  }
  return ls;
}

/** attach_metadata.node: the node's name, labels and annotations, when the node is known. */
export function addNodeLabels(ls: LabelRecord, stores: Stores, nodeName: string | undefined): void {
  if (nodeName === undefined) return;
  const node = stores.get<Node>("nodes", nodeName);
  if (node) addObjectMetaLabels(ls, node.metadata, "node");
}

/** attach_metadata.namespace: the namespace's labels and annotations (its name is already there). */
export function addNamespaceLabels(ls: LabelRecord, stores: Stores, namespace: string): void {
  const ns = stores.get<MetaOnly>("namespaces", namespace);
  if (ns) addAnnotationsAndLabels(ls, ns.metadata, "namespace");
}

/** Regular containers first, then init containers, each marked. */
export function podContainers(pod: Pod): { c: Container; isInit: boolean }[] {
  return [...(pod.spec?.containers ?? []).map((c) => ({ c, isInit: false })), ...(pod.spec?.initContainers ?? []).map((c) => ({ c, isInit: true }))];
}

export function buildPod(pod: Pod, stores: Stores, attach: AttachMetadata): RawGroup {
  const ns = pod.metadata.namespace ?? "";
  const source = `pod/${ns}/${pod.metadata.name}`;
  const podIP = pod.status?.podIP ?? "";
  if (podIP === "") return { source, labels: {}, targets: [] };
  // Without its node, a pod cannot get the node labels asked for: it waits until the node is known.
  if (attach.node && !stores.get<Node>("nodes", pod.spec?.nodeName ?? "")) return { source, labels: {}, targets: [] };
  const labels = podLabels(pod, stores, attach);
  labels[`${META}namespace`] = ns;
  if (attach.node) addNodeLabels(labels, stores, pod.spec?.nodeName);
  if (attach.namespace) addNamespaceLabels(labels, stores, ns);
  const targets: LabelRecord[] = [];
  for (const { c, isInit } of podContainers(pod)) {
    const statuses = (isInit ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
    const base: LabelRecord = {
      [`${META}pod_container_name`]: c.name,
      [`${META}pod_container_id`]: statuses.find((s) => s.name === c.name)?.containerID ?? "",
      [`${META}pod_container_image`]: c.image ?? "",
      [`${META}pod_container_init`]: String(isInit),
    };
    if (!c.ports || c.ports.length === 0) {
      targets.push({ __address__: podIP, ...base });
      continue;
    }
    for (const p of c.ports) {
      targets.push({
        __address__: joinHostPort(podIP, p.containerPort),
        ...base,
        [`${META}pod_container_port_number`]: String(p.containerPort),
        [`${META}pod_container_port_name`]: p.name ?? "",
        [`${META}pod_container_port_protocol`]: p.protocol ?? "",
      });
    }
  }
  return { source, labels, targets };
}
