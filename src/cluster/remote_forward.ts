/**
 * Remote write out in a cluster: every sample is forwarded once, by the FIRST owner of its series
 * on the read ring, and when that owner changes (death, leave, join) the new first owner forwards,
 * from its own copy, what the old one may not have delivered.
 *
 * Why the read ring: writes go to the write ring, the union of the read ring and the future ring
 * with the read ring's owners first, so the read ring's primary is also the first owner of the
 * ring writes go to now and receives every write of its series. Choosing it means:
 * - a joining member takes over only once it is active, i.e. once it pulled its ranges and so
 *   holds a complete copy to take over from; until then the old primary (still in the write
 *   ring) keeps forwarding;
 * - a leaving member keeps forwarding its ranges until it announces `left` (it receives writes
 *   until then); the next owner then takes over from the watermark it published last, which
 *   also covers whatever was still queued on it when it exited;
 * - a suspect primary stays the forwarder (a short pause must not double the forwarding); the
 *   writes it misses meanwhile reach it as hinted batches, whose samples are forwarded when they
 *   are replayed (`forwardBackfilled`); once it is declared dead the next owner takes over.
 *
 * Takeover: every member publishes per queue its `deliveredThroughMs` in its heartbeat. When
 * this node becomes the primary of ranges another member was primary of, it snapshots that
 * member's last published watermark W per queue AT ONCE (a later heartbeat of a member that is
 * still running could already be past samples it stopped forwarding), and forwards from its local
 * copy the samples of those ranges with t > W - margin. The margin covers samples that arrive out
 * of timestamp order across series (scrape durations, remote-write senders' batching, the write
 * timeout) and the moments the two members see the change apart: a bounded window of duplicates
 * instead of a gap. While a takeover is not yet durable in the queue, the watermark this node
 * publishes is held at its start, so that a member taking over from this one in turn starts
 * early enough.
 */
import { isStaleAt, labelsHash32, setStaleAt, type Clock, type Labels, type Logger, type RemoteQueueStatus, type SampleRuns } from "../model/index.ts";
import type { SeriesData } from "../storage/index.ts";
import { compareRings, HashRanges, type HashInterval, type Ring } from "./ring.ts";
import type { HandoffStorage } from "./transfer.ts";

/** What the cluster needs of remote write out (node.ts hands it the remote room's RemoteWrite). */
export interface RemoteForwardTarget {
  /** False while no remote_write queue is configured. */
  readonly active: boolean;
  queues(): readonly Pick<RemoteQueueStatus, "name" | "deliveredThroughMs">[];
  /** Durable in the named queues (all when omitted) once it resolves. */
  write(batch: SampleRuns, queues?: readonly string[]): Promise<void>;
}

/** A member as the takeover sees it: a name for logs and its last published watermarks. */
export interface ForwardingMember {
  name: string;
  remoteDelivered?: Record<string, number>;
}

export interface RemoteForwardingDeps {
  selfId: string;
  readRing: () => Ring;
  /** A member of the table (dead ones included until forgotten); undefined when unknown. */
  member: (id: string) => ForwardingMember | undefined;
  target: RemoteForwardTarget;
  /** This node's storage: a takeover reads the ranges it took over from it. */
  local: Pick<HandoffStorage, "exportSeries">;
  /** How far before the old forwarder's watermark a takeover starts (ms of sample time). */
  marginMs: number;
  clock: Clock;
  logger: Logger;
  /**
   * How long after the change a takeover reads the local copy: a commit whose samples were
   * appended before the change (the tap asked the predicate then, and did not forward them) is
   * stored by then, so the read sees it. The cluster uses its write timeout.
   */
  settleMs: number;
  /** Wait before a failed takeover is tried again; 5 s. */
  retryDelayMs?: number;
  /** Samples per batch read from the local storage and handed to the queues; 20 000. */
  batchSamples?: number;
}

/** One takeover: the ranges gained from one former forwarder, and per queue the sample time to forward after. */
export interface TakeoverPlan {
  from: string;
  fromName: string;
  intervals: HashInterval[];
  /** Queue name → forward samples with t strictly greater than this (ms). */
  after: Map<string, number>;
}

/** A takeover as `/api/v1/status/cluster` shows it under `remoteWrite.takeovers`. */
export interface TakeoverStatus {
  from: string;
  fromName: string;
  ringFraction: number;
  /** Queue name → the sample time (ms) forwarded after. */
  after: Record<string, number>;
  state: "pending" | "done";
  samples: number;
  attempts: number;
  /** Wall-clock ms: when the ring change was seen, when the samples were durable in the queues (0 while pending). */
  startedAtMs: number;
  doneAtMs: number;
  lastError: string;
}

export interface RemoteForwardingStatus {
  /** Fraction of the hash ring whose series this node forwards. */
  ringShare: number;
  takeovers: TakeoverStatus[];
  takeoverSamples: number;
}

/**
 * The ranges where `self` is the primary of `cur` but another member was the primary of `prev`,
 * by that former primary.
 */
export function takenOverRanges(prev: Ring, cur: Ring, self: string): Map<string, HashInterval[]> {
  const out = new Map<string, HashInterval[]>();
  compareRings(prev, cur, (iv, po, co) => {
    const was = po[0];
    if (co[0] !== self || was === undefined || was === self) return;
    let l = out.get(was);
    if (!l) out.set(was, (l = []));
    l.push(iv);
  });
  return out;
}

const RECENT_TAKEOVERS = 20;

export class RemoteForwarding {
  private prev: Ring | null = null;
  private readonly queue: { plan: TakeoverPlan; status: TakeoverStatus; ranges: HashRanges; notBefore: number }[] = [];
  private readonly recent: TakeoverStatus[] = [];
  /** Wall-clock ms when this node first saw each of its queues: where a takeover starts from a member that published nothing for it. */
  private readonly firstSeen = new Map<string, number>();
  private running = false;
  private stopped = false;
  private takeoverSamples = 0;

  constructor(private readonly d: RemoteForwardingDeps) {}

  /** Whether this node forwards the series: it is the first owner on the read ring. */
  forwardsSeries(labels: Labels): boolean {
    return this.forwardsHash(labelsHash32(labels));
  }

  forwardsHash(hash: number): boolean {
    const ring = this.d.readRing();
    // No ring at all (nothing active and this node leaving alone): nobody else could forward.
    if (ring.size === 0) return true;
    return ring.primaryOf(hash) === this.d.selfId;
  }

  /**
   * Called on every membership change: plans the takeover of the ranges this node became the
   * primary of, with the former primaries' watermarks as they are now.
   */
  onRingChange(): void {
    const cur = this.d.readRing();
    const prev = this.prev;
    this.prev = cur;
    this.noteQueues();
    if (!prev || prev === cur || this.stopped || !this.d.target.active) return;
    for (const [from, intervals] of takenOverRanges(prev, cur, this.d.selfId)) {
      const plan = this.plan(from, intervals);
      if (plan.after.size === 0) continue;
      const ranges = new HashRanges(intervals);
      const status: TakeoverStatus = {
        from,
        fromName: plan.fromName,
        ringFraction: ranges.fraction(),
        after: Object.fromEntries(plan.after),
        state: "pending",
        samples: 0,
        attempts: 0,
        startedAtMs: this.d.clock.wallNow(),
        doneAtMs: 0,
        lastError: "",
      };
      this.d.logger.info("taking over remote-write forwarding", {
        from: plan.fromName,
        ring_fraction: status.ringFraction.toFixed(4),
        after: [...plan.after].map(([q, t]) => `${q}@${new Date(t).toISOString()}`).join(","),
      });
      this.queue.push({ plan, status, ranges, notBefore: this.d.clock.now() + this.d.settleMs });
    }
    void this.run();
  }

  /** The takeover of `intervals` from `from`: per queue of this node, the sample time to forward after. */
  plan(from: string, intervals: HashInterval[]): TakeoverPlan {
    const m = this.d.member(from);
    const after = new Map<string, number>();
    for (const q of this.d.target.queues()) {
      const published = m?.remoteDelivered?.[q.name];
      // Nothing published (an older member, a queue it does not have, or one it never handed a
      // sample): it forwarded nothing of this queue since the queue exists here.
      const w = published !== undefined && published > 0 ? published : (this.firstSeen.get(q.name) ?? this.d.clock.wallNow());
      after.set(q.name, w - this.d.marginMs);
    }
    return { from, fromName: m?.name ?? from, intervals, after };
  }

  /**
   * Per queue, the watermark to publish in heartbeats: the queue's own, held back to the start
   * of any takeover not yet durable in it.
   */
  publishedWatermarks(): Record<string, number> {
    this.noteQueues();
    const out: Record<string, number> = {};
    for (const q of this.d.target.queues()) {
      let w = q.deliveredThroughMs > 0 ? q.deliveredThroughMs : Infinity;
      for (const job of this.queue) {
        const t = job.plan.after.get(q.name);
        if (t !== undefined && t < w) w = t;
      }
      out[q.name] = Number.isFinite(w) ? w : 0;
    }
    return out;
  }

  /**
   * Samples stored by backfill rather than by an appender (hinted batches replayed to this node,
   * late samples a replica backfills): forwarded to every queue for the series this node
   * forwards, since the commit tap never sees them. Resolves once they are durable in the queues.
   */
  async forwardBackfilled(series: readonly SeriesData[]): Promise<void> {
    if (!this.d.target.active) return;
    const mine = series.filter((s) => this.forwardsSeries(s.labels));
    if (mine.length === 0) return;
    const runs = runsAfter(mine, -Infinity);
    if (runs.runs > 0) await this.d.target.write(runs);
  }

  status(): RemoteForwardingStatus {
    const ring = this.d.readRing();
    const ringShare = ring.size === 0 ? 1 : (ring.shares().get(this.d.selfId)?.primary ?? 0);
    return { ringShare, takeovers: [...this.queue.map((j) => ({ ...j.status })), ...this.recent.map((s) => ({ ...s }))], takeoverSamples: this.takeoverSamples };
  }

  /** Takeovers planned and not yet durable in the queues. */
  pending(): number {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
  }

  private noteQueues(): void {
    for (const q of this.d.target.queues()) if (!this.firstSeen.has(q.name)) this.firstSeen.set(q.name, this.d.clock.wallNow());
  }

  /** Runs the planned takeovers one after another; a failed one is tried again, whole, after a delay. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const job = this.queue[0]!;
        const wait = job.notBefore - this.d.clock.now();
        if (wait > 0) {
          await this.d.clock.sleep(wait);
          continue;
        }
        job.status.attempts++;
        try {
          job.status.samples = await this.forward(job.plan, job.ranges);
          this.queue.shift();
          job.status.state = "done";
          job.status.doneAtMs = this.d.clock.wallNow();
          job.status.lastError = "";
          this.takeoverSamples += job.status.samples;
          this.recent.unshift(job.status);
          if (this.recent.length > RECENT_TAKEOVERS) this.recent.pop();
          this.d.logger.info("took over remote-write forwarding", { from: job.plan.fromName, samples: job.status.samples, took_ms: job.status.doneAtMs - job.status.startedAtMs });
        } catch (err) {
          job.status.lastError = err instanceof Error ? err.message : String(err);
          this.d.logger.warn("remote-write takeover failed; trying again", { from: job.plan.fromName, err, attempt: job.status.attempts });
          await this.d.clock.sleep(this.d.retryDelayMs ?? 5000);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads the taken-over ranges from the local storage and hands each queue its samples after its start; returns the samples handed. */
  private async forward(plan: TakeoverPlan, ranges: HashRanges): Promise<number> {
    let from = Infinity;
    for (const t of plan.after.values()) from = Math.min(from, t);
    let handed = 0;
    const batches = this.d.local.exportSeries({ filter: (_l, h) => ranges.has(h), mint: Math.floor(from) + 1, batchSamples: this.d.batchSamples ?? 20_000 });
    for await (const batch of batches) {
      if (this.stopped) throw new Error("stopped");
      const present = new Set(this.d.target.queues().map((q) => q.name));
      for (const [queue, after] of plan.after) {
        // A queue removed by a config reload meanwhile has nobody to deliver to.
        if (!present.has(queue)) continue;
        const runs = runsAfter(batch, after);
        if (runs.runs === 0) continue;
        await this.d.target.write(runs, [queue]);
        handed += runs.ends[runs.runs - 1]!;
      }
    }
    return handed;
  }
}

/** The samples of `series` with t > `after`, as columnar runs (series without any are left out). */
export function runsAfter(series: readonly SeriesData[], after: number): SampleRuns {
  let total = 0;
  for (const s of series) {
    const ts = s.timestamps;
    for (let i = 0; i < ts.length; i++) if (ts[i]! > after) total++;
  }
  const labels: Labels[] = [];
  const ends = new Int32Array(series.length);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  let n = 0;
  for (const s of series) {
    const ts = s.timestamps;
    const vs = s.values;
    const start = n;
    for (let i = 0; i < ts.length; i++) {
      if (!(ts[i]! > after)) continue;
      timestamps[n] = ts[i]!;
      // A NaN read into a number may lose its payload: stale markers are copied by their bits.
      if (isStaleAt(vs, i)) setStaleAt(values, n);
      else values[n] = vs[i]!;
      n++;
    }
    if (n === start) continue;
    ends[labels.length] = n;
    labels.push(s.labels);
  }
  return { runs: labels.length, labels, ends, timestamps, values };
}
