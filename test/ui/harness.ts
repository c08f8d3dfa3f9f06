/**
 * What the browser tests need around them: the compiled binary, free ports, processes that are
 * always killed, polling, and a headless Chromium driven by playwright-core.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";

export const ROOT = resolve(import.meta.dir, "../..");
export const SCREENSHOT_DIR = join(ROOT, "test-output", "ui");

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

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
  const dir = tempDir("shoal-ui-bin-");
  const outfile = join(dir, "shoal");
  const proc = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", outfile, "--build-dir", join(dir, "build")], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if ((await proc.exited) !== 0) throw new Error(`building the binary failed:\n${out}\n${err}`);
  return { path: outfile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Proc {
  name: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  output: () => string;
}

/** Starts a process whose output is kept (shown when a test fails). */
export function start(name: string, cmd: string[], cwd: string): Proc {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let log = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      log += dec.decode(value, { stream: true });
      if (log.length > 200_000) log = log.slice(-100_000);
    }
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  return { name, proc, output: () => log };
}

export async function stop(p: Proc): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill("SIGTERM");
  const done = await Promise.race([p.proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
  if (!done) {
    p.proc.kill("SIGKILL");
    await p.proc.exited;
  }
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, procs: Proc[] = []): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (p.proc.exitCode !== null) throw new Error(`${p.name} exited with ${p.proc.exitCode} while waiting for ${what}:\n${p.output().slice(-4000)}`);
    }
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await Bun.sleep(200);
  }
  const logs = procs.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join("\n");
  throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ""}\n${logs}`);
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
