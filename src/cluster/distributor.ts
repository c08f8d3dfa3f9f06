/**
 * The distributor: the `Appender` that scrapes and remote write talk to when the cluster is on.
 * On commit it groups series by their owner set on the ring, writes the local share straight to
 * the local storage and sends every other owner one batch over the write protocol; the commit
 * succeeds once each owner set reached a quorum (⌊R/2⌋+1) of acknowledgements. Replicas that
 * failed get the batch through hinted handoff.
 */
import {
  AppendError,
  isStaleAt,
  labelsHash32,
  setStaleAt,
  type Appendable,
  type Appender,
  type Labels,
  type Logger,
  type RejectReason,
} from "../model/index.ts";
import { decodeBatch, encodeBatch, type BatchSeries, type WireBatch } from "./batch.ts";
import { encodeFrame } from "./codec.ts";
import type { HintedHandoff } from "./hints.ts";
import type { Membership } from "./membership.ts";
import { LabelledCounter } from "./metrics.ts";
import { EncodedFrame, type Rpc } from "./rpc.ts";

export const WRITE_PROTOCOL = "/shoal/write/1";
/** Hinted-handoff replays: same payload as a write, handled differently by a catching-up node. */
export const HINT_PROTOCOL = "/shoal/hint/1";

interface WriteRequest {
  b: WireBatch;
  /** The sender's wall clock when it sent the batch. */
  ts?: number;
}

interface WriteReply {
  /** Samples accepted and rejected. */
  ok: number;
  rej: number;
  reason?: RejectReason;
  msg?: string;
}

/** The write did not reach a quorum of replicas; retrying later may succeed (HTTP 503). */
export class ClusterWriteError extends Error {
  readonly retryable = true;
}

/** Applies a batch to the local storage; shared by the write protocol and the local share. */
export async function applyLocally(local: Appendable, series: readonly BatchSeries[]): Promise<WriteReply> {
  const app = local.appender();
  let ok = 0;
  let rej = 0;
  let first: AppendError | undefined;
  try {
    for (const s of series) {
      const t = s.timestamps;
      const v = s.values;
      for (let i = 0; i < t.length; i++) {
        try {
          app.append(s.labels, t[i]!, v[i]!, isStaleAt(v, i));
          ok++;
        } catch (err) {
          if (!(err instanceof AppendError)) throw err;
          rej++;
          first ??= err;
        }
      }
    }
    await app.commit();
  } catch (err) {
    app.rollback();
    throw err;
  }
  return first ? { ok, rej, reason: first.reason, msg: first.message } : { ok, rej };
}

export function decodeWriteRequest(req: unknown): BatchSeries[] {
  const r = req as WriteRequest;
  if (!r || typeof r !== "object" || !r.b) throw new Error("malformed write request");
  return decodeBatch(r.b);
}

/** Server side of the write protocol: a peer forwards us the series we own. */
/**
 * Server side of the write protocol. A request older than the sender's write timeout is refused:
 * the sender gave up on it and keeps it for hinted handoff. Such requests wait in this node's
 * sockets while it is paused (SIGSTOP, a long GC); applying them after it resumes, mixed with
 * newer ones from other senders, would store samples out of order.
 */
export function writeHandler(
  local: Appendable,
  ageOf: (from: string, sentAt: number) => number | null,
  timeoutMs: number,
): (req: unknown, ctx: { from: string }) => Promise<WriteReply> {
  return async (req, ctx) => {
    const sentAt = (req as WriteRequest | null)?.ts;
    if (typeof sentAt === "number") {
      const age = ageOf(ctx.from, sentAt);
      if (age !== null && age > timeoutMs) throw new Error(`stale write request (${Math.round(age)} ms old) refused; the sender keeps it for hinted handoff`);
    }
    return applyLocally(local, decodeWriteRequest(req));
  };
}

export interface DistributorMetrics {
  /** samples and batches by peer and outcome (success, failure, hinted). */
  forwardedSamples: LabelledCounter;
  forwardedBatches: LabelledCounter;
  quorumFailures: number;
  samplesAppended: number;
}

interface PendingSeries {
  labels: Labels;
  hash: number;
  t: number[];
  v: number[];
  stale: number[] | null;
}

export class Distributor implements Appendable {
  readonly metrics: DistributorMetrics = {
    forwardedSamples: new LabelledCounter(["peer", "outcome"]),
    forwardedBatches: new LabelledCounter(["peer", "outcome"]),
    quorumFailures: 0,
    samplesAppended: 0,
  };

  constructor(
    private readonly membership: Membership,
    private readonly rpc: Rpc,
    private readonly local: Appendable,
    private readonly hints: HintedHandoff,
    private readonly writeTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  appender(): Appender {
    return new DistributorAppender(this);
  }

  /** Sends a pre-encoded batch to a peer. */
  async send(peer: string, frame: Uint8Array, protocol = WRITE_PROTOCOL): Promise<WriteReply> {
    return (await this.rpc.call(peer, protocol, new EncodedFrame(frame), this.writeTimeoutMs)) as WriteReply;
  }

  async commitSeries(pending: PendingSeries[]): Promise<void> {
    if (pending.length === 0) return;
    if (this.membership.self().state === "joining" && this.membership.expectsPeers() && this.membership.firstPeerHeartbeat() === null) {
      // Until the members' heartbeats arrived this node would take itself for the only owner
      // of every series and acknowledge writes that no other replica has.
      this.metrics.quorumFailures++;
      throw new ClusterWriteError("cluster write refused: this node is still joining the cluster, retry shortly");
    }
    const ring = this.membership.ring();
    const selfId = this.membership.selfId;
    // Owner set id → series; then member → series it must receive.
    const bySet = new Map<number, PendingSeries[]>();
    for (const p of pending) {
      const set = ring.ownerSetOf(p.hash);
      let list = bySet.get(set);
      if (!list) bySet.set(set, (list = []));
      list.push(p);
    }
    if (bySet.has(-1)) throw new ClusterWriteError("cluster write failed: the ring has no members");

    // One pair of sample columns for the whole commit; each series is a view into them.
    let total = 0;
    for (const p of pending) total += p.t.length;
    const allT = new Float64Array(total);
    const allV = new Float64Array(total);
    const typed = new Map<PendingSeries, BatchSeries>();
    let off = 0;
    for (const p of pending) {
      const n = p.t.length;
      for (let i = 0; i < n; i++) {
        allT[off + i] = p.t[i]!;
        allV[off + i] = p.v[i]!;
      }
      const values = allV.subarray(off, off + n);
      if (p.stale) for (const i of p.stale) setStaleAt(values, i);
      typed.set(p, { labels: p.labels, timestamps: allT.subarray(off, off + n), values });
      off += n;
    }
    const perMember = new Map<string, PendingSeries[]>();
    for (const [set, list] of bySet) {
      for (const id of ring.setMembers(set)) {
        let l = perMember.get(id);
        if (!l) perMember.set(id, (l = []));
        for (const p of list) l.push(p);
      }
    }

    // Quorum bookkeeping per owner set.
    const sets = [...bySet.keys()].map((id) => {
      const members = ring.setMembers(id);
      return { members, need: Math.floor(members.length / 2) + 1, ok: 0, failed: 0, errors: [] as string[] };
    });
    const rejects: WriteReply[] = [];
    let settle!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    let finished = false;
    const record = (member: string, outcome: WriteReply | Error) => {
      if (!(outcome instanceof Error) && outcome.rej > 0) rejects.push(outcome);
      for (const s of sets) {
        if (!s.members.includes(member)) continue;
        if (outcome instanceof Error) {
          s.failed++;
          s.errors.push(`${this.memberName(member)}: ${outcome.message}`);
        } else s.ok++;
      }
      if (finished) return;
      const broken = sets.find((s) => s.failed > s.members.length - s.need);
      if (broken) {
        finished = true;
        this.metrics.quorumFailures++;
        settle(
          new ClusterWriteError(
            `cluster write failed: ${broken.ok} of ${broken.members.length} replicas acknowledged, ` +
              `quorum is ${broken.need} (${broken.errors.join("; ")})`,
          ),
        );
      } else if (sets.every((s) => s.ok >= s.need)) {
        finished = true;
        settle();
      }
    };

    for (const [member, list] of perMember) {
      const samples = list.reduce((n, p) => n + p.t.length, 0);
      if (member === selfId) {
        applyLocally(this.local, list.map((p) => typed.get(p)!)).then(
          (r) => record(member, r),
          (err: unknown) => record(member, err instanceof Error ? err : new Error(String(err))),
        );
        continue;
      }
      const frame = encodeFrame({ b: encodeBatch(list.map((p) => typed.get(p)!)), ts: Date.now() } satisfies WriteRequest);
      const m = this.membership.get(member);
      const backlog = this.hints.stats(member).records > 0;
      if (!m || m.health !== "alive" || backlog) {
        // A suspect member is probably hung: do not wait for it, queue its share at once. While
        // its backlog drains, newer batches queue behind it, so that the replica receives each
        // series' samples in order (the storage refuses out-of-order samples).
        this.hints.enqueue(member, frame);
        this.count(member, "hinted", samples);
        record(member, new Error(backlog && m?.health === "alive" ? "hinted-handoff backlog still draining" : `member is ${m?.health ?? "unknown"}`));
        continue;
      }
      this.send(member, frame).then(
        (r) => {
          this.count(member, "success", samples);
          record(member, r);
        },
        (err: unknown) => {
          this.hints.enqueue(member, frame);
          this.count(member, "failure", samples);
          this.count(member, "hinted", samples);
          record(member, err instanceof Error ? err : new Error(String(err)));
        },
      );
    }
    await done;
    // Samples every replica refused (out of order, duplicates): report like a local append would.
    if (rejects.length > 0 && rejects.length * 2 >= perMember.size) {
      const r = rejects[0]!;
      throw new AppendError(r.reason ?? "invalid", `${r.rej} samples rejected: ${r.msg ?? "unknown reason"}`);
    }
  }

  private count(peer: string, outcome: string, samples: number): void {
    const name = this.memberName(peer);
    this.metrics.forwardedSamples.inc([name, outcome], samples);
    this.metrics.forwardedBatches.inc([name, outcome]);
  }

  private memberName(id: string): string {
    return this.membership.get(id)?.name ?? id;
  }
}

/**
 * Ring hashes by label-set object: remote write's decoder and the scrape loops hand over the same
 * `Labels` object for a series every time, so its hash is computed once.
 */
const hashCache = new WeakMap<Labels, number>();

class DistributorAppender implements Appender {
  private runs: PendingSeries[] = [];
  private last: PendingSeries | null = null;

  constructor(private readonly d: Distributor) {}

  append(labels: Labels, t: number, v: number, stale = false): void {
    if (!Number.isFinite(t)) throw new AppendError("invalid", `invalid timestamp ${t}`);
    if (labels.length === 0) throw new AppendError("invalid", "sample without labels");
    // Samples of one series come in runs (a scrape, a remote-write time series). A series seen
    // again later simply starts another run: the runs reach the same owners in order.
    let p = this.last;
    if (p === null || p.labels !== labels) {
      let hash = hashCache.get(labels);
      if (hash === undefined) hashCache.set(labels, (hash = labelsHash32(labels)));
      p = { labels, hash, t: [], v: [], stale: null };
      this.runs.push(p);
      this.last = p;
    }
    if (stale) (p.stale ??= []).push(p.t.length);
    p.t.push(t);
    p.v.push(stale ? 0 : v);
  }

  async commit(): Promise<void> {
    const pending = this.runs;
    this.rollback();
    let n = 0;
    for (const p of pending) n += p.t.length;
    this.d.metrics.samplesAppended += n;
    await this.d.commitSeries(pending);
  }

  rollback(): void {
    this.runs = [];
    this.last = null;
  }
}
