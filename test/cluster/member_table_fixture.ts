/**
 * A member table with its ring views on a manual clock, as the fake-clock tests of the cluster
 * build it, and heartbeats as other members would publish them: `self` is this node, every other
 * id a member with its own tokens, heard when a test says so.
 */
import type { HeartbeatMessage, MemberState } from "../../src/cluster/heartbeat.ts";
import { MemberTable } from "../../src/cluster/member_table.ts";
import { nodeTokens } from "../../src/cluster/ring.ts";
import { RingViews } from "../../src/cluster/ring_views.ts";
import { nopLogger } from "../../src/model/index.ts";
import { ManualClock } from "../support/clock.ts";

/** Fast failure detection: heartbeats every 200 ms, suspect after 800 ms, dead after 2 s. */
export const TIMEOUTS = { heartbeatIntervalMs: 200, suspectTimeoutMs: 800, deadTimeoutMs: 2000, forgetTimeoutMs: 60_000 };
/** Virtual tokens per member. */
export const TOKENS = 32;

export interface TableOptions {
  R?: number;
  expectsOthers?: boolean;
  /** When this node's identity was created (0: unknown). */
  createdAt?: number;
}

/** A member table for `self` (tokens set, not active yet) and ring views that follow its changes. */
export function memberTable(opts: TableOptions = {}): { clock: ManualClock; table: MemberTable; views: RingViews } {
  const clock = new ManualClock();
  let views: RingViews | null = null;
  const table = new MemberTable({
    selfId: "self",
    nodeName: "self",
    httpAddress: "",
    createdAt: opts.createdAt ?? 0,
    timeouts: TIMEOUTS,
    clock,
    logger: nopLogger,
    readRing: () => views!.readRing(),
    expectsOthers: () => opts.expectsOthers ?? false,
  });
  views = new RingViews(table, opts.R ?? 3, clock);
  table.onChange(() => views!.invalidate());
  table.setSelfTokens(nodeTokens("self", TOKENS));
  return { clock, table, views };
}

/** The heartbeats of other members: each id's next one, active, with its own tokens and sequence. */
export function heartbeats(clock: ManualClock): (id: string, extra?: Partial<HeartbeatMessage>) => HeartbeatMessage {
  const seq = new Map<string, number>();
  return (id, extra = {}) => {
    seq.set(id, (seq.get(id) ?? 0) + 1);
    return {
      v: 1,
      cluster: "c",
      clusterId: "cid",
      clusterSettled: true,
      id,
      name: id,
      addrs: [],
      http: "",
      state: "active" as MemberState,
      tokens: new Uint8Array(nodeTokens(id, TOKENS).buffer),
      seq: seq.get(id)!,
      startedAt: clock.wallNow() - 60_000,
      createdAt: clock.wallNow() - 120_000,
      load: {},
      now: clock.wallNow(),
      peers: [],
      ...extra,
    };
  };
}
