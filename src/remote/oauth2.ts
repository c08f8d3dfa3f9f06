/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4), as Prometheus's HTTP client config uses it: a
 * token fetched from `token_url` with the client's id and secret, scopes and extra endpoint
 * parameters, kept until ten seconds before it expires (golang.org/x/oauth2's expiry margin).
 */
import { readFileSync } from "node:fs";
import { httpClientRequestOptions, type OAuth2Config } from "../config/index.ts";

/** Renew this long before the token's stated expiry, as golang.org/x/oauth2 does. */
const EXPIRY_MARGIN_MS = 10_000;

export class OAuth2TokenSource {
  private cached: { token: string; expiresAt: number } | null = null;

  constructor(private readonly cfg: OAuth2Config) {}

  async token(signal: AbortSignal): Promise<string> {
    if (this.cached && Date.now() < this.cached.expiresAt) return this.cached.token;
    const cfg = this.cfg;
    const secret = cfg.clientSecretFile !== undefined ? readFileSync(cfg.clientSecretFile, "utf8").trim() : (cfg.clientSecret ?? "");
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (cfg.scopes.length > 0) form.set("scope", cfg.scopes.join(" "));
    for (const [k, v] of Object.entries(cfg.endpointParams)) form.set(k, v);
    const basic = Buffer.from(`${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(secret)}`).toString("base64");
    const res = await fetch(cfg.tokenUrl, {
      method: "POST",
      body: form.toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${basic}` },
      tls: httpClientRequestOptions({ tlsConfig: cfg.tlsConfig }).tls,
      proxy: cfg.proxyUrl,
      signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`oauth2: cannot fetch token from ${cfg.tokenUrl}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`oauth2: token response from ${cfg.tokenUrl} is not JSON`);
    }
    if (typeof body.access_token !== "string" || body.access_token === "") throw new Error(`oauth2: token response from ${cfg.tokenUrl} has no access_token`);
    const expiresIn = Number(body.expires_in);
    // Without expires_in the token never expires, as golang.org/x/oauth2 treats it.
    const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 - EXPIRY_MARGIN_MS : Infinity;
    this.cached = { token: body.access_token, expiresAt };
    return body.access_token;
  }
}
