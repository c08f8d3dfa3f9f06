/**
 * Anti-entropy: replicas periodically compare what they hold and repair what differs (after a
 * network partition, a dropped hinted-handoff batch, a crash). For every peer it shares ranges
 * with (each pair once: the member with the smaller id asks), a node compares a digest per
 * (token range × time window) — sample count and a combined checksum of the series in it — with
 * the peer's; for the cells that differ it compares per-series summaries, and the series that
 * differ are streamed both ways (each side sends its samples of that window; the receiving
 * storage keeps identical samples once).
 */
import { type Clock, type Labels, labelsHash32, labelsKey, type Logger, realClock } from "../model/index.ts";
import { samplesChecksum } from "../storage/index.ts";
import { bytesF64, f64Bytes } from "./codec.ts";
import type { ClusterConfig } from "./config.ts";
import type { Membership } from "./membership.ts";
import type { Puller } from "./puller.ts";
import { compareRings, HashRanges, type HashInterval } from "./ring.ts";
import type { Rpc } from "./rpc.ts";
import type { HandoffReason, HandoffStorage, Transfers } from "./transfer.ts";

export const DIGEST_PROTOCOL = "/shoal/handoff/digest/1";

/** Time windows of the digest. */
const WINDOW_MS = 2 * 3600_000;
/** Windows of the last two hours in the one-way syncs (a drop, a restarted node's catch-up). */
const FINE_WINDOW_MS = 10 * 60_000;

interface DigestRequest {
  op: "cells" | "series";
  /** Flat inclusive hash intervals, in the order that numbers the cells. */
  ranges: number[];
  /** Flat [mint, maxt, ...] windows. */
  windows: number[];
}

interface CellDigest {
  /** Per cell (interval-major): sample count and checksum, as float64 bytes. */
  counts: Uint8Array;
  sums: Uint8Array;
}

interface SeriesDigest {
  keys: string[];
  counts: number[];
  sums: number[];
}

/** This node's digests of a catch-up's intervals (see AntiEntropy.prepareCatchUp). */
export interface CatchUpBase {
  windows: [number, number][];
  counts: Float64Array;
  sums: Float64Array;
  /** Interval start → row of the cells. */
  row: Map<number, number>;
}

export interface AntiEntropyStatus {
  runs: number;
  lastRunAt: string | null;
  lastDurationSeconds: number;
  /** Cells (range × window) compared in the last run, and how many differed. */
  lastComparedCells: number;
  lastDifferingCells: number;
  /** Series repaired (streamed to or from a peer) since start. */
  repairs: number;
  lastError: string | null;
}

function mix(acc: number, hash: number, count: number, checksum: number): number {
  return (acc + Math.imul((checksum ^ hash ^ Math.imul(count, 0x85ebca6b)) >>> 0, 0x9e3779b1)) >>> 0;
}

/** Which interval (by index) a hash falls in; -1 if none. Intervals are sorted, disjoint. */
function intervalIndex(lo: Float64Array, hi: Float64Array, h: number): number {
  let a = 0;
  let b = lo.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (lo[mid]! <= h) a = mid + 1;
    else b = mid;
  }
  return a > 0 && h <= hi[a - 1]! ? a - 1 : -1;
}

function parseIntervals(flat: unknown): { lo: Float64Array; hi: Float64Array; ranges: HashRanges } {
  const ranges = HashRanges.fromWire(flat);
  const f = flat as number[];
  const lo = new Float64Array(f.length / 2);
  const hi = new Float64Array(f.length / 2);
  for (let i = 0; i < lo.length; i++) {
    lo[i] = f[2 * i]!;
    hi[i] = f[2 * i + 1]!;
    if (i > 0 && lo[i]! <= hi[i - 1]!) throw new Error("digest ranges must be sorted and disjoint");
  }
  return { lo, hi, ranges };
}

function parseWindows(flat: unknown): [number, number][] {
  if (!Array.isArray(flat) || flat.length % 2 !== 0 || flat.length > 2000) throw new Error("malformed digest windows");
  const out: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([Number(flat[i]), Number(flat[i + 1])]);
  return out;
}

/**
 * Digests of the local storage (both sides compute the same way): per (interval × window) cell
 * the sample count and a combination of the series' checksums over their samples in the window.
 * One walk over the storage serves every window (`windows` sorted and disjoint).
 */
export async function localCells(local: HandoffStorage, rangesFlat: number[], windows: [number, number][]): Promise<{ counts: Float64Array; sums: Float64Array }> {
  const { lo, hi, ranges } = parseIntervals(rangesFlat);
  const counts = new Float64Array(lo.length * windows.length);
  const sums = new Float64Array(lo.length * windows.length);
  const mint = windows[0]?.[0] ?? 0;
  const maxt = windows[windows.length - 1]?.[1] ?? -1;
  for await (const part of local.exportSeries({ filter: (_l, h) => ranges.has(h), mint, maxt })) {
    for (const s of part) {
      const hash = labelsHash32(s.labels) >>> 0;
      const i = intervalIndex(lo, hi, hash);
      if (i < 0) continue;
      const ts = s.timestamps;
      let a = 0;
      for (let w = 0; w < windows.length && a < ts.length; w++) {
        const [wmin, wmax] = windows[w]!;
        while (a < ts.length && ts[a]! < wmin) a++;
        let b = a;
        while (b < ts.length && ts[b]! <= wmax) b++;
        if (b === a) continue;
        const cell = i * windows.length + w;
        counts[cell] = counts[cell]! + (b - a);
        sums[cell] = mix(sums[cell]!, hash, b - a, samplesChecksum(ts.subarray(a, b), s.values.subarray(a, b)));
        a = b;
      }
    }
  }
  return { counts, sums };
}

async function localSeries(local: HandoffStorage, rangesFlat: number[], mint: number, maxt: number): Promise<Map<string, { count: number; sum: number; labels: Labels }>> {
  const { ranges } = parseIntervals(rangesFlat);
  const out = new Map<string, { count: number; sum: number; labels: Labels }>();
  for await (const part of local.summarizeSeries({ filter: (_l, h) => ranges.has(h), mint, maxt })) {
    for (const s of part) if (s.count > 0) out.set(labelsKey(s.labels), { count: s.count, sum: s.checksum >>> 0, labels: s.labels });
  }
  return out;
}

/** Server side of the digest protocol. */
export function digestHandler(local: HandoffStorage): (req: unknown) => Promise<CellDigest | SeriesDigest> {
  return async (raw) => {
    const req = raw as DigestRequest;
    if (!req || typeof req !== "object" || !Array.isArray(req.ranges)) throw new Error("malformed digest request");
    const windows = parseWindows(req.windows);
    if (req.op === "cells") {
      const { counts, sums } = await localCells(local, req.ranges, windows);
      return { counts: f64Bytes(counts), sums: f64Bytes(sums) };
    }
    if (req.op === "series") {
      if (windows.length !== 1) throw new Error("a series digest takes one window");
      const m = await localSeries(local, req.ranges, windows[0]![0], windows[0]![1]);
      const keys: string[] = [];
      const counts: number[] = [];
      const sums: number[] = [];
      for (const [k, v] of m) {
        keys.push(k);
        counts.push(v.count);
        sums.push(v.sum);
      }
      return { keys, counts, sums };
    }
    throw new Error(`unknown digest op ${JSON.stringify(req.op)}`);
  };
}

export class AntiEntropy {
  private running = false;
  readonly stats: AntiEntropyStatus = { runs: 0, lastRunAt: null, lastDurationSeconds: 0, lastComparedCells: 0, lastDifferingCells: 0, repairs: 0, lastError: null };

  constructor(
    private readonly cfg: ClusterConfig,
    private readonly membership: Membership,
    private readonly rpc: Rpc,
    private readonly local: HandoffStorage,
    private readonly transfers: Transfers,
    private readonly puller: Pick<Puller, "pullFrom">,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
  ) {}

  /** One comparison round with every peer this node shares ranges with. Skipped while the ring changes. */
  async run(): Promise<void> {
    if (this.running) return;
    const self = this.membership.self();
    if (self.state !== "active" || this.membership.pendingChange() || this.transfers.book.active.size > 0) return;
    this.running = true;
    const started = this.clock.now();
    let compared = 0;
    let differing = 0;
    try {
      const read = this.membership.readRing();
      const shared = new Map<string, HashInterval[]>();
      compareRings(read, read, (iv, owners) => {
        if (!owners.includes(self.id)) return;
        for (const id of owners) {
          // Each pair once: the smaller id asks.
          if (id <= self.id || this.membership.get(id)?.health !== "alive") continue;
          let l = shared.get(id);
          if (!l) shared.set(id, (l = []));
          l.push(iv);
        }
      });
      // Samples of the last few write timeouts may still be on their way (in-flight writes):
      // stop short of them. (Repairing a sample that was on its way anyway costs a little
      // work, nothing else: the receiver keeps identical samples once.)
      const end = this.clock.wallNow() - 3 * this.cfg.writeTimeoutMs;
      const begin = end - this.cfg.antiEntropyLookbackMs;
      const windows: [number, number][] = [];
      for (let t = Math.floor(begin / WINDOW_MS) * WINDOW_MS; t < end; t += WINDOW_MS) windows.push([Math.max(t, begin), Math.min(t + WINDOW_MS - 1, end)]);
      for (const [peer, ivs] of shared) {
        const r = await this.comparePeer(peer, new HashRanges(ivs).toWire(), windows);
        compared += r.compared;
        differing += r.differing;
      }
      this.stats.lastError = null;
    } catch (err) {
      this.stats.lastError = err instanceof Error ? err.message : String(err);
      this.logger.warn("anti-entropy round failed", { err });
    } finally {
      this.running = false;
      this.stats.runs++;
      this.stats.lastRunAt = new Date(this.clock.wallNow()).toISOString();
      this.stats.lastDurationSeconds = (this.clock.now() - started) / 1000;
      this.stats.lastComparedCells = compared;
      this.stats.lastDifferingCells = differing;
    }
  }

  /**
   * One-way sync before a drop: makes sure `peer` holds everything this node holds in `ranges`
   * (all time), pushing the series it lacks or holds differently. Returns the series pushed.
   */
  async syncTo(peer: string, ranges: number[]): Promise<number> {
    const before = this.stats.repairs;
    await this.comparePeer(peer, ranges, this.allTimeWindows(), "push");
    return this.stats.repairs - before;
  }

  /**
   * This node's digests of `intervals` over all time, computed once for a catch-up with several
   * owners (each compares its own subset of the intervals).
   */
  async prepareCatchUp(intervals: readonly HashInterval[]): Promise<CatchUpBase> {
    const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
    const windows = this.allTimeWindows();
    const { counts, sums } = await localCells(this.local, sorted.flat(), windows);
    return { windows, counts, sums, row: new Map(sorted.map((iv, i) => [iv[0], i])) };
  }

  /**
   * Makes this node hold everything `peer` holds in `intervals` (some of those `base` was made
   * for), pulling the (interval × window) cells whose digests differ: a node joining (what the
   * owner that sent a range had not received yet), a restarted node joining again (normally the
   * last minutes differ, written while it was down), a member that took over a dead one's ranges.
   * Returns the cells pulled.
   */
  async catchUp(peer: string, intervals: readonly HashInterval[], reason: HandoffReason, base: CatchUpBase): Promise<number> {
    const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
    const nW = base.windows.length;
    const counts = new Float64Array(sorted.length * nW);
    const sums = new Float64Array(sorted.length * nW);
    sorted.forEach((iv, k) => {
      const r = base.row.get(iv[0]);
      if (r === undefined) throw new Error(`catch-up interval [${iv[0]}, ${iv[1]}] was not prepared`);
      counts.set(base.counts.subarray(r * nW, (r + 1) * nW), k * nW);
      sums.set(base.sums.subarray(r * nW, (r + 1) * nW), k * nW);
    });
    return (await this.comparePeer(peer, sorted.flat(), base.windows, "pull", reason, { counts, sums })).differing;
  }

  /**
   * Windows covering all time, so that only the windows that differ are compared series by
   * series and moved: 2 h windows over the lookback, the last two hours in windows of
   * FINE_WINDOW_MS (a copy that stopped receiving writes minutes ago, because the ring changed or
   * the node went down, differs from the owners' in the last of them only), and one window each
   * for everything older and everything newer.
   */
  private allTimeWindows(): [number, number][] {
    const now = this.clock.wallNow();
    const from = Math.floor((now - this.cfg.antiEntropyLookbackMs) / WINDOW_MS) * WINDOW_MS;
    const fine = Math.floor((now - WINDOW_MS) / FINE_WINDOW_MS) * FINE_WINDOW_MS;
    const to = Math.ceil((now + FINE_WINDOW_MS) / FINE_WINDOW_MS) * FINE_WINDOW_MS;
    const windows: [number, number][] = [[-8.64e15, from - 1]];
    for (let t = from; t < fine; t += WINDOW_MS) windows.push([t, Math.min(t + WINDOW_MS, fine) - 1]);
    for (let t = Math.max(from, fine); t < to; t += FINE_WINDOW_MS) windows.push([t, t + FINE_WINDOW_MS - 1]);
    windows.push([to, 8.64e15]);
    return windows;
  }

  private async comparePeer(
    peer: string,
    ranges: number[],
    windows: [number, number][],
    mode: "both" | "push" | "pull" = "both",
    pullReason: HandoffReason = "repair",
    /** This node's digests of the same cells, when computed beforehand. */
    given?: { counts: Float64Array; sums: Float64Array },
  ): Promise<{ compared: number; differing: number }> {
    const flatWindows = windows.flat();
    const remote = (await this.rpc.call(peer, DIGEST_PROTOCOL, { op: "cells", ranges, windows: flatWindows } satisfies DigestRequest, this.cfg.queryTimeoutMs)) as CellDigest;
    const rc = bytesF64(remote.counts);
    const rs = bytesF64(remote.sums);
    const mine = given ?? (await localCells(this.local, ranges, windows));
    const nW = windows.length;
    if (rc.length !== mine.counts.length) throw new Error(`digest of ${rc.length} cells from peer, expected ${mine.counts.length}`);
    // Per window: the intervals whose cells differ.
    const diffByWindow = new Map<number, number[]>();
    let differing = 0;
    for (let cell = 0; cell < rc.length; cell++) {
      if (rc[cell] === mine.counts[cell] && rs[cell] === mine.sums[cell]) continue;
      differing++;
      const w = cell % nW;
      const i = (cell - w) / nW;
      let l = diffByWindow.get(w);
      if (!l) diffByWindow.set(w, (l = []));
      l.push(ranges[2 * i]!, ranges[2 * i + 1]!);
    }
    const peerName = this.membership.get(peer)?.name ?? peer;
    for (const [w, sub] of diffByWindow) {
      const [mint, maxt] = windows[w]!;
      if (mode === "pull") {
        // Catching up: the differing cells as they are on the peer, by range — no list of series
        // (after a restart the newest cells hold every series of the ranges).
        await this.puller.pullFrom(peer, { reason: pullReason, ranges: sub, mint, maxt });
        continue;
      }
      const theirs = (await this.rpc.call(peer, DIGEST_PROTOCOL, { op: "series", ranges: sub, windows: [mint, maxt] } satisfies DigestRequest, this.cfg.queryTimeoutMs)) as SeriesDigest;
      const ours = await localSeries(this.local, sub, mint, maxt);
      const theirMap = new Map<string, [number, number]>();
      theirs.keys.forEach((k, i) => theirMap.set(k, [theirs.counts[i]!, theirs.sums[i]!]));
      const send: string[] = [];
      const fetch: string[] = [];
      for (const [k, v] of ours) {
        const t = theirMap.get(k);
        if (!t) send.push(k);
        else if (t[0] !== v.count || t[1] !== v.sum) {
          send.push(k);
          fetch.push(k);
        }
      }
      if (mode === "both") {
        for (const k of theirMap.keys()) if (!ours.has(k)) fetch.push(k);
      } else {
        // Before a drop only the peer's copy matters.
        fetch.length = 0;
      }
      if (send.length === 0 && fetch.length === 0) continue;
      this.logger.info("anti-entropy: repairing series that differ", { peer: peerName, window_start: new Date(mint).toISOString(), send: send.length, fetch: fetch.length });
      const sendSet = new Set(send);
      await Promise.all([
        send.length > 0
          ? this.transfers.push({
              id: `${this.membership.selfId.slice(-8)}-repair-${this.clock.wallNow().toString(36)}-${w}`,
              peer,
              peerName,
              reason: "repair",
              filter: (l) => sendSet.has(labelsKey(l)),
              ringFraction: 0,
              mint,
              maxt,
            })
          : Promise.resolve(),
        fetch.length > 0 ? this.puller.pullFrom(peer, { reason: "repair", keys: fetch, mint, maxt }) : Promise.resolve(),
      ]);
      this.stats.repairs += new Set([...send, ...fetch]).size;
    }
    return { compared: rc.length, differing };
  }
}
