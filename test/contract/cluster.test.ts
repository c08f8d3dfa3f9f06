/**
 * The storage contract over the cluster: writes through a member's distributor (owners on the
 * ring, quorum), reads through a member's fan-out querier (every live member, replicas merged).
 * A node alone is a cluster of one; with three members and R=3 the reads go through another
 * member than the writes, so every answer crosses the select protocol.
 */
import { runStorageContract } from "./storage.case.ts";
import { startInProcessCluster } from "./cluster-members.ts";

runStorageContract("cluster of one (distributor + fan-out querier)", async () => {
  const c = await startInProcessCluster(1);
  const { cluster } = c.members[0]!;
  return { appendable: cluster.appendable, queryable: cluster.queryable, close: c.stop };
});

runStorageContract(
  "cluster of three, R=3 (write on one member, read on another)",
  async () => {
    const c = await startInProcessCluster(3, 3);
    return { appendable: c.members[0]!.cluster.appendable, queryable: c.members[1]!.cluster.queryable, close: c.stop };
  },
  { setupTimeoutMs: 90_000 },
);
