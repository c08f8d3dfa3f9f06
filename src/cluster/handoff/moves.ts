/**
 * The moves the hand-off units are made of: pulling intervals from their owners, comparing
 * digests with owners, pushing intervals to a member, and the questions they ask of the ring and
 * the local storage.
 */
import type { Labels } from "../../model/index.ts";
import { compareRings, HashRanges, type HashInterval } from "../ring.ts";
import type { HandoffReason, Transfers } from "../transfer.ts";
import { MAX_ATTEMPTS, RETRY_DELAY_MS, type HandoffContext } from "./context.ts";

/**
 * Compares digests with every live owner of the intervals (the read ring's, or the `only`
 * members; not the one that `served` an interval) and pulls the cells that differ. An owner
 * that is suspect is waited for, one that fails is asked again; one that died or left is
 * skipped (what only it held went with it).
 */
export async function catchUpFromOwners(
  ctx: HandoffContext,
  intervals: HashInterval[],
  reason: HandoffReason,
  only?: readonly string[],
  served?: ReadonlyMap<number, string>,
): Promise<void> {
  const { membership, repairer } = ctx;
  const self = membership.selfId;
  const read = membership.readRing();
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
  const base = await repairer.prepareCatchUp(intervals);
  await Promise.all(
    [...byOwner].map(async ([peer, ivs]) => {
      for (let attempt = 0; !ctx.stopped; attempt++) {
        const m = membership.get(peer);
        if (!m || m.health === "dead" || m.state === "left") return;
        if (m.health !== "alive") {
          await ctx.clock.sleep(RETRY_DELAY_MS / 4);
          continue;
        }
        try {
          const cells = await repairer.catchUp(peer, ivs, reason, base);
          if (cells > 0) ctx.logger.info("pulled what an owner held and this node did not", { owner: ctx.name(peer), reason, ranges: ivs.length, differing_cells: cells });
          return;
        } catch (err) {
          if (attempt >= MAX_ATTEMPTS) throw err;
          ctx.logger.warn("comparing digests with an owner failed; asking again", { owner: ctx.name(peer), reason, err, attempt });
          await ctx.clock.sleep(RETRY_DELAY_MS);
        }
      }
    }),
  );
}

/**
 * Spreads intervals over their live read-ring owners (avoiding `failed` ones when another is
 * live), so that several sources send at once. Intervals with no live owner are left out.
 */
export function assignSources(ctx: HandoffContext, intervals: HashInterval[], reason: HandoffReason, failed: ReadonlySet<string>, only?: readonly string[]): Map<string, HashInterval[]> {
  const { membership } = ctx;
  const self = membership.selfId;
  const read = membership.readRing();
  const bySource = new Map<string, HashInterval[]>();
  let skipped = 0;
  for (const iv of intervals) {
    const owners = only ?? read.owners(iv[1]);
    const cands = owners.filter((id) => id !== self && membership.isLive(id) && !failed.has(id));
    const fallback = owners.filter((id) => id !== self && membership.isLive(id));
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
  if (skipped > 0) ctx.logger.warn("no live owner to pull some ranges from; their data is unavailable", { ranges: skipped, reason });
  return bySource;
}

/**
 * Pulls intervals from live read-ring owners (or the `only` members), spread over them; retries
 * failed ones elsewhere. Records in `served` which owner sent each interval.
 */
export async function pullIntervals(
  ctx: HandoffContext,
  intervals: HashInterval[],
  reason: HandoffReason,
  after: Labels | undefined,
  failed: Set<string>,
  attempt = 0,
  only?: readonly string[],
  served?: Map<number, string>,
): Promise<void> {
  await Promise.all(
    [...assignSources(ctx, intervals, reason, failed, only)].map(async ([src, ivs]) => {
      const ranges = new HashRanges(ivs);
      try {
        await ctx.puller.pullFrom(src, { reason, ranges: ranges.toWire() }, after);
        for (const iv of ivs) served?.set(iv[0], src);
      } catch (err) {
        if (ctx.stopped || attempt >= MAX_ATTEMPTS) throw err;
        const cursor = (err as { cursor?: Labels }).cursor ?? after;
        ctx.logger.warn("pull failed; asking another owner", { source: ctx.name(src), err, attempt });
        await ctx.clock.sleep(RETRY_DELAY_MS);
        await pullIntervals(ctx, ivs, reason, cursor, new Set([...failed, src]), attempt + 1, only, served);
      }
    }),
  );
}

/** Whether the local storage holds any series whose hash passes `filter`. */
export async function holdsAny(ctx: HandoffContext, filter: (hash: number) => boolean): Promise<boolean> {
  for await (const part of ctx.local.summarizeSeries({ filter: (_l, h) => filter(h), mint: -8.64e15, maxt: 8.64e15, batchSeries: 1, countOnly: true })) {
    if (part.length > 0) return true;
  }
  return false;
}

/** For every read-ring owner but this node, the intervals it owns among those `want` selects (by their owners). */
export function intervalsByOwner(ctx: HandoffContext, want: (owners: readonly string[]) => boolean): Map<string, HashInterval[]> {
  const self = ctx.membership.selfId;
  const read = ctx.membership.readRing();
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
export async function pushIntervals(ctx: HandoffContext, peer: string, intervals: HashInterval[], reason: HandoffReason, keepGoing: () => boolean): Promise<void> {
  const ranges = new HashRanges(intervals);
  let after: Labels | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const opts: Parameters<Transfers["push"]>[0] = {
        id: ctx.puller.nextId(reason),
        peer,
        peerName: ctx.name(peer),
        reason,
        filter: (_l, h) => ranges.has(h),
        ringFraction: ranges.fraction(),
        cancelled: () => !keepGoing(),
      };
      if (after) opts.after = after;
      await ctx.transfers.push(opts);
      return;
    } catch (err) {
      after = (err as { cursor?: Labels }).cursor ?? after;
      if (!keepGoing() || !ctx.membership.isLive(peer) || attempt >= MAX_ATTEMPTS) throw err;
      ctx.logger.warn("hand-off push failed; resuming", { peer: ctx.name(peer), reason, err, attempt });
      await ctx.clock.sleep(RETRY_DELAY_MS);
    }
  }
}
