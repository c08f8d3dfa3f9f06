/**
 * The endpointslice role: like endpoints, from discovery.k8s.io/v1 EndpointSlices, which name
 * their service in the `kubernetes.io/service-name` label and carry conditions and zones.
 */
import { addObjectMetaLabels, joinHostPort, META, sanitizeLabelName, type LabelRecord } from "./meta_labels.ts";
import type { EndpointSlice, Pod, Service, SliceEndpoint, SlicePort } from "./objects.ts";
import { addContainerPortLabels, resolvePodRef, unlistedPodPorts } from "./endpoints.ts";
import { addNamespaceLabels, addNodeLabels, podLabels } from "./pod.ts";
import { serviceLabels } from "./service.ts";
import type { AttachMetadata, Stores } from "./stores.ts";
import type { RawGroup } from "./group.ts";

/**
 * A dual-stack service has a slice per IP family; only the primary family's slice gives
 * targets, or every endpoint would be scraped twice.
 */
function nonPrimaryIPFamilySlice(svc: Service | undefined, eps: EndpointSlice): boolean {
  const policy = svc?.spec?.ipFamilyPolicy;
  if (policy !== "PreferDualStack" && policy !== "RequireDualStack") return false;
  const families = svc?.spec?.ipFamilies ?? [];
  return families.length > 0 && eps.addressType !== families[0];
}

export function buildEndpointSlice(eps: EndpointSlice, stores: Stores, attach: AttachMetadata): RawGroup {
  const ns = eps.metadata.namespace ?? "";
  const source = `endpointslice/${ns}/${eps.metadata.name}`;
  let labels: LabelRecord = { [`${META}namespace`]: ns, [`${META}endpointslice_address_type`]: eps.addressType ?? "" };
  addObjectMetaLabels(labels, eps.metadata, "endpointslice");
  const svcName = eps.metadata.labels?.["kubernetes.io/service-name"];
  const svc = svcName !== undefined ? stores.get<Service>("services", `${ns}/${svcName}`) : undefined;
  if (svc) labels = { ...labels, ...serviceLabels(svc) };
  if (attach.namespace) addNamespaceLabels(labels, stores, ns);
  if (nonPrimaryIPFamilySlice(svc, eps)) return { source, labels, targets: [] };

  const targets: LabelRecord[] = [];
  const seen = new Map<string, { pod: Pod; ports: Set<number> }>();
  const add = (addr: string, ep: SliceEndpoint, port: SlicePort) => {
    let t: LabelRecord = { __address__: port.port !== undefined ? joinHostPort(addr, port.port) : addr };
    if (port.name !== undefined) t[`${META}endpointslice_port_name`] = port.name;
    if (port.protocol !== undefined) t[`${META}endpointslice_port_protocol`] = port.protocol;
    if (port.port !== undefined) t[`${META}endpointslice_port`] = String(port.port);
    if (port.appProtocol !== undefined) t[`${META}endpointslice_port_app_protocol`] = port.appProtocol;
    const cond = ep.conditions ?? {};
    if (cond.ready !== undefined) t[`${META}endpointslice_endpoint_conditions_ready`] = String(cond.ready);
    if (cond.serving !== undefined) t[`${META}endpointslice_endpoint_conditions_serving`] = String(cond.serving);
    if (cond.terminating !== undefined) t[`${META}endpointslice_endpoint_conditions_terminating`] = String(cond.terminating);
    if (ep.hostname !== undefined) t[`${META}endpointslice_endpoint_hostname`] = ep.hostname;
    if (ep.targetRef) {
      t[`${META}endpointslice_address_target_kind`] = ep.targetRef.kind ?? "";
      t[`${META}endpointslice_address_target_name`] = ep.targetRef.name ?? "";
    }
    if (ep.nodeName !== undefined) t[`${META}endpointslice_endpoint_node_name`] = ep.nodeName;
    if (ep.zone !== undefined) t[`${META}endpointslice_endpoint_zone`] = ep.zone;
    for (const [k, v] of Object.entries(ep.deprecatedTopology ?? {})) {
      const ln = sanitizeLabelName(k);
      t[`${META}endpointslice_endpoint_topology_${ln}`] = v;
      t[`${META}endpointslice_endpoint_topology_present_${ln}`] = "true";
    }
    if (attach.node) addNodeLabels(t, stores, ep.targetRef?.kind === "Node" ? ep.targetRef.name : ep.nodeName);
    const pod = resolvePodRef(stores, ep.targetRef);
    if (!pod) {
      targets.push(t);
      return;
    }
    const key = `${pod.metadata.namespace ?? ""}/${pod.metadata.name}`;
    const entry = seen.get(key) ?? { pod, ports: new Set<number>() };
    seen.set(key, entry);
    t = { ...t, ...podLabels(pod, stores, attach) };
    if (port.port !== undefined) {
      addContainerPortLabels(t, pod, port.port, (cport) => cport.protocol ?? "");
      entry.ports.add(port.port);
    }
    targets.push(t);
  };
  for (const ep of eps.endpoints ?? []) {
    for (const port of eps.ports ?? []) {
      for (const addr of ep.addresses ?? []) add(addr, ep, port);
    }
  }
  targets.push(...unlistedPodPorts(seen, stores, attach));
  return { source, labels, targets };
}
