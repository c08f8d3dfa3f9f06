/**
 * The endpoints role: one target per address and port of an Endpoints object, with the labels
 * of its service and, for addresses backed by a pod, the pod's; plus one target for every
 * container port of those pods that the endpoints do not list (so sidecars are found too).
 */
import { addObjectMetaLabels, joinHostPort, META, type LabelRecord } from "./meta_labels.ts";
import type { ContainerPort, EndpointAddress, EndpointPort, Endpoints, ObjectReference, Pod, Service } from "./objects.ts";
import { addNamespaceLabels, addNodeLabels, podContainers, podLabels } from "./pod.ts";
import { serviceLabels } from "./service.ts";
import type { AttachMetadata, Stores } from "./stores.ts";
import type { RawGroup } from "./group.ts";

export function resolvePodRef(stores: Stores, ref: ObjectReference | undefined): Pod | undefined {
  if (!ref || ref.kind !== "Pod") return undefined;
  return stores.get<Pod>("pods", `${ref.namespace ?? ""}/${ref.name ?? ""}`);
}

/**
 * The `pod_container_*` labels of the first container exposing `portNumber`, if any; `protocol`
 * picks the protocol label from the endpoint port or the container port, as each role does.
 */
export function addContainerPortLabels(t: LabelRecord, pod: Pod, portNumber: number, protocol: (cport: ContainerPort) => string): void {
  for (const { c, isInit } of podContainers(pod)) {
    const cport = c.ports?.find((p) => p.containerPort === portNumber);
    if (!cport) continue;
    t[`${META}pod_container_name`] = c.name;
    t[`${META}pod_container_image`] = c.image ?? "";
    t[`${META}pod_container_port_name`] = cport.name ?? "";
    t[`${META}pod_container_port_number`] = String(portNumber);
    t[`${META}pod_container_port_protocol`] = protocol(cport);
    t[`${META}pod_container_init`] = String(isInit);
    return;
  }
}

/** Targets for the container ports of the seen pods that no endpoint port covered. */
export function unlistedPodPorts(seen: Map<string, { pod: Pod; ports: Set<number> }>, stores: Stores, attach: AttachMetadata): LabelRecord[] {
  const out: LabelRecord[] = [];
  for (const { pod, ports } of seen.values()) {
    const podIP = pod.status?.podIP ?? "";
    if (podIP === "") continue;
    for (const { c, isInit } of podContainers(pod)) {
      for (const cport of c.ports ?? []) {
        if (ports.has(cport.containerPort)) continue;
        out.push({
          __address__: joinHostPort(podIP, cport.containerPort),
          [`${META}pod_container_name`]: c.name,
          [`${META}pod_container_image`]: c.image ?? "",
          [`${META}pod_container_port_name`]: cport.name ?? "",
          [`${META}pod_container_port_number`]: String(cport.containerPort),
          [`${META}pod_container_port_protocol`]: cport.protocol ?? "",
          [`${META}pod_container_init`]: String(isInit),
          ...podLabels(pod, stores, attach),
        });
      }
    }
  }
  return out;
}

export function buildEndpoints(eps: Endpoints, stores: Stores, attach: AttachMetadata): RawGroup {
  const ns = eps.metadata.namespace ?? "";
  let labels: LabelRecord = { [`${META}namespace`]: ns };
  const svc = stores.get<Service>("services", `${ns}/${eps.metadata.name}`);
  if (svc) labels = { ...labels, ...serviceLabels(svc) };
  addObjectMetaLabels(labels, eps.metadata, "endpoints");
  if (attach.namespace) addNamespaceLabels(labels, stores, ns);

  const targets: LabelRecord[] = [];
  const seen = new Map<string, { pod: Pod; ports: Set<number> }>();
  const add = (addr: EndpointAddress, port: EndpointPort, ready: string) => {
    let t: LabelRecord = {
      __address__: joinHostPort(addr.ip, port.port),
      [`${META}endpoint_port_name`]: port.name ?? "",
      [`${META}endpoint_port_protocol`]: port.protocol ?? "",
      [`${META}endpoint_ready`]: ready,
    };
    if (addr.targetRef) {
      t[`${META}endpoint_address_target_kind`] = addr.targetRef.kind ?? "";
      t[`${META}endpoint_address_target_name`] = addr.targetRef.name ?? "";
    }
    if (addr.nodeName !== undefined) t[`${META}endpoint_node_name`] = addr.nodeName;
    if (addr.hostname) t[`${META}endpoint_hostname`] = addr.hostname;
    if (attach.node) {
      if (addr.nodeName !== undefined) addNodeLabels(t, stores, addr.nodeName);
      else if (addr.targetRef?.kind === "Node") addNodeLabels(t, stores, addr.targetRef.name);
    }
    const pod = resolvePodRef(stores, addr.targetRef);
    if (!pod) {
      targets.push(t);
      return;
    }
    const key = `${pod.metadata.namespace ?? ""}/${pod.metadata.name}`;
    const entry = seen.get(key) ?? { pod, ports: new Set<number>() };
    seen.set(key, entry);
    t = { ...t, ...podLabels(pod, stores, attach) };
    addContainerPortLabels(t, pod, port.port, () => port.protocol ?? "");
    entry.ports.add(port.port);
    targets.push(t);
  };
  for (const ss of eps.subsets ?? []) {
    for (const port of ss.ports ?? []) {
      for (const addr of ss.addresses ?? []) add(addr, port, "true");
      for (const addr of ss.notReadyAddresses ?? []) add(addr, port, "false");
    }
  }
  targets.push(...unlistedPodPorts(seen, stores, attach));
  return { source: `endpoints/${ns}/${eps.metadata.name}`, labels, targets };
}
