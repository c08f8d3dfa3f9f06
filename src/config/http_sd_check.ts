/**
 * http_sd_configs as Prometheus checks them: a URL with an http(s) scheme and a host, a refresh
 * interval (default 1m), and the HTTP client fields every block that calls out shares.
 */
import type { Checker, Path } from "./checker.ts";
import { checkHttpClientFields } from "./http_client_fields.ts";
import type { RawHttpSD } from "./schema.ts";
import type { HttpSDConfig } from "./types.ts";

const DEFAULT_HTTP_SD_REFRESH = 60_000;

export function checkHttpSDConfigs(c: Checker, raw: readonly RawHttpSD[] | null | undefined, path: Path): HttpSDConfig[] {
  return (raw ?? []).map((hc, i) => {
    const at = [...path, i];
    const url = hc.url ?? "";
    if (url === "") c.fail(at, "URL is missing", hc.url == null ? undefined : "url");
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      c.fail(at, `invalid URL ${JSON.stringify(url)}`, "url");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") c.fail(at, "URL scheme must be 'http' or 'https'", "url");
    // WHATWG URLs skip empty authorities ("http:///x" has host "x"); Go's parser, as Prometheus, does not.
    if (parsed.host === "" || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]/i.test(url)) c.fail(at, "host is missing in URL", "url");
    const refreshInterval = hc.refresh_interval ?? DEFAULT_HTTP_SD_REFRESH;
    // Prometheus would start a ticker of 0 and panic; refuse it while the file is open.
    if (refreshInterval <= 0) c.fail(at, "refresh_interval must be greater than 0", "refresh_interval");
    return { url, refreshInterval, ...checkHttpClientFields(c, hc, at) };
  });
}
