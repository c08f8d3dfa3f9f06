/**
 * The rings derived from the member table, each cached until the table changes: the read ring
 * (whose owners hold complete data), the future ring (once pending joins and leaves are done),
 * the write ring (their union), the scrape ring (who scrapes and evaluates rules) and the
 * coverage ring (the ring as data was written, for query warnings).
 */
import type { Clock } from "../model/index.ts";
import type { Member, MemberState, MemberTable } from "./member_table.ts";
import { Ring, type RingMember } from "./ring.ts";

export class RingViews {
  private ringCache: Ring | null = null;
  private readRingCache: Ring | null = null;
  private futureRingCache: Ring | null = null;
  private scrapeRingCache: Ring | null = null;
  private ruleRingCache: Ring | null = null;
  private coverageCache: Ring | null = null;
  private coverageKey = "";

  constructor(
    private readonly table: MemberTable,
    private readonly replicationFactor: number,
    private readonly clock: Clock,
  ) {}

  /** Forgets every cached ring (the table changed). */
  invalidate(): void {
    this.ringCache = null;
    this.readRingCache = null;
    this.futureRingCache = null;
    this.scrapeRingCache = null;
    this.ruleRingCache = null;
    this.coverageCache = null;
  }

  /** Live members (alive, and suspect ones unless `aliveOnly`) with tokens in one of `states`. */
  private liveIn(states: readonly MemberState[], aliveOnly = false): RingMember[] {
    const out: RingMember[] = [];
    for (const m of this.table.all()) {
      if (m.health === "dead" || (aliveOnly && m.health !== "alive") || !states.includes(m.state) || m.tokens.length === 0) continue;
      out.push(m);
    }
    return out;
  }

  /**
   * The read ring: the owners whose data is complete — active members and leaving ones (they
   * serve their ranges until the members taking over acknowledged them). Joining members are
   * not in it until they pulled their data.
   */
  readRing(): Ring {
    if (!this.readRingCache) {
      const ms = this.liveIn(["active", "leaving"]);
      const self = this.table.self();
      // Nobody active yet (a node starting alone): this node holds everything meanwhile.
      if (ms.length === 0 && (self.state === "joining" || self.state === "active")) ms.push(self);
      this.readRingCache = new Ring(ms, this.replicationFactor);
    }
    return this.readRingCache;
  }

  /** The ring once pending changes are done: active and joining members, not leaving ones. */
  futureRing(): Ring {
    if (!this.futureRingCache) {
      const ms = this.liveIn(["joining", "active"]);
      this.futureRingCache = ms.length === 0 ? this.readRing() : new Ring(ms, this.replicationFactor);
    }
    return this.futureRingCache;
  }

  /**
   * The write ring: at every position the union of the read ring's and the future ring's owners,
   * so that data written during a join or a leave reaches both the owners that readers use now
   * and those that take over. The same as the read ring when nothing is pending.
   */
  ring(): Ring {
    if (!this.ringCache) {
      const read = this.readRing();
      const future = this.futureRing();
      this.ringCache = read === future || sameMembers(read, future) ? read : new Ring([], 0, [read, future]);
    }
    return this.ringCache;
  }

  /**
   * The ring of scrape-target owners: active members only (a joining member does not know the
   * others' targets yet; a leaving one hands them over at once).
   */
  scrapeRing(): Ring {
    if (!this.scrapeRingCache) {
      const ms = this.liveIn(["active"]);
      const self = this.table.self();
      if (ms.length === 0 && self.state !== "leaving" && self.state !== "left") ms.push(self);
      this.scrapeRingCache = new Ring(ms, this.replicationFactor);
    }
    return this.scrapeRingCache;
  }

  /**
   * The ring of rule-group owners: active members that are alive. Unlike a scrape target, whose
   * scrapes a suspect member may still be doing, a rule group moves to its first standby as soon
   * as its owner goes quiet: a double evaluation writes the same samples at the same slotted
   * timestamps and sends alerts Alertmanager merges, while no evaluation loses them.
   */
  ruleRing(): Ring {
    if (!this.ruleRingCache) {
      const ms = this.liveIn(["active"], true);
      const self = this.table.self();
      if (ms.length === 0 && self.state !== "leaving" && self.state !== "left") ms.push(self);
      this.ruleRingCache = new Ring(ms, this.replicationFactor);
    }
    return this.ruleRingCache;
  }

  /**
   * The ring as data was written: every member not yet forgotten, dead ones included, except
   * members created after the first of the dead ones died. Those cannot hold its data (it was
   * gone before they existed), so they must not count as covering the ranges they took over
   * from it. A query that reached no owner of some range of this ring may be missing data.
   */
  coverageRing(): Ring {
    // A new member that is joining holds no data yet; one that joins again after a restart or a
    // silence holds what it had (what it missed meanwhile is on the read ring's owners, which the
    // fan-out checks too); members that left handed their data over.
    const holdsData = (m: Member) => m.state !== "left" && (m.state !== "joining" || this.table.isReturning(m));
    const all = this.table.all().filter((m) => m.tokens.length > 0 && holdsData(m) && !(m.health === "dead" && m.replaced));
    let firstDeath = Infinity;
    const monoNow = this.clock.now();
    const wallNow = this.clock.wallNow();
    for (const m of all) {
      if (m.health === "dead") firstDeath = Math.min(firstDeath, wallNow - (monoNow - m.lastHeartbeat));
    }
    const chosen = all.filter((m) => m.health === "dead" || m.createdAt <= firstDeath);
    const key = chosen.map((m) => `${m.id}:${m.state}:${m.health === "dead"}`).sort().join();
    if (!this.coverageCache || this.coverageKey !== key) {
      this.coverageCache = new Ring(chosen, this.replicationFactor);
      this.coverageKey = key;
    }
    return this.coverageCache;
  }
}

function sameMembers(a: Ring, b: Ring): boolean {
  return a.replicationFactor === b.replicationFactor && a.ids.length === b.ids.length && a.ids.every((id, i) => b.ids[i] === id);
}
