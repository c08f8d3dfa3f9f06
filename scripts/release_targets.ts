/**
 * The platforms `npm run release` builds for, and what each archive is called and holds. Shared
 * by scripts/release.ts and the release test, so both agree on names.
 */

export interface ReleaseTarget {
  /** Prometheus's platform spelling (GOOS-GOARCH), used in the archive name. */
  name: string;
  /** Node's names of the platform, to tell whether this machine can run the binary. */
  os: "linux" | "darwin" | "win32";
  cpu: "x64" | "arm64";
  /** `bun build --compile --target=…`. */
  bunTarget: string;
  /** The npm package whose bin/ holds the Bun runtime of that platform. */
  runtimePackage: string;
  archive: "tar.gz" | "zip";
}

export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { name: "linux-amd64", os: "linux", cpu: "x64", bunTarget: "bun-linux-x64", runtimePackage: "@oven/bun-linux-x64", archive: "tar.gz" },
  { name: "linux-arm64", os: "linux", cpu: "arm64", bunTarget: "bun-linux-arm64", runtimePackage: "@oven/bun-linux-aarch64", archive: "tar.gz" },
  { name: "darwin-amd64", os: "darwin", cpu: "x64", bunTarget: "bun-darwin-x64", runtimePackage: "@oven/bun-darwin-x64", archive: "tar.gz" },
  { name: "darwin-arm64", os: "darwin", cpu: "arm64", bunTarget: "bun-darwin-arm64", runtimePackage: "@oven/bun-darwin-aarch64", archive: "tar.gz" },
  { name: "windows-amd64", os: "win32", cpu: "x64", bunTarget: "bun-windows-x64", runtimePackage: "@oven/bun-windows-x64", archive: "zip" },
];

/** The directory inside the archive (and the archive's name without its extension). */
export function releaseDirName(version: string, target: ReleaseTarget): string {
  return `shoal-${version}-${target.name}`;
}

export function releaseArchiveName(version: string, target: ReleaseTarget): string {
  return `${releaseDirName(version, target)}.${target.archive}`;
}

export function binaryName(target: ReleaseTarget): string {
  return target.os === "win32" ? "shoal.exe" : "shoal";
}

/**
 * Repository file → its name in the archive, besides the binary. The systemd unit only goes
 * into the Linux archives: macOS and Windows have no systemd.
 */
export function releaseFiles(target: ReleaseTarget): ReadonlyMap<string, string> {
  const files = new Map([
    ["LICENSE", "LICENSE"],
    ["README.md", "README.md"],
    ["deploy/prometheus.yml", "prometheus.yml"],
  ]);
  if (target.os === "linux") files.set("deploy/systemd/shoal.service", "shoal.service");
  return files;
}

export function findTargets(names: readonly string[]): ReleaseTarget[] {
  return names.map((n) => {
    const t = RELEASE_TARGETS.find((r) => r.name === n);
    if (!t) throw new Error(`release: unknown target "${n}" (known: ${RELEASE_TARGETS.map((r) => r.name).join(", ")})`);
    return t;
  });
}
