/**
 * How a queue calls its endpoint: the entry's headers, basic auth, authorization from a file
 * (re-read per request), OAuth 2.0 client credentials, TLS with a CA and a client certificate
 * (real ones, made with openssl), and a proxy.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createServer, request, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { createLogger, labelsFromRecord, type SampleRuns } from "../../src/model/index.ts";
import { RemoteWrite } from "../../src/remote/index.ts";
import { makeTestPki } from "../e2e/tls_certs.ts";
import { removeTempDirs, tempDir, waitFor } from "../support/index.ts";
import { startReceiver } from "./receiver.ts";

const logger = createLogger({ level: "error", format: "logfmt" });
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(() => removeTempDirs());

async function remote(yaml: string, file = join(tempDir("rw-cfg"), "p.yml")): Promise<RemoteWrite> {
  const cfg = parseConfig(yaml, file);
  const rw = new RemoteWrite({ dir: tempDir("rw"), logger, userAgent: "Shoal/test", flushDeadlineMs: 200, maxQueueBytes: 16 << 20 });
  running.push(rw);
  await rw.applyConfig(cfg.remoteWrite, cfg.global.externalLabels);
  return rw;
}

function one(t = Date.now()): SampleRuns {
  return { runs: 1, labels: [labelsFromRecord({ __name__: "m" })], ends: Int32Array.of(1), timestamps: Float64Array.of(t), values: Float64Array.of(1) };
}

describe("remote write client options", () => {
  test("headers, basic auth and an authorization credentials file re-read for every request", async () => {
    const rx = startReceiver();
    running.push(rx);
    const dir = tempDir("rw-auth");
    writeFileSync(join(dir, "token"), "first\n");
    const rw = await remote(
      `remote_write:
  - url: ${rx.url}
    headers: {X-Scope-OrgID: tenant-1}
    authorization: {credentials_file: token}
    queue_config: {batch_send_deadline: 20ms}
  - url: ${rx.url}
    basic_auth: {username: alice, password: s3cret}
    queue_config: {batch_send_deadline: 20ms}
`,
      join(dir, "p.yml"),
    );
    await rw.write(one());
    await waitFor("two requests", () => rx.requests.length >= 2, { timeoutMs: 10_000 });
    const auths = rx.requests.map((r) => r.headers.get("authorization")).sort();
    expect(auths).toEqual([`Basic ${Buffer.from("alice:s3cret").toString("base64")}`, "Bearer first"]);
    const bearer = rx.requests.find((r) => r.headers.get("authorization") === "Bearer first")!;
    expect(bearer.headers.get("x-scope-orgid")).toBe("tenant-1");
    expect(bearer.headers.get("user-agent")).toBe("Shoal/test");
    writeFileSync(join(dir, "token"), "second\n");
    await rw.write(one(Date.now() + 1000));
    await waitFor("four requests", () => rx.requests.length >= 4, { timeoutMs: 10_000 });
    expect(rx.requests.slice(2).some((r) => r.headers.get("authorization") === "Bearer second")).toBe(true);
  });

  test("TLS with the entry's CA and client certificate; an endpoint whose certificate the CA did not sign is retried, not trusted", async () => {
    const dir = tempDir("rw-tls");
    const pki = makeTestPki(dir);
    const server = pki.issue("server", ["IP:127.0.0.1", "DNS:localhost"]);
    const client = pki.issue("client", ["DNS:shoal"], { clientAuth: true });
    const rx = startReceiver({ tls: { cert: server.cert, key: server.key, ca: pki.ca } });
    running.push(rx);
    const rw = await remote(`remote_write:
  - url: ${rx.url}
    tls_config: {ca_file: ${pki.caFile}, cert_file: ${client.certFile}, key_file: ${client.keyFile}}
    queue_config: {batch_send_deadline: 20ms}
`);
    await rw.write(one());
    await waitFor("the sample over TLS", () => rx.samples.length >= 1, { timeoutMs: 10_000 });

    // Another CA: the server's certificate is not trusted, nothing is sent, the batch waits.
    const other = makeTestPki(tempDir("rw-tls2"), "other");
    const rw2 = await remote(`remote_write:
  - url: ${rx.url}
    tls_config: {ca_file: ${other.caFile}, cert_file: ${client.certFile}, key_file: ${client.keyFile}}
    queue_config: {batch_send_deadline: 20ms, min_backoff: 20ms, max_backoff: 50ms}
`);
    await rw2.write(one());
    await waitFor("retries", () => rw2.figures().queues[0]!.samplesRetried > 0, { timeoutMs: 10_000 });
    expect(rx.samples.length).toBe(1);
    expect(rw2.figures().queues[0]!.pendingSamples).toBe(1);
  });

  test("OAuth 2.0 client credentials: a token fetched once and sent as a bearer", async () => {
    const rx = startReceiver();
    running.push(rx);
    const tokenRequests: { auth: string | null; body: string }[] = [];
    const tokens = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        tokenRequests.push({ auth: req.headers.get("authorization"), body: await req.text() });
        return Response.json({ access_token: "tok-1", token_type: "Bearer", expires_in: 3600 });
      },
    });
    running.push({ stop: () => tokens.stop(true) });
    const rw = await remote(`remote_write:
  - url: ${rx.url}
    oauth2: {client_id: shoal, client_secret: pw, token_url: "http://127.0.0.1:${tokens.port}/token", scopes: [write, read], endpoint_params: {audience: metrics}}
    queue_config: {batch_send_deadline: 20ms}
`);
    await rw.write(one());
    await waitFor("the sample", () => rx.samples.length >= 1, { timeoutMs: 10_000 });
    await rw.write(one(Date.now() + 1000));
    await waitFor("the second sample", () => rx.samples.length >= 2, { timeoutMs: 10_000 });
    expect(rx.requests.every((r) => r.headers.get("authorization") === "Bearer tok-1")).toBe(true);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]!.auth).toBe(`Basic ${Buffer.from("shoal:pw").toString("base64")}`);
    const form = new URLSearchParams(tokenRequests[0]!.body);
    expect(Object.fromEntries(form)).toEqual({ grant_type: "client_credentials", scope: "write read", audience: "metrics" });
  });

  test("proxy_url: requests go through the proxy", async () => {
    const rx = startReceiver();
    running.push(rx);
    const proxied: string[] = [];
    const proxy: Server = createServer((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      const target = new URL(req.url!);
      const up = request({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    running.push({ stop: () => new Promise<void>((resolve) => proxy.close(() => resolve())) });
    const port = (proxy.address() as { port: number }).port;
    const rw = await remote(`remote_write:
  - url: ${rx.url}
    proxy_url: http://127.0.0.1:${port}
    queue_config: {batch_send_deadline: 20ms}
`);
    await rw.write(one());
    await waitFor("the sample", () => rx.samples.length >= 1, { timeoutMs: 10_000 });
    expect(proxied).toEqual([`POST ${rx.url}`]);
  });
});
