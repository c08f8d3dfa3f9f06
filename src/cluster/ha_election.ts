/**
 * The HA election across members (the rules and why they hold are in ha_tracker.ts): the member
 * owning an HA cluster's name on the ring decides for it; the others answer from what it last
 * told them where that is safe, and ask it otherwise. This is the HaReplicaFilter the
 * remote-write handler is handed.
 */
import { WriteUnavailableError, type HaReplicaFilter, type HaVerdict } from "../model/index.ts";
import { verdict, type HaAnswer, type HaHint, type HaTracker } from "./ha_tracker.ts";

export const HA_PROTOCOL = "/shoal/ha-tracker/1.0.0";

/** An asking member's request to the owner. */
export interface HaAsk {
  cluster: string;
  replica: string;
  hint?: HaHint;
}

export interface HaElectionOptions {
  tracker: HaTracker;
  clusterLabel: string;
  replicaLabel: string;
  /** The member deciding for `cluster`, or null when it is this one. */
  ownerOf: (cluster: string) => string | null;
  /** Asks the owner (an RPC in a real cluster). */
  ask: (owner: string, req: HaAsk) => Promise<HaAnswer>;
}

export class HaElection implements HaReplicaFilter {
  readonly clusterLabel: string;
  readonly replicaLabel: string;
  private readonly tracker: HaTracker;

  constructor(private readonly opts: HaElectionOptions) {
    this.tracker = opts.tracker;
    this.clusterLabel = opts.clusterLabel;
    this.replicaLabel = opts.replicaLabel;
  }

  async check(cluster: string, replica: string): Promise<HaVerdict> {
    const owner = this.opts.ownerOf(cluster);
    if (owner === null) return verdict(this.tracker.decide(cluster, replica), replica);
    const known = this.tracker.cached(cluster, replica);
    if (known) return known;
    let answer: HaAnswer;
    try {
      answer = await this.opts.ask(owner, { cluster, replica, hint: this.tracker.hint(cluster) });
    } catch (err) {
      // Deciding alone could elect a different replica than the owner does: both would be
      // stored. The sender retries a 503; by then the owner answers or the ring has moved on.
      throw new WriteUnavailableError(`the member deciding the HA election of cluster ${JSON.stringify(cluster)} did not answer: ${(err as Error).message}`);
    }
    return this.tracker.learn(cluster, replica, answer);
  }

  /** Forgets HA clusters not heard of for a long time. */
  sweep(): void {
    this.tracker.sweep();
  }

  /** The owner's side of an ask (the RPC handler). */
  answer(req: unknown): HaAnswer {
    const r = req as Partial<HaAsk> | null;
    if (!r || typeof r.cluster !== "string" || typeof r.replica !== "string") throw new Error("malformed HA election request");
    const h = r.hint;
    const hint = h && typeof h.replica === "string" && typeof h.ageMs === "number" && Number.isFinite(h.ageMs) ? h : undefined;
    return this.tracker.decide(r.cluster, r.replica, hint);
  }
}
