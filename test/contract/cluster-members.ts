/**
 * Real `Cluster` instances in this process, each with its own TSDB, talking libp2p over
 * 127.0.0.1: what the storage contract runs the distributor and the fan-out querier on.
 */
import { Cluster, defaultClusterConfig } from "../../src/cluster/index.ts";
import { nopLogger, type ShardEvaluator } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir, waitFor } from "../support/index.ts";

export interface InProcessMember {
  cluster: Cluster;
  db: TSDB;
  dir: string;
}

export interface InProcessCluster {
  members: InProcessMember[];
  stop(): Promise<void>;
}

/**
 * Starts `size` members of a new cluster (the others joining through the first) with fast
 * failure detection, and resolves once every member sees all of them alive and active. With a
 * `shardEvaluator` (an Engine's evalShard) the members push aggregations down.
 */
export async function startInProcessCluster(
  size: number,
  replicationFactor = 3,
  opts: { shardEvaluator?: ShardEvaluator } = {},
): Promise<InProcessCluster> {
  const name = `contract-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const members: InProcessMember[] = [];
  const stop = async () => {
    for (const m of members.splice(0)) {
      await m.cluster.stop();
      await m.db.close();
      removeTempDir(m.dir);
    }
  };
  try {
    let join: string[] = [];
    for (let i = 0; i < size; i++) {
      const dir = tempDir(`contract-m${i}`);
      const db = await openTSDB({ dir });
      const cluster = await Cluster.start({
        config: {
          ...defaultClusterConfig(),
          name,
          nodeName: `m${i}`,
          listenAddress: "127.0.0.1:0",
          mdns: false,
          join,
          replicationFactor,
          heartbeatIntervalMs: 200,
          suspectTimeoutMs: 800,
          deadTimeoutMs: 2000,
          writeTimeoutMs: 2000,
          queryTimeoutMs: 5000,
          readOneReplicaQuietMs: 1000,
        },
        dataDir: dir,
        local: db,
        httpAddress: "127.0.0.1:1",
        logger: nopLogger,
        shardEvaluator: opts.shardEvaluator,
      });
      members.push({ cluster, db, dir });
      if (i === 0) join = [clusterAddress(cluster)];
    }
    for (const m of members) {
      await waitFor(
        `${m.cluster.status().members.find((x) => x.self)?.name} to see ${size} active members`,
        () => {
          const s = m.cluster.status();
          return s.members.length === size && s.members.every((x) => x.health === "alive" && x.state === "active");
        },
        { timeoutMs: 30_000 },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, stop };
}

/** HOST:PORT of a member's libp2p listener on 127.0.0.1, for `join`. */
function clusterAddress(cluster: Cluster): string {
  const self = cluster.status().members.find((m) => m.self)!;
  const m = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(self.addresses.join(" "));
  if (!m) throw new Error(`no 127.0.0.1 address in ${self.addresses.join(" ")}`);
  return `127.0.0.1:${m[1]}`;
}
