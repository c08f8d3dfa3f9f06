/**
 * /api/v1/rules and /api/v1/alerts in a real 3-node cluster: every node gathers the other
 * members' own answers (`scope=local`) at their announced addresses; a member killed without
 * warning is named in `warnings` (never a hang) until the cluster declares it dead.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { waitFor } from "../support/index.ts";
import { aliveMembers, dumpLogs, getJSON, kill, removeDirs, startCluster, stopAll, type TestNode } from "./harness.ts";

const nodes: TestNode[] = [];

afterAll(async () => {
  await stopAll();
  removeDirs();
});

interface Envelope {
  status: string;
  data: { groups?: unknown[]; alerts?: unknown[] };
  warnings?: string[];
}

describe("rule endpoints answer for the whole cluster", () => {
  test("every member is asked; a killed member is a warning until it is dead, never a hang", async () => {
    await startCluster("rules-api", 3, [], nodes);
    for (const n of nodes) await waitFor(`${n.name} to see 3 members alive`, async () => (await aliveMembers(n)).length === 3, { timeoutMs: 30_000, processes: nodes });
    try {
      for (const n of nodes) {
        for (const path of ["/api/v1/rules", "/api/v1/alerts", "/api/v1/rules?scope=local"]) {
          const r = await getJSON<Envelope>(n, path);
          expect(r.status).toBe("success");
          expect(r.warnings).toBeUndefined();
        }
      }
      const victim = nodes[2]!;
      kill(victim);
      await victim.proc.exited;
      const t0 = performance.now();
      const r = await getJSON<Envelope>(nodes[0]!, "/api/v1/rules");
      expect(performance.now() - t0).toBeLessThan(6000);
      expect(r.status).toBe("success");
      // Refused at once while the cluster still counts it a member (dead only after 2s); skipped once it is dead.
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings![0]).toContain(`cannot list the rule groups of cluster member ${victim.name} `);
      await waitFor(
        "the dead member to be skipped without a warning",
        async () => (await getJSON<Envelope>(nodes[0]!, "/api/v1/alerts")).warnings === undefined,
        { timeoutMs: 30_000, processes: nodes.slice(0, 2) },
      );
    } catch (e) {
      console.log(dumpLogs(nodes));
      throw e;
    }
  }, 120_000);
});
