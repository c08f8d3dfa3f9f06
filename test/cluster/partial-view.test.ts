/**
 * Queries on a node that has just started (found by the chaos test, seed 2026): until it has
 * heard every member its peers name, its view of the ring is partial and it must not take the
 * few members it knows for the whole cluster.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { clusterArgs, clusterPort, clusterStatus, dumpLogs, removeDirs, startNode, stopAll, uniqueClusterName } from "./harness.ts";
import { waitFor } from "../support/index.ts";
import { diff, GroundTruth, queryRaw, writeContinuously } from "./writer.ts";

afterEach(stopAll);
afterAll(removeDirs);

// Found by the chaos test (seed 2026): a node that has just started knows only the members it
// has heard so far. Judged by that partial ring, the few members it knows seem to cover every
// range, and it answered short without a warning.
test("a just-started node that has not heard every member yet answers completely or with a warning", async () => {
  const name = uniqueClusterName("partial");
  // Heartbeats once a second: the new node hears the members over up to a second, not at once.
  const r2 = ["--cluster.replication-factor=2", "--cluster.heartbeat-interval=1s", "--cluster.suspect-timeout=3s", "--cluster.dead-timeout=6s"];
  const a = await startNode("a", clusterArgs(name, r2));
  const join = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const others = [await startNode("b", clusterArgs(name, [...r2, join])), await startNode("c", clusterArgs(name, [...r2, join])), await startNode("d", clusterArgs(name, [...r2, join]))];
  const nodes = [a, ...others];
  try {
    await waitFor("4 active members", async () => (await clusterStatus(a)).members.filter((m) => m.state === "active" && m.health === "alive").length === 4, { timeoutMs: 30_000 });
    const truth = new GroundTruth();
    const startMs = Date.now() - 60_000;
    let rounds = 0;
    await writeContinuously({ metric: "partial_test", seriesCount: 40, targets: () => nodes, until: () => rounds++ >= 10, truth, startMs });
    const endMs = truth.maxT();
    let warned = 0;
    let complete = 0;
    let short = 0;
    // A new node joining through a only: it hears a first, the others a little later.
    const e = await startNode("e", clusterArgs(name, [...r2, join]));
    nodes.push(e);
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const got = await queryRaw(e, "partial_test", startMs, endMs);
      if (got.warnings.length) warned++;
      else if (diff(truth, got).length === 0) complete++;
      else short++;
    }
    console.log(`new node queried for 4 s after ready: ${warned} answers with a warning, ${complete} complete, ${short} short without a warning`);
    expect(short).toBe(0);
    expect(complete).toBeGreaterThan(0);
  } catch (err) {
    console.log(dumpLogs(nodes));
    throw err;
  }
}, 90_000);
