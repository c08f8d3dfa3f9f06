/** The heartbeat every member publishes on the cluster's gossipsub topic (CBOR frame, see codec.ts). */

/**
 * joining: the member's tokens are pending (it takes writes, it is pulling its data, readers do
 * not count on it yet); active; leaving: it still serves its ranges while it pushes them to the
 * members taking over; left: the hand-off is done, it is about to exit (not a death: nothing
 * is re-replicated for it).
 */
export type MemberState = "joining" | "active" | "leaving" | "left";

/** A dead member as gossiped, so that newcomers know its ranges. */
export interface DeadMemberNotice {
  id: string;
  name: string;
  tokens: Uint8Array;
  createdAt: number;
  deadMs: number;
  replaced?: boolean;
}

export interface HeartbeatMessage {
  v: 1;
  cluster: string;
  /** The sender's cluster identity (see identity.ts) and whether it is final. */
  clusterId: string;
  clusterSettled: boolean;
  id: string;
  name: string;
  addrs: string[];
  http: string;
  state: MemberState;
  tokens: Uint8Array;
  seq: number;
  startedAt: number;
  /** When the member's identity (data directory) was created. */
  createdAt?: number;
  load: Record<string, number>;
  /** Hinted-handoff batches this member holds per peer id (non-zero entries only). */
  hints?: Record<string, number>;
  /** The sender's wall clock when it published (Date.now()). */
  now?: number;
  /** Members the sender holds dead (not yet forgotten), so that newcomers know their ranges. */
  dead?: DeadMemberNotice[];
  /** Members the sender holds alive or suspect (ids), so that a receiver knows whom it has not heard yet. */
  peers?: string[];
  /** The sender is joining but holds its earlier data (restarted on its data directory, or back after a silence). */
  returning?: boolean;
  /**
   * The sender's wall clock when it last saw the membership change (a member suspect, dead, back,
   * joining or leaving, a heartbeat leaving a member out, hinted batches held) or started:
   * reads from one replica per range wait until every member has been quiet for a while.
   */
  quietSince?: number;
  /**
   * Per remote-write queue name, the sender's `deliveredThroughMs` (every sample it handed that
   * queue with a timestamp at or below it was delivered): where a member taking over the
   * forwarding of its series starts (see remote_forward.ts). Absent from senders without queues.
   */
  remote?: Record<string, number>;
}

/** Ring tokens from their wire bytes (a trailing partial token is ignored). */
export function tokensFromWire(bytes: unknown): Uint32Array {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(0);
  const tokens = new Uint32Array(b.byteLength >>> 2);
  new Uint8Array(tokens.buffer).set(b.subarray(0, tokens.byteLength));
  return tokens;
}

export function tokensToWire(tokens: Uint32Array): Uint8Array {
  return new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
}
