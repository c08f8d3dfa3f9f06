/**
 * How the `shoal cluster` commands reach a node: plain fetch, or with the credentials and TLS
 * settings of an HTTP client config file (`--http.config.file`, promtool's format) when the
 * node's web config turns on TLS or authentication.
 */
import { httpClientRequestOptions, loadHttpClientConfigFile, type HttpClientConfig } from "../../config/index.ts";

let clientConfig: HttpClientConfig | null = null;

/** Loads `--http.config.file` for the rest of the command; throws a ConfigError naming the fault. */
export function useHttpConfigFile(path: string): void {
  clientConfig = loadHttpClientConfigFile(path);
}

/** fetch with the command's HTTP client config applied (files are read per call). */
export function cliFetch(url: string, init: RequestInit = {}): Promise<Response> {
  if (clientConfig === null) return fetch(url, init);
  const opts = httpClientRequestOptions(clientConfig);
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(opts.headers)) headers.set(k, v);
  return fetch(url, { ...init, headers, tls: opts.tls } as BunFetchRequestInit);
}

/** A hint for answers that show the node wants TLS or credentials this command did not bring. */
export function authHint(status: number): string {
  if (status !== 401 || clientConfig !== null) return "";
  return " (the node asks for credentials: pass --http.config.file with basic_auth, as promtool's --http.config.file)";
}
