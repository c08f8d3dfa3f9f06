/**
 * The API room's door: what node.ts needs to serve the Prometheus HTTP API, remote write and
 * read in, the UI and the web layer (TLS, auth, route prefix) in front of them.
 */
export { createApiApp, type ApiDeps } from "./server.ts";
export { DEFAULT_REMOTE_WRITE_LIMITS } from "./remote/index.ts";
export { createPromqlTools } from "./promql_tools.ts";
export { createUiApp } from "./ui.ts";
export { createWebGate } from "./web_auth.ts";
export { LiveWebConfig } from "./web_live.ts";
export { startTlsFront, type TlsFront } from "./web_tls.ts";
export { computeExternalUrl, computeRoutePrefix, mountAtRoutePrefix } from "./route_prefix.ts";
export { warnIfHeaderLimitLow } from "./http_limits.ts";
