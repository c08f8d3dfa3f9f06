/**
 * The web config file as the HTTP server sees it while running. exporter-toolkit re-reads the
 * file for every request and the certificates for every TLS handshake; here both are re-read
 * when one of the files changed (size, mtime or inode), looked at no more than once per
 * `checkIntervalMs`. A file that does not load at startup is an error (the node does not
 * start); one that stops loading later is logged and the last good settings stay in effect.
 */
import { readFileSync, statSync } from "node:fs";
import { createSecureContext, type SecureContext } from "node:tls";
import { loadWebConfigFile, type TlsServerConfig, type WebConfig } from "../config/index.ts";
import type { Logger } from "../model/index.ts";

export interface WebState {
  readonly config: WebConfig;
  /** The TLS context built from config.tls (certificate, key, client CAs, versions, ciphers, curves). */
  readonly tls: SecureContext | null;
}

function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`failed to read ${field} (${path}): ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
}

/** Builds the server's TLS context; throws an Error naming the file or field at fault. */
export function buildTlsContext(t: TlsServerConfig): SecureContext {
  const cert = t.certFile !== undefined ? readPem("cert_file", t.certFile) : t.cert!;
  const key = t.keyFile !== undefined ? readPem("key_file", t.keyFile) : t.key!;
  const ca = t.clientCaFile !== undefined ? readPem("client_ca_file", t.clientCaFile) : t.clientCa;
  if (ca !== undefined && !ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(`tls_server_config: ${t.clientCaFile !== undefined ? `client_ca_file (${t.clientCaFile})` : "client_ca"} holds no PEM certificate`);
  }
  try {
    return createSecureContext({
      cert,
      key,
      ca,
      minVersion: t.minVersion as "TLSv1.2",
      maxVersion: t.maxVersion as "TLSv1.3",
      ciphers: t.ciphers,
      ecdhCurve: t.ecdhCurve,
      honorCipherOrder: t.preferServerCipherSuites,
    });
  } catch (e) {
    throw new Error(`tls_server_config: failed to load X509KeyPair or TLS settings: ${(e as Error).message}`);
  }
}

function filesOf(c: WebConfig): string[] {
  const t = c.tls;
  return [c.filename, ...(t ? [t.certFile, t.keyFile, t.clientCaFile].filter((f): f is string => f !== undefined) : [])];
}

function signature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}

export class LiveWebConfig {
  private state: WebState;
  private files: string[];
  private seen: string;
  private checkedAt = 0;

  private constructor(
    readonly path: string,
    private readonly logger: Logger,
    private readonly checkIntervalMs: number,
    state: WebState,
  ) {
    this.state = state;
    this.files = filesOf(state.config);
    this.seen = signature(this.files);
  }

  /** Loads the file and its certificates; throws a clear error when they are not usable. */
  static load(path: string, logger: Logger, checkIntervalMs = 1000): LiveWebConfig {
    return new LiveWebConfig(path, logger, checkIntervalMs, LiveWebConfig.read(path));
  }

  private static read(path: string): WebState {
    const config = loadWebConfigFile(path);
    let tls: SecureContext | null = null;
    if (config.tls) {
      try {
        tls = buildTlsContext(config.tls);
      } catch (e) {
        throw new Error(`${path}: ${(e as Error).message}`);
      }
    }
    return { config, tls };
  }

  /** The settings in effect, re-read first if a file changed since the last look. */
  current(now = Date.now()): WebState {
    if (now - this.checkedAt < this.checkIntervalMs) return this.state;
    this.checkedAt = now;
    const sig = signature(this.files);
    if (sig === this.seen) return this.state;
    this.seen = sig;
    try {
      const next = LiveWebConfig.read(this.path);
      if ((next.tls === null) !== (this.state.tls === null)) {
        throw new Error(`turning TLS ${next.tls ? "on" : "off"} needs a restart of the node`);
      }
      this.state = next;
      this.files = filesOf(next.config);
      this.seen = signature(this.files);
      this.logger.info("Loaded the web config file", { filename: this.path, tls: next.tls !== null, users: next.config.users.size });
    } catch (e) {
      this.logger.error("Error reloading the web config file; keeping the last good one", { filename: this.path, err: e as Error });
    }
    return this.state;
  }
}
