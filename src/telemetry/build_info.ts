/**
 * `prometheus_build_info` and `prometheus_ready`, which Prometheus's own dashboards and alert
 * rules key on (version panels, "is this instance up and ready").
 */
import type { Registry } from "./registry.ts";

export interface BuildInfoLabels {
  version: string;
  revision: string;
  branch: string;
  /** The runtime that built and runs the binary (Prometheus puts its Go version here). */
  goVersion: string;
  tags: string;
}

/** Node's process.arch in Go's GOARCH spelling, which the `goarch` label carries in Prometheus. */
export function goArch(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return names[arch] ?? arch;
}

export function registerBuildInfo(reg: Registry, build: BuildInfoLabels, ready: () => boolean): void {
  const info = reg.gauge(
    "prometheus_build_info",
    "A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build.",
    ["version", "revision", "branch", "goversion", "goos", "goarch", "tags"],
  );
  info.set(1, build.version, build.revision, build.branch, build.goVersion, process.platform, goArch(), build.tags);
  reg.collector(() => [
    {
      name: "prometheus_ready",
      type: "gauge",
      help: "Whether Prometheus startup was fully completed and the server is ready for normal operation.",
      samples: [{ value: ready() ? 1 : 0 }],
    },
  ]);
}
