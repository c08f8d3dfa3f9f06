/**
 * The standard `process_*` metrics (the names client libraries export), read from the runtime
 * and, on Linux, from /proc/self at scrape time.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { MetricFamily } from "../model/index.ts";
import type { Registry } from "./registry.ts";

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  const limits = readProc("/proc/self/limits");
  const m = limits && /Max open files\s+(\d+)/.exec(limits);
  return m ? Number(m[1]) : null;
}

function virtualMemoryBytes(): number | null {
  const stat = readProc("/proc/self/stat");
  if (!stat) return null;
  // Fields after the parenthesised command name; vsize is field 23 (index 20 after the name).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const v = Number(rest[20]);
  return Number.isFinite(v) ? v : null;
}

export function registerProcessMetrics(reg: Registry, startTimeMs: number): void {
  reg.collector(() => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const fams: MetricFamily[] = [
      {
        name: "process_cpu_seconds_total",
        help: "Total user and system CPU time spent in seconds.",
        type: "counter",
        samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
      },
      {
        name: "process_resident_memory_bytes",
        help: "Resident memory size in bytes.",
        type: "gauge",
        samples: [{ value: mem.rss }],
      },
      {
        name: "process_heap_bytes",
        help: "JavaScript heap size in bytes.",
        type: "gauge",
        samples: [{ value: mem.heapTotal }],
      },
      {
        name: "process_start_time_seconds",
        help: "Start time of the process since unix epoch in seconds.",
        type: "gauge",
        samples: [{ value: Math.floor(startTimeMs / 1000) }],
      },
    ];
    const vsize = virtualMemoryBytes();
    if (vsize !== null) {
      fams.push({ name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", type: "gauge", samples: [{ value: vsize }] });
    }
    const open = openFds();
    if (open !== null) {
      fams.push({ name: "process_open_fds", help: "Number of open file descriptors.", type: "gauge", samples: [{ value: open }] });
    }
    const max = maxFds();
    if (max !== null) {
      fams.push({ name: "process_max_fds", help: "Maximum number of open file descriptors.", type: "gauge", samples: [{ value: max }] });
    }
    return fams;
  });
}
