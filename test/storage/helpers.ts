import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Matcher, labelsFromRecord, type Labels, type Queryable, type Series } from "../../src/model/index.ts";

export function tempDir(prefix = "shoal-storage-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const L = (r: Record<string, string>): Labels => labelsFromRecord(r);

export async function selectAll(db: Queryable, mint = -1e15, maxt = 1e15, matchers = [new Matcher("=~", "__name__", ".+")]): Promise<Series[]> {
  const q = db.querier(mint, maxt);
  try {
    return (await q.select(matchers)).series;
  } finally {
    q.close();
  }
}

/** Hex of every value's bits, so comparisons are bit-exact. */
export function bitsOf(values: Float64Array): string[] {
  const w = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) out.push(w[2 * i + 1]!.toString(16) + ":" + w[2 * i]!.toString(16));
  return out;
}

/**
 * Runs the fixture child `fixtures/<name>` with `args`, hands every line it prints to `onLine`
 * (all lines of a read, in order), and SIGKILLs it once `onLine` has returned true. Throws when
 * the child exits first.
 */
export async function runChildUntil(name: string, args: string[], onLine: (line: string) => boolean): Promise<void> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", name), ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let rest = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${name} exited early`);
      rest += dec.decode(value, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop()!;
      let stop = false;
      for (const l of lines) if (onLine(l)) stop = true;
      if (stop) return;
    }
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
}
