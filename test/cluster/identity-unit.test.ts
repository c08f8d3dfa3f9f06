/**
 * The cluster identity's rules without processes: fresh nodes agree on the smallest provisional
 * id, adopt a settled one at once, settle after a quiet period, and a settled id never changes.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClusterIdentity, WarnLimiter } from "../../src/cluster/identity.ts";
import { tempDir } from "../support/index.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = tempDir("identity");
  dirs.push(d);
  return d;
}
/** A node started without --cluster.join: it may settle alone. */
const ALONE = { settleMs: 1000, waitForPeer: false };
const JOINING = { settleMs: 1000, waitForPeer: true };
const onDisk = (d: string) => (existsSync(join(d, "cluster.json")) ? (JSON.parse(readFileSync(join(d, "cluster.json"), "utf8")) as { id: string }).id : undefined);

test("fresh nodes meeting in any order agree on the smallest provisional id, then settle", () => {
  const nodes = [dir(), dir(), dir()].map((d) => ({ d, id: ClusterIdentity.load(d, ALONE, 0) }));
  const smallest = nodes.map((n) => n.id.id).sort()[0]!;
  // Each hears the others' heartbeats, in two different orders.
  for (const [a, b] of [[2, 1], [1, 0], [0, 2], [2, 0], [1, 2], [0, 1]] as const) {
    expect(nodes[a]!.id.consider(nodes[b]!.id.id, nodes[b]!.id.settled, 10)).toBe("same");
  }
  for (const n of nodes) expect(n.id.id).toBe(smallest);
  for (const n of nodes) expect(n.id.settled).toBe(false);
  for (const n of nodes) n.id.tick(500);
  expect(nodes.every((n) => !n.id.settled && onDisk(n.d) === undefined)).toBe(true);
  for (const n of nodes) n.id.tick(1010);
  for (const n of nodes) expect(onDisk(n.d)).toBe(smallest);
});

test("a settled id never changes; a fresh node adopts a settled id at once, even a larger one", () => {
  const settledDir = dir();
  writeFileSync(join(settledDir, "cluster.json"), JSON.stringify({ id: "f".repeat(32) }));
  const settled = ClusterIdentity.load(settledDir, ALONE, 0);
  expect(settled.settled).toBe(true);
  expect(settled.consider("0".repeat(32), false, 1)).toBe("pending");
  expect(settled.consider("0".repeat(32), true, 1)).toBe("foreign");
  expect(settled.id).toBe("f".repeat(32));

  const freshDir = dir();
  const fresh = ClusterIdentity.load(freshDir, ALONE, 0);
  expect(fresh.consider("f".repeat(32), true, 5)).toBe("same");
  expect(fresh.settled).toBe(true);
  expect(onDisk(freshDir)).toBe("f".repeat(32));
  // Now it holds that cluster's data: another cluster is foreign to it.
  expect(fresh.consider("0".repeat(32), true, 6)).toBe("foreign");
  expect(ClusterIdentity.load(freshDir, ALONE, 0).id).toBe("f".repeat(32));
});

test("an unreadable identity file stops the node instead of letting it join anything", () => {
  const d = dir();
  writeFileSync(join(d, "cluster.json"), "{not json");
  expect(() => ClusterIdentity.load(d, ALONE, 0)).toThrow(/cannot read the cluster identity/);
  writeFileSync(join(d, "cluster.json"), JSON.stringify({ id: "short" }));
  expect(() => ClusterIdentity.load(d, ALONE, 0)).toThrow(/no valid "id"/);
});

test("warnings are limited per key, and the next one counts what was held back", () => {
  const w = new WarnLimiter(60_000);
  expect(w.allow("a", 0)).toBe(0);
  expect(w.allow("a", 1000)).toBeNull();
  expect(w.allow("b", 1000)).toBe(0);
  expect(w.allow("a", 2000)).toBeNull();
  expect(w.allow("a", 61_000)).toBe(2);
});

test("a fresh node sent to join a cluster never settles alone, however long it waits, and adopts the cluster it then hears", () => {
  const d = dir();
  const joiner = ClusterIdentity.load(d, JOINING, 0);
  for (const t of [1000, 5000, 60_000]) joiner.tick(t);
  expect(joiner.settled).toBe(false);
  expect(onDisk(d)).toBeUndefined();
  // The cluster's settled id arrives late (a loaded machine): adopted, not refused.
  expect(joiner.consider("0".repeat(32), true, 61_000)).toBe("same");
  expect(joiner.settled).toBe(true);
  expect(onDisk(d)).toBe("0".repeat(32));
});

test("fresh nodes sent to join each other settle on the smallest id one window after they first meet", () => {
  const [a, b] = [dir(), dir()].map((d) => ClusterIdentity.load(d, JOINING, 0));
  a!.tick(30_000);
  expect(a!.settled).toBe(false);
  a!.consider(b!.id, false, 30_000);
  b!.consider(a!.id, false, 30_000);
  expect(a!.id).toBe(b!.id);
  a!.tick(30_500);
  expect(a!.settled).toBe(false);
  a!.tick(31_000);
  b!.tick(31_000);
  expect(a!.settled && b!.settled).toBe(true);
});
