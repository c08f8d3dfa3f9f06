/**
 * A rule manager over a real local TSDB and the real PromQL engine, driven by a manual clock:
 * `step()` moves time one interval and waits for the evaluations it started.
 */
import { afterEach, beforeEach } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isStaleAt, labelsFromRecord, labelsToRecord, nopLogger, type Labels, type Queryable } from "../../src/model/index.ts";
import { Engine, parseExpr } from "../../src/promql/index.ts";
import { RuleManager, slotAtOrBefore, slotOffsetMs, type RuleManagerOptions } from "../../src/rules/index.ts";
import type { NotifierAlert } from "../../src/rules/notifier/alert.ts";
import { openTSDB, type TSDB } from "../../src/storage/index.ts";
import { ManualClock } from "../support/clock.ts";
import { removeTempDirs, tempDir } from "../support/index.ts";

export const T0 = Date.UTC(2025, 0, 1);

export interface Rig {
  db: TSDB;
  dir: string;
  clock: ManualClock;
  engine: Engine;
  close(): Promise<void>;
}

export async function openRig(): Promise<Rig> {
  const dir = tempDir("rules");
  const db = await openTSDB({ dir: join(dir, "data") });
  const clock = new ManualClock(1000, T0);
  return { db, dir, clock, engine: new Engine({}), close: () => db.close() };
}

/** A fresh rig for every test of the calling file, handed to `use` before the test and closed after it. */
export function rigForEachTest(use: (rig: Rig) => unknown): void {
  let rig: Rig | undefined;
  beforeEach(async () => {
    rig = await openRig();
    await use(rig);
  });
  afterEach(async () => {
    await rig?.close();
    removeTempDirs();
  });
}

/** Writes `name{labels}` with `value(t)` every `stepMs` over [from, to]. */
export async function writeSeries(db: TSDB, labels: Record<string, string>, from: number, to: number, stepMs: number, value: (t: number) => number | undefined): Promise<void> {
  const ls = labelsFromRecord(labels);
  const app = db.appender();
  for (let t = from; t <= to; t += stepMs) {
    const v = value(t);
    if (v !== undefined) app.append(ls, t, v);
  }
  await app.commit();
}

export function writeRuleFile(dir: string, name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

export interface ManagerHandle {
  manager: RuleManager;
  notified: NotifierAlert[][];
  owns: { value: boolean };
}

export function newManager(rig: Rig, over: Partial<RuleManagerOptions> & { storage?: Queryable & RuleManagerOptions["appendable"] } = {}): ManagerHandle {
  const notified: NotifierAlert[][] = [];
  const owns = { value: true };
  const storage = over.storage ?? rig.db;
  const manager = new RuleManager({
    query: async (expr, t) => (await rig.engine.instantQuery(storage, expr, t)).value,
    queryable: storage,
    appendable: storage,
    notify: (alerts) => notified.push(alerts),
    clock: rig.clock,
    ownsGroup: () => owns.value,
    nodeName: "node-a",
    externalLabels: (): Labels => [],
    externalURL: "http://shoal.example:9090",
    forOutageToleranceMs: 3_600_000,
    forGracePeriodMs: 600_000,
    resendDelayMs: 60_000,
    logger: nopLogger,
    ...over,
  });
  return { manager, notified, owns };
}

/** Moves the clock `ms` forward in steps of at most `stepMs`, letting every evaluation finish on the way. */
export async function advance(rig: Rig, managers: RuleManager[], ms: number, stepMs = 1000): Promise<void> {
  for (let done = 0; done < ms; ) {
    const d = Math.min(stepMs, ms - done);
    rig.clock.advance(d);
    done += d;
    for (const m of managers) await m.idle();
  }
}

/** Every sample of series matching `selector` in [from, to], as [t, v|"stale"] pairs. */
export async function samplesOf(rig: Rig, selector: string, from: number, to: number): Promise<{ labels: Record<string, string>; points: [number, number | "stale"][] }[]> {
  const e = parseExpr(selector);
  if (e.type !== "VectorSelector") throw new Error("selector expected");
  const q = rig.db.querier(from, to);
  try {
    const set = await q.select(e.matchers, { start: from, end: to });
    return set.series.map((s) => ({
      labels: labelsToRecord(s.labels),
      points: [...s.timestamps].map((t, i): [number, number | "stale"] => [t, isStaleAt(s.values, i) ? "stale" : s.values[i]!]),
    }));
  } finally {
    q.close();
  }
}

/** The first slot of group `name` in `file` after `nowMs`. */
export function firstSlot(file: string, name: string, intervalMs: number, nowMs = T0): number {
  return slotAtOrBefore(nowMs, slotOffsetMs(file, name, intervalMs), intervalMs) + intervalMs;
}
