/**
 * What the role builders read: the objects of every kind the role watches, by key, as the
 * list/watch streams keep them. Builders are pure functions of these stores, so the whole
 * target list is rebuilt from one consistent picture after any change.
 */
import type { KubernetesSDConfig } from "../../config/index.ts";
import type { KubeObject } from "./objects.ts";

export type Kind = "pods" | "services" | "endpoints" | "endpointslices" | "nodes" | "ingresses" | "namespaces" | "replicasets" | "jobs";

export interface Stores {
  get<T extends KubeObject>(kind: Kind, key: string): T | undefined;
  all<T extends KubeObject>(kind: Kind): Iterable<T>;
}

export type AttachMetadata = KubernetesSDConfig["attachMetadata"];
