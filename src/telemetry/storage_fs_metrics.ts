/**
 * Space on the filesystem that holds the data directory, read at every scrape (one statfs call),
 * so that an alert can warn before the TSDB, the WAL or the hinted-handoff queues run out of room.
 * Bytes available to this (unprivileged) process, as node_exporter's `node_filesystem_avail_bytes`.
 */
import { statfsSync } from "node:fs";
import type { MetricFamily } from "../model/index.ts";
import type { Registry } from "./registry.ts";

export function storageFsFamilies(dir: string): MetricFamily[] {
  const s = statfsSync(dir);
  const labels = { path: dir };
  return [
    {
      name: "shoal_storage_fs_available_bytes",
      help: "Bytes available to this process on the filesystem of the data directory.",
      type: "gauge",
      samples: [{ labels, value: s.bavail * s.bsize }],
    },
    {
      name: "shoal_storage_fs_size_bytes",
      help: "Size in bytes of the filesystem of the data directory.",
      type: "gauge",
      samples: [{ labels, value: s.blocks * s.bsize }],
    },
  ];
}

/** Reports the free and total space of `dir`'s filesystem at every scrape (absent when it cannot be read). */
export function registerStorageFsMetrics(reg: Registry, dir: string): void {
  reg.collector(() => storageFsFamilies(dir));
}
