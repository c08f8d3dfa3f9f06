/**
 * How to reach the API server, in Prometheus's order: `kubeconfig_file`, else `api_server` with
 * the config's HTTP client fields, else the pod's service account (in-cluster). Secret files
 * (tokens, certificates) are read again for every request, so rotated credentials are picked up.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { httpClientRequestOptions, type HttpClientRequestOptions, type KubernetesSDConfig } from "../../config/index.ts";

export interface Connection {
  /** The API server's base URL, without a trailing slash. */
  baseUrl: string;
  /** Headers and TLS options for one request. */
  requestOptions(): HttpClientRequestOptions;
  /** The pod's own namespace (in-cluster only), for `namespaces.own_namespace`. */
  ownNamespace?: string;
  followRedirects: boolean;
}

/** Where a pod's service account is mounted; SHOAL_KUBERNETES_SERVICEACCOUNT_DIR moves it (tests, unusual mounts). */
export function serviceAccountDir(env: Record<string, string | undefined> = process.env): string {
  return env.SHOAL_KUBERNETES_SERVICEACCOUNT_DIR || "/var/run/secrets/kubernetes.io/serviceaccount";
}

function readSecret(what: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`unable to read ${what} ${path}: ${(e as Error).message}`);
  }
}

function inCluster(cfg: KubernetesSDConfig, env: Record<string, string | undefined>): Connection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  const dir = serviceAccountDir(env);
  let ownNamespace: string | undefined;
  if (cfg.namespaces.ownNamespace) {
    ownNamespace = readSecret("the pod's namespace", `${dir}/namespace`).trim();
    if (ownNamespace === "") throw new Error("could not read own namespace name (empty file)");
  }
  const ca = readSecret("service account CA", `${dir}/ca.crt`);
  return {
    baseUrl: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ownNamespace,
    followRedirects: true,
    requestOptions: () => ({
      headers: { Authorization: `Bearer ${readSecret("service account token", `${dir}/token`).trim()}` },
      tls: { ca, rejectUnauthorized: true },
    }),
  };
}

interface KubeconfigFile {
  "current-context"?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster?: string; user?: string } }[];
}

/** A kubeconfig's current context: its cluster's server and CA, its user's credentials. */
export function fromKubeconfig(path: string): Connection {
  const doc = parseYaml(readSecret("kubeconfig_file", path)) as KubeconfigFile | null;
  if (!doc || typeof doc !== "object") throw new Error(`${path}: not a kubeconfig file`);
  const ctxName = doc["current-context"];
  if (!ctxName) throw new Error(`${path}: no current-context set`);
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`${path}: context ${JSON.stringify(ctxName)} not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new Error(`${path}: cluster ${JSON.stringify(ctx.cluster)} of context ${JSON.stringify(ctxName)} not found`);
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  for (const plugin of ["exec", "auth-provider"]) {
    if (user[plugin] !== undefined) throw new Error(`${path}: user ${JSON.stringify(ctx.user)}: "${plugin}" credentials are not supported by Shoal; use a token, tokenFile or client certificate`);
  }
  const server = cluster.server;
  if (typeof server !== "string" || server === "") throw new Error(`${path}: cluster ${JSON.stringify(ctx.cluster)} has no server`);
  const rel = (p: unknown) => (typeof p === "string" && p !== "" ? (isAbsolute(p) ? p : resolve(dirname(path), p)) : undefined);
  const pem = (data: unknown, file: unknown, what: string): string | undefined => {
    if (typeof data === "string" && data !== "") return Buffer.from(data, "base64").toString("utf8");
    const f = rel(file);
    return f === undefined ? undefined : readSecret(what, f);
  };
  return {
    baseUrl: server.replace(/\/+$/, ""),
    followRedirects: true,
    requestOptions: () => {
      const headers: Record<string, string> = {};
      const token = typeof user.token === "string" && user.token !== "" ? user.token : user.tokenFile !== undefined ? readSecret("tokenFile", rel(user.tokenFile)!).trim() : undefined;
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      else if (typeof user.username === "string" && user.username !== "") {
        headers.Authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? "")}`).toString("base64")}`;
      }
      const tls: HttpClientRequestOptions["tls"] = { rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true };
      const ca = pem(cluster["certificate-authority-data"], cluster["certificate-authority"], "certificate-authority");
      if (ca !== undefined) tls.ca = ca;
      const cert = pem(user["client-certificate-data"], user["client-certificate"], "client-certificate");
      if (cert !== undefined) tls.cert = cert;
      const key = pem(user["client-key-data"], user["client-key"], "client-key");
      if (key !== undefined) tls.key = key;
      if (typeof cluster["tls-server-name"] === "string") tls.serverName = cluster["tls-server-name"];
      return { headers, tls };
    },
  };
}

export function connect(cfg: KubernetesSDConfig, env: Record<string, string | undefined> = process.env): Connection {
  if (cfg.kubeconfigFile !== undefined) return fromKubeconfig(cfg.kubeconfigFile);
  if (cfg.apiServer !== undefined) {
    const http = cfg.http;
    return { baseUrl: cfg.apiServer, followRedirects: http.followRedirects, requestOptions: () => httpClientRequestOptions(http) };
  }
  return inCluster(cfg, env);
}
