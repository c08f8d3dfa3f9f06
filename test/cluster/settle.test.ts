/**
 * When a joining node pulls and turns active, driven by a manual clock whose interval timer runs
 * the settle ticks as in production.
 */
import { expect, test } from "bun:test";
import type { MemberState } from "../../src/cluster/heartbeat.ts";
import { JoinSettle } from "../../src/cluster/settle.ts";
import { nopLogger } from "../../src/model/index.ts";
import { ManualClock } from "../support/clock.ts";

const HB = 200;
const DEAD = 2000;

function setup(expectsPeers: boolean) {
  const clock = new ManualClock();
  const s = { state: "joining" as MemberState, first: null as number | null, joins: 0, leaving: false };
  let finishJoin: () => void = () => {};
  const settle = new JoinSettle(
    {
      selfState: () => s.state,
      expectsPeers: () => expectsPeers,
      firstPeerHeartbeat: () => s.first,
      leaving: () => s.leaving,
      join: () => {
        s.joins++;
        return new Promise<void>((r) => (finishJoin = r));
      },
      activate: () => (s.state = "active"),
    },
    { heartbeatIntervalMs: HB, deadTimeoutMs: DEAD, clock, logger: nopLogger },
  );
  clock.setInterval(() => settle.tick(), HB / 4);
  return { clock, s, settle, finish: () => finishJoin() };
}

test("a node that expects nobody pulls at its first tick", async () => {
  const { s, settle, finish } = setup(false);
  settle.tick();
  expect(s.joins).toBe(1);
  finish();
  await Bun.sleep(0);
  expect(s.state).toBe("active");
});

test("a node with members expected waits for a heartbeat and three intervals after it, or a dead timeout", async () => {
  const { clock, s, finish } = setup(true);
  clock.advance(5 * HB);
  expect(s.joins).toBe(0);
  s.first = clock.now();
  clock.advance(3 * HB - HB / 4);
  expect(s.joins).toBe(0);
  clock.advance(HB / 2);
  expect(s.joins).toBe(1);
  clock.advance(10 * HB); // one pull at a time
  expect(s.joins).toBe(1);
  finish();
  await Bun.sleep(0);
  expect(s.state).toBe("active");
  const alone = setup(true);
  alone.clock.advance(DEAD - HB / 4);
  expect(alone.s.joins).toBe(0);
  alone.clock.advance(HB / 2);
  expect(alone.s.joins).toBe(1);
});

test("joining again after a pause waits three heartbeats before pulling; a leave stops it", async () => {
  const { clock, s, finish } = setup(false);
  clock.advance(HB);
  finish();
  await Bun.sleep(0);
  expect(s.state).toBe("active");
  clock.advance(10 * HB);
  s.state = "joining";
  clock.advance(3 * HB - HB / 2);
  expect(s.joins).toBe(1);
  clock.advance(HB);
  expect(s.joins).toBe(2);
  s.leaving = true;
  finish();
  await Bun.sleep(0);
  expect(s.state).toBe("joining");
});
