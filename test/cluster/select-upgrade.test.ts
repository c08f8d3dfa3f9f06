/**
 * A rolling upgrade: a member that answers only the first version of the select protocol (a node
 * not upgraded yet) is still read, completely, by a member that asks the newest version first.
 */
import { afterAll, expect, test } from "bun:test";
import { SELECT_PROTOCOL_V2, SELECT_PROTOCOL_V3 } from "../../src/cluster/select_wire.ts";
import { labelsFromRecord, Matcher } from "../../src/model/index.ts";
import { startInProcessCluster, type InProcessCluster } from "../contract/cluster-members.ts";

let c: InProcessCluster | undefined;
afterAll(async () => c?.stop());

async function readAll(q: InProcessCluster["members"][number]["cluster"]["queryable"]) {
  const querier = q.querier(0, 10_000_000);
  try {
    return await querier.select([new Matcher("=", "__name__", "up_test")]);
  } finally {
    querier.close();
  }
}

test("a member that speaks only /shoal/select/1 is read over it, nothing missing", async () => {
  c = await startInProcessCluster(2, 1);
  const [reader, old] = c.members as [InProcessCluster["members"][number], InProcessCluster["members"][number]];
  // The other member does not know the newest version, as a node of the previous release would
  // (before anything asked it over that version: open streams keep their protocol).
  await old.cluster.host.unhandle(SELECT_PROTOCOL_V2);
  const app = reader.cluster.appendable.appender();
  for (let i = 0; i < 40; i++) for (let t = 1; t <= 5; t++) app.append(labelsFromRecord({ __name__: "up_test", i: String(i) }), t * 1000, i + t / 10);
  await app.commit();

  const got = await readAll(reader.cluster.queryable);
  expect(got.warnings).toEqual([]);
  expect(got.series.length).toBe(40);
  for (const s of got.series) {
    const i = Number(s.labels.find((l) => l.name === "i")!.value);
    expect([...s.timestamps]).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect([...s.values]).toEqual([1, 2, 3, 4, 5].map((t) => i + t / 10));
  }
  // R=1: some series live only on the old member, and came over the wire.
  const remote = got.members?.find((m) => m.member === "m1");
  expect(remote?.series).toBeGreaterThan(0);
  expect(remote?.bytes).toBeGreaterThan(0);
}, 60_000);

/** Requests the reader sent over a select protocol, by transport summed. */
function sent(m: InProcessCluster["members"][number], protocol: string): number {
  return m.cluster
    .metricFigures()
    .rpcRequests.filter((s) => s.labels?.protocol === protocol)
    .reduce((a, s) => a + s.value, 0);
}

test("the selects of one query go to a member in one batch over /shoal/select/3, one by one over /2 to a member without it", async () => {
  for (const withV3 of [true, false]) {
    await c?.stop();
    c = await startInProcessCluster(2, 1);
    const [reader, other] = c.members as [InProcessCluster["members"][number], InProcessCluster["members"][number]];
    // Before anything asked it over /3 (open streams keep their protocol).
    if (!withV3) await other.cluster.host.unhandle(SELECT_PROTOCOL_V3);
    const app = reader.cluster.appendable.appender();
    for (const name of ["batch_a", "batch_b", "batch_c"]) for (let i = 0; i < 30; i++) app.append(labelsFromRecord({ __name__: name, i: String(i) }), 1000, i);
    await app.commit();
    const sets = await Promise.all(
      ["batch_a", "batch_b", "batch_c"].map(async (name) => {
        const q = reader.cluster.queryable.querier(0, 10_000);
        try {
          return await q.select([new Matcher("=", "__name__", name)]);
        } finally {
          q.close();
        }
      }),
    );
    for (const set of sets) {
      expect(set.warnings).toEqual([]);
      expect(set.series.length).toBe(30);
      // R=1: the other member holds some of each, which came over the wire.
      expect(set.members?.find((m) => m.member === "m1")?.series ?? 0).toBeGreaterThan(0);
    }
    // One batch asked for (refused by a member without /3), then each select over /2 there.
    expect(sent(reader, SELECT_PROTOCOL_V3)).toBe(1);
    expect(sent(reader, SELECT_PROTOCOL_V2)).toBe(withV3 ? 0 : 3);
  }
}, 60_000);
