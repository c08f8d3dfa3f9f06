/**
 * The data directory lock is an OS file lock held by the running node: a second node on the
 * same directory is refused with a clear error, and after the holder is SIGKILLed a new node
 * starts — even when the lock file names a live process (a recycled PID).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnProcess, startShoal, tempDir, type RunningProcess, type ShoalNode } from "../support/index.ts";

const running: { stop(signal?: NodeJS.Signals): Promise<number> }[] = [];
let dataDir = "";
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

function track<T extends RunningProcess | ShoalNode>(p: T): T {
  running.push(p);
  return p;
}

describe("data directory lock", () => {
  test("one node per directory; the lock dies with its process, whatever PID the file names", async () => {
    dataDir = tempDir("lock");
    const first = track(await startShoal({ dataDir }));
    expect(readFileSync(join(dataDir, "lock"), "utf8")).toBe(String(first.proc.pid));

    // A second node on the same directory exits with an error naming the holder.
    const second = track(await startShoal({ dataDir, waitReady: false }));
    const code = await Promise.race([second.proc.exited, Bun.sleep(20_000).then(() => "timeout")]);
    expect(code).not.toBe("timeout");
    expect(code).not.toBe(0);
    expect(second.output()).toContain(`data directory ${dataDir} is in use by process ${first.proc.pid}`);
    // The first node is unharmed.
    expect((await fetch(`${first.url}/-/ready`)).status).toBe(200);

    // SIGKILL: no cleanup runs, the lock file keeps the dead node's PID…
    await first.stop("SIGKILL");
    expect(readFileSync(join(dataDir, "lock"), "utf8")).toBe(String(first.proc.pid));
    // …and that PID now belongs to a live, unrelated process (a recycled PID).
    const stranger = track(spawnProcess("sleep", ["sleep", "60"]));
    writeFileSync(join(dataDir, "lock"), String(stranger.proc.pid));

    const third = track(await startShoal({ dataDir }));
    expect((await fetch(`${third.url}/-/ready`)).status).toBe(200);
    expect(readFileSync(join(dataDir, "lock"), "utf8")).toBe(String(third.proc.pid));
    // A clean stop empties the file: it names no holder any more.
    expect(await third.stop("SIGTERM")).toBe(0);
    expect(readFileSync(join(dataDir, "lock"), "utf8")).toBe("");
  }, 90_000);
});
