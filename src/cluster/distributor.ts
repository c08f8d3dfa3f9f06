/**
 * The distributor: the `Appender` that scrapes and remote write talk to when the cluster is on.
 * On commit it groups series by their owner set on the ring, writes the local share straight to
 * the local storage and sends every other owner one batch over the write protocol; the commit
 * succeeds once each owner set reached a quorum (⌊R/2⌋+1) of acknowledgements (while members
 * join or leave: of the current owners and of the owners taking over). Replicas that failed get
 * the batch through hinted handoff.
 */
import {
  AppendError,
  formatLabels,
  isStaleAt,
  labelsHash32,
  setStaleAt,
  type Appendable,
  type Appender,
  type AppenderOptions,
  type Labels,
  type RejectReason,
  WriteUnavailableError,
} from "../model/index.ts";
import { decodeBatch, encodeRuns, type BatchSeries, type WireBatch } from "./batch.ts";
import { encodeFrame } from "./codec.ts";
import type { HintedHandoff } from "./hints.ts";
import type { Membership } from "./membership.ts";
import { LabelledCounter } from "./metrics.ts";
import type { Ring } from "./ring.ts";
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

/**
 * The samples of one commit, column by column: runs of samples of one series (a scrape, a
 * remote-write time series) with their label sets, and one timestamp and one value column for
 * all of them. Built without an object or array per sample; stale markers live in the value bits.
 */
export class PendingRuns {
  labels: Labels[] = [];
  /** End (exclusive) in the sample columns of each run; run r starts at ends[r-1] (or 0). */
  ends: Int32Array = new Int32Array(64);
  timestamps: Float64Array = new Float64Array(256);
  values: Float64Array = new Float64Array(256);
  samples = 0;

  get runs(): number {
    return this.labels.length;
  }

  start(r: number): number {
    return r === 0 ? 0 : this.ends[r - 1]!;
  }

  /** Appends a sample, opening a run when the label set (by identity) changes. */
  push(labels: Labels, t: number, v: number, stale: boolean): void {
    let r = this.labels.length - 1;
    if (r < 0 || this.labels[r] !== labels) {
      r++;
      if (r === this.ends.length) this.ends = grownInt32(this.ends);
      this.labels.push(labels);
    }
    const i = this.samples;
    if (i === this.timestamps.length) this.growSamples();
    this.timestamps[i] = t;
    if (stale) setStaleAt(this.values, i);
    else this.values[i] = v;
    this.samples = i + 1;
    this.ends[r] = i + 1;
  }

  private growSamples(): void {
    const t = new Float64Array(this.timestamps.length * 2);
    t.set(this.timestamps);
    const v = new Float64Array(t.length);
    v.set(this.values); // typed-array copy keeps the stale marker's bits
    this.timestamps = t;
    this.values = v;
  }
}

function grownInt32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The local share of a commit, appended but not committed yet, and the samples refused. */
interface LocalShare {
  app: Appender;
  ok: number;
  rej: number;
  first: AppendError | undefined;
  /** Per sample of the commit, 1 where the local storage refused it (null: none refused). */
  refused: Uint8Array | null;
}

/**
 * Appends the selected runs (all when `runs` is null) of a commit to the local storage, before
 * anything is sent to the other replicas: this node's verdict on a sample (out of order, too
 * old, a duplicate) is the one Prometheus's storage would give, and a sample it refuses goes to
 * no replica. Replicas backfill late samples (late.ts), so without this a client's out-of-order
 * write would be outvoted into the other replicas and this one would lack it for good. With
 * `allOrNothing` (remote write, as Prometheus's receiver does) one refused sample refuses the
 * commit: an AppendError is thrown and nothing is stored.
 */
function appendRunsLocally(local: Appendable, p: PendingRuns, runs: Int32Array | null, count: number, allOrNothing: boolean): LocalShare {
  const app = local.appender();
  let ok = 0;
  let rej = 0;
  let first: AppendError | undefined;
  let refused: Uint8Array | null = null;
  const { timestamps: t, values: v, labels, ends } = p;
  const n = runs === null ? p.runs : count;
  try {
    for (let k = 0; k < n; k++) {
      const r = runs === null ? k : runs[k]!;
      const lset = labels[r]!;
      const end = ends[r]!;
      for (let i = p.start(r); i < end; i++) {
        try {
          app.append(lset, t[i]!, v[i]!, isStaleAt(v, i));
          ok++;
        } catch (err) {
          if (!(err instanceof AppendError)) throw err;
          if (allOrNothing) {
            throw new AppendError(err.reason, `${err.message} for series ${formatLabels(lset)}; nothing of this request was stored`);
          }
          rej++;
          first ??= err;
          (refused ??= new Uint8Array(p.samples))[i] = 1;
        }
      }
    }
  } catch (err) {
    app.rollback();
    throw err;
  }
  return { app, ok, rej, first, refused };
}

/** The error a commit reports for the samples this node refused (the scrape loop counts them by its first words). */
function refusal(share: LocalShare): AppendError {
  const { rej, first } = share;
  return new AppendError(first!.reason, `${rej} sample${rej === 1 ? "" : "s"} rejected (${first!.message})`);
}

/** The samples of `p` that `drop` does not mark, as new runs (label sets kept by identity). */
function withoutSamples(p: PendingRuns, drop: Uint8Array): PendingRuns {
  const out = new PendingRuns();
  for (let r = 0; r < p.runs; r++) {
    const lset = p.labels[r]!;
    for (let i = p.start(r); i < p.ends[r]!; i++) {
      if (drop[i] === 1) continue;
      const stale = isStaleAt(p.values, i);
      out.push(lset, p.timestamps[i]!, stale ? 0 : p.values[i]!, stale);
    }
  }
  return out;
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
  ) {}

  appender(opts?: AppenderOptions): Appender {
    return new DistributorAppender(this, opts?.allOrNothing === true);
  }

  /** Sends a pre-encoded batch to a peer. */
  async send(peer: string, frame: Uint8Array, protocol = WRITE_PROTOCOL): Promise<WriteReply> {
    return (await this.rpc.call(peer, protocol, new EncodedFrame(frame), this.writeTimeoutMs)) as WriteReply;
  }

  async commitRuns(pending: PendingRuns, allOrNothing = false): Promise<void> {
    if (pending.samples === 0) return;
    if (this.membership.self().state === "joining" && this.membership.expectsPeers() && this.membership.firstPeerHeartbeat() === null) {
      // Until the members' heartbeats arrived this node would take itself for the only owner
      // of every series and acknowledge writes that no other replica has.
      this.metrics.quorumFailures++;
      throw new WriteUnavailableError("cluster write refused: this node is still joining the cluster, retry shortly");
    }
    const ring = this.membership.ring();
    const selfId = this.membership.selfId;
    let { setIds, perMember } = route(ring, pending);
    // This node's share first: what it refuses is refused, and sent to no other replica.
    const own = perMember.get(selfId);
    const localShare = own ? appendRunsLocally(this.local, pending, own.runs, own.n, allOrNothing) : null;
    if (localShare?.refused) {
      pending = withoutSamples(pending, localShare.refused);
      if (pending.samples === 0) {
        localShare.app.rollback();
        throw refusal(localShare);
      }
      ({ setIds, perMember } = route(ring, pending));
    }

    // Quorum bookkeeping per owner set: each of its groups (the owners readers use now and,
    // while members join or leave, the owners that take over) needs a quorum of its own.
    const groups = setIds.flatMap((id) =>
      ring.quorumGroups(id).map((members) => ({ members, need: Math.floor(members.length / 2) + 1, ok: 0, failed: 0, errors: [] as string[] })),
    );
    const rejects: WriteReply[] = [];
    let settle!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    let finished = false;
    const record = (member: string, outcome: WriteReply | Error) => {
      if (!(outcome instanceof Error) && outcome.rej > 0) rejects.push(outcome);
      for (const g of groups) {
        if (!g.members.includes(member)) continue;
        if (outcome instanceof Error) {
          g.failed++;
          g.errors.push(`${this.memberName(member)}: ${outcome.message}`);
        } else g.ok++;
      }
      if (finished) return;
      const broken = groups.find((g) => g.failed > g.members.length - g.need);
      if (broken) {
        finished = true;
        this.metrics.quorumFailures++;
        settle(
          new WriteUnavailableError(
            `cluster write failed: ${broken.ok} of ${broken.members.length} replicas acknowledged, ` +
              `quorum is ${broken.need} (${broken.errors.join("; ")})`,
          ),
        );
      } else if (groups.every((g) => g.ok >= g.need)) {
        finished = true;
        settle();
      }
    };

    for (const [member, share] of perMember) {
      const samples = share.samples;
      if (member === selfId) {
        const { app, ok } = localShare!;
        app.commit().then(
          () => record(member, { ok, rej: 0 }),
          (err: unknown) => {
            app.rollback();
            record(member, err instanceof Error ? err : new Error(String(err)));
          },
        );
        continue;
      }
      const frame = encodeFrame({ b: encodeRuns(pending, share.runs, share.n), ts: Date.now() } satisfies WriteRequest);
      const m = this.membership.get(member);
      if (!m || m.health !== "alive") {
        // A suspect member is probably hung: do not wait for it, queue its share at once. (A
        // member with a hinted backlog takes new writes directly: it backfills the replayed
        // batches, so their order does not matter.)
        this.hints.enqueue(member, frame);
        this.count(member, "hinted", samples);
        record(member, new Error(`member is ${m?.health ?? "unknown"}`));
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
    // What this node refused is reported as its own append would (the rest is stored).
    if (localShare?.refused) throw refusal(localShare);
    // Samples every replica refused (out of order, duplicates): report like a local append would.
    if (rejects.length > 0 && rejects.length * 2 >= perMember.size) {
      const r = rejects[0]!;
      throw new AppendError(r.reason ?? "invalid", r.msg ?? `${r.rej} samples rejected`);
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

/** The runs of a commit one member receives (null: all), how many, and their samples. */
interface MemberShare {
  runs: Int32Array | null;
  n: number;
  samples: number;
}

/** Which owner sets the runs of a commit fall in, and the runs each member must receive. */
function route(ring: Ring, pending: PendingRuns): { setIds: number[]; perMember: Map<string, MemberShare> } {
  const nRuns = pending.runs;
  // Owner set of each run. A ring with one owner set (a node alone, or every member holding
  // everything) needs no hashing at all.
  let setIds: number[];
  let setOfRun: Int32Array | null = null;
  /** Per owner set: the runs it owns (null: all of them). */
  const runsOf = new Map<number, { runs: Int32Array | null; n: number }>();
  if (ring.sets.length <= 1) {
    const only = ring.ownerSetOf(0);
    setIds = [only];
    runsOf.set(only, { runs: null, n: nRuns });
  } else {
    setOfRun = new Int32Array(nRuns);
    const counts = new Map<number, number>();
    for (let r = 0; r < nRuns; r++) {
      const set = ring.ownerSetOf(labelsHash32(pending.labels[r]!));
      setOfRun[r] = set;
      counts.set(set, (counts.get(set) ?? 0) + 1);
    }
    for (const [set, n] of counts) runsOf.set(set, { runs: new Int32Array(n), n: 0 });
    for (let r = 0; r < nRuns; r++) {
      const g = runsOf.get(setOfRun[r]!)!;
      g.runs![g.n++] = r;
    }
    setIds = [...runsOf.keys()];
  }
  if (runsOf.has(-1)) throw new WriteUnavailableError("cluster write failed: the ring has no members");

  // Member → the runs it must receive (the union of its owner sets' runs, in commit order).
  const perMember = new Map<string, { runs: Int32Array | null; n: number; samples: number }>();
  const memberSets = new Map<string, number[]>();
  for (const set of setIds) {
    for (const id of ring.setMembers(set)) {
      let l = memberSets.get(id);
      if (!l) memberSets.set(id, (l = []));
      l.push(set);
    }
  }
  for (const [id, sets] of memberSets) {
    if (sets.length === 1) {
      const g = runsOf.get(sets[0]!)!;
      perMember.set(id, { runs: g.runs, n: g.n, samples: samplesIn(pending, g.runs, g.n) });
      continue;
    }
    const mine = new Set(sets);
    let n = 0;
    for (const set of sets) n += runsOf.get(set)!.n;
    const runs = new Int32Array(n);
    let k = 0;
    // Several owner sets means the ring had more than one, so setOfRun is known.
    for (let r = 0; r < nRuns; r++) if (mine.has(setOfRun![r]!)) runs[k++] = r;
    perMember.set(id, { runs, n, samples: samplesIn(pending, runs, n) });
  }
  return { setIds, perMember };
}

/** Samples in the selected runs (all when `runs` is null). */
function samplesIn(p: PendingRuns, runs: Int32Array | null, n: number): number {
  if (runs === null) return p.samples;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const r = runs[k]!;
    total += p.ends[r]! - p.start(r);
  }
  return total;
}

/**
 * Collects a commit's samples in columns. Samples of one series come in runs (a scrape, a
 * remote-write time series); a series seen again later simply starts another run, and the runs
 * reach the same owners in order. Label sets are compared by identity: remote write's decoder
 * and the scrape loops hand over the same `Labels` object for a series every time, so its ring
 * hash (labelsHash32, cached per object) is computed once.
 */
class DistributorAppender implements Appender {
  private pending: PendingRuns | null = null;

  constructor(
    private readonly d: Distributor,
    private readonly allOrNothing: boolean,
  ) {}

  append(labels: Labels, t: number, v: number, stale = false): void {
    if (!Number.isFinite(t)) throw new AppendError("invalid", `invalid timestamp ${t}`);
    if (labels.length === 0) throw new AppendError("invalid", "sample without labels");
    (this.pending ??= new PendingRuns()).push(labels, t, v, stale);
  }

  async commit(): Promise<void> {
    const pending = this.pending;
    this.rollback();
    if (pending === null) return;
    this.d.metrics.samplesAppended += pending.samples;
    await this.d.commitRuns(pending, this.allOrNothing);
  }

  rollback(): void {
    this.pending = null;
  }
}
