/** The ingress role: one target per rule host and path, https where a TLS entry covers the host. */
import { addObjectMetaLabels, META, type LabelRecord } from "./meta_labels.ts";
import type { Ingress } from "./objects.ts";
import { addNamespaceLabels } from "./pod.ts";
import type { AttachMetadata, Stores } from "./stores.ts";
import type { RawGroup } from "./group.ts";

/** `*.example.com` covers `a.example.com`, not `a.b.example.com` nor `example.com`. */
function matchesHostnamePattern(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  const p = pattern.split(".");
  const h = host.split(".");
  if (p[0] !== "*" || p.length !== h.length) return false;
  return p.every((part, i) => i === 0 || part === h[i]);
}

export function buildIngress(ing: Ingress, stores: Stores, attach: AttachMetadata): RawGroup {
  const ns = ing.metadata.namespace ?? "";
  const labels: LabelRecord = { [`${META}namespace`]: ns };
  if (ing.spec?.ingressClassName !== undefined) labels[`${META}ingress_class_name`] = ing.spec.ingressClassName;
  addObjectMetaLabels(labels, ing.metadata, "ingress");
  if (attach.namespace) addNamespaceLabels(labels, stores, ns);
  const tlsHosts = (ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []);
  const targets: LabelRecord[] = [];
  for (const rule of ing.spec?.rules ?? []) {
    const host = rule.host ?? "";
    const scheme = tlsHosts.some((p) => matchesHostnamePattern(p, host)) ? "https" : "http";
    const paths = rule.http ? (rule.http.paths ?? []).map((p) => (p.path ? p.path : "/")) : ["/"];
    for (const path of paths) {
      targets.push({ __address__: host, [`${META}ingress_scheme`]: scheme, [`${META}ingress_host`]: host, [`${META}ingress_path`]: path });
    }
  }
  return { source: `ingress/${ns}/${ing.metadata.name}`, labels, targets };
}
