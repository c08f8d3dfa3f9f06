/**
 * Remote write out under Prometheus's `prometheus_remote_storage_*` names, types, help texts and
 * labels (storage/remote/queue_manager.go and write.go): one series per queue, labelled
 * `remote_name` and `url`, so that the stock remote-write dashboards and alerts (e.g. "samples
 * pending", "highest timestamp in vs. sent") read them unchanged. Shoal adds the size of each
 * queue's on-disk backlog.
 */
import type { MetricFamily, MetricType, Observer } from "../model/index.ts";
import type { RemoteQueueFigures, RemoteWriteFigures } from "../remote/index.ts";
import type { Registry } from "./registry.ts";

/** Prometheus's DefBuckets plus 25, 60, 120 and 300 s, as its sent_batch_duration_seconds has. */
const SEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300];

function perQueue(queues: readonly RemoteQueueFigures[], name: string, type: MetricType, help: string, value: (q: RemoteQueueFigures) => number): MetricFamily {
  return { name, type, help, samples: queues.map((q) => ({ labels: { remote_name: q.name, url: q.url }, value: value(q) })) };
}

export function remoteFamilies(f: RemoteWriteFigures): MetricFamily[] {
  const q = f.queues;
  const p = "prometheus_remote_storage_";
  return [
    { name: `${p}samples_in_total`, type: "counter", help: "Samples in to remote storage, compare to samples out for queue managers.", samples: [{ value: f.samplesIn }] },
    {
      name: `${p}highest_timestamp_in_seconds`,
      type: "gauge",
      help: "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.",
      samples: [{ value: Math.floor(f.highestTimestampInMs / 1000) }],
    },
    perQueue(q, `${p}samples_total`, "counter", "Total number of samples sent to remote storage.", (x) => x.samplesSent),
    perQueue(q, `${p}samples_failed_total`, "counter", "Total number of samples which failed on send to remote storage, non-recoverable errors.", (x) => x.samplesFailed),
    perQueue(q, `${p}samples_retried_total`, "counter", "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.", (x) => x.samplesRetried),
    perQueue(
      q,
      `${p}samples_dropped_total`,
      "counter",
      "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling or unintentionally because of an unknown reference ID.",
      (x) => x.samplesDropped,
    ),
    perQueue(q, `${p}samples_pending`, "gauge", "The number of samples pending in the queues shards to be sent to the remote storage.", (x) => x.pendingSamples),
    perQueue(
      q,
      `${p}queue_highest_sent_timestamp_seconds`,
      "gauge",
      "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
      (x) => Math.floor(x.highestSentMs / 1000),
    ),
    perQueue(q, `${p}shards`, "gauge", "The number of shards used for parallel sending to the remote storage.", (x) => x.shards),
    perQueue(q, `${p}shards_min`, "gauge", "The minimum number of shards that the queue is allowed to run.", (x) => x.minShards),
    perQueue(q, `${p}shards_max`, "gauge", "The maximum number of shards that the queue is allowed to run.", (x) => x.maxShards),
    perQueue(q, `${p}shards_desired`, "gauge", "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.", (x) => x.desiredShards),
    perQueue(q, `${p}shard_capacity`, "gauge", "The capacity of each shard of the queue used for parallel sending to the remote storage.", (x) => x.capacity),
    perQueue(
      q,
      `${p}max_samples_per_send`,
      "gauge",
      "The maximum number of samples to be sent, in a single request, to the remote storage. Note that, when sending of exemplars over remote write is enabled, exemplars count towards this limt.",
      (x) => x.maxSamplesPerSend,
    ),
    perQueue(
      q,
      `${p}bytes_total`,
      "counter",
      "The total number of bytes of data (not metadata) sent by the queue after compression. Note that when exemplars over remote write is enabled the exemplars included in a remote write request count towards this metric.",
      (x) => x.bytesSent,
    ),
    perQueue(q, `${p}metadata_total`, "counter", "Total number of metadata entries sent to remote storage.", (x) => x.metadataSent),
    perQueue(q, `${p}metadata_failed_total`, "counter", "Total number of metadata entries which failed on send to remote storage, non-recoverable errors.", (x) => x.metadataFailed),
    perQueue(
      q,
      `${p}metadata_retried_total`,
      "counter",
      "Total number of metadata entries which failed on send to remote storage but were retried because the send error was recoverable.",
      (x) => x.metadataRetried,
    ),
    perQueue(q, `${p}metadata_bytes_total`, "counter", "The total number of bytes of metadata sent by the queue after compression.", (x) => x.metadataBytes),
    perQueue(q, "shoal_remote_storage_queue_disk_bytes", "gauge", "Bytes the queue's on-disk backlog takes (samples not yet acknowledged by the remote storage, in whole segments).", (x) => x.diskBytes),
  ];
}

export function registerRemoteMetrics(reg: Registry, figures: () => RemoteWriteFigures): void {
  reg.collector(() => remoteFamilies(figures()));
}

/** The send-duration histogram, labelled remote_name and url; pass as RemoteWrite's `sentBatchDuration`. */
export function remoteSendObserver(reg: Registry): Observer {
  return reg.histogram(`prometheus_remote_storage_sent_batch_duration_seconds`, "Duration of send calls to the remote storage.", SEND_BUCKETS, ["remote_name", "url"]);
}
