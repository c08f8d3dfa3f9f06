/**
 * The `__meta_kubernetes_*` labels every role shares: an object's name, its labels and
 * annotations (each also as a `…present_…` label), and host:port joining as Go's net.JoinHostPort.
 */
import type { ObjectMeta, OwnerReference } from "./objects.ts";

export const META = "__meta_kubernetes_";

export type LabelRecord = Record<string, string>;

/** Any character a label name may not hold becomes `_`, as Prometheus's SanitizeLabelName does. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

export function addAnnotationsAndLabels(ls: LabelRecord, meta: ObjectMeta, resource: string): void {
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    const ln = sanitizeLabelName(k);
    ls[`${META}${resource}_label_${ln}`] = v;
    ls[`${META}${resource}_labelpresent_${ln}`] = "true";
  }
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    const ln = sanitizeLabelName(k);
    ls[`${META}${resource}_annotation_${ln}`] = v;
    ls[`${META}${resource}_annotationpresent_${ln}`] = "true";
  }
}

/** `__meta_kubernetes_<role>_name` plus the object's labels and annotations. */
export function addObjectMetaLabels(ls: LabelRecord, meta: ObjectMeta, role: string): void {
  ls[`${META}${role}_name`] = meta.name;
  addAnnotationsAndLabels(ls, meta, role);
}

export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function controllerOf(meta: ObjectMeta): OwnerReference | undefined {
  return meta.ownerReferences?.find((r) => r.controller === true);
}
