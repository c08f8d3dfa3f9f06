/**
 * Set-up shared by the engine tests: one real TSDB per test file in a temp dir, and a wrapper
 * that observes the storage's select calls.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { rmSync } from "node:fs";
import type { Appender, Matcher, Querier, Queryable, SelectHints, SeriesSet } from "../../src/model/index.ts";
import { QueryError } from "../../src/promql/index.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { tempDir } from "../support/index.ts";

/**
 * Opens a TSDB in a fresh temp dir before the file's tests, fills it through one appender and
 * commit, and closes and removes it after them. Read `.db` inside tests (it is set in beforeAll).
 */
export function fileTSDB(prefix: string, fill: (app: Appender) => void, timeoutMs?: number): { readonly db: TSDB } {
  let db: TSDB | undefined;
  let dir = "";
  beforeAll(async () => {
    dir = tempDir(prefix);
    db = await openTSDB({ dir });
    const app = db.appender();
    fill(app);
    await app.commit();
  }, timeoutMs);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get db(): TSDB {
      if (db === undefined) throw new Error("the test TSDB is opened in beforeAll");
      return db;
    },
  };
}

/** `inner` with each querier's select going through `select(innerQuerier, matchers, hints)`. */
export function withSelect(inner: Queryable, select: (q: Querier, ms: readonly Matcher[], hints?: SelectHints) => Promise<SeriesSet>): Queryable {
  return {
    querier(mint, maxt) {
      const q = inner.querier(mint, maxt);
      return {
        select: (ms, hints) => select(q, ms, hints),
        labelNames: (ms) => q.labelNames(ms),
        labelValues: (n, ms) => q.labelValues(n, ms),
        close: () => q.close(),
      };
    },
  };
}

/** The QueryError a query rejects with; fails the test when it resolves or throws anything else. */
export async function queryFailure(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(QueryError);
    return e as QueryError;
  }
  throw new Error("expected the query to fail");
}
