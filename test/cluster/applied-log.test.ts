/**
 * The log of when a member stored samples of which age: a member asked for the newest samples
 * widens its answer down to the oldest sample it stored since the given time, so that a write
 * carrying old timestamps that may not have reached every replica yet is still read.
 */
import { expect, test } from "bun:test";
import { AppliedLog, noteApplied } from "../../src/cluster/applied_log.ts";
import { labelsFromRecord, type Appendable, type Appender } from "../../src/model/index.ts";
import { ManualClock } from "../support/clock.ts";

test("the oldest sample stored since a time, per second, forgetting what is older than kept", () => {
  const clock = new ManualClock();
  const log = new AppliedLog(clock, 10_000);
  const t0 = clock.wallNow();
  expect(log.oldestSince(t0 - 60_000)).toBe(Infinity);
  log.note(5000);
  clock.advance(1000);
  log.note(3000);
  log.note(4000);
  clock.advance(3000);
  log.note(9000);
  expect(log.oldestSince(t0)).toBe(3000);
  expect(log.oldestSince(t0 + 1000)).toBe(3000);
  expect(log.oldestSince(t0 + 2000)).toBe(9000);
  // Past what is kept, a bucket is reused for a later second.
  clock.advance(20_000);
  log.note(7000);
  expect(log.oldestSince(t0)).toBe(7000);
});

test("a committed append notes its oldest sample; a rolled back one does not", async () => {
  const clock = new ManualClock();
  const log = new AppliedLog(clock, 10_000);
  const stored: number[] = [];
  const local: Appendable = {
    appender(): Appender {
      const pending: number[] = [];
      return {
        append: (_l, t) => void pending.push(t),
        commit: async () => void stored.push(...pending),
        rollback: () => void (pending.length = 0),
      };
    },
  };
  const app = noteApplied(local, log);
  const l = labelsFromRecord({ __name__: "m" });
  let a = app.appender();
  a.append(l, 500, 1);
  a.rollback();
  expect(log.oldestSince(0)).toBe(Infinity);
  a = app.appender();
  a.append(l, 800, 1);
  a.append(l, 700, 1);
  await a.commit();
  expect(stored).toEqual([800, 700]);
  expect(log.oldestSince(0)).toBe(700);
});

test("the oldest sample stored during given wall-time intervals", () => {
  const clock = new ManualClock();
  const log = new AppliedLog(clock, 60_000);
  const t0 = clock.wallNow();
  log.note(100);
  clock.advance(5000);
  log.note(50);
  clock.advance(5000);
  log.note(900);
  expect(log.oldestIn([t0 + 8000, Infinity])).toBe(900);
  expect(log.oldestIn([t0 - 1000, t0 + 1000, t0 + 8000, Infinity])).toBe(100);
  expect(log.oldestIn([t0 + 4000, t0 + 6000])).toBe(50);
  expect(log.oldestIn([t0 + 20_000, t0 + 30_000])).toBe(Infinity);
});
