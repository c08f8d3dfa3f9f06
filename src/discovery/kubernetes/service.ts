/** The service role: one target per service port, addressed by the service's cluster DNS name. */
import { addObjectMetaLabels, joinHostPort, META, type LabelRecord } from "./meta_labels.ts";
import type { Service } from "./objects.ts";
import { addNamespaceLabels } from "./pod.ts";
import type { AttachMetadata, Stores } from "./stores.ts";
import type { RawGroup } from "./group.ts";

/** The service's own labels, also given to the endpoints (and slices) that belong to it. */
export function serviceLabels(svc: Service): LabelRecord {
  const ls: LabelRecord = { [`${META}namespace`]: svc.metadata.namespace ?? "" };
  addObjectMetaLabels(ls, svc.metadata, "service");
  return ls;
}

function loadBalancerIPs(svc: Service): string {
  const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "").filter((ip) => ip !== "");
  return ips.length > 0 ? ips.join(",") : (svc.spec?.loadBalancerIP ?? "");
}

export function buildService(svc: Service, stores: Stores, attach: AttachMetadata): RawGroup {
  const ns = svc.metadata.namespace ?? "";
  const labels = serviceLabels(svc);
  if (attach.namespace) addNamespaceLabels(labels, stores, ns);
  const type = svc.spec?.type ?? "";
  const targets = (svc.spec?.ports ?? []).map((port) => {
    const t: LabelRecord = {
      __address__: joinHostPort(`${svc.metadata.name}.${ns}.svc`, port.port),
      [`${META}service_port_name`]: port.name ?? "",
      [`${META}service_port_number`]: String(port.port),
      [`${META}service_port_protocol`]: port.protocol ?? "",
      [`${META}service_type`]: type,
    };
    if (type === "ExternalName") t[`${META}service_external_name`] = svc.spec?.externalName ?? "";
    else t[`${META}service_cluster_ip`] = svc.spec?.clusterIP ?? "";
    if (type === "LoadBalancer") t[`${META}service_loadbalancer_ip`] = loadBalancerIPs(svc);
    return t;
  });
  return { source: `svc/${ns}/${svc.metadata.name}`, labels, targets };
}
