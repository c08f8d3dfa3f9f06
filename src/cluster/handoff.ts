/**
 * Hand-off: moving series when the membership changes, so that every series ends up on exactly
 * its R current owners.
 * - Join: a joining member pulls the ranges it will own from their current owners (the read
 *   ring), spread over the sources; it takes writes meanwhile (the write ring is the union of the
 *   read and future rings) and turns active once every pull is done.
 * - Leave: a leaving member pushes the ranges it owns to the members that take them over (the
 *   future ring's new owners), waits for their acknowledgements, then announces `left`.
 * - Death: when a member is declared dead, each member that now owns some of its ranges pulls
 *   them from one surviving owner, then compares digests with every survivor and pulls what
 *   differs (writes acknowledged by the dead member and only one of the survivors).
 * - Restart: a member joining again on its old data compares digests with the owners instead of
 *   pulling its whole share.
 * - Drop: once the ring has been settled (no joining or leaving member, no transfer anywhere)
 *   for the grace period, a member drops the series it no longer owns.
 */
import { labelsKey, type Labels, type Logger } from "../model/index.ts";
import type { CatchUpBase } from "./antientropy.ts";
import { realClock, type Clock, type ClockTimer } from "./clock.ts";
import type { ClusterConfig } from "./config.ts";
import type { Membership } from "./membership.ts";
import { compareRings, HashRanges, type HashInterval, type Ring } from "./ring.ts";
import type { Rpc } from "./rpc.ts";
import { labelsFromWire, labelsToWire, TransferError, type HandoffReason, type HandoffStorage, type TransferProgress, type Transfers } from "./transfer.ts";

export const HANDOFF_PULL_PROTOCOL = "/shoal/handoff/pull/1";

interface PullRequest {
  id: string;
  reason: HandoffReason;
  /** Flat [lo, hi, ...] inclusive hash intervals. */
  ranges?: number[];
  /** Series keys (labelsKey) instead of ranges (repairs). */
  keys?: string[];
  after?: string[];
  mint?: number;
  maxt?: number;
}

/**
 * An incoming transfer whose sender sends nothing for this long is given up (a pull is then
 * asked of another member). Senders that died, left or restarted are given up at once.
 */
const STALL_MS = 60_000;
const RETRY_DELAY_MS = 1000;
const MAX_ATTEMPTS = 30;

export interface HandoffStatus {
  /** What this node is doing: idle, joining (pulling), leaving (pushing), re-replicating. */
  state: "idle" | "joining" | "leaving" | "left" | "re-replicating";
  transfers: TransferProgress[];
  recent: TransferProgress[];
  /** Token ranges that members are re-replicating after a death and that are not back to R copies. */
  underReplicatedRanges: number;
  totals: {
    bytes: { in: number; out: number };
    series: { in: number; out: number };
    samples: { in: number; out: number };
    failedTransfers: number;
  };
  drop: {
    graceSeconds: number;
    droppedSeries: number;
    lastDropAt: string | null;
    settledForSeconds: number;
    /**
     * Whether this node held series it does not own at its last check (they are dropped after
     * the grace); null before the first check. False on every node: each series is on its R
     * owners only.
     */
    holdsForeignSeries: boolean | null;
  };
  leave: { requested: boolean; startedAt: string | null; finishedAt: string | null; error: string | null };
}

export class Handoff {
  private seq = 0;
  private prevRead: Ring | null = null;
  /** Intervals this node is re-replicating (pulling after a death), while the pull runs. */
  private readonly deathPulls = new Map<number, HashInterval[]>();
  private deathPullSeq = 0;
  private leavePromise: Promise<void> | null = null;
  private leaveInfo: HandoffStatus["leave"] = { requested: false, startedAt: null, finishedAt: null, error: null };
  private joining = false;
  private stopped = false;
  private droppedSeries = 0;
  private lastDropAt: number | null = null;
  private settledSince: number;
  private settledKey = "";
  private droppedForKey = "";
  private lastDropPerf = 0;
  private holdsForeign: boolean | null = null;
  private dropping = false;
  /** The sender's start time when an incoming transfer began (a restart loses its pushes). */
  private readonly senderEpoch = new Map<string, number>();
  /**
   * Makes sure a peer holds everything this node holds in some ranges (set by the cluster: the
   * anti-entropy one-way sync). Run before dropping, so nothing is deleted that its owners lack.
   */
  verifyBeforeDrop: ((peer: string, ranges: number[]) => Promise<number>) | null = null;
  /**
   * Hinted batches this node still holds for live members (set by the cluster). A leaving node
   * delivers them before it goes: they may be the only way a replica gets those writes.
   */
  hintsPending: () => number = () => 0;
  /**
   * Makes this node hold everything some peers hold in some intervals, pulling only the
   * (interval × time window) cells whose digests differ (set by the cluster: anti-entropy's
   * catch-up). `prepare` digests this node's side once for all of them.
   */
  catchUp: {
    prepare(intervals: readonly HashInterval[]): Promise<CatchUpBase>;
    from(peer: string, intervals: readonly HashInterval[], reason: HandoffReason, base: CatchUpBase): Promise<number>;
  } | null = null;

  constructor(
    private readonly cfg: ClusterConfig,
    private readonly membership: Membership,
    private readonly rpc: Rpc,
    private readonly local: HandoffStorage,
    readonly transfers: Transfers,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
  ) {
    this.settledSince = clock.now();
  }

  private nextId(kind: string): string {
    return `${this.membership.selfId.slice(-8)}-${kind}-${this.clock.wallNow().toString(36)}-${++this.seq}`;
  }

  private name(id: string): string {
    return this.membership.get(id)?.name ?? id;
  }

  /** Server side of the pull protocol: starts pushing the asked-for series to the caller. */
  pullHandler(): (req: unknown, ctx: { from: string }) => Promise<{ accepted: boolean }> {
    return async (raw, ctx) => {
      const req = raw as PullRequest;
      if (!req || typeof req !== "object" || typeof req.id !== "string") throw new Error("malformed pull request: no id");
      const reason: HandoffReason = req.reason === "join" || req.reason === "repair" || req.reason === "death" ? req.reason : "join";
      let filter: (l: Labels, h: number) => boolean;
      let fraction = 0;
      if (Array.isArray(req.keys)) {
        const keys = new Set(req.keys.map(String));
        filter = (l) => keys.has(labelsKey(l));
      } else {
        const ranges = HashRanges.fromWire(req.ranges);
        fraction = ranges.fraction();
        filter = (_l, h) => ranges.has(h);
      }
      const after = labelsFromWire(req.after);
      const opts: Parameters<Transfers["push"]>[0] = {
        id: req.id,
        peer: ctx.from,
        peerName: this.name(ctx.from),
        reason,
        filter,
        ringFraction: fraction,
        cancelled: () => this.stopped,
      };
      if (after) opts.after = after;
      if (typeof req.mint === "number") opts.mint = req.mint;
      if (typeof req.maxt === "number") opts.maxt = req.maxt;
      // Runs in the background; the caller watches its progress through the batches it receives.
      this.transfers.push(opts).catch((err: unknown) => this.logger.warn("serving a pull failed", { peer: opts.peerName, err }));
      return { accepted: true };
    };
  }

  /**
   * Asks `source` to push the series passing the request to this node and waits until it is
   * complete; a stalled or failed source is given up (the error carries the resume cursor).
   */
  async pullFrom(source: string, req: Omit<PullRequest, "id" | "after">, after?: Labels): Promise<void> {
    const id = this.nextId(req.reason);
    const full: PullRequest = { ...req, id };
    const w = labelsToWire(after);
    if (w) full.after = w;
    await this.rpc.call(source, HANDOFF_PULL_PROTOCOL, full, 10_000);
    const done = this.transfers.book.waitDone(id);
    const started = this.clock.now();
    let timer: ClockTimer | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = this.clock.setInterval(() => {
        const t = this.transfers.book.active.get(id);
        const last = t ? Date.parse(t.updatedAt) : NaN;
        const quiet = t ? this.clock.wallNow() - last : this.clock.now() - started;
        const gone = this.senderGone(source, id);
        if (gone || quiet > STALL_MS || this.stopped) {
          const e = new TransferError(gone ? `source ${this.name(source)} is gone` : this.stopped ? "stopping" : `source ${this.name(source)} sent nothing for ${Math.round(quiet / 1000)}s`);
          (e as TransferError & { cursor?: Labels }).cursor = this.transfers.book.cursors.get(id) ?? after;
          if (t) this.transfers.book.finish(t, "failed", e.message);
          reject(e);
        }
      }, 500);
    });
    try {
      await Promise.race([done, watchdog]);
    } finally {
      this.clock.clearInterval(timer);
      this.transfers.book.forgetWaiter(id);
      this.transfers.book.cursors.delete(id);
    }
  }

  /** Whether the sender of an incoming transfer died, left or restarted since it began. */
  private senderGone(peer: string, transferId: string): boolean {
    const m = this.membership.get(peer);
    if (!m || m.health === "dead" || m.state === "left") return true;
    const epoch = this.senderEpoch.get(transferId);
    if (epoch === undefined) this.senderEpoch.set(transferId, m.startedAt);
    return epoch !== undefined && epoch !== m.startedAt;
  }

  /**
   * Gives up incoming transfers whose sender died, left, restarted or went quiet: they would
   * otherwise show as running forever and hold off drops and anti-entropy.
   */
  expireIncoming(): void {
    const now = this.clock.wallNow();
    for (const t of [...this.transfers.book.active.values()]) {
      if (t.direction !== "in") continue;
      const gone = this.senderGone(t.peer, t.id);
      if (!gone && now - Date.parse(t.updatedAt) < STALL_MS) continue;
      this.transfers.book.finish(t, "failed", gone ? `sender ${t.peerName} died, left or restarted` : `sender ${t.peerName} sent nothing for ${STALL_MS / 1000}s`);
      this.senderEpoch.delete(t.id);
    }
    for (const id of this.senderEpoch.keys()) if (!this.transfers.book.active.has(id)) this.senderEpoch.delete(id);
  }

  /**
   * The join pull: every range this node owns in the future ring and not in the read ring comes
   * from a live owner in the read ring; then digests are compared with every other owner and
   * whatever differs is pulled too (a write acknowledged by a quorum may not have reached the
   * owner that sent the range yet). A node that still holds its data (restarted on its data
   * directory, or back after a silence) only compares digests. Resolves when all of it arrived
   * (ranges that have no live owner at all are skipped with a warning: nobody can provide them).
   */
  async join(): Promise<void> {
    if (this.joining) return;
    this.joining = true;
    try {
      const self = this.membership.selfId;
      const returning = this.membership.isReturning(this.membership.self());
      // The ring may change while pulling (a member dies, another joins or leaves): the ranges
      // are computed again afterwards and whatever is new is pulled too.
      const pulled: HashInterval[] = [];
      for (let round = 0; round < 10; round++) {
        const done = new HashRanges(pulled);
        const wanted: HashInterval[] = [];
        compareRings(this.membership.readRing(), this.membership.futureRing(), (iv, ro, fo) => {
          if (fo.includes(self) && !ro.includes(self) && !done.covers(iv[0], iv[1])) wanted.push(iv);
        });
        if (wanted.length === 0) break;
        const fraction = new HashRanges(wanted).fraction().toFixed(3);
        // Which owner sent each interval: its copy needs no comparison afterwards.
        const served = new Map<number, string>();
        const wantedRanges = new HashRanges(wanted);
        if (returning && this.catchUp && (await this.holdsAny((h) => wantedRanges.has(h)))) {
          this.logger.info("joining again: comparing what this node holds with the owners", { ranges: wanted.length, fraction, round });
        } else {
          this.logger.info("joining: pulling the ranges this node takes over", { ranges: wanted.length, fraction, round });
          await this.pullIntervals(wanted, "join", undefined, new Set(), 0, undefined, served);
        }
        await this.catchUpFromOwners(wanted, "join", undefined, served);
        pulled.push(...wanted);
      }
      if (pulled.length > 0) this.logger.info("joining: pull complete");
    } finally {
      this.joining = false;
    }
  }

  /**
   * Compares digests with every live owner of the intervals (the read ring's, or the `only`
   * members; not the one that `served` an interval) and pulls the cells that differ. An owner
   * that is suspect is waited for, one that fails is asked again; one that died or left is
   * skipped (what only it held went with it).
   */
  private async catchUpFromOwners(intervals: HashInterval[], reason: HandoffReason, only?: readonly string[], served?: ReadonlyMap<number, string>): Promise<void> {
    const catchUp = this.catchUp;
    if (!catchUp) return;
    const self = this.membership.selfId;
    const read = this.membership.readRing();
    const byOwner = new Map<string, HashInterval[]>();
    for (const iv of intervals) {
      for (const id of only ?? read.owners(iv[1])) {
        if (id === self || served?.get(iv[0]) === id) continue;
        let l = byOwner.get(id);
        if (!l) byOwner.set(id, (l = []));
        l.push(iv);
      }
    }
    if (byOwner.size === 0) return;
    const base = await catchUp.prepare(intervals);
    await Promise.all(
      [...byOwner].map(async ([peer, ivs]) => {
        for (let attempt = 0; !this.stopped; attempt++) {
          const m = this.membership.get(peer);
          if (!m || m.health === "dead" || m.state === "left") return;
          if (m.health !== "alive") {
            await this.clock.sleep(RETRY_DELAY_MS / 4);
            continue;
          }
          try {
            const cells = await catchUp.from(peer, ivs, reason, base);
            if (cells > 0) this.logger.info("pulled what an owner held and this node did not", { owner: this.name(peer), reason, ranges: ivs.length, differing_cells: cells });
            return;
          } catch (err) {
            if (attempt >= MAX_ATTEMPTS) throw err;
            this.logger.warn("comparing digests with an owner failed; asking again", { owner: this.name(peer), reason, err, attempt });
            await this.clock.sleep(RETRY_DELAY_MS);
          }
        }
      }),
    );
  }

  /**
   * Spreads intervals over their live read-ring owners (avoiding `failed` ones when another is
   * live), so that several sources send at once. Intervals with no live owner are left out.
   */
  private assignSources(intervals: HashInterval[], reason: HandoffReason, failed: ReadonlySet<string>, only?: readonly string[]): Map<string, HashInterval[]> {
    const self = this.membership.selfId;
    const read = this.membership.readRing();
    const bySource = new Map<string, HashInterval[]>();
    let skipped = 0;
    for (const iv of intervals) {
      const owners = only ?? read.owners(iv[1]);
      const cands = owners.filter((id) => id !== self && this.membership.isLive(id) && !failed.has(id));
      const fallback = owners.filter((id) => id !== self && this.membership.isLive(id));
      const list = cands.length > 0 ? cands : fallback;
      if (list.length === 0) {
        skipped++;
        continue;
      }
      const src = list[(iv[0] >>> 8) % list.length]!;
      let l = bySource.get(src);
      if (!l) bySource.set(src, (l = []));
      l.push(iv);
    }
    if (skipped > 0) this.logger.warn("no live owner to pull some ranges from; their data is unavailable", { ranges: skipped, reason });
    return bySource;
  }

  /**
   * Pulls intervals from live read-ring owners (or the `only` members), spread over them; retries
   * failed ones elsewhere. Records in `served` which owner sent each interval.
   */
  private async pullIntervals(
    intervals: HashInterval[],
    reason: HandoffReason,
    after: Labels | undefined,
    failed: Set<string>,
    attempt = 0,
    only?: readonly string[],
    served?: Map<number, string>,
  ): Promise<void> {
    await Promise.all(
      [...this.assignSources(intervals, reason, failed, only)].map(async ([src, ivs]) => {
        const ranges = new HashRanges(ivs);
        try {
          await this.pullFrom(src, { reason, ranges: ranges.toWire() }, after);
          for (const iv of ivs) served?.set(iv[0], src);
        } catch (err) {
          if (this.stopped || attempt >= MAX_ATTEMPTS) throw err;
          const cursor = (err as { cursor?: Labels }).cursor ?? after;
          this.logger.warn("pull failed; asking another owner", { source: this.name(src), err, attempt });
          await this.clock.sleep(RETRY_DELAY_MS);
          await this.pullIntervals(ivs, reason, cursor, new Set([...failed, src]), attempt + 1, only, served);
        }
      }),
    );
  }

  /** Whether the local storage holds any series whose hash passes `filter`. */
  private async holdsAny(filter: (hash: number) => boolean): Promise<boolean> {
    for await (const part of this.local.summarizeSeries({ filter: (_l, h) => filter(h), mint: -8.64e15, maxt: 8.64e15, batchSeries: 1, countOnly: true })) {
      if (part.length > 0) return true;
    }
    return false;
  }

  /** For every read-ring owner but this node, the intervals it owns among those `want` selects (by their owners). */
  private intervalsByOwner(want: (owners: readonly string[]) => boolean): Map<string, HashInterval[]> {
    const self = this.membership.selfId;
    const read = this.membership.readRing();
    const byOwner = new Map<string, HashInterval[]>();
    compareRings(read, read, (iv, ro) => {
      if (!want(ro)) return;
      for (const id of ro) {
        if (id === self) continue;
        let l = byOwner.get(id);
        if (!l) byOwner.set(id, (l = []));
        l.push(iv);
      }
    });
    return byOwner;
  }

  /** Pushes intervals to a peer, resuming after failures while the peer is live. */
  private async pushIntervals(peer: string, intervals: HashInterval[], reason: HandoffReason, keepGoing: () => boolean): Promise<void> {
    const ranges = new HashRanges(intervals);
    let after: Labels | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const opts: Parameters<Transfers["push"]>[0] = {
          id: this.nextId(reason),
          peer,
          peerName: this.name(peer),
          reason,
          filter: (_l, h) => ranges.has(h),
          ringFraction: ranges.fraction(),
          cancelled: () => !keepGoing(),
        };
        if (after) opts.after = after;
        await this.transfers.push(opts);
        return;
      } catch (err) {
        after = (err as { cursor?: Labels }).cursor ?? after;
        if (!keepGoing() || !this.membership.isLive(peer) || attempt >= MAX_ATTEMPTS) throw err;
        this.logger.warn("hand-off push failed; resuming", { peer: this.name(peer), reason, err, attempt });
        await this.clock.sleep(RETRY_DELAY_MS);
      }
    }
  }

  /**
   * Graceful leave: `leaving`, push every range to the members taking it over, then `left`.
   * Idempotent; bounded by the leave timeout (after it the node exits anyway and the others
   * treat it as a death, re-replicating from the surviving owners).
   */
  leave(): Promise<void> {
    this.leavePromise ??= this.runLeave();
    return this.leavePromise;
  }

  leaving(): boolean {
    return this.leavePromise !== null;
  }

  private async runLeave(): Promise<void> {
    const startedAt = this.clock.wallNow();
    this.leaveInfo = { requested: true, startedAt: new Date(startedAt).toISOString(), finishedAt: null, error: null };
    const self = this.membership.selfId;
    const wasJoining = this.membership.self().state === "joining";
    this.membership.setState("leaving");
    const deadline = startedAt + this.cfg.handoffLeaveTimeoutMs;
    const inTime = () => this.clock.wallNow() < deadline;
    const others = this.membership.all().filter((m) => !m.self && m.health !== "dead" && m.state !== "left");
    try {
      const takers = (): Map<string, HashInterval[]> => {
        const read = this.membership.readRing();
        const future = this.membership.futureRing();
        const byTaker = new Map<string, HashInterval[]>();
        compareRings(read, future, (iv, ro, fo) => {
          if (!ro.includes(self)) return;
          for (const id of fo) {
            if (ro.includes(id) || id === self) continue;
            let l = byTaker.get(id);
            if (!l) byTaker.set(id, (l = []));
            l.push(iv);
          }
        });
        return byTaker;
      };
      if (others.length > 0 && !wasJoining && takers().size > 0) {
        // Let every member hear `leaving` first, so new writes reach the takers directly.
        await this.clock.sleep(2 * this.cfg.heartbeatIntervalMs);
        const timeout = new Promise<never>((_, reject) =>
          this.clock.setTimeout(() => reject(new Error(`leave timed out after ${this.cfg.handoffLeaveTimeoutMs / 1000}s`)), Math.max(0, deadline - this.clock.wallNow())).unref?.(),
        );
        // Pieces already acknowledged, by taker and interval. When a taker dies or a member
        // joins meanwhile, the takers are computed again and only what is missing is pushed.
        const acked = new Set<string>();
        for (let round = 0; ; round++) {
          const todo = new Map<string, HashInterval[]>();
          for (const [peer, ivs] of takers()) {
            const left = ivs.filter((iv) => !acked.has(`${peer}:${iv[0]}`));
            if (left.length > 0) todo.set(peer, left);
          }
          if (todo.size === 0) break;
          if (round >= MAX_ATTEMPTS) throw new Error("leave: the takers kept changing or failing");
          if (round > 0) await this.clock.sleep(RETRY_DELAY_MS);
          this.logger.info("leaving: handing ranges over", { takers: [...todo.keys()].map((id) => this.name(id)).join(","), round });
          const work = Promise.all(
            [...todo].map(([peer, ivs]) =>
              this.pushIntervals(peer, ivs, "leave", inTime).then(
                () => {
                  for (const iv of ivs) acked.add(`${peer}:${iv[0]}`);
                },
                (err: unknown) => this.logger.warn("leaving: a taker did not take its ranges; computing the takers again", { peer: this.name(peer), err }),
              ),
            ),
          );
          await Promise.race([work, timeout]);
          if (!inTime()) throw new Error(`leave timed out after ${this.cfg.handoffLeaveTimeoutMs / 1000}s`);
        }
      }
      if (others.length > 0 && wasJoining && this.verifyBeforeDrop) {
        // A joining node took writes as a pending owner, and they counted towards the write
        // quorum: make sure the owners readers use hold everything it has before it goes.
        await this.clock.sleep(2 * this.cfg.heartbeatIntervalMs);
        const sync = Promise.all(
          [...this.intervalsByOwner(() => true)].map(([peer, ivs]) =>
            this.membership.get(peer)?.health === "alive" ? this.verifyBeforeDrop!(peer, new HashRanges(ivs).toWire()) : Promise.resolve(0),
          ),
        );
        const pushed = await Promise.race([sync, this.clock.sleep(Math.max(0, deadline - this.clock.wallNow())).then(() => null)]);
        if (pushed === null) throw new Error(`leave timed out after ${this.cfg.handoffLeaveTimeoutMs / 1000}s`);
        this.logger.info("leaving while joining: the owners hold what this node received", { pushed: pushed.reduce((a, b) => a + b, 0) });
      }
      if (others.length > 0 && this.hintsPending() > 0) {
        this.logger.info("leaving: delivering the hinted batches this node holds", { batches: this.hintsPending() });
        while (this.hintsPending() > 0) {
          if (!inTime()) throw new Error(`leave timed out after ${this.cfg.handoffLeaveTimeoutMs / 1000}s with ${this.hintsPending()} hinted batches undelivered`);
          await this.clock.sleep(100);
        }
      }
      this.membership.setState("left");
      // A few heartbeats saying `left`, so nobody mistakes the exit for a death.
      if (others.length > 0) await this.clock.sleep(this.cfg.heartbeatIntervalMs);
      this.leaveInfo.finishedAt = new Date(this.clock.wallNow()).toISOString();
      this.logger.info("left the cluster; every range was handed over", { seconds: ((this.clock.wallNow() - startedAt) / 1000).toFixed(1) });
    } catch (err) {
      this.leaveInfo.error = err instanceof Error ? err.message : String(err);
      this.logger.error("graceful leave incomplete; exiting anyway (the others re-replicate from the surviving owners)", { err });
      throw err;
    }
  }

  /**
   * Called on every membership change: when the read ring lost a member that is dead, the
   * members that gained its ranges copy them from the surviving owners. One survivor is not
   * enough: a write acknowledged by the dead member and one survivor may still be on its way to
   * the other (a hinted batch), so the gainer pulls each range from one survivor, then compares
   * digests with every survivor and pulls whatever differs.
   */
  onRingChange(): void {
    const cur = this.membership.readRing();
    const prev = this.prevRead;
    this.prevRead = cur;
    if (!prev || prev === cur || this.stopped) return;
    const self = this.membership.selfId;
    const bySurvivors = new Map<string, { survivors: string[]; ivs: HashInterval[] }>();
    compareRings(prev, cur, (iv, po, co) => {
      if (po.includes(self) || !co.includes(self)) return;
      if (!po.some((id) => !co.includes(id) && this.membership.get(id)?.health === "dead")) return;
      const survivors = po.filter((id) => co.includes(id) && this.membership.isLive(id));
      if (survivors.length === 0) return;
      const key = survivors.join();
      let g = bySurvivors.get(key);
      if (!g) bySurvivors.set(key, (g = { survivors, ivs: [] }));
      g.ivs.push(iv);
    });
    for (const { survivors, ivs } of bySurvivors.values()) {
      const key = ++this.deathPullSeq;
      this.deathPulls.set(key, ivs);
      this.logger.info("re-replicating ranges of a dead member", { from: survivors.map((id) => this.name(id)).join(","), ranges: ivs.length });
      this.reReplicate(ivs, survivors)
        .catch((err: unknown) => this.logger.error("re-replication failed", { from: survivors.map((id) => this.name(id)).join(","), err }))
        .finally(() => this.deathPulls.delete(key));
    }
  }

  private async reReplicate(ivs: HashInterval[], survivors: string[]): Promise<void> {
    const served = new Map<number, string>();
    await this.pullIntervals(ivs, "death", undefined, new Set(), 0, survivors, served);
    await this.catchUpFromOwners(ivs, "death", survivors, served);
  }

  /** Ranges this node is re-replicating right now (published in heartbeats). */
  pendingRanges(): number {
    let n = 0;
    for (const v of this.deathPulls.values()) n += v.length;
    return n;
  }

  /** Fraction of the hash ring this node is re-replicating right now (published in heartbeats). */
  pendingFraction(): number {
    if (this.deathPulls.size === 0) return 0;
    return new HashRanges([...this.deathPulls.values()].flat()).fraction();
  }

  /** Fraction of the hash ring being re-replicated anywhere in the cluster (at most 1). */
  underReplicatedFraction(): number {
    let f = this.pendingFraction();
    for (const m of this.membership.all()) if (!m.self && m.health !== "dead") f += m.load.handoffPendingFraction ?? 0;
    return Math.min(1, f);
  }

  /** Ranges being re-replicated anywhere in the cluster (from every member's heartbeat). */
  underReplicatedRanges(): number {
    let n = this.pendingRanges();
    for (const m of this.membership.all()) if (!m.self && m.health !== "dead") n += m.load.handoffPendingRanges ?? 0;
    return n;
  }

  activeTransfers(): number {
    return this.transfers.book.active.size;
  }

  /**
   * Drops the series this node no longer owns once the ring has been settled for the grace
   * period: no member joining or leaving, no transfer running on any member, the same read ring.
   */
  async dropTick(): Promise<void> {
    this.expireIncoming();
    if (this.dropping || this.stopped) return;
    const now = this.clock.now();
    const read = this.membership.readRing();
    const key = read.ids.join(",") + "|" + read.replicationFactor;
    const busy =
      this.membership.self().state !== "active" ||
      this.membership.pendingChange() ||
      this.activeTransfers() > 0 ||
      this.membership.all().some((m) => !m.self && m.health !== "dead" && ((m.load.handoffActive ?? 0) > 0 || (m.load.handoffPendingRanges ?? 0) > 0));
    if (busy || key !== this.settledKey) {
      // The owners changed: what this node holds has to be checked again.
      if (key !== this.settledKey) this.holdsForeign = null;
      this.settledKey = key;
      this.settledSince = now;
      return;
    }
    if (now - this.settledSince < this.cfg.handoffDropGraceMs) return;
    // Once per ring, then again every grace period (at least 5 s): late deliveries (a hinted
    // batch replayed after the ring changed) can bring series this node does not own.
    if (this.droppedForKey === key && now - this.lastDropPerf < Math.max(5000, this.cfg.handoffDropGraceMs)) return;
    const self = this.membership.selfId;
    const owned: HashInterval[] = [];
    compareRings(read, this.membership.futureRing(), (iv, ro, fo) => {
      if (ro.includes(self) || fo.includes(self)) owned.push(iv);
    });
    const mine = new HashRanges(owned);
    this.dropping = true;
    try {
      // Usually there is nothing to drop: then no digests are asked of anybody.
      const holdsForeign = await this.holdsAny((h) => !mine.has(h));
      this.holdsForeign = holdsForeign;
      if (!holdsForeign) {
        this.droppedForKey = key;
        this.lastDropPerf = this.clock.now();
        return;
      }
      // Nothing is deleted before its owners confirmed they hold it: compare digests with each
      // owner of the ranges to drop and push whatever it lacks (a write it missed while it was
      // briefly taken for dead, say).
      let pushed = 0;
      for (const [peer, ivs] of this.intervalsByOwner((ro) => !ro.includes(self))) {
        if (this.membership.get(peer)?.health !== "alive") throw new Error(`owner ${this.name(peer)} is not alive`);
        if (this.verifyBeforeDrop) pushed += await this.verifyBeforeDrop(peer, new HashRanges(ivs).toWire());
      }
      if (pushed > 0) this.logger.info("pushed series their owners lacked before dropping them", { series: pushed });
      // The owners must not have changed meanwhile (a health flap that left them as they were
      // does not matter).
      const now2 = this.membership.readRing();
      if (now2.ids.join(",") + "|" + now2.replicationFactor !== key || this.membership.pendingChange()) return;
      const n = await this.local.dropSeries((_l, h) => !mine.has(h));
      this.droppedForKey = key;
      this.lastDropPerf = this.clock.now();
      this.holdsForeign = false;
      this.lastDropAt = this.clock.wallNow();
      this.droppedSeries += n;
      if (n > 0) this.logger.info("dropped series this node no longer owns", { series: n, grace_s: this.cfg.handoffDropGraceMs / 1000 });
    } catch (err) {
      this.logger.warn("not dropping series this node no longer owns yet", { err });
    } finally {
      this.dropping = false;
    }
  }

  stop(): void {
    this.stopped = true;
  }

  status(): HandoffStatus {
    const book = this.transfers.book;
    const c = book.counters;
    const sum = (counter: typeof c.bytes, dir: string) => counter.samples().reduce((n, s) => (s.labels.direction === dir ? n + s.value : n), 0);
    const selfState = this.membership.self().state;
    const state: HandoffStatus["state"] =
      selfState === "joining" ? "joining" : selfState === "leaving" ? "leaving" : selfState === "left" ? "left" : this.pendingRanges() > 0 ? "re-replicating" : "idle";
    return {
      state,
      transfers: [...book.active.values()].map((t) => ({ ...t, done: { ...t.done }, total: { ...t.total } })),
      recent: book.recent.slice(),
      underReplicatedRanges: this.underReplicatedRanges(),
      totals: {
        bytes: { in: sum(c.bytes, "in"), out: sum(c.bytes, "out") },
        series: { in: sum(c.series, "in"), out: sum(c.series, "out") },
        samples: { in: sum(c.samples, "in"), out: sum(c.samples, "out") },
        failedTransfers: c.failures.samples().reduce((n, s) => n + s.value, 0),
      },
      drop: {
        graceSeconds: this.cfg.handoffDropGraceMs / 1000,
        droppedSeries: this.droppedSeries,
        lastDropAt: this.lastDropAt === null ? null : new Date(this.lastDropAt).toISOString(),
        settledForSeconds: Math.round((this.clock.now() - this.settledSince) / 100) / 10,
        holdsForeignSeries: this.holdsForeign,
      },
      leave: { ...this.leaveInfo },
    };
  }
}
