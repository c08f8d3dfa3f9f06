/**
 * Builds this node's libp2p host: TCP + noise + yamux, gossipsub for heartbeats, identify and
 * ping, optional mDNS discovery and an optional private network (pre-shared key). The node's key
 * is kept in the data directory so its id (and therefore its ring tokens) survive restarts.
 */
import { createLibp2p, type Libp2pOptions } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise, pureJsCrypto } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { gossipsub, type GossipSub } from "@libp2p/gossipsub";
import { mdns } from "@libp2p/mdns";
import { preSharedKey } from "@libp2p/pnet";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { ConnectionProtector, Libp2p, PrivateKey } from "@libp2p/interface";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlagError, type Logger } from "../model/index.ts";
import { defaultClusterConfig, splitHostPort, type ClusterConfig } from "./config.ts";
import { HandshakeWatch } from "./handshake.ts";

export type ClusterHost = Libp2p<{ pubsub: GossipSub; identify: unknown; ping: unknown }>;

/**
 * When this node's identity (and so its data) came into being: the key's creation. A member
 * created after a query's start cannot hold that query's older data.
 */
export function nodeCreatedAt(dir: string): number {
  const file = join(dir, "node.key");
  return existsSync(file) ? statSync(file).mtimeMs : Date.now();
}

async function loadOrCreateKey(dir: string): Promise<PrivateKey> {
  const file = join(dir, "node.key");
  if (existsSync(file)) return privateKeyFromProtobuf(new Uint8Array(readFileSync(file)));
  const key = await generateKeyPair("Ed25519");
  mkdirSync(dir, { recursive: true });
  writeFileSync(file + ".tmp", privateKeyToProtobuf(key), { mode: 0o600 });
  renameSync(file + ".tmp", file);
  return key;
}

/**
 * Reads the cluster secret. A file in libp2p's swarm-key format is used as it is; any other
 * non-empty content (a passphrase, random bytes) is hashed into a 256-bit key, so operators can
 * simply write a random string into the file.
 */
export function readSwarmKey(path: string): Uint8Array {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (err) {
    throw new FlagError(`--cluster.secret-file: cannot read ${path}: ${(err as Error).message}`);
  }
  const text = content.toString("utf8");
  if (text.startsWith("/key/swarm/psk/1.0.0/")) return new Uint8Array(content);
  const secret = text.trim();
  if (secret === "") throw new FlagError(`--cluster.secret-file: ${path} is empty`);
  const hex = createHash("sha256").update("shoal-cluster-secret\0").update(secret).digest("hex");
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}`);
}

function listenMultiaddr(listen: string): string {
  const { host, port } = splitHostPort(listen, "--cluster.listen-address");
  const h = host === "" ? "0.0.0.0" : host;
  return h.includes(":") ? `/ip6/${h}/tcp/${port}` : `/ip4/${h}/tcp/${port}`;
}

export async function createClusterHost(
  cfg: ClusterConfig,
  stateDir: string,
  logger: Logger,
): Promise<{ host: ClusterHost; mdnsOn: boolean; handshakes: HandshakeWatch }> {
  const privateKey = await loadOrCreateKey(stateDir);
  const psk = cfg.secretFile ? readSwarmKey(cfg.secretFile) : null;
  const handshakes = new HandshakeWatch(logger, psk !== null);
  let listen = cfg.listenAddress;
  const build = (withMdns: boolean) => {
    const opts: Libp2pOptions<{ pubsub: GossipSub; identify: unknown; ping: unknown }> = {
      privateKey,
      addresses: { listen: [listenMultiaddr(listen)] },
      transports: [tcp()],
      // Bun's node:crypto has no chacha20-poly1305, which noise's default uses for frames of
      // 1200 bytes and more: use the pure-JS implementation throughout.
      connectionEncrypters: [noise({ crypto: pureJsCrypto })],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          floodPublish: true,
          heartbeatInterval: Math.min(1000, cfg.heartbeatIntervalMs),
        }),
      },
    };
    // Also without a secret: the watch names peers whose handshake fails (they may have one).
    opts.connectionProtector = handshakes.protector(psk ? (preSharedKey({ psk }) as (components: unknown) => ConnectionProtector) : null) as Libp2pOptions["connectionProtector"];
    if (withMdns) {
      opts.peerDiscovery = [
        mdns({ serviceTag: `_shoal-${cfg.name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}._udp.local`, interval: 2000 }),
      ];
    }
    return createLibp2p(opts);
  };
  const buildWithFallback = async (withMdns: boolean) => {
    const host = await buildOnFreePort(withMdns);
    host.addEventListener("connection:open", (evt) => handshakes.opened(evt.detail.remoteAddr.toString()));
    return host;
  };
  const buildOnFreePort = async (withMdns: boolean) => {
    try {
      return await build(withMdns);
    } catch (err) {
      // The default port taken (a second node on one machine) must not keep a node from starting:
      // it listens on a free port and announces that one. An explicit other address must work.
      if (listen !== defaultClusterConfig().listenAddress || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
      logger.warn("default cluster port in use; listening on a free port instead", { address: listen });
      listen = "0.0.0.0:0";
      return build(withMdns);
    }
  };
  if (cfg.mdns) {
    try {
      return { host: await buildWithFallback(true), mdnsOn: true, handshakes };
    } catch (err) {
      if (/EADDRINUSE|address already in use/i.test(String(err))) throw err;
      // mDNS is a convenience: a network without multicast must not keep the node from starting.
      logger.warn("mDNS discovery unavailable, continuing without it", { err });
    }
  }
  return { host: await buildWithFallback(false), mdnsOn: false, handshakes };
}
