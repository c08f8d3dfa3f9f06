/**
 * How many shards a queue should run, computed as Prometheus's QueueManager does every 10 s:
 * enough to send what comes in at the measured time per sample, plus 5 % of the backlog per
 * second; changes within ±30 % of the current count are not worth a reshard, and a queue more
 * than 10 s behind does not shrink.
 */
export const SHARD_UPDATE_INTERVAL_MS = 10_000;
export const EWMA_WEIGHT = 0.2;
const SHARD_TOLERANCE_FRACTION = 0.3;

export interface ShardInputs {
  current: number;
  min: number;
  max: number;
  /** Rates per second (EWMA): samples in, samples sent, samples dropped, seconds spent sending. */
  dataInRate: number;
  dataOutRate: number;
  dataDroppedRate: number;
  dataOutDurationRate: number;
  /** Highest sample timestamp handed to the queue and highest one sent, seconds. */
  highestRecvSeconds: number;
  highestSentSeconds: number;
}

/** The shard count to run and the raw desired figure (for prometheus_remote_storage_shards_desired). */
export function desiredShards(x: ShardInputs): { shards: number; desired: number } {
  if (x.dataOutRate <= 0) return { shards: x.current, desired: x.current };
  const keptRatio = x.dataOutRate / (x.dataDroppedRate + x.dataOutRate);
  const delay = x.highestRecvSeconds - x.highestSentSeconds;
  const pending = delay * x.dataInRate * keptRatio;
  const backlogCatchup = 0.05 * pending;
  const timePerSample = x.dataOutDurationRate / x.dataOutRate;
  const desired = timePerSample * (x.dataInRate * keptRatio + backlogCatchup);
  const lower = x.current * (1 - SHARD_TOLERANCE_FRACTION);
  const upper = x.current * (1 + SHARD_TOLERANCE_FRACTION);
  const rounded = Math.ceil(desired);
  if (lower <= rounded && rounded <= upper) return { shards: x.current, desired };
  if (rounded < x.current && delay > 10) return { shards: x.current, desired };
  return { shards: Math.min(x.max, Math.max(x.min, rounded)), desired };
}
