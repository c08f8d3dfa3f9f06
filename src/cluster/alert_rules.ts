/**
 * The built-in alert rules about the cluster itself, as a Prometheus rule file embedded in the
 * binary. node.ts hands them to the rule manager as an inline file when --cluster.alert-rules is
 * on (the default); the group is then owned and evaluated like any other, by one member.
 *
 * Every member exports its own view (its /metrics, self-scraped into the cluster), so the
 * expressions aggregate over the members' views to give one alert per problem: per dead member,
 * per peer whose hinted-handoff queue grows, per scrape job, and once for the cluster-wide
 * figures. Only a full disk is one alert per member, because each member's disk is its own.
 * A member that died is not scraped any more, but its last samples stay visible for the
 * lookback delta; expressions therefore never rely on a member's view of itself.
 */
import type { ClusterConfig } from "./config.ts";

/** The name the built-in group's file is shown under (/api/v1/rules, the Rules page). */
export const CLUSTER_ALERT_RULES_FILE = "shoal-builtin/cluster_alerts.yml";

export const CLUSTER_ALERT_RULES_YAML = `# Shoal's built-in alerts about the cluster itself (--cluster.alert-rules=false turns them off).
groups:
  - name: shoal-cluster
    rules:
      # A member is held dead once it has been silent for --cluster.dead-timeout; a plain restart
      # comes back well within 30s more, so this fires for outages, not for restarts.
      - alert: ShoalClusterMemberDown
        expr: max by (member, id) (shoal_cluster_member_up) == 0
        for: 30s
        labels:
          severity: warning
        annotations:
          summary: "Cluster member {{ $labels.member }} is down"
          description: "No live member has heard a heartbeat from {{ $labels.member }} ({{ $labels.id }}) for longer than --cluster.dead-timeout. Its ranges are served by the other replicas; writes for it wait in hinted-handoff queues until it is back."

      # Under-replication is counted against the configured factor: an owner suspect or dead, a
      # range still being re-replicated, or fewer members than the factor.
      - alert: ShoalClusterRangesUnderReplicated
        expr: max(shoal_cluster_ranges_under_replicated) > 0
        for: 30s
        labels:
          severity: warning
        annotations:
          summary: "{{ $value }} token ranges have fewer live copies than the replication factor"
          description: "Some series are held by fewer live members than --cluster.replication-factor (a member is down, a range is still being re-replicated, or the cluster has fewer members than the factor). One more failure may make them unreadable or unwritable."

      - alert: ShoalClusterRangesUnavailable
        expr: max(shoal_cluster_ring_unavailable_ratio) > 0
        for: 30s
        labels:
          severity: critical
        annotations:
          summary: "{{ $value | humanizePercentage }} of the ring has no live copy"
          description: "Every member holding some ranges is down: queries over them return partial results with a warning, and their data is lost unless one of those members comes back on its data directory."

      - alert: ShoalClusterHintedHandoffBacklogGrowing
        expr: sum by (peer) (deriv(shoal_cluster_hinted_handoff_queue_bytes[10m])) > 0 and sum by (peer) (shoal_cluster_hinted_handoff_queue_bytes) > 0
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "Hinted-handoff backlog for {{ $labels.peer }} keeps growing"
          description: "Writes meant for {{ $labels.peer }} have been queued faster than they are replayed for 15 minutes. The queues are bounded by --cluster.hinted-handoff.max-bytes; once full, batches are dropped and only anti-entropy repairs the replica."

      - alert: ShoalClusterHandoffStalled
        expr: (sum(shoal_cluster_handoff_transfers_active) > 0 or max(shoal_cluster_ranges_rereplicating) > 0) unless sum(rate(shoal_cluster_handoff_bytes_total[10m])) > 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "Data hand-off is stalled"
          description: "Hand-off transfers or re-replication are pending, but no member has moved a byte for 10 minutes: a join, leave or re-replication after a death is not progressing."

      - alert: ShoalClusterWriteQuorumFailures
        expr: sum(rate(shoal_cluster_write_quorum_failures_total[5m])) > 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "Writes fail to reach a quorum of replicas"
          description: "{{ $value | humanize }} commits per second have not reached a write quorum over the last 5 minutes: scraped samples and remote writes are being refused."

      - alert: ShoalStorageDiskNearlyFull
        expr: shoal_storage_fs_available_bytes / shoal_storage_fs_size_bytes < 0.1
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "Data directory of {{ $labels.instance }} has {{ $value | humanizePercentage }} space left"
          description: "The filesystem of {{ $labels.path }} on {{ $labels.instance }} is more than 90% full; when it is full the node can no longer write its WAL, blocks or hinted-handoff queues."

      # Each member counts the targets its config yields before sharding; the members together
      # should scrape as many. Exact when every member has the same scrape config, as sharding needs.
      - alert: ShoalScrapeTargetsUnscraped
        expr: (max by (scrape_job) (shoal_scrape_pool_unsharded_targets) - sum by (scrape_job) (prometheus_target_scrape_pool_targets)) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $value }} targets of job {{ $labels.scrape_job }} are scraped by no member"
          description: "The ring gives these targets to members that do not scrape them, usually because the members' scrape configs differ (each member only scrapes the targets its own config yields). Give every member the same scrape config."
`;

/** The built-in rule files to load: the cluster's alerts, or none when --cluster.alert-rules=false. */
export function clusterAlertRuleFiles(config: Pick<ClusterConfig, "alertRules">): { file: string; text: string }[] {
  return config.alertRules ? [{ file: CLUSTER_ALERT_RULES_FILE, text: CLUSTER_ALERT_RULES_YAML }] : [];
}
