/**
 * `npm run release` end to end: scripts/release.ts builds every archive into a temp dir (offline:
 * the Bun runtimes come from node_modules), then the archives are checked the way a user would
 * use them: `sha256sum -c SHA256SUMS`, unpacked with `tar` and `unzip`, the Linux binaries run —
 * the arm64 one under `qemu-aarch64-static` — and the systemd unit verified by systemd-analyze.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryName, RELEASE_TARGETS, releaseArchiveName, releaseDirName, type ReleaseTarget } from "../../scripts/release_targets.ts";
import { freePort, REPO_ROOT as root, removeTempDir, run, spawnProcess, tempDir, waitHttpOk } from "../support/index.ts";

const work = tempDir("release-test");
const out = join(work, "release");
const unpacked = join(work, "unpacked");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const QEMU_AARCH64 = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];

const target = (name: string): ReleaseTarget => RELEASE_TARGETS.find((t) => t.name === name)!;
const binaryOf = (t: ReleaseTarget): string => join(unpacked, t.name, releaseDirName(version, t), binaryName(t));

beforeAll(async () => {
  // All five platforms: about a minute on two cores (each compile takes seconds; most of the time is compressing).
  const built = await run([process.execPath, join(root, "scripts/release.ts"), "--out", out, "--build-dir", join(work, "build")], { timeoutMs: 540_000 });
  if (built.code !== 0) throw new Error(`release failed (exit ${built.code}):\n${built.stdout}\n${built.stderr}`);
  for (const t of RELEASE_TARGETS) {
    const dest = join(unpacked, t.name);
    mkdirSync(dest, { recursive: true });
    const archive = join(out, releaseArchiveName(version, t));
    const r = t.archive === "zip" ? await run(["unzip", "-q", archive, "-d", dest]) : await run(["tar", "-xzf", archive, "-C", dest]);
    if (r.code !== 0) throw new Error(`unpacking ${archive} failed (exit ${r.code}): ${r.stderr}`);
  }
}, 600_000);

afterAll(() => {
  removeTempDir(work);
});

/** What a binary's header says it runs on: ELF e_machine, Mach-O cputype or PE machine. */
function platformOf(file: string): string {
  const b = readFileSync(file).subarray(0, 4096);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) {
    return { 0x3e: "linux-amd64", 0xb7: "linux-arm64" }[v.getUint16(18, true)] ?? "linux-?";
  }
  if (v.getUint32(0, true) === 0xfeedfacf) {
    return { 0x01000007: "darwin-amd64", 0x0100000c: "darwin-arm64" }[v.getUint32(4, true)] ?? "darwin-?";
  }
  if (b[0] === 0x4d && b[1] === 0x5a) {
    const pe = v.getUint32(0x3c, true);
    if (v.getUint32(pe, false) === 0x50450000) return { 0x8664: "windows-amd64", 0xaa64: "windows-arm64" }[v.getUint16(pe + 4, true)] ?? "windows-?";
  }
  return "unknown";
}

/** Starts a binary as a one-node cluster in an empty environment; resolves with its base URL. */
async function startNode(name: string, cmd: string[], runDir: string) {
  const port = freePort();
  const node = spawnProcess(
    name,
    [...cmd, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(runDir, "data")}`, "--cluster.listen-address=127.0.0.1:0", "--no-cluster.mdns"],
    { cwd: runDir, inheritEnv: false },
  );
  return { node, base: `http://127.0.0.1:${port}` };
}

async function expectReadyAndQuery(base: string, node: ReturnType<typeof spawnProcess>, timeoutMs: number): Promise<void> {
  await waitHttpOk(`${base}/-/ready`, { timeoutMs, process: node });
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent("vector(6) * 7")}&time=100`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { status: string; data: { resultType: string; result: { value: [number, string] }[] } };
  expect(body.status).toBe("success");
  expect(body.data.resultType).toBe("vector");
  expect(body.data.result.map((s) => s.value)).toEqual([[100, "42"]]);
}

describe("npm run release", () => {
  test("writes one archive per platform and a SHA256SUMS that sha256sum -c verifies", async () => {
    const expected = RELEASE_TARGETS.map((t) => releaseArchiveName(version, t));
    expect(expected).toEqual([
      `shoal-${version}-linux-amd64.tar.gz`,
      `shoal-${version}-linux-arm64.tar.gz`,
      `shoal-${version}-darwin-amd64.tar.gz`,
      `shoal-${version}-darwin-arm64.tar.gz`,
      `shoal-${version}-windows-amd64.zip`,
    ]);
    expect(readdirSync(out).sort()).toEqual([...expected, "SHA256SUMS"].sort());
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    expect(sums.trim().split("\n").map((l) => l.replace(/^[0-9a-f]{64} {2}/, ""))).toEqual(expected);
    const check = await run(["sha256sum", "--strict", "-c", "SHA256SUMS"], { cwd: out });
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout.trim().split("\n").sort()).toEqual(expected.map((f) => `${f}: OK`).sort());
  });

  test("each archive holds one directory with the binary for its platform, LICENSE, README.md, prometheus.yml, and the systemd unit on Linux", () => {
    for (const t of RELEASE_TARGETS) {
      const dir = join(unpacked, t.name);
      expect({ target: t.name, top: readdirSync(dir) }).toEqual({ target: t.name, top: [releaseDirName(version, t)] });
      const files = readdirSync(join(dir, releaseDirName(version, t))).sort();
      const want = [binaryName(t), "LICENSE", "README.md", "prometheus.yml", ...(t.os === "linux" ? ["shoal.service"] : [])].sort();
      expect({ target: t.name, files }).toEqual({ target: t.name, files: want });
      const inDir = (f: string) => readFileSync(join(dir, releaseDirName(version, t), f), "utf8");
      expect(inDir("LICENSE")).toBe(readFileSync(join(root, "LICENSE"), "utf8"));
      // The same README in every archive, the repository's (compared by its title only: people edit
      // README.md while this test runs in a shared work tree).
      expect(inDir("README.md")).toBe(readFileSync(join(unpacked, "linux-amd64", releaseDirName(version, target("linux-amd64")), "README.md"), "utf8"));
      expect(inDir("README.md").split("\n")[0]).toBe(readFileSync(join(root, "README.md"), "utf8").split("\n")[0]!);
      expect(inDir("prometheus.yml")).toBe(readFileSync(join(root, "deploy/prometheus.yml"), "utf8"));
      if (t.os === "linux") expect(inDir("shoal.service")).toBe(readFileSync(join(root, "deploy/systemd/shoal.service"), "utf8"));
      expect({ target: t.name, platform: platformOf(binaryOf(t)) }).toEqual({ target: t.name, platform: t.name });
      expect(statSync(binaryOf(t)).mode & 0o111).toBe(0o111);
    }
  });

  test(
    "the linux-amd64 binary runs on its own: --version, check config of the sample config, a node answering /-/ready and a query",
    async () => {
      const bin = binaryOf(target("linux-amd64"));
      const runDir = tempDir("release-amd64");
      try {
        const v = await run([bin, "--version"], { cwd: runDir, inheritEnv: false });
        expect(v.code).toBe(0);
        expect(v.stdout).toContain(`version ${version}`);
        const help = await run([bin, "--help"], { cwd: runDir, inheritEnv: false });
        expect(help.stdout).toMatch(/Commands:\n {2}tsdb .*\n {2}check .*\n {2}test .*\n {2}cluster .*\n {2}help /);
        const check = await run([bin, "check", "config", join(unpacked, "linux-amd64", releaseDirName(version, target("linux-amd64")), "prometheus.yml")], { cwd: runDir, inheritEnv: false });
        expect({ code: check.code, err: check.stderr }).toEqual({ code: 0, err: "" });
        expect(check.stdout).toContain("SUCCESS");
        const { node, base } = await startNode("shoal-linux-amd64", [bin], runDir);
        try {
          await expectReadyAndQuery(base, node, 30_000);
        } finally {
          expect(await node.stop("SIGTERM", 15_000)).toBe(0);
        }
      } finally {
        removeTempDir(runDir);
      }
    },
    90_000,
  );

  test(
    "the linux-arm64 binary runs under qemu-aarch64-static: --version, a node answering /-/ready and a query",
    async () => {
      const bin = binaryOf(target("linux-arm64"));
      const runDir = tempDir("release-arm64");
      try {
        const v = await run([...QEMU_AARCH64, bin, "--version"], { cwd: runDir, inheritEnv: false, timeoutMs: 60_000 });
        expect(v.code).toBe(0);
        expect(v.stdout).toContain(`version ${version}`);
        const { node, base } = await startNode("shoal-linux-arm64", [...QEMU_AARCH64, bin], runDir);
        try {
          // Emulated: a few seconds to start here, give it more on a loaded machine.
          await expectReadyAndQuery(base, node, 90_000);
        } finally {
          expect(await node.stop("SIGTERM", 30_000)).toBe(0);
        }
      } finally {
        removeTempDir(runDir);
      }
    },
    180_000,
  );

  test("the systemd unit from the archive passes systemd-analyze verify (pointed at the unpacked binary)", async () => {
    const t = target("linux-amd64");
    const unit = readFileSync(join(unpacked, t.name, releaseDirName(version, t), "shoal.service"), "utf8");
    expect(unit).toContain("ExecStart=/usr/local/bin/shoal ");
    const dir = tempDir("release-unit");
    try {
      // verify checks that ExecStart's program exists: the unit's own path is not installed here.
      const file = join(dir, "shoal.service");
      writeFileSync(file, unit.replace("ExecStart=/usr/local/bin/shoal ", `ExecStart=${binaryOf(t)} `));
      const r = await run(["systemd-analyze", "verify", file], { cwd: dir });
      // A bad setting is only a warning (exit 0) from systemd-analyze: the output must be empty.
      expect({ code: r.code, out: (r.stdout + r.stderr).trim() }).toEqual({ code: 0, out: "" });
    } finally {
      removeTempDir(dir);
    }
  });
});
