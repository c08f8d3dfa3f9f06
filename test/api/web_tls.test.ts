/**
 * The web config's TLS settings over real sockets: the TLS front (node:tls) with the node's HTTP
 * server behind it on a Unix socket, certificates made with openssl. Covers what the process
 * tests in test/e2e/web_config.test.ts do not: every client_auth_type, TLS versions, cipher
 * suites, curves, certificate rotation without a restart, and the rate limit.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import { createWebGate } from "../../src/api/web_auth.ts";
import { LiveWebConfig } from "../../src/api/web_live.ts";
import { startTlsFront, type TlsFront } from "../../src/api/web_tls.ts";
import { createLogger } from "../../src/model/index.ts";
import { tempDir } from "../support/index.ts";
import { makeTestPki, type IssuedCert } from "../e2e/tls_certs.ts";

const dir = tempDir("webtls");
const pki = makeTestPki(dir);
const server = pki.issue("server", ["DNS:localhost", "IP:127.0.0.1"]);
const client = pki.issue("client", ["DNS:good.client", "URI:spiffe://shoal/test"], { clientAuth: true });
const stranger = makeTestPki(dir, "stranger").issue("stranger-client", ["DNS:good.client"], { clientAuth: true });
const logger = createLogger({ level: "error", format: "logfmt" });

const running: { front: TlsFront; backend: ReturnType<typeof Bun.serve> }[] = [];
afterAll(async () => {
  for (const r of running) {
    r.front.closeAll();
    await r.backend.stop(true);
  }
  rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
async function serve(tlsYaml: string, extra = ""): Promise<{ port: number; webFile: string }> {
  const n = serial++;
  const webFile = join(dir, `web-${n}.yml`);
  writeFileSync(webFile, `tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\n${tlsYaml}${extra}`);
  const live = LiveWebConfig.load(webFile, logger, 0);
  const backendSocket = join(dir, `http-${n}.sock`);
  const backend = Bun.serve({ unix: backendSocket, fetch: createWebGate(() => live.current().config).wrap(() => new Response("ok")) });
  const front = await startTlsFront({ hostname: "127.0.0.1", port: 0, live, backendSocket, idleTimeoutMs: 0, logger });
  running.push({ front, backend });
  return { port: front.port, webFile };
}

interface Hello {
  cert?: IssuedCert;
  ca?: string;
  minVersion?: "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1.2" | "TLSv1.3";
  ciphers?: string;
  ecdhCurve?: string;
}

/** A raw TLS connection and one HTTP request: the status line, or "refused: <why>". */
function request(port: number, h: Hello = {}): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: h.ca ?? pki.ca,
      cert: h.cert?.cert,
      key: h.cert?.key,
      minVersion: h.minVersion,
      maxVersion: h.maxVersion,
      ciphers: h.ciphers,
      ecdhCurve: h.ecdhCurve,
    });
    let data = "";
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(`refused: timeout ${data}`);
    }, 3000);
    let negotiated = "";
    sock.on("secureConnect", () => {
      negotiated = `${sock.getProtocol()} ${sock.getCipher().name}`;
      sock.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    });
    sock.on("data", (d) => (data += d.toString()));
    const done = (why: string) => {
      clearTimeout(timer);
      resolve(data.startsWith("HTTP/1.1") ? `${data.split("\r\n")[0]} ${negotiated}` : `refused: ${why}`);
    };
    sock.on("error", (e) => done(e.message));
    sock.on("close", () => done("closed"));
  });
}

describe("client_auth_type", () => {
  test("NoClientCert: anyone with the CA", async () => {
    const { port } = await serve("");
    expect(await request(port)).toStartWith("HTTP/1.1 200");
  });
  test("RequestClientCert: a certificate is asked for but neither needed nor verified", async () => {
    const { port } = await serve("  client_auth_type: RequestClientCert\n");
    expect(await request(port)).toStartWith("HTTP/1.1 200");
    expect(await request(port, { cert: stranger })).toStartWith("HTTP/1.1 200");
  });
  test("RequireAnyClientCert: some certificate, not verified", async () => {
    const { port } = await serve("  client_auth_type: RequireAnyClientCert\n");
    expect(await request(port)).toStartWith("refused");
    expect(await request(port, { cert: stranger })).toStartWith("HTTP/1.1 200");
  });
  test("VerifyClientCertIfGiven: none is fine, a given one must verify", async () => {
    const { port } = await serve(`  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ${pki.caFile}\n`);
    expect(await request(port)).toStartWith("HTTP/1.1 200");
    expect(await request(port, { cert: client })).toStartWith("HTTP/1.1 200");
    expect(await request(port, { cert: stranger })).toStartWith("refused");
  });
  test("RequireAndVerifyClientCert with client_allowed_sans (a URI SAN)", async () => {
    const { port } = await serve(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca: |\n${pki.ca.replace(/^/gm, "    ")}\n  client_allowed_sans: ["spiffe://shoal/test"]\n`);
    expect(await request(port, { cert: client })).toStartWith("HTTP/1.1 200");
    expect(await request(port)).toStartWith("refused");
    expect(await request(port, { cert: stranger })).toStartWith("refused");
  });
});

describe("protocol settings", () => {
  test("min_version TLS13 refuses a TLS 1.2 client; max_version TLS12 caps the protocol", async () => {
    const only13 = await serve("  min_version: TLS13\n");
    expect(await request(only13.port, { maxVersion: "TLSv1.2" })).toStartWith("refused");
    expect(await request(only13.port)).toContain("TLSv1.3");
    const upTo12 = await serve("  max_version: TLS12\n");
    expect(await request(upTo12.port)).toContain("TLSv1.2");
  });
  test("cipher_suites limits TLS 1.2 ciphers; prefer_server_cipher_suites picks the server's order", async () => {
    const { port } = await serve("  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n");
    expect(await request(port, { ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305" })).toStartWith("refused");
    expect(await request(port, { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384" })).toContain("ECDHE-ECDSA-AES256-GCM-SHA384");
    const clientOrder = await serve("  max_version: TLS12\n  prefer_server_cipher_suites: false\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n");
    expect(await request(clientOrder.port, { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384" })).toContain("ECDHE-ECDSA-AES128-GCM-SHA256");
  });
  test("curve_preferences limits the key exchange groups", async () => {
    const { port } = await serve("  curve_preferences: [CurveP384]\n");
    expect(await request(port, { ecdhCurve: "X25519" })).toStartWith("refused");
    expect(await request(port, { ecdhCurve: "P-384" })).toStartWith("HTTP/1.1 200");
  });
});

test("a rotated certificate is served to new connections without a restart", async () => {
  const certFile = join(dir, "rotating.crt");
  const keyFile = join(dir, "rotating.key");
  copyFileSync(server.certFile, certFile);
  copyFileSync(server.keyFile, keyFile);
  const webFile = join(dir, "rotating.yml");
  writeFileSync(webFile, `tls_server_config:\n  cert_file: ${certFile}\n  key_file: ${keyFile}\n`);
  const live = LiveWebConfig.load(webFile, logger, 0);
  const backendSocket = join(dir, "rotating.sock");
  const backend = Bun.serve({ unix: backendSocket, fetch: () => new Response("ok") });
  const front = await startTlsFront({ hostname: "127.0.0.1", port: 0, live, backendSocket, idleTimeoutMs: 0, logger });
  running.push({ front, backend });
  expect(await request(front.port)).toStartWith("HTTP/1.1 200");
  const otherPki = makeTestPki(dir, "rotated-ca");
  const rotated = otherPki.issue("rotated-server", ["DNS:localhost"]);
  copyFileSync(rotated.keyFile, keyFile);
  copyFileSync(rotated.certFile, certFile);
  expect(await request(front.port)).toStartWith("refused");
  expect(await request(front.port, { ca: otherPki.ca })).toStartWith("HTTP/1.1 200");
});

test("rate_limit answers 429 beyond the burst", async () => {
  const { port } = await serve("", "rate_limit:\n  burst: 2\n  interval: 1m\n");
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await request(port)).slice(0, 12));
  expect(statuses).toEqual(["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 429", "HTTP/1.1 429"]);
});
