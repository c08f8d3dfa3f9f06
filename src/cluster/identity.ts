/**
 * The cluster's identity: a random 128-bit id that a cluster takes when it first forms and that
 * every member keeps in its data directory (`<data>/cluster/cluster.json`). A node whose
 * directory holds an id has data of that cluster and never joins another: members of a cluster
 * with another id are refused, whatever their name, mDNS or join flags say.
 *
 * A fresh node (no id on disk) starts with a provisional id. It adopts the id of a settled
 * cluster it meets at once (and settles: it joined that cluster), and among provisional nodes
 * the smallest id wins, so nodes started together agree on one id whatever order they meet in.
 * A provisional id settles on its own after `settleMs` without a change: the node then holds
 * data of a cluster of its own (a node alone is a cluster of one) and keeps that id for good.
 * A node told where its cluster is (`--cluster.join`) never settles alone: until it has heard a
 * member it waits, however long that takes on a loaded machine, because settling early would
 * make it refuse the very cluster it was sent to join and keep the writes it accepts to itself.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ID_RE = /^[0-9a-f]{32}$/;

/** What a heartbeat from a peer with this cluster identity means for this node. */
export type IdentityVerdict =
  /** Same cluster (possibly just adopted). */
  | "same"
  /** A provisional peer with another id: it adopts ours once it hears us; not a member before. */
  | "pending"
  /** A peer of another settled cluster: refused. */
  | "foreign";

export interface IdentityChange {
  from: string;
  to: string;
  settled: boolean;
  /** The settled id could not be written to disk. */
  error?: Error;
}

export interface IdentityOptions {
  /** How long a provisional id must go unchanged before it settles. */
  settleMs: number;
  /** The node was given members to join: it settles only after it has heard one. */
  waitForPeer: boolean;
}

export class ClusterIdentity {
  private changedAt: number;
  private heardPeer = false;

  private constructor(
    private readonly file: string,
    private currentId: string,
    private isSettled: boolean,
    private readonly opts: IdentityOptions,
    now: number,
    /** Called after every change of id or settlement (for logs). */
    private readonly onChange: (c: IdentityChange) => void,
  ) {
    this.changedAt = now;
  }

  /**
   * Reads `<stateDir>/cluster.json`; a missing file means a fresh node with a provisional id.
   * A file that is there but unreadable is an error: guessing would let the node join anything.
   */
  static load(stateDir: string, opts: IdentityOptions, now: number, onChange: (c: IdentityChange) => void = () => {}): ClusterIdentity {
    const file = join(stateDir, "cluster.json");
    if (existsSync(file)) {
      let id: unknown;
      try {
        id = (JSON.parse(readFileSync(file, "utf8")) as { id?: unknown }).id;
      } catch (err) {
        throw new Error(`cannot read the cluster identity ${file}: ${(err as Error).message}`);
      }
      if (typeof id !== "string" || !ID_RE.test(id)) throw new Error(`cluster identity ${file} has no valid "id" (32 hex digits)`);
      return new ClusterIdentity(file, id, true, opts, now, onChange);
    }
    return new ClusterIdentity(file, randomBytes(16).toString("hex"), false, opts, now, onChange);
  }

  get id(): string {
    return this.currentId;
  }

  /** Whether the id is final (on disk): this node holds data of that cluster. */
  get settled(): boolean {
    return this.isSettled;
  }

  /** Settles a provisional id that has not changed for `settleMs` (once a peer was heard, if it must wait). */
  tick(now: number): void {
    if (this.isSettled || (this.opts.waitForPeer && !this.heardPeer)) return;
    if (now - this.changedAt >= this.opts.settleMs) this.set(this.currentId, true, now);
  }

  /**
   * Judges a peer's cluster id (`peerSettled`: the peer's id is final) and adopts it when this
   * node may: a provisional node takes a settled id, or a smaller provisional one.
   */
  consider(peerId: string, peerSettled: boolean, now: number): IdentityVerdict {
    if (!this.heardPeer) {
      // The settle window starts at first contact: the peers met get the whole window to agree.
      this.heardPeer = true;
      if (!this.isSettled) this.changedAt = now;
    }
    if (peerId === this.currentId) {
      if (peerSettled && !this.isSettled) this.set(peerId, true, now);
      return "same";
    }
    if (this.isSettled) return peerSettled ? "foreign" : "pending";
    if (peerSettled || peerId < this.currentId) {
      this.set(peerId, peerSettled, now);
      return "same";
    }
    // A provisional peer with a larger id adopts ours; meanwhile both are fresh, nothing to keep apart.
    return "same";
  }

  private set(id: string, settled: boolean, now: number): void {
    const from = this.currentId;
    this.currentId = id;
    this.changedAt = now;
    let error: Error | undefined;
    if (settled && !this.isSettled) {
      // Settled in this process even if the file cannot be written: the refusal holds until exit.
      this.isSettled = true;
      try {
        this.persist();
      } catch (err) {
        error = err as Error;
      }
    }
    this.onChange({ from, to: id, settled: this.isSettled, error });
  }

  private persist(): void {
    mkdirSync(join(this.file, ".."), { recursive: true });
    const tmp = this.file + ".tmp";
    writeFileSync(tmp, JSON.stringify({ id: this.currentId, settledAt: new Date().toISOString() }) + "\n");
    renameSync(tmp, this.file);
  }
}

/** At most one warning per key per `everyMs`; counts what it held back. */
export class WarnLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly everyMs: number) {}

  /** Returns the number of warnings held back since the last one, or null to stay quiet now. */
  allow(key: string, now: number): number | null {
    const prev = this.last.get(key);
    if (prev && now - prev.at < this.everyMs) {
      prev.suppressed++;
      return null;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    return prev?.suppressed ?? 0;
  }
}
