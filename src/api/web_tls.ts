/**
 * HTTPS for the node's listen address. Bun.serve's own TLS cannot show the client certificate
 * to the application (client_allowed_sans), choose curves, or change settings per connection,
 * so TLS is terminated here with node:tls, which can: every accepted connection is wrapped with
 * the settings in effect at that moment (as exporter-toolkit's GetConfigForClient does), the
 * client certificate is checked against client_auth_type and client_allowed_sans, and the
 * decrypted stream is passed to the HTTP server listening on a private Unix socket.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { TlsServerConfig } from "../config/index.ts";
import type { Logger } from "../model/index.ts";
import type { LiveWebConfig } from "./web_live.ts";

/** A client that has not finished its TLS handshake by then is dropped (slowloris). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsFront {
  readonly port: number;
  /** Stops accepting connections; open ones keep going until they end. */
  stopListening(): void;
  /** Closes every connection still open. */
  closeAll(): void;
}

/** Subject alternative names as Go lists them for the SAN check: DNS, email, IP, URI. */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  // node prints `DNS:a, email:b, IP Address:1.2.3.4, URI:c`; a value with a comma or quote is
  // printed as a JSON string.
  const re = /(DNS|email|IP Address|URI|[\w ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of text.matchAll(re)) {
    const kind = m[1]!;
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (kind === "IP Address") out.push(normalizeIp(value));
    else if (kind === "DNS" || kind === "email" || kind === "URI") out.push(value);
  }
  return out;
}

/** IPv6 in Go's shortest form (node prints every group), IPv4 unchanged. */
function normalizeIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

function allowedSan(sans: readonly string[], allowed: readonly string[]): boolean {
  const want = new Set(allowed.map((a) => (a.includes(":") && !a.includes("/") ? normalizeIp(a) : a)));
  return sans.some((s) => want.has(s));
}

/** Why a finished handshake is refused under the current client_auth_type and SAN list, or null. */
function refusal(sock: TLSSocket, t: TlsServerConfig): string | null {
  const cert = sock.getPeerCertificate();
  const has = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  switch (t.clientAuthType) {
    case "RequireAnyClientCert":
      if (!has) return "client didn't provide a certificate";
      break;
    case "VerifyClientCertIfGiven":
      if (has && !sock.authorized) return `failed to verify client certificate: ${String(sock.authorizationError)}`;
      break;
    case "RequireAndVerifyClientCert":
      if (!has) return "client didn't provide a certificate";
      if (!sock.authorized) return `failed to verify client certificate: ${String(sock.authorizationError)}`;
      break;
    default:
      break;
  }
  if (t.clientAllowedSans !== null) {
    if (!has) return "client did not present a certificate to match against client_allowed_sans";
    const sans = subjectAltNames(cert.subjectaltname);
    if (!allowedSan(sans, t.clientAllowedSans)) return `could not find allowed SANs in client cert, found: [${sans.join(" ")}]`;
  }
  return null;
}

/** Listens on hostname:port for TLS and forwards each accepted connection to `backendSocket`. */
export function startTlsFront(opts: { hostname: string; port: number; live: LiveWebConfig; backendSocket: string; idleTimeoutMs: number; logger: Logger }): Promise<TlsFront> {
  const { live, logger } = opts;
  const open = new Set<Socket>();
  const server: Server = createServer((raw) => {
    open.add(raw);
    raw.on("close", () => open.delete(raw));
    raw.on("error", () => raw.destroy());
    const state = live.current();
    const t = state.config.tls!;
    const sock = new TLSSocket(raw, {
      isServer: true,
      secureContext: state.tls!,
      requestCert: t.clientAuthType !== "NoClientCert",
      // Verification results are read in refusal(), per client_auth_type.
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    const handshakeTimer = setTimeout(() => sock.destroy(), HANDSHAKE_TIMEOUT_MS);
    sock.on("error", (err) => {
      clearTimeout(handshakeTimer);
      logger.debug("TLS connection error", { remote: raw.remoteAddress, err });
      sock.destroy();
      raw.destroy();
    });
    sock.once("secure", () => {
      clearTimeout(handshakeTimer);
      const why = refusal(sock, t);
      if (why !== null) {
        logger.warn("TLS handshake refused", { remote: `${raw.remoteAddress}:${raw.remotePort}`, reason: why });
        sock.destroy();
        return;
      }
      const backend = createConnection(opts.backendSocket);
      backend.on("error", (err) => {
        logger.debug("TLS front: backend connection error", { err });
        sock.destroy();
      });
      sock.on("close", () => backend.destroy());
      backend.on("close", () => sock.destroy());
      // A connection with no traffic either way for this long is closed, as Bun.serve's idleTimeout does.
      if (opts.idleTimeoutMs > 0) sock.setTimeout(opts.idleTimeoutMs, () => sock.destroy());
      sock.pipe(backend);
      backend.pipe(sock);
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", reject);
      const addr = server.address();
      const port = addr !== null && typeof addr === "object" ? addr.port : opts.port;
      resolvePromise({
        port,
        stopListening: () => void server.close(),
        closeAll: () => {
          server.close();
          for (const s of open) s.destroy();
        },
      });
    });
  });
}
