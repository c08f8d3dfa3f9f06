/**
 * When a joining node pulls its data and turns active. A (re)starting node is `joining`: its
 * tokens are pending, it takes writes, and once the members' heartbeats had time to arrive it
 * pulls the ranges it owns from their current owners, then turns active. A node that finds
 * itself joining again later (it was paused past the dead timeout, so the others stopped writing
 * to it) pulls the same way.
 */
import type { Clock, Logger } from "../model/index.ts";
import type { MemberState } from "./heartbeat.ts";

/** What the settle logic reads of the membership and asks of the hand-off. */
export interface SettleDeps {
  selfState(): MemberState;
  /** Whether other members exist or are expected (join targets, members remembered on disk). */
  expectsPeers(): boolean;
  /** Clock.now() of the first heartbeat heard from another member, or null. */
  firstPeerHeartbeat(): number | null;
  /** Whether a graceful leave was asked for. */
  leaving(): boolean;
  /** The join pull (resolves once everything this node takes over arrived). */
  join(): Promise<void>;
  /** Announces `active`. */
  activate(): void;
}

export interface SettleOptions {
  heartbeatIntervalMs: number;
  deadTimeoutMs: number;
  clock: Clock;
  logger: Logger;
}

export class JoinSettle {
  private readonly startedAt: number;
  private pulling = false;
  private lastState: MemberState;
  private joiningSince: number;

  constructor(
    private readonly deps: SettleDeps,
    private readonly opts: SettleOptions,
  ) {
    this.startedAt = opts.clock.now();
    this.lastState = deps.selfState();
    this.joiningSince = this.startedAt;
  }

  /** Whether a join pull is running. */
  get busy(): boolean {
    return this.pulling;
  }

  /** Run a few times per heartbeat interval (and once at start: a node alone turns active before its first request). */
  tick(): void {
    const state = this.deps.selfState();
    const now = this.opts.clock.now();
    if (state === "joining" && this.lastState !== "joining") this.joiningSince = now;
    this.lastState = state;
    if (state !== "joining" || this.pulling || this.deps.leaving()) return;
    const hb = this.opts.heartbeatIntervalMs;
    // Joining again (after a pause): the others learn it from the next heartbeats; pull once
    // they write to this node again, so that nothing written meanwhile is missed.
    if (now - this.joiningSince < 3 * hb && this.joiningSince > this.startedAt) return;
    const waited = now - this.startedAt;
    // A node that never was in a cluster (no join targets, nobody remembered) owes nobody
    // anything: it is active at once, so a single node starts scraping without delay.
    if (waited < 2 * hb && this.deps.expectsPeers()) return;
    // With members expected (join targets, remembered peers), wait until their heartbeats
    // (their states and tokens) have arrived, unless they are all gone; and until they have
    // heard that this node is joining (then new writes reach it before the pull starts).
    if (this.deps.expectsPeers() && waited < this.opts.deadTimeoutMs) {
      const first = this.deps.firstPeerHeartbeat();
      if (first === null || now - first < 3 * hb) return;
    }
    this.pulling = true;
    void this.deps
      .join()
      .then(
        () => {
          if (this.deps.selfState() === "joining" && !this.deps.leaving()) this.deps.activate();
        },
        (err: unknown) => this.opts.logger.error("join pull failed; retrying", { err }),
      )
      .finally(() => {
        this.pulling = false;
      });
  }
}
