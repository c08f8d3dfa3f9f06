/**
 * Reads over the members' HTTP API (http_rpc.ts), with a real Bun server and client: a member
 * is asked over HTTP once a probe found it reachable; what the handler streams arrives in order
 * and whole, its errors are the caller's remote errors, and a member that cannot be asked this
 * way (another node at the address, a protocol it does not serve, no server, a server that does
 * not answer, refused credentials) makes the call resolve null at once, so that it goes over
 * libp2p; such a member is probed again only after a while.
 */
import { afterAll, expect, test } from "bun:test";
import { HttpRpc, HTTP_RPC_PATH, httpRpcToken, serveHttpRpc } from "../../src/cluster/http_rpc.ts";
import { encodeFrame } from "../../src/cluster/codec.ts";
import { RpcRemoteError, RpcTimeoutError, type RpcHandler } from "../../src/cluster/rpc.ts";
import type { Logger } from "../../src/model/index.ts";
import { freePort } from "../support/index.ts";

const SELF = "member-b";
const READ = "/test/read/1";
const SLOW = "/test/slow/1";
let hits = 0;
let requireAuth = false;
let hang = false;
/** The token the server asks for (a cluster secret's), or none. */
let serverToken: string | null = null;
let lastFrom = "";

const handlers: Record<string, RpcHandler> = {
  [READ]: async (req, ctx) => {
    lastFrom = ctx.from;
    const r = req as { parts: number; size: number; fail?: string };
    for (let i = 0; i < r.parts; i++) {
      const part = new Uint8Array(r.size).fill(i % 251);
      await ctx.sendBytes(part);
      await ctx.send({ i });
    }
    if (r.fail) throw new Error(r.fail);
    return { done: r.parts };
  },
  [SLOW]: async () => {
    await Bun.sleep(2000);
    return "late";
  },
};

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (request) => {
    hits++;
    if (hang) return new Promise<Response>(() => {});
    if (requireAuth && request.headers.get("authorization") !== "Basic cGVlcjpwdw==") return new Response("Unauthorized\n", { status: 401 });
    if (new URL(request.url).pathname !== HTTP_RPC_PATH) return new Response("not found\n", { status: 404 });
    return serveHttpRpc(request, { selfId: SELF, protocols: [READ, SLOW], handler: (p) => handlers[p], token: serverToken });
  },
});
afterAll(() => server.stop(true));

const logged: string[] = [];
const logger = {
  info: (msg: string, f?: Record<string, unknown>) => logged.push(`${msg} ${JSON.stringify(f)}`),
  debug: () => {},
  warn: () => {},
  error: () => {},
} as unknown as Logger;

async function waitUntil(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await Bun.sleep(10);
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

/** A client that has probed SELF (and found it reachable, unless the test says otherwise). */
async function probed(o: Parameters<typeof client>[0] = {}): Promise<HttpRpc> {
  const c = client(o);
  await c.probe(SELF);
  return c;
}

function client(o: { url?: string | null; headers?: Record<string, string>; now?: () => number; token?: string } = {}): HttpRpc {
  return new HttpRpc({
    selfId: "member-a",
    protocols: [READ, SLOW, "/test/unserved/1"],
    urlOf: () => (o.url === undefined ? `http://127.0.0.1:${server.port}` : o.url),
    request: () => ({ headers: o.headers ?? {}, tls: {} }),
    token: o.token ?? null,
    logger,
    now: o.now,
  });
}

test("a member is asked over HTTP once a probe found it reachable; until then the call goes over libp2p", async () => {
  const c = client();
  const before = hits;
  expect(await c.call(SELF, READ, { parts: 1, size: 3 }, 5000)).toBeNull();
  await waitUntil("the probe", () => hits === before + 1);
  let answer: { value: unknown } | null = null;
  for (let i = 0; i < 100 && answer === null; i++) answer = await c.call(SELF, READ, { parts: 1, size: 3 }, 5000);
  expect(answer).toEqual({ value: { done: 1 } });
});

test("parts arrive in order and whole, then the final value, also when they outrun the reader", async () => {
  const got: unknown[] = [];
  let bytes = 0;
  // 40 parts of 256 KiB: far more than the server queues before waiting for the reader.
  const answer = await (await probed()).call(SELF, READ, { parts: 40, size: 256 * 1024 }, 10_000, (part, frameBytes) => {
    bytes += frameBytes;
    got.push(part instanceof Uint8Array ? `bytes ${part.length} ${part[0]} ${part[part.length - 1]}` : part);
  });
  expect(answer).toEqual({ value: { done: 40 } });
  expect(got.length).toBe(80);
  for (let i = 0; i < 40; i++) {
    expect(got[2 * i]).toBe(`bytes ${256 * 1024} ${i % 251} ${i % 251}`);
    expect(got[2 * i + 1]).toEqual({ i });
  }
  expect(bytes).toBeGreaterThan(40 * 256 * 1024);
  expect(lastFrom).toBe("member-a");
});

test("the handler's error is the caller's remote error", async () => {
  const err = await (await probed()).call(SELF, READ, { parts: 1, size: 10, fail: "no such series" }, 5000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RpcRemoteError);
  expect(String(err)).toContain("no such series");
});

test("an exchange longer than the timeout is a timeout, not a reason to ask over libp2p", async () => {
  const c = await probed();
  const t = performance.now();
  const err = await c.call(SELF, SLOW, {}, 200).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RpcTimeoutError);
  expect(performance.now() - t).toBeLessThan(1500);
});

test("another node at the address, a protocol not served, no server or no answer: null, and the member is left to libp2p for a while", async () => {
  let now = 1_000_000;
  const c = client({ now: () => now });
  const before = hits;
  await c.probe("member-c");
  expect(logged.at(-1)).toContain("answered HTTP 409: this is member member-b");
  // Not asked again over HTTP until the retry interval has passed.
  expect(await c.call("member-c", READ, { parts: 0, size: 0 }, 5000)).toBeNull();
  expect(hits).toBe(before + 1);
  now += 31_000;
  expect(await c.call("member-c", READ, { parts: 0, size: 0 }, 5000)).toBeNull();
  await waitUntil("a second probe", () => hits === before + 2);

  const unserved = await probed();
  expect(await unserved.call(SELF, "/test/unserved/1", {}, 5000)).toBeNull();
  expect(logged.at(-1)).toContain("answered HTTP 404");

  const closed = `http://127.0.0.1:${freePort()}`;
  await probed({ url: closed });
  expect(logged.at(-1)).toContain(`cannot reach ${closed}`);
  await probed({ url: null });
  expect(logged.at(-1)).toContain("its HTTP address is not known");

  // A server that takes the connection and never answers (a proxy, a hung node): the probe
  // gives up after its own short timeout, and no call waits for it.
  hang = true;
  try {
    const silent = client();
    const t = performance.now();
    expect(await silent.call(SELF, READ, { parts: 0, size: 0 }, 60_000)).toBeNull();
    expect(performance.now() - t).toBeLessThan(100);
    await silent.probe(SELF);
    expect(logged.at(-1)).toContain("cannot reach");
    expect(await silent.call(SELF, READ, { parts: 0, size: 0 }, 60_000)).toBeNull();
  } finally {
    hang = false;
  }
});

test("refused credentials leave the member to libp2p with a hint; the node's credentials are sent", async () => {
  requireAuth = true;
  try {
    const refused = await probed();
    expect(logged.at(-1)).toContain("HTTP 401");
    expect(logged.at(-1)).toContain("--web.client-config.file");
    expect(await refused.call(SELF, READ, { parts: 0, size: 0 }, 5000)).toBeNull();
    const answer = await (await probed({ headers: { authorization: "Basic cGVlcjpwdw==" } })).call(SELF, READ, { parts: 1, size: 3 }, 5000);
    expect(answer).toEqual({ value: { done: 1 } });
  } finally {
    requireAuth = false;
  }
});

test("with a cluster secret, reads need its token: a caller without it (or with another) is refused and asks over libp2p", async () => {
  serverToken = httpRpcToken(new TextEncoder().encode("the secret"));
  try {
    await probed();
    expect(logged.at(-1)).toContain("answered HTTP 403: cluster reads over HTTP need the cluster secret's token");
    await probed({ token: httpRpcToken(new TextEncoder().encode("another secret")) });
    expect(logged.at(-1)).toContain("HTTP 403");
    const member = await probed({ token: serverToken });
    expect(await member.call(SELF, READ, { parts: 1, size: 3 }, 5000)).toEqual({ value: { done: 1 } });
  } finally {
    serverToken = null;
  }
});

test("a malformed request frame or a missing protocol is a 4xx naming what was wrong", async () => {
  const url = `http://127.0.0.1:${server.port}${HTTP_RPC_PATH}`;
  const bad = await fetch(url, { method: "POST", body: new Uint8Array([0, 0xff, 0xfe]), headers: { "x-shoal-protocol": READ, "x-shoal-node": SELF } });
  expect(bad.status).toBe(400);
  expect(await bad.text()).toContain("malformed request frame");
  const none = await fetch(url, { method: "POST", body: encodeFrame({}) as Uint8Array<ArrayBuffer>, headers: { "x-shoal-node": SELF } });
  expect(none.status).toBe(404);
  expect(await none.text()).toContain("is not served over HTTP");
});
