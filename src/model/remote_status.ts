/**
 * One remote-write queue as the status page, `/api/v1/status/remote_write` and the cluster's
 * heartbeat see it. Kept here because the remote room produces it and the API and cluster rooms
 * read it.
 */
export interface RemoteQueueStatus {
  /** The `name` of its remote_write entry, or the first 6 hex digits of the entry's hash. */
  name: string;
  /** The endpoint, with any password in it replaced. */
  url: string;
  shards: number;
  desiredShards: number;
  minShards: number;
  maxShards: number;
  /** Samples on the on-disk queue not yet acknowledged by the endpoint (nor dropped). */
  pendingSamples: number;
  /** Bytes the on-disk queue takes. */
  diskBytes: number;
  samplesSent: number;
  samplesFailed: number;
  samplesRetried: number;
  samplesDropped: number;
  /** Highest sample timestamp (ms) handed to the queue; 0 before any. */
  highestEnqueuedMs: number;
  /** Highest sample timestamp (ms) of a batch the endpoint acknowledged; 0 before any. */
  highestSentMs: number;
  /**
   * Every sample handed to this queue with a timestamp at or below this (ms) has been delivered
   * or dropped for good: `highestEnqueuedMs` when nothing is pending, else the lowest pending
   * timestamp minus one. Kept across restarts.
   */
  deliveredThroughMs: number;
  /** The last failed send, "" when none yet; and when it happened (ms, 0 when none). */
  lastError: string;
  lastErrorAtMs: number;
}
