/**
 * Where a cluster member's HTTP API is reached, from the address it announces: HOST:PORT, or a
 * whole base URL when it serves TLS or lives under a route prefix. Shared by the API (pages and
 * endpoints that gather every member's answer) and the cluster (reads over HTTP).
 */

/**
 * A member's HTTP base URL from its announced address. A wildcard host (`0.0.0.0:9090`, `:9090`,
 * `[::]:9090`) is where a node listens, not where it can be reached: `wildcardHost` replaces it
 * (the address the member is known to be reachable at), loopback when absent.
 */
export function memberUrl(httpAddress: string, wildcardHost?: string): string {
  const v6 = (h: string) => (h.includes(":") ? `[${h}]` : h);
  if (/^https?:\/\//.test(httpAddress)) {
    const u = new URL(httpAddress);
    if (u.hostname === "0.0.0.0") u.hostname = wildcardHost !== undefined ? v6(wildcardHost) : "127.0.0.1";
    else if (u.hostname === "[::]") u.hostname = wildcardHost !== undefined ? v6(wildcardHost) : "[::1]";
    return u.href.replace(/\/$/, "");
  }
  const i = httpAddress.lastIndexOf(":");
  let host = i >= 0 ? httpAddress.slice(0, i) : httpAddress;
  const port = i >= 0 ? httpAddress.slice(i) : "";
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "" || host === "0.0.0.0") host = wildcardHost ?? "127.0.0.1";
  else if (host === "::") host = wildcardHost ?? "::1";
  return `http://${v6(host)}${port}`;
}
