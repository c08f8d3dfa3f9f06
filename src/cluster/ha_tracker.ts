/**
 * The HA tracker: for each HA cluster of senders (Prometheus pairs told apart by a replica
 * label), the one replica whose samples are stored. Mimir's rules: the first replica heard from
 * is elected; the elected one's samples refresh its "last received" time; another replica's
 * samples are dropped until the elected one has been silent for the failover timeout, and the
 * first of them to arrive after that is elected instead.
 *
 * How the members of a Shoal cluster agree. Gossip is too slow and too loose for this (two
 * members could elect different replicas for a heartbeat period and both store), so one member
 * decides for each HA cluster: the first live member on the ring from the hash of the cluster
 * name (`ha_election.ts` routes to it). Every other member keeps what the owner told it and
 * decides alone only where the owner could not decide otherwise:
 *  - it rejects a non-elected replica while the elected one was last heard of less than the
 *    failover timeout ago (the owner cannot have failed over yet);
 *  - it accepts the elected replica for the update timeout after the owner confirmed it (the
 *    owner then heard of it at that moment, and cannot fail over before the failover timeout,
 *    which is longer), then asks again, which is also how the owner keeps hearing of it.
 * Ownership moves when members come and go; the new owner has at best an older copy of the
 * entry, so an asking member sends its own copy along and the owner keeps whichever was heard
 * of last (equal times: the smaller replica name), the same merge on every member. A member
 * taking over an entry it learned from the previous owner does not fail over during its first
 * update timeout: by then every member still accepting the elected replica on the previous
 * owner's word has asked it, so a silent-looking entry is silent indeed. (One that takes over a
 * cluster it never heard of elects the first replica to ask; the others' copies then lose to
 * it, so the cluster settles on one replica within an update timeout.)
 *
 * All times are this member's monotonic clock: the owner answers with an age, not a timestamp,
 * so that members' wall clocks never need to agree.
 */
import type { Clock, HaVerdict } from "../model/index.ts";

export interface HaTrackerSettings {
  /** How long a member may accept the elected replica on the owner's last word. */
  updateTimeoutMs: number;
  /** How long the elected replica may be silent before another one is elected. */
  failoverTimeoutMs: number;
}

/** What a member knows of a cluster's election, sent along when it asks the owner. */
export interface HaHint {
  replica: string;
  /** How long ago the elected replica was last heard of. */
  ageMs: number;
}

/** The owner's answer: the elected replica and how long ago it was last heard of. */
export interface HaAnswer {
  elected: string;
  ageMs: number;
}

interface Entry {
  replica: string;
  /** When the elected replica was last heard of (monotonic ms). */
  receivedAt: number;
  /** When the owner last confirmed this entry (this member's own decisions confirm at once). */
  confirmedAt: number;
  /** Since when this member decides for the cluster; null while it follows another owner. */
  decidingSince: number | null;
}

/** Entries not heard of for this long are forgotten (Mimir cleans its KV store after 30 minutes). */
export const HA_ENTRY_TTL_MS = 30 * 60_000;

export class HaTracker {
  private readonly entries = new Map<string, Entry>();
  /** Times an elected replica was replaced by another one, by HA cluster (decided here). */
  readonly electedChanges = new Map<string, number>();

  constructor(
    readonly settings: HaTrackerSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * Decides as the owner of `cluster`: whether `replica`'s samples are stored now. `hint` is an
   * asking member's copy of the entry; the one heard of last wins.
   */
  decide(cluster: string, replica: string, hint?: HaHint): HaAnswer {
    const now = this.clock.now();
    let e = this.entries.get(cluster);
    if (hint) {
      const heard = now - Math.max(0, hint.ageMs);
      if (!e || heard > e.receivedAt || (heard === e.receivedAt && hint.replica < e.replica)) {
        e = { replica: hint.replica, receivedAt: heard, confirmedAt: now, decidingSince: e?.decidingSince ?? null };
        this.entries.set(cluster, e);
      }
    }
    if (e) e.decidingSince ??= now;
    if (!e) {
      e = { replica, receivedAt: now, confirmedAt: now, decidingSince: -Infinity };
      this.entries.set(cluster, e);
    } else if (e.replica === replica) {
      e.receivedAt = now;
    } else if (now - e.receivedAt >= this.settings.failoverTimeoutMs && now - e.decidingSince! >= this.settings.updateTimeoutMs) {
      e.replica = replica;
      e.receivedAt = now;
      this.electedChanges.set(cluster, (this.electedChanges.get(cluster) ?? 0) + 1);
    }
    e.confirmedAt = now;
    return { elected: e.replica, ageMs: now - e.receivedAt };
  }

  /**
   * What a member that does not own `cluster` may decide alone (see the file comment), or null
   * when it must ask the owner.
   */
  cached(cluster: string, replica: string): HaVerdict | null {
    const e = this.entries.get(cluster);
    if (!e) return null;
    const now = this.clock.now();
    if (e.replica !== replica) {
      return now - e.receivedAt < this.settings.failoverTimeoutMs ? { accept: false, elected: e.replica } : null;
    }
    return now - e.confirmedAt < this.settings.updateTimeoutMs ? { accept: true } : null;
  }

  /** Keeps the owner's answer; returns the verdict it means for `replica`. */
  learn(cluster: string, replica: string, answer: HaAnswer): HaVerdict {
    const now = this.clock.now();
    this.entries.set(cluster, { replica: answer.elected, receivedAt: now - Math.max(0, answer.ageMs), confirmedAt: now, decidingSince: null });
    return verdict(answer, replica);
  }

  /** This member's copy of the entry, to send along to the owner. */
  hint(cluster: string): HaHint | undefined {
    const e = this.entries.get(cluster);
    return e ? { replica: e.replica, ageMs: this.clock.now() - e.receivedAt } : undefined;
  }

  /** The elected replica of each known HA cluster and how long ago it was last heard of. */
  snapshot(): { cluster: string; replica: string; ageMs: number }[] {
    const now = this.clock.now();
    return [...this.entries].map(([cluster, e]) => ({ cluster, replica: e.replica, ageMs: now - e.receivedAt }));
  }

  /** Forgets clusters not heard of for HA_ENTRY_TTL_MS. */
  sweep(): void {
    const now = this.clock.now();
    for (const [cluster, e] of this.entries) if (now - e.receivedAt > HA_ENTRY_TTL_MS) this.entries.delete(cluster);
  }
}

export function verdict(answer: HaAnswer, replica: string): HaVerdict {
  return answer.elected === replica ? { accept: true } : { accept: false, elected: answer.elected };
}
