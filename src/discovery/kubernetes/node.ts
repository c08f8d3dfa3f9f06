/** The node role: one target per node, its kubelet, addressed by the node's preferred address. */
import { addObjectMetaLabels, joinHostPort, META, sanitizeLabelName, type LabelRecord } from "./meta_labels.ts";
import type { Node } from "./objects.ts";
import type { RawGroup } from "./group.ts";

/** Address types in the order Prometheus prefers them. */
const ADDRESS_PREFERENCE = ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"];

/** A node without any address of a known type yields no group at all. */
export function buildNode(node: Node): RawGroup | null {
  const byType = new Map<string, string[]>();
  for (const a of node.status?.addresses ?? []) {
    const list = byType.get(a.type) ?? [];
    list.push(a.address);
    byType.set(a.type, list);
  }
  const preferred = ADDRESS_PREFERENCE.find((t) => byType.has(t));
  if (preferred === undefined) return null;
  const labels: LabelRecord = { [`${META}node_provider_id`]: node.spec?.providerID ?? "" };
  for (const c of node.status?.conditions ?? []) labels[`${META}node_condition_${sanitizeLabelName(c.type.toLowerCase())}`] = c.status.toLowerCase();
  addObjectMetaLabels(labels, node.metadata, "node");
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  const target: LabelRecord = { __address__: joinHostPort(byType.get(preferred)![0]!, port), instance: node.metadata.name };
  for (const [type, addrs] of byType) target[sanitizeLabelName(`${META}node_address_${type}`)] = addrs[0]!;
  return { source: `node/${node.metadata.name}`, labels, targets: [target] };
}
