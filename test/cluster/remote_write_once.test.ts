/**
 * Remote write out from a cluster, with real processes: three Shoal nodes at R=3 forwarding to a
 * real VictoriaMetrics. Every acknowledged sample arrives once (by its series' first owner, not
 * once per replica); and when the member forwarding most series is SIGKILLed mid-stream, every
 * acknowledged sample still arrives, the only duplicates lying in the takeover window around the
 * kill.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { exportSeries, startVictoriaMetrics, tempDir, waitFor, type VictoriaMetrics } from "../support/index.ts";
import { clusterStatus, dumpLogs, getJSON, kill, removeDirs, startCluster, startNode, stopAll, stopNode, type TestNode } from "./harness.ts";
import { GroundTruth, writeContinuously } from "./writer.ts";

const SERIES = 40;
/** --cluster.remote-write.takeover-margin of the nodes. */
const MARGIN_MS = 3000;

const nodes: TestNode[] = [];
let vm: VictoriaMetrics;

afterAll(async () => {
  await stopAll();
  await vm?.stop();
  removeDirs();
});

interface QueueStatus {
  name: string;
  pendingSamples: number;
  samplesSent: number;
  deliveredThroughMs: number;
}

interface ForwardingStatus {
  ringShare: number;
  takeovers: { fromName: string; state: string; samples: number; startedAtMs: number; doneAtMs: number; after: Record<string, number> }[];
}

async function queues(node: TestNode): Promise<QueueStatus[]> {
  return (await getJSON<{ data: { queues: QueueStatus[] } }>(node, "/api/v1/status/remote_write")).data.queues;
}

async function forwarding(node: TestNode): Promise<ForwardingStatus> {
  return (await getJSON<{ data: { remoteWrite: ForwardingStatus } }>(node, "/api/v1/status/cluster")).data.remoteWrite;
}

/** Per series id, every timestamp VictoriaMetrics holds (a timestamp twice = a duplicate). */
async function received(metric: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const s of await exportSeries(vm, `{__name__="${metric}"}`)) {
    const id = s.metric.series!;
    out.set(id, [...(out.get(id) ?? []), ...s.timestamps]);
  }
  return out;
}

interface Tally {
  missing: number;
  /** Timestamps received more than once (each extra copy counted). */
  duplicates: number[];
  unexpected: number;
}

function tally(truth: GroundTruth, got: Map<string, number[]>): Tally {
  const t: Tally = { missing: 0, duplicates: [], unexpected: 0 };
  for (const [id, want] of truth.samples) {
    const seen = new Map<number, number>();
    for (const ts of got.get(id) ?? []) seen.set(ts, (seen.get(ts) ?? 0) + 1);
    for (const ts of want.keys()) if (!seen.has(ts)) t.missing++;
    for (const [ts, n] of seen) {
      if (!want.has(ts)) t.unexpected++;
      for (let k = 1; k < n; k++) t.duplicates.push(ts);
    }
  }
  return t;
}

/** Waits until every node's queues are drained, then until VictoriaMetrics holds every acknowledged sample. */
async function allArrived(metric: string, truth: GroundTruth, alive: () => TestNode[]): Promise<Tally> {
  await waitFor(
    "the remote-write queues to drain",
    async () => {
      for (const n of alive()) for (const q of await queues(n)) if (q.pendingSamples > 0) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const seen: { last: Tally | null } = { last: null };
  try {
    return await waitFor(
      "VictoriaMetrics to hold every acknowledged sample",
      async () => {
        const t = (seen.last = tally(truth, await received(metric)));
        return t.missing === 0 ? t : false;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  } catch (err) {
    const t = seen.last;
    throw new Error(`${(err as Error).message}: ${JSON.stringify(t && { ...t, duplicates: t.duplicates.length })}\n${dumpLogs(nodes)}`);
  }
}

test("three nodes at R=3 forward each acknowledged sample to VictoriaMetrics once", async () => {
  vm = await startVictoriaMetrics();
  const cfg = join(tempDir("rw-once-cfg"), "shoal.yml");
  await Bun.write(
    cfg,
    `remote_write:
  - url: ${vm.writeUrl}
    name: vm
    queue_config: {batch_send_deadline: 100ms, max_samples_per_send: 500, min_backoff: 50ms, max_backoff: 500ms}
`,
  );
  await startCluster("rwonce", 3, [`--config.file=${cfg}`, "--cluster.replication-factor=3", `--cluster.remote-write.takeover-margin=${MARGIN_MS}ms`], nodes);
  // Settled: every member sees three active ones, and the takeovers the joins caused are done
  // (they re-forward a window of what was written before them: duplicates by design).
  await waitFor(
    "three active members, no takeover pending",
    async () => {
      for (const n of nodes) {
        if ((await clusterStatus(n)).members.filter((m) => m.state === "active" && m.health === "alive").length !== 3) return false;
        if ((await forwarding(n)).takeovers.some((t) => t.state !== "done")) return false;
      }
      return true;
    },
    { timeoutMs: 30_000 },
  );

  const truth = new GroundTruth();
  let rounds = 0;
  await writeContinuously({ metric: "rw_once", seriesCount: SERIES, targets: () => nodes, until: () => rounds++ >= 60, truth, startMs: 0, wallClock: true, pauseMs: 20 });
  expect(truth.acknowledged).toBe(SERIES * 60);
  const t = await allArrived("rw_once", truth, () => nodes);
  expect(t.unexpected).toBe(0);
  expect(t.duplicates).toEqual([]);
  // Each member forwarded its own share, not everything.
  const sent = await Promise.all(nodes.map(async (n) => (await queues(n))[0]!.samplesSent));
  const shares = await Promise.all(nodes.map(async (n) => (await forwarding(n)).ringShare));
  console.log(`forwarded per node: ${sent.join(", ")} (ring shares ${shares.map((s) => s.toFixed(2)).join(", ")})`);
  for (const s of sent) expect(s).toBeLessThan(SERIES * 60);
  expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
}, 180_000);

interface TakeoverSeen {
  fromName: string;
  samples: number;
  after: Record<string, number>;
  doneAtMs: number;
}

/**
 * Writes `metric` continuously to `writeTo()` while `act` changes the membership, until the
 * takeovers it causes on `takers()` (from members `from` names) are done and a few seconds more;
 * then waits for every acknowledged sample at VictoriaMetrics and checks that duplicates lie only
 * in the takeovers' windows (after the old forwarder's watermark minus the margin, up to when the
 * takeover was durable). Returns the figures.
 */
async function churnWhileWriting(o: {
  metric: string;
  writeTo: () => TestNode[];
  act: () => Promise<void>;
  takers: () => TestNode[];
  from: (name: string) => boolean;
}): Promise<{ truth: GroundTruth; tally: Tally; took: TakeoverSeen[]; actAt: number }> {
  const truth = new GroundTruth();
  let stopAt = Infinity;
  const writer = writeContinuously({ metric: o.metric, seriesCount: SERIES, targets: o.writeTo, until: () => Date.now() > stopAt, truth, startMs: 0, wallClock: true, pauseMs: 20 });
  await Bun.sleep(2000);
  const actAt = Date.now();
  await o.act();
  const took = await waitFor(
    "the takeovers to be done",
    async () => {
      const all = (await Promise.all(o.takers().map((n) => forwarding(n)))).flatMap((f) => f.takeovers.filter((t) => o.from(t.fromName) && t.startedAtMs > actAt));
      return all.length > 0 && all.every((t) => t.state === "done") ? all : false;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  stopAt = Date.now() + 3000;
  await writer;
  const tally = await allArrived(o.metric, truth, o.takers);
  expect(tally.unexpected).toBe(0);
  expect(tally.missing).toBe(0);
  const windowStart = Math.min(...took.map((x) => x.after.vm!));
  const windowEnd = Math.max(...took.map((x) => x.doneAtMs));
  expect(tally.duplicates.filter((ts) => ts <= windowStart || ts > windowEnd)).toEqual([]);
  // Bounded: at most the samples written from the earliest takeover start to the last one's end.
  expect(tally.duplicates.length).toBeLessThanOrEqual(truth.count((ts) => ts > windowStart && ts <= windowEnd));
  return { truth, tally, took, actAt };
}

function figures(what: string, r: { truth: GroundTruth; tally: Tally; took: TakeoverSeen[]; actAt: number }, extra = ""): string {
  const d = r.tally.duplicates.length;
  return (
    `${what}: ${r.truth.acknowledged} samples acknowledged, 0 missing, ${d} duplicates (${((100 * d) / r.truth.acknowledged).toFixed(1)}%), ` +
    `takeovers done ${Math.max(...r.took.map((x) => x.doneAtMs)) - r.actAt} ms after it, re-forwarding ${r.took.map((x) => `${x.samples} (from ${x.fromName})`).join(" + ")} samples${extra}`
  );
}

let victim: TestNode;

test("SIGKILL of the member forwarding most series mid-stream: every acknowledged sample still arrives, duplicates only around the kill", async () => {
  const shares = await Promise.all(nodes.map(async (n) => (await forwarding(n)).ringShare));
  victim = nodes[shares.indexOf(Math.max(...shares))]!;
  const survivors = nodes.filter((n) => n !== victim);
  let killed = false;
  let watermarkAge = 0;
  const r = await churnWhileWriting({
    metric: "rw_kill",
    writeTo: () => (killed ? survivors : nodes),
    act: async () => {
      const before = (await queues(victim))[0]!;
      kill(victim);
      killed = true;
      watermarkAge = Date.now() - before.deliveredThroughMs;
    },
    takers: () => survivors,
    from: (name) => name === victim.name,
  });
  console.log(figures("SIGKILL", r, `; the victim's delivered watermark was ${watermarkAge} ms old at the kill`));
  nodes.splice(nodes.indexOf(victim), 1);
}, 180_000);

test("the killed member restarted on its data takes its ranges back once active: still every sample, duplicates only around the join", async () => {
  let back: TestNode | null = null;
  const r = await churnWhileWriting({
    metric: "rw_join",
    writeTo: () => nodes,
    act: async () => {
      back = await startNode(victim.name, victim.args, { dataDir: victim.dataDir });
    },
    takers: () => (back ? [back] : []),
    from: (name) => name !== victim.name,
  });
  nodes.push(back!);
  console.log(figures("restart and join", r));
}, 180_000);

test("a forwarding member paused (SIGSTOP) shorter than the dead timeout: the writes hinted to it meanwhile are forwarded when they are replayed", async () => {
  // Suspect after 0.8 s, dead after 2 s: paused for 1.5 s it stays the forwarder, and what it
  // missed reaches it as hinted batches only (backfilled, not through the commit tap).
  const shares = await Promise.all(nodes.map(async (n) => (await forwarding(n)).ringShare));
  const paused = nodes[shares.indexOf(Math.max(...shares))]!;
  const others = nodes.filter((n) => n !== paused);
  const truth = new GroundTruth();
  let stopAt = Infinity;
  const writer = writeContinuously({ metric: "rw_pause", seriesCount: SERIES, targets: () => others, until: () => Date.now() > stopAt, truth, startMs: 0, wallClock: true, pauseMs: 20 });
  await Bun.sleep(1500);
  kill(paused, "SIGSTOP");
  const pausedAt = Date.now();
  await Bun.sleep(1500);
  kill(paused, "SIGCONT");
  const resumedAt = Date.now();
  await Bun.sleep(2000);
  stopAt = Date.now();
  await writer;
  const t = await allArrived("rw_pause", truth, () => nodes);
  expect(t.unexpected).toBe(0);
  expect(t.missing).toBe(0);
  const takeovers = (await Promise.all(nodes.map((n) => forwarding(n)))).flatMap((f) => f.takeovers.filter((x) => x.startedAtMs > pausedAt));
  expect(takeovers).toEqual([]);
  // A write that the paused member applied after its sender gave up on it is also hinted: at most
  // the samples of the pause (and one write timeout) come twice.
  expect(t.duplicates.filter((ts) => ts < pausedAt - 2000 || ts > resumedAt)).toEqual([]);
  console.log(`SIGSTOP for ${resumedAt - pausedAt} ms: ${truth.acknowledged} samples acknowledged, 0 missing, ${t.duplicates.length} duplicates`);
}, 180_000);

test("a graceful leave (SIGTERM) of a forwarding member: the next owners take over once it has left, every sample arrives", async () => {
  const leaver = nodes[0]!;
  const stay = nodes.filter((n) => n !== leaver);
  const r = await churnWhileWriting({
    metric: "rw_leave",
    writeTo: () => stay,
    act: async () => {
      expect(await stopNode(leaver)).toBe(0);
    },
    takers: () => stay,
    from: (name) => name === leaver.name,
  });
  console.log(figures("graceful leave", r));
}, 180_000);
