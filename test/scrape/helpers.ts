/** Shared by the scrape tests: a real TSDB in a temp dir, and reading series back from it. */
import { formatLabels, isStaleAt, Matcher, type Series } from "../../src/model/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";

export interface TempDB {
  db: TSDB;
  dir: string;
  close(): Promise<void>;
}

export async function openTempDB(): Promise<TempDB> {
  const dir = tempDir("scrape");
  const db = await openTSDB({ dir });
  return {
    db,
    dir,
    async close() {
      await db.close();
      removeTempDir(dir);
    },
  };
}

export interface Point {
  t: number;
  v: number;
  stale: boolean;
}

/** All series whose labels match `name` (and extra equality matchers), samples decoded. */
export async function readSeries(db: TSDB, name: string, eq: Record<string, string> = {}): Promise<Map<string, Point[]>> {
  const matchers = [new Matcher("=", "__name__", name), ...Object.entries(eq).map(([k, v]) => new Matcher("=", k, v))];
  const q = db.querier(0, Number.MAX_SAFE_INTEGER);
  try {
    const set = await q.select(matchers);
    const out = new Map<string, Point[]>();
    for (const s of set.series) out.set(formatLabels(s.labels), points(s));
    return out;
  } finally {
    q.close();
  }
}

export function points(s: Series): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < s.timestamps.length; i++) out.push({ t: s.timestamps[i]!, v: s.values[i]!, stale: isStaleAt(s.values, i) });
  return out;
}
