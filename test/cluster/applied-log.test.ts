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
  expect(log.storedIn([t0 - 60_000, Infinity]).oldest).toBe(Infinity);
  log.note(5000, 5000);
  clock.advance(1000);
  log.note(3000, 3000);
  log.note(4000, 4000);
  clock.advance(3000);
  log.note(9000, 9000);
  expect(log.storedIn([t0, Infinity]).oldest).toBe(3000);
  expect(log.storedIn([t0 + 1000, Infinity]).oldest).toBe(3000);
  expect(log.storedIn([t0 + 2000, Infinity]).oldest).toBe(9000);
  // Past what is kept, a bucket is reused for a later second.
  clock.advance(20_000);
  log.note(7000, 7000);
  expect(log.storedIn([t0, Infinity]).oldest).toBe(7000);
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
  expect(log.storedIn([0, Infinity]).oldest).toBe(Infinity);
  a = app.appender();
  a.append(l, 800, 1);
  a.append(l, 700, 1);
  await a.commit();
  expect(stored).toEqual([800, 700]);
  expect(log.storedIn([0, Infinity]).oldest).toBe(700);
});

test("the oldest sample stored during given wall-time intervals", () => {
  const clock = new ManualClock();
  const log = new AppliedLog(clock, 60_000);
  const t0 = clock.wallNow();
  log.note(100, 100);
  clock.advance(5000);
  log.note(50, 50);
  clock.advance(5000);
  log.note(900, 900);
  expect(log.storedIn([t0 + 8000, Infinity]).oldest).toBe(900);
  expect(log.storedIn([t0 - 1000, t0 + 1000, t0 + 8000, Infinity]).oldest).toBe(100);
  expect(log.storedIn([t0 + 4000, t0 + 6000]).oldest).toBe(50);
  expect(log.storedIn([t0 + 20_000, t0 + 30_000]).oldest).toBe(Infinity);
});

test("the newest sample stored during the intervals bounds the widening: writes of current samples do not widen reads of later ones", () => {
  const clock = new ManualClock();
  const log = new AppliedLog(clock, 60_000);
  const t0 = clock.wallNow();
  log.note(t0 - 2000, t0);
  clock.advance(5000);
  log.note(t0 - 600_000, t0 - 590_000);
  log.note(t0 + 4000, t0 + 5000);
  expect(log.storedIn([t0 - 1000, t0 + 1000])).toEqual({ oldest: t0 - 2000, newest: t0 });
  expect(log.storedIn([t0 + 4000, Infinity])).toEqual({ oldest: t0 - 600_000, newest: t0 + 5000 });
  expect(log.storedIn([t0 + 20_000, Infinity])).toEqual({ oldest: Infinity, newest: -Infinity });
});
