/**
 * The contract between the cluster, which elects one replica of each HA pair of senders (two
 * Prometheus servers scraping the same targets, told apart by a replica label), and the
 * remote-write handler, which asks it before storing a request. The handler never learns how
 * the election is held; it only reads the two label names and asks for a verdict.
 */

export type HaVerdict =
  /** Store the samples (without the replica label). */
  | { accept: true }
  /** Another replica of the cluster is elected: the samples are dropped, not stored. */
  | { accept: false; elected: string };

export interface HaReplicaFilter {
  /** Label naming the HA cluster (Mimir's default: `cluster`). */
  readonly clusterLabel: string;
  /** Label naming the replica within it, dropped from stored series (default: `__replica__`). */
  readonly replicaLabel: string;
  /**
   * Whether samples that `replica` of HA cluster `cluster` sends now are to be stored. Rejects
   * with WriteUnavailableError when the member that decides for the cluster cannot be asked
   * (the sender retries).
   */
  check(cluster: string, replica: string): Promise<HaVerdict>;
}
