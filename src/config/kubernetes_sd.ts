/**
 * kubernetes_sd_configs, checked as Prometheus checks them: a known role, at most one way to
 * reach the API server (in-cluster, `api_server` + HTTP client fields, or `kubeconfig_file`),
 * selectors only for the kinds the role watches, and selectors that parse as Kubernetes's.
 */
import type { Checker, Path } from "./checker.ts";
import { checkHttpClientFields, type HttpClientFields } from "./http_client_fields.ts";
import { checkFieldSelector, checkLabelSelector } from "./kubernetes_selectors.ts";
import type { RawKubernetesSD } from "./schema.ts";

export const KUBERNETES_ROLES = ["node", "pod", "service", "endpoints", "endpointslice", "ingress"] as const;
export type KubernetesRole = (typeof KUBERNETES_ROLES)[number];

export interface KubernetesSelector {
  role: KubernetesRole;
  /** A Kubernetes label selector (`app=web,tier!=db`), passed to the API server; "" for none. */
  label: string;
  /** A Kubernetes field selector (`spec.nodeName=n1`), passed to the API server; "" for none. */
  field: string;
}

export interface KubernetesSDConfig {
  role: KubernetesRole;
  /** Absent: in-cluster credentials, or the kubeconfig file. */
  apiServer?: string;
  kubeconfigFile?: string;
  namespaces: { ownNamespace: boolean; names: string[] };
  selectors: KubernetesSelector[];
  attachMetadata: { node: boolean; namespace: boolean; deployment: boolean; job: boolean; cronjob: boolean };
  http: HttpClientFields;
}

/** Which kinds' selectors each role accepts: the kinds it watches. */
const ALLOWED_SELECTORS: Record<KubernetesRole, readonly KubernetesRole[]> = {
  pod: ["pod", "node"],
  service: ["service"],
  endpointslice: ["pod", "service", "endpointslice"],
  endpoints: ["pod", "service", "endpoints"],
  node: ["node"],
  ingress: ["ingress"],
};

function checkRole(c: Checker, role: string, path: Path, key: string): KubernetesRole {
  if (!(KUBERNETES_ROLES as readonly string[]).includes(role)) c.fail(path, `unknown Kubernetes SD role ${JSON.stringify(role)}`, key);
  return role as KubernetesRole;
}

function isDefaultHttp(h: HttpClientFields): boolean {
  const t = h.tlsConfig;
  return !h.basicAuth && !h.authorization && h.followRedirects && !t.caFile && !t.certFile && !t.keyFile && !t.serverName && !t.insecureSkipVerify;
}

function checkOne(c: Checker, raw: RawKubernetesSD, path: Path): KubernetesSDConfig {
  if (raw.role == null || raw.role === "") c.fail(path, "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)");
  const role = checkRole(c, raw.role, path, "role");
  const http = checkHttpClientFields(c, raw, path);
  let apiServer: string | undefined;
  if (raw.api_server != null && raw.api_server !== "") {
    let url: URL;
    try {
      url = new URL(raw.api_server);
    } catch {
      c.fail(path, `invalid api_server URL ${JSON.stringify(raw.api_server)}`, "api_server");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") c.fail(path, `api_server URL scheme must be 'http' or 'https', got ${JSON.stringify(url.protocol.slice(0, -1))}`, "api_server");
    apiServer = raw.api_server.replace(/\/+$/, "");
  }
  const kubeconfigFile = c.file(raw.kubeconfig_file);
  const ownNamespace = raw.namespaces?.own_namespace ?? false;
  if (apiServer !== undefined && kubeconfigFile !== undefined) c.fail(path, "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
  if (kubeconfigFile !== undefined && !isDefaultHttp(http)) c.fail(path, "cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
  if (apiServer === undefined && !isDefaultHttp(http)) c.fail(path, "to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
  if (apiServer !== undefined && ownNamespace) c.fail(path, "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously");
  if (kubeconfigFile !== undefined && ownNamespace) c.fail(path, "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously");

  const seen = new Set<string>();
  const selectors = (raw.selectors ?? []).map((s, i): KubernetesSelector => {
    const sp = [...path, "selectors", i];
    const sRole = checkRole(c, s.role ?? "", sp, "role");
    if (seen.has(sRole)) c.fail(sp, `duplicated selector role: ${sRole}`, "role");
    seen.add(sRole);
    if (!ALLOWED_SELECTORS[role].includes(sRole)) c.fail(sp, `${role} role supports only ${ALLOWED_SELECTORS[role].join(", ")} selectors`, "role");
    const field = s.field ?? "";
    const label = s.label ?? "";
    const fieldErr = checkFieldSelector(field);
    if (fieldErr) c.fail(sp, fieldErr, "field");
    const labelErr = checkLabelSelector(label);
    if (labelErr) c.fail(sp, labelErr, "label");
    return { role: sRole, label, field };
  });
  const am = raw.attach_metadata ?? {};
  return {
    role,
    apiServer,
    kubeconfigFile,
    namespaces: { ownNamespace, names: raw.namespaces?.names ?? [] },
    selectors,
    attachMetadata: { node: am.node ?? false, namespace: am.namespace ?? false, deployment: am.deployment ?? false, job: am.job ?? false, cronjob: am.cronjob ?? false },
    http,
  };
}

export function checkKubernetesSDConfigs(c: Checker, raw: readonly RawKubernetesSD[] | null | undefined, path: Path): KubernetesSDConfig[] {
  return (raw ?? []).map((k, i) => checkOne(c, k, [...path, i]));
}
