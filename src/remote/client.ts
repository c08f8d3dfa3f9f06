/**
 * One remote-write endpoint as Prometheus's storage/remote client calls it: POST of a snappy
 * protobuf body with the 0.1.0 protocol headers, the entry's headers, auth and TLS, within
 * `remote_timeout`. The outcome says whether a retry may help: network errors and 5xx may,
 * 429 may when `retry_on_http_429` is set (after its Retry-After), any other status may not.
 */
import { httpClientRequestOptions, type RemoteWriteConfig } from "../config/index.ts";
import { OAuth2TokenSource } from "./oauth2.ts";

export type StoreOutcome =
  | { ok: true }
  | { ok: false; recoverable: true; retryAfterMs: number; error: string }
  | { ok: false; recoverable: false; error: string; status: number };

/** At most this much of an error response's body is kept for the message, as Prometheus's maxErrMsgLen. */
const MAX_ERROR_MESSAGE = 1024;

/** A Retry-After header in seconds or as an HTTP date; 0 when absent or unusable (then the backoff applies). */
export function retryAfterMs(header: string | null, nowMs: number): number {
  if (header === null || header === "") return 0;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, at - nowMs);
}

/** The URL with any password replaced, for metric labels, logs and the status page. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "xxxxx";
    return u.toString();
  } catch {
    return url;
  }
}

export class WriteClient {
  private readonly oauth2: OAuth2TokenSource | null;

  constructor(
    private readonly cfg: RemoteWriteConfig,
    private readonly userAgent: string,
  ) {
    this.oauth2 = cfg.oauth2 ? new OAuth2TokenSource(cfg.oauth2) : null;
  }

  async store(body: Uint8Array, stop: AbortSignal): Promise<StoreOutcome> {
    const cfg = this.cfg;
    let res: Response;
    try {
      // Credentials and certificate files are read per request: a rotated secret needs no reload.
      const opts = httpClientRequestOptions(cfg);
      const headers: Record<string, string> = { ...cfg.headers, ...opts.headers };
      if (this.oauth2) headers.Authorization = `Bearer ${await this.oauth2.token(stop)}`;
      headers["Content-Encoding"] = "snappy";
      headers["Content-Type"] = "application/x-protobuf";
      headers["User-Agent"] = this.userAgent;
      headers["X-Prometheus-Remote-Write-Version"] = "0.1.0";
      res = await fetch(cfg.url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers,
        tls: opts.tls,
        proxy: cfg.proxyUrl,
        redirect: cfg.followRedirects ? "follow" : "manual",
        signal: AbortSignal.any([stop, AbortSignal.timeout(cfg.remoteTimeout)]),
      });
    } catch (e) {
      if (stop.aborted) return { ok: false, recoverable: true, retryAfterMs: 0, error: "stopped" };
      return { ok: false, recoverable: true, retryAfterMs: 0, error: (e as Error).message };
    }
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => {});
      return { ok: true };
    }
    let line = "";
    try {
      line = (await res.text()).slice(0, MAX_ERROR_MESSAGE).split("\n")[0] ?? "";
    } catch {
      // The status says enough.
    }
    const error = `server returned HTTP status ${res.status} ${res.statusText}: ${line}`;
    if (res.status >= 500 && res.status < 600) return { ok: false, recoverable: true, retryAfterMs: 0, error };
    if (res.status === 429 && cfg.queueConfig.retryOnHttp429) return { ok: false, recoverable: true, retryAfterMs: retryAfterMs(res.headers.get("Retry-After"), Date.now()), error };
    return { ok: false, recoverable: false, error, status: res.status };
  }
}
