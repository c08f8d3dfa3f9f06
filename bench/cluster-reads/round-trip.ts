#!/usr/bin/env bun
/**
 * What one request between two members costs, by transport: the cluster's Rpc over libp2p (TCP,
 * noise, yamux) and over the members' HTTP API (HttpRpc against serveHttpRpc on Bun.serve), the
 * same echo handler, two processes on this machine. Median and 90th percentile of --runs round
 * trips after a warm-up, for a small and a larger request, and the CPU seconds both processes
 * spent per 1000 round trips.
 *
 *   bun bench/cluster-reads/round-trip.ts [--runs 1000] [--sizes 100,10000,100000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import { defaultClusterConfig } from "../../src/cluster/config.ts";
import { createClusterHost } from "../../src/cluster/host.ts";
import { HttpRpc, HTTP_RPC_PATH, serveHttpRpc } from "../../src/cluster/http_rpc.ts";
import { Rpc } from "../../src/cluster/rpc.ts";
import type { Logger } from "../../src/model/index.ts";
import { cpuSeconds, Flags, machineLine, markdownTable } from "../lib.ts";

const ECHO = "/shoal/bench-echo/1";
const logger = { debug() {}, info() {}, warn() {}, error() {}, with: () => logger } as unknown as Logger;

async function startMember(dir: string): Promise<{ rpc: Rpc; id: string; addr: string; httpUrl: string; stop(): Promise<void> }> {
  const { host } = await createClusterHost({ ...defaultClusterConfig(), listenAddress: "127.0.0.1:0", mdns: false }, dir, logger);
  const rpc = new Rpc(host, logger);
  await rpc.handle(ECHO, async (req) => req);
  const id = host.peerId.toString();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => serveHttpRpc(request, { selfId: id, protocols: [ECHO], handler: (p) => rpc.handler(p), token: null }),
  });
  return {
    rpc,
    id,
    addr: host.getMultiaddrs()[0]!.toString(),
    httpUrl: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop(true);
      await host.stop();
    },
  };
}

if (process.argv[2] === "--member") {
  // The far member: prints how to reach it, answers until stdin closes.
  const dir = mkdtempSync(join(tmpdir(), "shoal-rtt-"));
  const m = await startMember(dir);
  console.log(JSON.stringify({ id: m.id, addr: m.addr, httpUrl: m.httpUrl }));
  await new Response(Bun.stdin.stream()).arrayBuffer();
  await m.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const flags = new Flags();
const runs = flags.num("runs", 1000);
const sizes = flags.str("sizes", "100,10000,100000").split(",").map(Number);
const far = Bun.spawn([process.execPath, import.meta.path, "--member"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
const reader = far.stdout.getReader();
let line = "";
while (!line.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the far member exited");
  line += new TextDecoder().decode(value);
}
const peer = JSON.parse(line) as { id: string; addr: string; httpUrl: string };
const dir = mkdtempSync(join(tmpdir(), "shoal-rtt-"));
const near = await startMember(dir);
await (near.rpc as unknown as { node: { dial(a: unknown): Promise<unknown> } }).node.dial(multiaddr(peer.addr));
const http = new HttpRpc({ selfId: near.id, protocols: [ECHO], urlOf: () => peer.httpUrl, token: null, logger });
await http.probe(peer.id);
const transports: [string, (req: unknown) => Promise<unknown>][] = [
  ["libp2p", (req) => near.rpc.call(peer.id, ECHO, req, 10_000)],
  [`HTTP (${HTTP_RPC_PATH})`, async (req) => (await http.call(peer.id, ECHO, req, 10_000))!.value],
];

const rows: string[][] = [];
for (const size of sizes) {
  const req = { pad: "x".repeat(size) };
  for (const [name, call] of transports) {
    for (let i = 0; i < Math.min(200, runs); i++) await call(req);
    const cpu0 = cpuSeconds(process.pid) + cpuSeconds(far.pid);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await call(req);
      ms.push(performance.now() - t);
    }
    const cpu = cpuSeconds(process.pid) + cpuSeconds(far.pid) - cpu0;
    ms.sort((a, b) => a - b);
    rows.push([`${size} B`, name, ms[runs >> 1]!.toFixed(3), ms[Math.floor(runs * 0.9)]!.toFixed(3), ((cpu * 1000) / runs).toFixed(2)]);
  }
}
console.log(machineLine());
console.log(`Round trips of an echo request between two processes, ${runs} per row after a warm-up.\n`);
console.log(markdownTable(["request", "transport", "median ms", "p90 ms", "CPU s per 1000 (both processes)"], rows));
far.stdin.end();
await far.exited;
await near.stop();
rmSync(dir, { recursive: true, force: true });
