import { join } from "node:path";
import { spawnProcess } from "../support/index.ts";
import { Matcher, labelsFromRecord, type Labels, type Queryable, type Series } from "../../src/model/index.ts";

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
 * (in order, also the lines it wrote before the kill took effect), and SIGKILLs it once
 * `onLine` has returned true. Throws when the child exits first.
 */
export async function runChildUntil(name: string, args: string[], onLine: (line: string) => boolean): Promise<void> {
  let reached = false;
  const child = spawnProcess(name, [process.execPath, join(import.meta.dir, "fixtures", name), ...args], {
    // Killed from the output callback itself, so that the child stops right after that line.
    onLine(line, p) {
      if (onLine(line) && !reached) {
        reached = true;
        p.proc.kill("SIGKILL");
      }
    },
  });
  await child.proc.exited;
  await child.stop("SIGKILL");
  if (!reached) throw new Error(`${name} exited early:\n${child.output()}`);
}
