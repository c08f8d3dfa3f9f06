#!/usr/bin/env bun
/**
 * `npm run release`: the release archives, built offline into dist/release/:
 *
 *   shoal-VERSION-linux-amd64.tar.gz   shoal-VERSION-darwin-amd64.tar.gz   shoal-VERSION-windows-amd64.zip
 *   shoal-VERSION-linux-arm64.tar.gz   shoal-VERSION-darwin-arm64.tar.gz   SHA256SUMS
 *
 * Each archive holds one directory, shoal-VERSION-PLATFORM/, with the binary, LICENSE, README.md,
 * a sample prometheus.yml and (Linux) the systemd unit. The binaries come from scripts/build.ts
 * (the same UI bundling, entry and flags as `npm run build`), cross-compiled with
 * `--compile-executable-path` pointing at the Bun runtime of each platform from the
 * @oven/bun-<platform> dev dependencies that `npm ci` installed (.npmrc lets it install those of
 * other platforms), so nothing is downloaded. The runtimes must be the version of the Bun that
 * builds: the compiled bytecode and module graph are read by that runtime.
 *
 * Flags: --targets linux-amd64,linux-arm64,… (default: all), --out DIR (default dist/release),
 *        --build-dir DIR (intermediate files, default dist/.build-release).
 */
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { create as createTar } from "tar";
import { binaryName, findTargets, RELEASE_TARGETS, releaseArchiveName, releaseDirName, releaseFiles, type ReleaseTarget } from "./release_targets.ts";

const root = resolve(import.meta.dir, "..");

interface ReleaseOptions {
  targets: ReleaseTarget[];
  out: string;
  buildDir: string;
}

function parseArgs(args: string[]): ReleaseOptions {
  const opts: ReleaseOptions = { targets: [...RELEASE_TARGETS], out: join(root, "dist", "release"), buildDir: join(root, "dist", ".build-release") };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (v === undefined || v === "") throw new Error(`release: ${a} needs a value`);
      return v;
    };
    if (a.startsWith("--targets")) opts.targets = findTargets(value().split(",").map((s) => s.trim()).filter((s) => s !== ""));
    else if (a.startsWith("--out")) opts.out = resolve(value());
    else if (a.startsWith("--build-dir")) opts.buildDir = resolve(value());
    else throw new Error(`release: unknown argument ${a} (known: --targets, --out, --build-dir)`);
  }
  if (opts.targets.length === 0) throw new Error("release: --targets names no target");
  return opts;
}

function isHost(t: ReleaseTarget): boolean {
  return t.os === process.platform && t.cpu === process.arch;
}

/**
 * The Bun runtime to compile `t` with. The `bun` package's install script moves the host's own
 * runtime out of its @oven package into node_modules/bun, so for the host it is the Bun running
 * this script.
 */
function runtimeFor(t: ReleaseTarget): string {
  const dir = join(root, "node_modules", t.runtimePackage);
  const bin = join(dir, "bin", t.os === "win32" ? "bun.exe" : "bun");
  if (existsSync(bin)) {
    const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    if (version !== Bun.version) {
      throw new Error(`release: ${t.runtimePackage} is ${version} but the building Bun is ${Bun.version}; the runtimes must match the "bun" dev dependency (update both in package.json, then npm ci)`);
    }
    return bin;
  }
  if (isHost(t)) return process.execPath;
  throw new Error(`release: no Bun runtime for ${t.name}: ${relative(root, bin)} is missing (npm ci installs it, as a dev dependency)`);
}

async function run(cmd: string[], env: Record<string, string>): Promise<void> {
  const proc = Bun.spawn(cmd, { cwd: root, stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`release: ${cmd.map((c) => relative(root, c) || c).join(" ")} failed (exit ${code})`);
}

/** Prometheus's build-date layout, 20060102-15:04:05, the same for every binary of one release. */
function buildDate(d: Date): string {
  return d.toISOString().replace(/-/g, "").replace("T", "-").slice(0, 17);
}

async function compile(t: ReleaseTarget, outfile: string, buildDir: string, env: Record<string, string>): Promise<void> {
  const cmd = [process.execPath, join(root, "scripts", "build.ts"), "--outfile", outfile, "--build-dir", buildDir];
  // The host's own platform builds as `npm run build` does, which also smoke-runs the binary.
  if (!(isHost(t) && runtimeFor(t) === process.execPath)) cmd.push("--target", t.bunTarget, "--compile-executable-path", runtimeFor(t));
  await run(cmd, env);
}

async function writeTarGz(file: string, cwd: string, dir: string, mtime: Date): Promise<void> {
  // portable: no user/group names or ids of the machine that built it. The files are named one
  // by one: a portable directory entry would carry no time, and tar would date the directory 1970.
  const files = readdirSync(join(cwd, dir)).sort().map((f) => `${dir}/${f}`);
  await createTar({ gzip: { level: 9 }, file, cwd, portable: true, mtime }, files);
}

/** A zip of `dir` (under `cwd`), streamed so that a 100 MB binary is not held twice in memory. */
async function writeZip(file: string, cwd: string, dir: string, mtime: Date): Promise<void> {
  const out = createWriteStream(file);
  const done = new Promise<void>((ok, fail) => {
    out.on("finish", ok);
    out.on("error", fail);
  });
  let failed: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) failed = err;
    else out.write(chunk);
    if (final || err) out.end();
  });
  const add = async (rel: string): Promise<void> => {
    const abs = join(cwd, rel);
    const entries = readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const name = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        await add(name);
        continue;
      }
      const entry = new ZipDeflate(name, { level: 9 });
      entry.mtime = mtime;
      // Unix permissions in the upper half of the external attributes, so unzip keeps the binary executable.
      entry.os = 3;
      entry.attrs = ((name.endsWith(".exe") ? 0o100755 : 0o100644) << 16) >>> 0;
      zip.add(entry);
      for await (const chunk of createReadStream(join(cwd, name))) entry.push(chunk as Buffer);
      entry.push(new Uint8Array(0), true);
    }
  };
  const top = new ZipPassThrough(`${dir}/`);
  top.mtime = mtime;
  zip.add(top);
  top.push(new Uint8Array(0), true);
  await add(dir);
  zip.end();
  await done;
  if (failed) throw failed;
}

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  // Fail before any compiling when a runtime is missing or of another version.
  for (const t of opts.targets) runtimeFor(t);

  const now = new Date();
  const env: Record<string, string> = { SHOAL_BUILD_DATE: process.env.SHOAL_BUILD_DATE || buildDate(now) };
  const stage = join(opts.buildDir, "stage");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(opts.out, { recursive: true });
  // Archives of an earlier run would otherwise sit beside a SHA256SUMS that does not list them.
  for (const f of readdirSync(opts.out)) if (f === "SHA256SUMS" || /^shoal-.*\.(tar\.gz|zip)$/.test(f)) rmSync(join(opts.out, f));

  // Read once, so that every archive of this release holds the same files even if the work tree
  // changes while the binaries compile.
  const contents = new Map<string, Buffer>();
  for (const t of opts.targets) for (const from of releaseFiles(t).keys()) if (!contents.has(from)) contents.set(from, readFileSync(join(root, from)));

  const sums: string[] = [];
  for (const t of opts.targets) {
    const t0 = performance.now();
    const dirName = releaseDirName(version, t);
    const dir = join(stage, dirName);
    mkdirSync(dir, { recursive: true });
    await compile(t, join(dir, binaryName(t)), join(opts.buildDir, "build"), env);
    chmodSync(join(dir, binaryName(t)), 0o755);
    for (const [from, to] of releaseFiles(t)) writeFileSync(join(dir, to), contents.get(from)!, { mode: 0o644 });
    const archive = join(opts.out, releaseArchiveName(version, t));
    if (t.archive === "zip") await writeZip(archive, stage, dirName, now);
    else await writeTarGz(archive, stage, dirName, now);
    sums.push(`${await sha256(archive)}  ${basename(archive)}`);
    rmSync(dir, { recursive: true, force: true });
    console.log(`release: ${relative(process.cwd(), archive) || archive} (${(Bun.file(archive).size / 1048576).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
  await Bun.write(join(opts.out, "SHA256SUMS"), sums.join("\n") + "\n");
  console.log(`release: ${opts.targets.length} archive(s) and SHA256SUMS in ${relative(process.cwd(), opts.out) || opts.out} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
