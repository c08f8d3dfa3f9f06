/**
 * --web.config.file through real node processes and real openssl certificates: HTTPS, client
 * certificates with client_allowed_sans, basic auth with bcrypt hashes, configured headers, a
 * changed file picked up while running, a bad file refused at startup, and the client side
 * (`shoal cluster status --http.config.file`, the built-in self-scrape).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, waitFor, freePort, REPO_ROOT, run, startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { writeRequestBody } from "./remote_write_client.ts";
import { makeTestPki, type IssuedCert } from "./tls_certs.ts";

const dir = tempDir("webcfg");
const pki = makeTestPki(dir);
const serverCert = pki.issue("server", ["DNS:localhost", "IP:127.0.0.1"]);
const goodClient = pki.issue("good-client", ["DNS:good.client", "email:ops@example.com"], { clientAuth: true });
const otherClient = pki.issue("other-client", ["DNS:other.client"], { clientAuth: true });
const strangerPki = makeTestPki(dir, "stranger-ca");
const strangerClient = strangerPki.issue("stranger-client", ["DNS:good.client"], { clientAuth: true });

const nodes: ShoalNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

interface Call {
  ca?: string;
  client?: IssuedCert;
  auth?: string;
}

/** One HTTPS request on a fresh connection (so that each call's TLS settings are its own). */
async function get(url: string, c: Call = {}): Promise<Response> {
  const tls: Record<string, unknown> = {};
  if (c.ca !== undefined) tls.ca = c.ca;
  if (c.client) {
    tls.cert = c.client.cert;
    tls.key = c.client.key;
  }
  return fetch(url, {
    headers: c.auth ? { Authorization: c.auth } : {},
    tls,
    keepalive: false,
    signal: AbortSignal.timeout(5000),
  } as BunFetchRequestInit);
}

async function startTlsNode(webYaml: string, extraArgs: string[] = []): Promise<{ node: ShoalNode; base: string; webFile: string }> {
  const webFile = join(dir, `web-${nodes.length}.yml`);
  writeFileSync(webFile, webYaml);
  const node = await startShoal({ args: [`--web.config.file=${webFile}`, ...extraArgs], waitReady: false });
  nodes.push(node);
  const base = `https://127.0.0.1:${node.port}`;
  return { node, base, webFile };
}

/** Waits until the node answers at all over TLS (any HTTP status). */
async function waitTls(node: ShoalNode, base: string, call: Call): Promise<void> {
  await waitFor(
    `${base} to answer over TLS`,
    async () => {
      if (node.proc.exitCode !== null) throw new Error(`node exited ${node.proc.exitCode}:\n${node.output()}`);
      await get(`${base}/-/healthy`, call);
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

describe("TLS, basic auth and headers", async () => {
  const hash = await Bun.password.hash("s3cret", { algorithm: "bcrypt", cost: 5 });
  const bobHash = await Bun.password.hash("hunter2", { algorithm: "bcrypt", cost: 5 });
  const webYaml = (users: Record<string, string>, frame = "deny") => `
tls_server_config:
  cert_file: ${serverCert.certFile}
  key_file: ${serverCert.keyFile}
http_server_config:
  headers:
    Content-Security-Policy: "default-src 'self'"
    X-Frame-Options: ${frame}
    X-Content-Type-Options: nosniff
    X-XSS-Protection: "1; mode=block"
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
${Object.entries(users)
  .map(([u, h]) => `  ${u}: '${h}'`)
  .join("\n")}
`;
  const clientFile = join(dir, "client.yml");
  writeFileSync(clientFile, `basic_auth:\n  username: alice\n  password: s3cret\ntls_config:\n  ca_file: ${pki.caFile}\n`);
  const { node, base, webFile } = await startTlsNode(webYaml({ alice: hash }), [`--web.client-config.file=${clientFile}`]);
  const alice = { ca: pki.ca, auth: basic("alice", "s3cret") };
  await waitTls(node, base, alice);

  test("https works with the right CA and fails without it; plain HTTP gets no answer", async () => {
    const ok = await get(`${base}/-/healthy`, alice);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("Healthy");
    await expect(get(`${base}/-/healthy`, { auth: alice.auth })).rejects.toThrow();
    const plain = await fetch(`http://127.0.0.1:${node.port}/-/healthy`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.status,
      () => "no HTTP answer",
    );
    expect(plain).toBe("no HTTP answer");
  });

  test("basic auth: 401 without credentials or with a wrong password or user, 200 with the right ones", async () => {
    const none = await get(`${base}/api/v1/query?query=1`, { ca: pki.ca });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Basic");
    expect((await get(`${base}/api/v1/query?query=1`, { ca: pki.ca, auth: basic("alice", "wrong") })).status).toBe(401);
    expect((await get(`${base}/api/v1/query?query=1`, { ca: pki.ca, auth: basic("mallory", "s3cret") })).status).toBe(401);
    const ok = await get(`${base}/api/v1/query?query=1`, alice);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { status: string }).status).toBe("success");
  });

  test("configured headers are on every answer, refusals included", async () => {
    for (const res of [await get(`${base}/-/healthy`, alice), await get(`${base}/-/healthy`, { ca: pki.ca })]) {
      expect(res.headers.get("content-security-policy")).toBe("default-src 'self'");
      expect(res.headers.get("x-frame-options")).toBe("deny");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-xss-protection")).toBe("1; mode=block");
      expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000");
    }
  });

  test("the built-in config scrapes the node itself over https with the client config's credentials", async () => {
    await waitFor(
      "up{job=shoal} == 1",
      async () => {
        const res = await get(`${base}/api/v1/query?query=${encodeURIComponent('up{job="shoal"}')}`, alice);
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result[0]?.value[1] === "1";
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
  }, 45_000);

  test("shoal cluster status reaches a TLS + basic auth node with --http.config.file, and says why without", async () => {
    const withCfg = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "cluster", "status", "--url", base, "--http.config.file", clientFile]);
    expect(withCfg.stderr).toBe("");
    expect(withCfg.code).toBe(0);
    expect(withCfg.stdout).toContain("members");
    const noCa = join(dir, "client-no-ca.yml");
    writeFileSync(noCa, "basic_auth:\n  username: alice\n  password: s3cret\n");
    const untrusted = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "cluster", "status", "--url", base, "--http.config.file", noCa]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain("cannot reach");
    const badCfg = join(dir, "client-bad.yml");
    writeFileSync(badCfg, "basic_auth:\n  username: alice\n  pasword: s3cret\n");
    const bad = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "cluster", "status", "--url", base, "--http.config.file", badCfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${badCfg}:3: basic_auth.pasword: unknown field "pasword"`);
  }, 30_000);

  test("a changed web config file is picked up without a restart; a broken one keeps the last good one", async () => {
    writeFileSync(webFile, webYaml({ bob: bobHash }, "sameorigin"));
    await waitFor("bob accepted", async () => (await get(`${base}/-/healthy`, { ca: pki.ca, auth: basic("bob", "hunter2") })).status === 200, { timeoutMs: 10_000, intervalMs: 200 });
    expect((await get(`${base}/-/healthy`, alice)).status).toBe(401);
    expect((await get(`${base}/-/healthy`, { ca: pki.ca, auth: basic("bob", "hunter2") })).headers.get("x-frame-options")).toBe("sameorigin");

    writeFileSync(webFile, "basic_auth_users:\n  bob: not-a-hash\n");
    // The file is looked at when requests come in (at most once a second).
    await waitFor(
      "the reload error is logged",
      async () => {
        await get(`${base}/-/healthy`, { ca: pki.ca, auth: basic("bob", "hunter2") });
        return node.output().includes("Error reloading the web config file");
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(node.output()).toContain("basic_auth_users.bob: not a bcrypt hash");
    expect((await get(`${base}/-/healthy`, { ca: pki.ca, auth: basic("bob", "hunter2") })).status).toBe(200);
  }, 30_000);
});

describe("peers with TLS and basic auth", async () => {
  const hash = await Bun.password.hash("peer-pw", { algorithm: "bcrypt", cost: 5 });
  const webYaml = `tls_server_config:\n  cert_file: ${serverCert.certFile}\n  key_file: ${serverCert.keyFile}\nbasic_auth_users:\n  peer: '${hash}'\n`;
  const clientFile = join(dir, "peer-client.yml");
  writeFileSync(clientFile, `basic_auth:\n  username: peer\n  password: peer-pw\ntls_config:\n  ca_file: ${pki.caFile}\n`);
  const clusterPort = freePort();
  const cluster = [`--cluster.name=webcfg-${process.pid}`, `--web.client-config.file=${clientFile}`];
  const a = await startTlsNode(webYaml, [...cluster, `--cluster.listen-address=127.0.0.1:${clusterPort}`]);
  const b = await startTlsNode(webYaml, [...cluster, `--cluster.join=127.0.0.1:${clusterPort}`]);
  // A member without credentials for its peers' HTTP API.
  const c = await startTlsNode(webYaml, [`--cluster.name=webcfg-${process.pid}`, `--cluster.join=127.0.0.1:${clusterPort}`]);
  const peer = { ca: pki.ca, auth: basic("peer", "peer-pw") };
  await waitTls(a.node, a.base, peer);
  await waitTls(b.node, b.base, peer);
  await waitTls(c.node, c.base, peer);

  test("a node lists its peers' targets over https with --web.client-config.file", async () => {
    const body = await waitFor(
      "both members' targets without warnings",
      async () => {
        const status = (await (await get(`${a.base}/api/v1/status/cluster`, peer)).json()) as { data: { members: { httpAddress: string; health: string }[] } };
        if (status.data.members.filter((m) => m.health === "alive").length !== 3) return null;
        expect(status.data.members.every((m) => m.httpAddress.startsWith("https://"))).toBe(true);
        const res = (await (await get(`${a.base}/ui/api/targets`, peer)).json()) as { warnings?: string[]; data: { activeTargets: unknown[] } };
        // Right after the members meet, the scrape shares may not be assigned yet: an empty list without warnings.
        return res.warnings === undefined && res.data.activeTargets.length > 0 ? res : null;
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    expect(body.data.activeTargets.length).toBeGreaterThan(0);
  }, 45_000);

  test("members read each other's series over https with the client config, and over libp2p without it", async () => {
    const now = Date.now();
    const write = await fetch(`${a.base}/api/v1/write`, {
      method: "POST",
      body: writeRequestBody([{ labels: { __name__: "peer_read_test", via: "a" }, samples: [[now - 60_000, 1], [now - 30_000, 2]] }]) as Uint8Array<ArrayBuffer>,
      headers: { Authorization: peer.auth, "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0" },
      tls: { ca: pki.ca },
    } as BunFetchRequestInit);
    expect(write.status).toBe(204);
    const selects = async (base: string, transport: string): Promise<number> => {
      const text = await (await get(`${base}/metrics`, peer)).text();
      const line = text.split("\n").find((l) => l.startsWith(`shoal_cluster_rpc_requests_total{protocol="/shoal/select/2",transport="${transport}"}`));
      return line === undefined ? 0 : Number(line.split(" ").at(-1));
    };
    for (const { base } of [b, c]) {
      const range = `query=peer_read_test&start=${(now - 120_000) / 1000}&end=${now / 1000}&step=15`;
      const res = (await (await get(`${base}/api/v1/query_range?${range}`, peer)).json()) as { status: string; warnings?: string[]; data: { result: { values: unknown[] }[] } };
      expect(res.status).toBe("success");
      expect(res.warnings).toBeUndefined();
      expect(res.data.result.length).toBe(1);
    }
    // b has credentials: its reads of the others go over their HTTP API (TLS and basic auth),
    // once a probe found it reachable (the first ones meanwhile over libp2p).
    await waitFor("b to read over HTTP", async () => {
      await get(`${b.base}/api/v1/query?query=peer_read_test`, peer);
      return (await selects(b.base, "http")) > 0;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    // c has none (no CA for its peers' certificates, no password): it says why and reads over libp2p.
    expect(await selects(c.base, "http")).toBe(0);
    expect(await selects(c.base, "libp2p")).toBeGreaterThan(0);
    expect(c.node.output()).toContain("asking a member over libp2p: its HTTP API cannot serve cluster reads");
    expect(c.node.output()).toContain("unable to verify the first certificate");
  }, 30_000);
});

describe("client certificates", async () => {
  const { node, base } = await startTlsNode(`
tls_server_config:
  cert_file: ${serverCert.certFile}
  key_file: ${serverCert.keyFile}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ${pki.caFile}
  client_allowed_sans: [good.client]
`);
  await waitTls(node, base, { ca: pki.ca, client: goodClient });

  test("a client certificate is required and verified, and must carry an allowed SAN", async () => {
    expect((await get(`${base}/-/healthy`, { ca: pki.ca, client: goodClient })).status).toBe(200);
    await expect(get(`${base}/-/healthy`, { ca: pki.ca })).rejects.toThrow();
    await expect(get(`${base}/-/healthy`, { ca: pki.ca, client: otherClient })).rejects.toThrow();
    await expect(get(`${base}/-/healthy`, { ca: pki.ca, client: strangerClient })).rejects.toThrow();
    expect(node.output()).toContain("could not find allowed SANs in client cert");
  });
});

describe("a bad web config file", () => {
  const cases: [string, string, string][] = [
    ["unknown field", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  cert_fle: x\n", `:4: tls_server_config.cert_fle: unknown field "cert_fle"`],
    ["header not allowed", "http_server_config:\n  headers:\n    Server: shoal\n", `:3: http_server_config.headers.Server: HTTP header "Server" can not be configured`],
    ["X-Frame-Options value", "http_server_config:\n  headers:\n    X-Frame-Options: allow\n", "invalid value for X-Frame-Options"],
    ["not a bcrypt hash", "basic_auth_users:\n  alice: s3cret\n", ":2: basic_auth_users.alice: not a bcrypt hash"],
    ["missing cert file", "tls_server_config:\n  cert_file: /nonexistent/server.crt\n  key_file: /nonexistent/server.key\n", "failed to read cert_file (/nonexistent/server.crt): no such file or directory"],
    ["SANs without a required client cert", `tls_server_config:\n  cert_file: ${serverCert.certFile}\n  key_file: ${serverCert.keyFile}\n  client_allowed_sans: [a]\n`, "client_allowed_sans requires client_auth_type"],
    ["TLS option without a certificate", "tls_server_config:\n  min_version: TLS13\n", "tls_server_config.min_version: TLS is not enabled"],
  ];
  for (const [name, yaml, message] of cases) {
    test(`${name}: the node refuses to start and says what is wrong`, async () => {
      const file = join(dir, `bad-${name.replace(/\W+/g, "-")}.yml`);
      writeFileSync(file, yaml);
      const port = freePort();
      const res = await run(
        [BUN, join(REPO_ROOT, "src/cli.ts"), `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, "bad-data")}`, "--cluster.mdns=false", "--cluster.listen-address=127.0.0.1:0", `--web.config.file=${file}`],
        { timeoutMs: 30_000 },
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`shoal: error: ${file}`);
      expect(res.stderr).toContain(message);
    });
  }
});
