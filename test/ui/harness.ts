/**
 * What the browser tests need around them (beyond test/support): the compiled binary and a
 * headless Chromium driven by playwright-core.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { REPO_ROOT as ROOT, removeTempDir, run, tempDir } from "../support/index.ts";

export const SCREENSHOT_DIR = join(ROOT, "test-output", "ui");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The `shoal` binary to test: $SHOAL_BIN when set, else dist/shoal when it is newer than every
 * source file, else a fresh build into a temporary directory (the tests must check what the
 * sources build, not a stale binary).
 */
export async function shoalBinary(): Promise<{ path: string; cleanup: () => void }> {
  const fromEnv = process.env.SHOAL_BIN;
  if (fromEnv) return { path: fromEnv, cleanup: () => {} };
  const dist = join(ROOT, "dist", "shoal");
  try {
    const built = statSync(dist).mtimeMs;
    const sources = Math.max(newestMtime(join(ROOT, "src")), newestMtime(join(ROOT, "web")), statSync(join(ROOT, "package-lock.json")).mtimeMs);
    if (built > sources) return { path: dist, cleanup: () => {} };
  } catch {
    // no dist/shoal yet
  }
  const dir = tempDir("ui-bin");
  const outfile = join(dir, "shoal");
  const built = await run([process.execPath, "scripts/build.ts", "--outfile", outfile, "--build-dir", join(dir, "build")], { timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error(`building the binary failed:\n${built.stdout}\n${built.stderr}`);
  return { path: outfile, cleanup: () => removeTempDir(dir) };
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  return (await res.json()) as T;
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}
